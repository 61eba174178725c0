//! Amounts as integer minor units with their ISO 4217 currency.

/// Digits after the decimal point of `currency`'s minor unit.
pub fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "VND" | "VUV"
        | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Parses a decimal amount (`"199.00"`, `"-5"`, `"1299.5"`) into minor
/// units of `currency`; `None` when it is not a number or has more digits
/// than the currency's minor unit.
pub fn parse_minor(amount: &str, currency: &str) -> Option<i64> {
    let exp = exponent(currency);
    let s = amount.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp as usize {
        return None;
    }
    let scale = 10i64.checked_pow(exp)?;
    let mut minor = whole.parse::<i64>().ok()?.checked_mul(scale)?;
    if !frac.is_empty() {
        let f: i64 = frac.parse().ok()?;
        minor = minor.checked_add(f * 10i64.pow(exp - frac.len() as u32))?;
    }
    Some(if neg { -minor } else { minor })
}

/// Formats minor units back as a decimal amount (`19900`, `USD` → `199.00`).
pub fn format_minor(minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}{}.{:0width$}", m / scale as u64, m % scale as u64, width = exp as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_in_minor_units() {
        assert_eq!(parse_minor("199.00", "USD"), Some(19900));
        assert_eq!(parse_minor("1299.5", "eur"), Some(129950));
        assert_eq!(parse_minor("-3.98", "USD"), Some(-398));
        assert_eq!(parse_minor("1500", "JPY"), Some(1500));
        assert_eq!(parse_minor("1500.00", "JPY"), Some(1500));
        assert_eq!(parse_minor("15.5", "JPY"), None);
        assert_eq!(parse_minor("1.234", "KWD"), Some(1234));
        assert_eq!(parse_minor("abc", "USD"), None);
        assert_eq!(parse_minor("", "USD"), None);
        assert_eq!(format_minor(19900, "USD"), "199.00");
        assert_eq!(format_minor(-398, "USD"), "-3.98");
        assert_eq!(format_minor(1500, "JPY"), "1500");
        assert_eq!(format_minor(1234, "KWD"), "1.234");
    }
}
