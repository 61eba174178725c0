//! Failed sign-in attempts per key (an e-mail, an address, a user): the
//! rule that turns a run of failures into a temporary lock, and the lock
//! that grows when failures go on after it. Pure: the store keeps the
//! state, the caller passes the time.

use chrono::{DateTime, Duration, Utc};

/// How many failures a key may have and what happens then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within [`Self::window`] that lock the key.
    pub max_failures: u32,
    /// How long failures are counted together.
    pub window: Duration,
    /// How long the first lock lasts; each further lock while failures go
    /// on doubles it, up to [`Self::max_lock`].
    pub lock: Duration,
    /// The longest lock.
    pub max_lock: Duration,
    /// Failures that make a burst worth recording (below the lock).
    pub burst: u32,
}

impl ThrottlePolicy {
    /// Sign-in failures per e-mail: 10 in 15 minutes lock it for 15
    /// minutes.
    pub const LOGIN_EMAIL: ThrottlePolicy = ThrottlePolicy {
        max_failures: 10,
        window: Duration::minutes(15),
        lock: Duration::minutes(15),
        max_lock: Duration::hours(4),
        burst: 5,
    };
    /// Sign-in failures per address: offices share one, so more.
    pub const LOGIN_IP: ThrottlePolicy = ThrottlePolicy {
        max_failures: 30,
        window: Duration::minutes(15),
        lock: Duration::minutes(15),
        max_lock: Duration::hours(4),
        burst: 15,
    };
    /// Wrong second-factor codes per user.
    pub const TWO_FACTOR: ThrottlePolicy = ThrottlePolicy {
        max_failures: 10,
        window: Duration::minutes(15),
        lock: Duration::minutes(15),
        max_lock: Duration::hours(4),
        burst: 5,
    };
    /// Invalid API tokens per address.
    pub const API_TOKEN_IP: ThrottlePolicy = ThrottlePolicy {
        max_failures: 20,
        window: Duration::minutes(15),
        lock: Duration::minutes(15),
        max_lock: Duration::hours(4),
        burst: 10,
    };
}

/// What is known of a key's failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures in the current window.
    pub failures: u32,
    /// When the current window began.
    pub window_started_at: DateTime<Utc>,
    /// Locked until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// Locks in a row (the next lock lasts longer).
    pub locks: u32,
}

/// What one more failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted.
    Counted,
    /// Counted, and the count reached the policy's burst.
    Burst,
    /// This failure locked the key.
    Locked,
}

impl ThrottleState {
    /// How long the key stays locked at `now` (`None`: not locked).
    pub fn locked_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.locked_until.filter(|u| *u > now).map(|u| u - now)
    }

    /// The state after one more failure at `now`, and what it did.
    pub fn after_failure(
        prev: Option<ThrottleState>,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> (ThrottleState, FailureOutcome) {
        let mut s = prev.unwrap_or(ThrottleState { failures: 0, window_started_at: now, locked_until: None, locks: 0 });
        // A long quiet spell (a whole window after the last lock ended)
        // forgives earlier locks.
        if let Some(u) = s.locked_until
            && u <= now
        {
            if now - u >= policy.window {
                s.locks = 0;
            }
            s.locked_until = None;
            s.failures = 0;
            s.window_started_at = now;
        }
        if now - s.window_started_at >= policy.window {
            s.failures = 0;
            s.window_started_at = now;
            if s.locked_until.is_none() {
                s.locks = 0;
            }
        }
        s.failures = s.failures.saturating_add(1);
        if s.failures >= policy.max_failures {
            let factor = 1i32.checked_shl(s.locks.min(16)).unwrap_or(i32::MAX);
            let lock = policy.lock.checked_mul(factor).map_or(policy.max_lock, |d| d.min(policy.max_lock));
            s.locked_until = Some(now + lock);
            s.locks = s.locks.saturating_add(1);
            s.failures = 0;
            s.window_started_at = now;
            return (s, FailureOutcome::Locked);
        }
        let outcome = if s.failures == policy.burst { FailureOutcome::Burst } else { FailureOutcome::Counted };
        (s, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn ten_failures_lock_for_fifteen_minutes_then_longer() {
        let p = ThrottlePolicy::LOGIN_EMAIL;
        let mut s = None;
        let mut outcomes = Vec::new();
        for i in 0..10 {
            let (n, o) = ThrottleState::after_failure(s, &p, t0() + Duration::seconds(i));
            outcomes.push(o);
            s = Some(n);
        }
        assert_eq!(outcomes[4], FailureOutcome::Burst);
        assert_eq!(outcomes[9], FailureOutcome::Locked);
        assert!(outcomes[..9].iter().all(|o| *o != FailureOutcome::Locked));
        let s1 = s.unwrap_or_else(|| unreachable!());
        let at = t0() + Duration::seconds(9);
        assert_eq!(s1.locked_for(at), Some(Duration::minutes(15)));
        assert_eq!(s1.locked_for(at + Duration::minutes(15)), None);
        // Failing again right after the lock: the next lock is twice as long.
        let mut s = Some(s1);
        let after = at + Duration::minutes(15);
        for i in 0..10 {
            s = Some(ThrottleState::after_failure(s, &p, after + Duration::seconds(i)).0);
        }
        let s2 = s.unwrap_or_else(|| unreachable!());
        assert_eq!(s2.locked_for(after + Duration::seconds(9)), Some(Duration::minutes(30)));
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let p = ThrottlePolicy::LOGIN_EMAIL;
        let mut s = None;
        for i in 0..9 {
            s = Some(ThrottleState::after_failure(s, &p, t0() + Duration::seconds(i)).0);
        }
        let (s, o) = ThrottleState::after_failure(s, &p, t0() + Duration::minutes(16));
        assert_eq!((s.failures, o), (1, FailureOutcome::Counted));
        assert_eq!(s.locked_for(t0() + Duration::minutes(16)), None);
    }

    #[test]
    fn locks_never_exceed_the_longest() {
        let p = ThrottlePolicy::LOGIN_EMAIL;
        let s = ThrottleState { failures: 9, window_started_at: t0(), locked_until: None, locks: 40 };
        let (s, o) = ThrottleState::after_failure(Some(s), &p, t0());
        assert_eq!(o, FailureOutcome::Locked);
        assert_eq!(s.locked_for(t0()), Some(Duration::hours(4)));
    }
}
