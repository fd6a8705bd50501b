//! Byte-at-a-time work done a word at a time (SWAR), for parsers' hot
//! loops: in WebAssembly a byte loop pays an interruption check per byte,
//! and `==` on slices is a call to `memcmp`.

/// Each byte of a word set to 1.
pub const ONES: u64 = 0x0101_0101_0101_0101;
/// Each byte of a word set to 0x80.
pub const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is zero, and no other bit.
#[inline(always)]
#[must_use]
pub fn zero_bytes(word: u64) -> u64 {
    // A byte's low seven bits plus 0x7f carry into its high bit unless they
    // are all zero, and never into the next byte.
    !(((word & !HIGH) + !HIGH) | word | !HIGH)
}

/// Up to eight bytes as a little-endian word (zeros above them), without a
/// loop: at most two loads, overlapping when the length is not a power of
/// two. Bytes past the eighth are ignored.
#[inline(always)]
#[must_use]
pub fn word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    let u16_at = |at: usize| {
        u64::from(u16::from_le_bytes(
            <[u8; 2]>::try_from(&bytes[at..at + 2]).unwrap_or_default(),
        ))
    };
    let u32_at = |at: usize| {
        u64::from(u32::from_le_bytes(
            <[u8; 4]>::try_from(&bytes[at..at + 4]).unwrap_or_default(),
        ))
    };
    match len {
        8.. => u64::from_le_bytes(<[u8; 8]>::try_from(&bytes[..8]).unwrap_or_default()),
        4..=7 => u32_at(0) | (u32_at(len - 4) << (8 * (len - 4))),
        2..=3 => u16_at(0) | (u16_at(len - 2) << (8 * (len - 2))),
        1 => u64::from(bytes[0]),
        0 => 0,
    }
}

/// Whether `a` and `b` are equal, compared a word at a time.
#[inline(always)]
#[must_use]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks(8)
            .zip(b.chunks(8))
            .all(|(x, y)| word(x) == word(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hold_the_bytes_in_order() {
        let bytes = b"abcdefghij";
        for len in 0..=10 {
            let mut want = [0_u8; 8];
            let n = len.min(8);
            want[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(word(&bytes[..len]), u64::from_le_bytes(want), "{len}");
        }
    }

    #[test]
    fn same_compares_every_byte() {
        let text = b"abcdefghijklmnopq";
        for len in 0..text.len() {
            assert!(same(&text[..len], &text[..len]));
            assert!(!same(&text[..len], &text[..=len]), "lengths differ");
            for at in 0..len {
                let mut other = text[..len].to_vec();
                other[at] ^= 1;
                assert!(!same(&text[..len], &other), "{len} {at}");
            }
        }
    }

    #[test]
    fn zero_bytes_marks_exactly_the_zeros() {
        for word in [
            0_u64,
            u64::MAX,
            0x0100_ff00_8000_0001,
            0x0000_0000_0000_0100,
        ] {
            let want = (0..8).fold(0, |marks, i| {
                if (word >> (8 * i)) & 0xff == 0 {
                    marks | (0x80 << (8 * i))
                } else {
                    marks
                }
            });
            assert_eq!(zero_bytes(word), want, "{word:#x}");
        }
    }
}
