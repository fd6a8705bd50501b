//! Sets of 128 rows in one 128-bit register (bit r: row r), the unit the
//! block scorer works in. In WebAssembly they are `v128` values (the agent's
//! wasmtime compiles SIMD to SSE/AVX), elsewhere two `u64` words the
//! compiler vectorises itself.
//!
//! WebAssembly needs `simd128` enabled per function (plugins are built for
//! plain `wasm32-wasip2`), so every function here and every hot loop that
//! calls them carries `#[target_feature(enable = "simd128")]` there: calling
//! such a function is safe on WebAssembly, and it inlines into its callers.

#[cfg(target_arch = "wasm32")]
mod imp {
    use core::arch::wasm32::{
        i8x16_add, i8x16_eq, i8x16_sub, u8x16, u8x16_splat, u8x16_swizzle, u64x2,
        u64x2_extract_lane, u64x2_splat, v128, v128_and, v128_andnot, v128_or,
    };

    /// 128 rows.
    pub(crate) type Lane = v128;

    /// No rows.
    pub(crate) const ZERO: Lane = u64x2(0, 0);

    #[inline]
    #[target_feature(enable = "simd128")]
    pub(crate) fn zero() -> Lane {
        u64x2_splat(0)
    }

    /// Rows `0..64` from `low`, `64..128` from `high`.
    #[inline]
    pub(crate) const fn from_words(low: u64, high: u64) -> Lane {
        u64x2(low, high)
    }

    #[inline]
    #[target_feature(enable = "simd128")]
    pub(crate) fn and(a: Lane, b: Lane) -> Lane {
        v128_and(a, b)
    }

    /// `a` without `b`.
    #[inline]
    #[target_feature(enable = "simd128")]
    pub(crate) fn and_not(a: Lane, b: Lane) -> Lane {
        v128_andnot(a, b)
    }

    #[inline]
    #[target_feature(enable = "simd128")]
    pub(crate) fn or(a: Lane, b: Lane) -> Lane {
        v128_or(a, b)
    }

    /// Each row's byte from `planes` (plane d gives bit `planes.len() - 1 -
    /// d`, so the first plane is the top bit), rows in order, 8 to a word.
    #[target_feature(enable = "simd128")]
    pub(crate) fn transpose(planes: &[Lane; 8], bytes: &mut [u64; 16]) {
        let bits = u8x16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        // Lanes 0-7 read byte 2k of a plane, lanes 8-15 byte 2k + 1.
        let mut pick = u8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        let two = u8x16_splat(2);
        for out in bytes.chunks_exact_mut(2) {
            let mut acc = u8x16_splat(0);
            for plane in planes {
                let byte = u8x16_swizzle(*plane, pick);
                let set = i8x16_eq(v128_and(byte, bits), bits);
                // acc * 2 + bit (`set` is -1 where the bit is set).
                acc = i8x16_sub(i8x16_add(acc, acc), set);
            }
            out[0] = u64x2_extract_lane::<0>(acc);
            out[1] = u64x2_extract_lane::<1>(acc);
            pick = i8x16_add(pick, two);
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    /// 128 rows.
    pub(crate) type Lane = [u64; 2];

    /// No rows.
    pub(crate) const ZERO: Lane = [0; 2];

    #[inline]
    pub(crate) fn zero() -> Lane {
        [0; 2]
    }

    /// Rows `0..64` from `low`, `64..128` from `high`.
    #[inline]
    pub(crate) const fn from_words(low: u64, high: u64) -> Lane {
        [low, high]
    }

    #[inline]
    pub(crate) fn and(a: Lane, b: Lane) -> Lane {
        [a[0] & b[0], a[1] & b[1]]
    }

    /// `a` without `b`.
    #[inline]
    pub(crate) fn and_not(a: Lane, b: Lane) -> Lane {
        [a[0] & !b[0], a[1] & !b[1]]
    }

    #[inline]
    pub(crate) fn or(a: Lane, b: Lane) -> Lane {
        [a[0] | b[0], a[1] | b[1]]
    }

    /// Each row's byte from `planes` (plane d gives bit `planes.len() - 1 -
    /// d`, so the first plane is the top bit), rows in order, 8 to a word.
    pub(crate) fn transpose(planes: &[Lane; 8], bytes: &mut [u64; 16]) {
        for (j, word) in bytes.iter_mut().enumerate() {
            // Byte 7 - d of `x`: plane d's bits for rows 8j..8j + 8.
            let mut x = 0;
            for (d, plane) in planes.iter().enumerate() {
                x |= ((plane[j / 8] >> (8 * (j % 8))) & 0xff) << (8 * (7 - d));
            }
            *word = transpose8(x);
        }
    }

    /// Transpose an 8×8 bit matrix (Hacker's Delight 7-3): bit i of byte k
    /// becomes bit k of byte i.
    fn transpose8(mut x: u64) -> u64 {
        let mut t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
        x = x ^ t ^ (t << 7);
        t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
        x = x ^ t ^ (t << 14);
        t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
        x ^ t ^ (t << 28)
    }
}

pub(crate) use imp::{Lane, ZERO, and, and_not, from_words, or, transpose, zero};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposing_gives_each_row_its_bits_top_plane_first() {
        // Row r is in plane d when bit (7 - d) of (r * 37 % 256) is set.
        let code = |r: u64| (r * 37) % 256;
        let planes: [Lane; 8] = std::array::from_fn(|d| {
            let mut words = [0u64; 2];
            for r in 0..128 {
                if code(r) >> (7 - d) & 1 == 1 {
                    words[(r / 64) as usize] |= 1 << (r % 64);
                }
            }
            from_words(words[0], words[1])
        });
        let mut bytes = [0u64; 16];
        transpose(&planes, &mut bytes);
        for r in 0..128 {
            let byte = (bytes[(r / 8) as usize] >> (8 * (r % 8))) & 0xff;
            assert_eq!(byte, code(r), "row {r}");
        }
    }
}
