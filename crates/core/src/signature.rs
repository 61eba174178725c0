//! HMAC-SHA256 webhook signatures: `sha256=<lowercase hex>` of the raw body
//! keyed by the inbox secret, checked in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header value signing `body` with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` under `secret`. The
/// comparison takes the same time wherever the first differing byte is.
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The `X-Ferry-Signature` header of an outgoing webhook delivery:
/// `t=<unix seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<body>">`.
/// Signing the time with the body lets a receiver refuse replays.
pub fn sign_timestamped(secret: &[u8], unix: i64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (as made by [`sign_timestamped`]) signs `body`; returns
/// its time when it does. Compared in constant time.
pub fn verify_timestamped(secret: &[u8], body: &[u8], header: &str) -> Option<i64> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (t, given) = (t?, v1?);
    let mut mac = mac(secret);
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok().then_some(t)
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let s = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(s, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert!(verify(b"Jefe", b"what do ya want for nothing?", &s));
    }

    #[test]
    fn timestamped_signatures_bind_the_time_and_the_body() {
        let h = sign_timestamped(b"whsec", 1_700_000_000, b"{}");
        assert!(h.starts_with("t=1700000000,v1="), "{h}");
        assert_eq!(verify_timestamped(b"whsec", b"{}", &h), Some(1_700_000_000));
        assert_eq!(verify_timestamped(b"whsec", b"{ }", &h), None);
        assert_eq!(verify_timestamped(b"other", b"{}", &h), None);
        let moved = h.replace("t=1700000000", "t=1700000001");
        assert_eq!(verify_timestamped(b"whsec", b"{}", &moved), None);
        assert_eq!(verify_timestamped(b"whsec", b"{}", "v1=00"), None);
    }

    #[test]
    fn rejects_tampering() {
        let s = sign(b"k", b"body");
        assert!(!verify(b"k", b"body!", &s));
        assert!(!verify(b"other", b"body", &s));
        assert!(!verify(b"k", b"body", "sha256=zz"));
        assert!(!verify(b"k", b"body", s.trim_start_matches("sha256=")));
        assert!(!verify(b"k", b"body", "sha256="));
    }
}
