//! Attempt counters kept in memory by each node: the rate limits of the
//! widget's public endpoints and the caps on the bot's order checks. A key
//! allows `max` attempts per fixed window; the window starts at the first
//! attempt. They are per node on purpose: cheap, and a cap that a restart
//! resets only gives back what one window allows.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Counters by key, and the address each web-chat buyer last wrote from.
#[derive(Default)]
pub struct Limits {
    counters: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
    addresses: Mutex<HashMap<ferry_core::ContactId, std::net::IpAddr>>,
}

/// Keys kept before expired windows are swept.
const SWEEP_AT: usize = 50_000;

impl Limits {
    /// Counts an attempt under `key`: false (and not counted) when `max`
    /// attempts were already made in the current window of `window`.
    pub fn allow(&self, key: &str, max: u32, window: Duration, now: DateTime<Utc>) -> bool {
        let Ok(mut map) = self.counters.lock() else { return true };
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now - *start < window);
        }
        let entry = map.entry(key.to_owned()).or_insert((now, 0));
        if now - entry.0 >= window {
            *entry = (now, 0);
        }
        if entry.1 >= max {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Notes the address `contact` writes from (the web chat), so checks
    /// the bot runs later for them count against it too.
    pub fn remember_address(&self, contact: ferry_core::ContactId, address: std::net::IpAddr) {
        let Ok(mut map) = self.addresses.lock() else { return };
        if map.len() >= SWEEP_AT {
            map.clear();
        }
        map.insert(contact, address);
    }

    /// The address `contact` last wrote from, when known.
    pub fn address_of(&self, contact: ferry_core::ContactId) -> Option<std::net::IpAddr> {
        self.addresses.lock().ok()?.get(&contact).copied()
    }

    /// Whether `key` has used up its `max` attempts in the current window,
    /// without counting one.
    pub fn exhausted(&self, key: &str, max: u32, window: Duration, now: DateTime<Utc>) -> bool {
        let Ok(map) = self.counters.lock() else { return false };
        map.get(key).is_some_and(|(start, n)| now - *start < window && *n >= max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_allows_max_attempts_per_window() {
        let l = Limits::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let w = Duration::minutes(10);
        assert!((0..3).all(|_| l.allow("a", 3, w, t0)));
        assert!(!l.allow("a", 3, w, t0 + Duration::minutes(9)));
        assert!(l.exhausted("a", 3, w, t0));
        assert!(l.allow("b", 3, w, t0), "keys are separate");
        assert!(l.allow("a", 3, w, t0 + Duration::minutes(10)), "a new window");
        assert!(!l.exhausted("a", 3, w, t0 + Duration::minutes(10)));
    }
}
