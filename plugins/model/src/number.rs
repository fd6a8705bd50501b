//! Reading numbers from text fast, with exactly the results of the standard
//! library: the parsers' hot path.
//!
//! Most telemetry numbers are short decimals (`85.5`, `-12`, `5.00`). For
//! those, [`parse_f64`] takes Clinger's fast path: the digits as an integer
//! of at most 15 digits (exact in an `f64`) divided by a power of ten of at
//! most 22 (exact too), which IEEE division rounds correctly, so the result
//! is the one `str::parse` gives. Everything else (exponents, long mantissas,
//! `inf`, malformed text) goes to `str::parse`.

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
