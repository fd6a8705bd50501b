//! Reading numbers from text fast, with exactly the results of the standard
//! library: the parsers' hot path.
//!
//! Most telemetry numbers are short decimals (`85.5`, `-12`, `5.00`). For
//! those, [`parse_f64`] takes Clinger's fast path: the digits as an integer
//! of at most 15 digits (exact in an `f64`) divided by a power of ten of at
//! most 22 (exact too), which IEEE division rounds correctly, so the result
//! is the one `str::parse` gives. Everything else (exponents, long mantissas,
//! `inf`, malformed text) goes to `str::parse`.
//!
//! Integers of up to 18 digits ([`parse_i64`]) are read eight digits at a
//! time with a few word operations (the SWAR method), the rest by
//! `str::parse`.

/// Powers of ten exactly representable as `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `text` as an `f64`, as `text.parse::<f64>().ok()` reads it.
#[inline(always)]
pub fn parse_f64(text: &str) -> Option<f64> {
    match short_decimal(text.as_bytes()) {
        Some(value) => Some(value),
        None => text.parse().ok(),
    }
}

/// `text` as an `i64`, as `text.parse::<i64>().ok()` reads it.
#[inline(always)]
pub fn parse_i64(text: &str) -> Option<i64> {
    match short_integer(text.as_bytes()) {
        Some(value) => Some(value),
        None => text.parse().ok(),
    }
}

/// `[-]` and 1 to 18 digits, exactly; `None` for anything else.
#[inline]
pub fn short_integer(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut value: u64 = 0;
    let mut chunks = digits.chunks_exact(8);
    for chunk in chunks.by_ref() {
        value = value * 100_000_000 + eight_digits(u64::from_le_bytes(chunk.try_into().ok()?))?;
    }
    for &byte in chunks.remainder() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u64::from(digit);
    }
    // At most 18 digits: below 10^18, so within an i64.
    let value = i64::try_from(value).ok()?;
    Some(if negative { -value } else { value })
}

/// Eight ASCII digits (the first in the lowest byte) as their number.
#[inline(always)]
fn eight_digits(word: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    // Each byte 0x30..=0x3f, and still below 0x40 after adding 6.
    if word & HIGH != ZEROS || (word.wrapping_add(0x0606_0606_0606_0606) & HIGH) != ZEROS {
        return None;
    }
    let digits = word - ZEROS;
    let pairs = (digits * 10 + (digits >> 8)) & 0x00ff_00ff_00ff_00ff;
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    Some((quads * 10_000 + (quads >> 32)) & 0xffff_ffff)
}

/// `[+-]digits[.digits]` with at most 15 digits in all, exactly; `None` for
/// anything else.
#[inline(always)]
fn short_decimal(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut count = 0;
    let mut point = None;
    for (index, &byte) in digits.iter().enumerate() {
        match byte {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                count += 1;
            }
            b'.' if point.is_none() => point = Some(index),
            _ => return None,
        }
    }
    // At least one digit; `.` alone, `5.` and `.5` are left to the standard
    // parser, which accepts the last two.
    if count == 0 || count > 15 || point.is_some_and(|p| p == 0 || p + 1 == digits.len()) {
        return None;
    }
    let decimals = point.map_or(0, |p| digits.len() - p - 1);
    #[allow(clippy::cast_precision_loss, reason = "at most 15 digits: exact")]
    let value = mantissa as f64 / POW10[decimals];
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_agree_with_the_standard_library() {
        let mut cases: Vec<String> = [
            "",
            "-",
            "+",
            "0",
            "-0",
            "+1",
            " 1",
            "1 ",
            "1.5",
            "1e3",
            "0x10",
            "00000000",
            "99999999",
            "100000000",
            "-12345678",
            "123456789012345678",
            "999999999999999999",
            "1000000000000000000",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "12345678/",
            "1234567:",
            "12345678901234567a",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = 1 + (state % 21) as usize;
            let mut text: String = (0..digits)
                .map(|i| char::from(b'0' + ((state >> (i % 60)) % 10) as u8))
                .collect();
            match (state >> 58) % 8 {
                0 => text.insert(0, '-'),
                // A byte just outside the digits, anywhere.
                1 => text.insert(
                    (state >> 20) as usize % digits,
                    ['/', ':'][(state >> 30) as usize % 2],
                ),
                _ => {}
            }
            cases.push(text);
        }
        for case in &cases {
            assert_eq!(parse_i64(case), case.parse::<i64>().ok(), "{case:?}");
        }
        assert_eq!(short_integer(b"1764313800250"), Some(1_764_313_800_250));
        assert_eq!(short_integer(b"1234567890123456789"), None, "19 digits");
    }

    #[test]
    fn agrees_with_the_standard_library() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "+0",
            "85.5",
            "5.00",
            "-12",
            "0.1",
            "0.3",
            "123456789012345",
            "1234567890123456",
            "9007199254740993",
            "0.000000000000001",
            "1e3",
            "-1.5E-7",
            "inf",
            "-inf",
            "NaN",
            "nan",
            "",
            "-",
            "+",
            ".",
            "5.",
            ".5",
            "1.2.3",
            "1,5",
            " 1",
            "0x10",
            "00012.50",
            "999999999999999.9",
            "-.5",
            "1_000",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Every short decimal shape, with a fixed pseudo-random walk.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let digits = 1 + (state % 17) as usize;
            let number = (state >> 8) % 10_u64.pow(digits.min(19) as u32);
            let mut text = format!("{number:0digits$}");
            let point = (state >> 40) as usize % (digits + 1);
            if point > 0 && point < text.len() {
                text.insert(point, '.');
            }
            if state & 1 == 1 {
                text.insert(0, '-');
            }
            cases.push(text);
        }
        for case in &cases {
            let expected: Option<f64> = case.parse().ok();
            let got = parse_f64(case);
            assert_eq!(
                got.map(f64::to_bits),
                expected.map(f64::to_bits),
                "{case:?}"
            );
        }
    }
}
