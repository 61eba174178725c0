//! Token buckets per operation, so a burst of calls waits its turn here
//! instead of being answered 429 by Amazon.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate plan: requests per second and the bucket's size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Requests per second restored.
    pub rate: f64,
    /// Bucket size.
    pub burst: u32,
}

/// Amazon's default plan for the Messaging and Solicitations operations:
/// 1 request per second, bursts of 5.
pub const MESSAGING: Plan = Plan { rate: 1.0, burst: 5 };

/// One bucket per operation.
#[derive(Debug, Default)]
pub(super) struct Limiter {
    buckets: Mutex<HashMap<&'static str, (f64, Instant)>>,
}

impl Limiter {
    /// Takes a token of `operation`'s bucket, or says how long to wait
    /// before one is there.
    fn try_take(&self, operation: &'static str, plan: Plan) -> Option<Duration> {
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let burst = f64::from(plan.burst.max(1));
        let (tokens, at) = b.get(operation).copied().unwrap_or((burst, now));
        let tokens = (tokens + now.duration_since(at).as_secs_f64() * plan.rate).min(burst);
        if tokens >= 1.0 {
            b.insert(operation, (tokens - 1.0, now));
            None
        } else {
            b.insert(operation, (tokens, now));
            let rate = if plan.rate > 0.0 { plan.rate } else { 1.0 };
            Some(Duration::from_secs_f64((1.0 - tokens) / rate))
        }
    }

    /// Waits until `operation` may be called.
    pub(super) async fn acquire(&self, operation: &'static str, plan: Plan) {
        while let Some(wait) = self.try_take(operation, plan) {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_asks_to_wait() {
        let l = Limiter::default();
        let plan = Plan { rate: 1.0, burst: 5 };
        for _ in 0..5 {
            assert_eq!(l.try_take("op", plan), None);
        }
        let wait = l.try_take("op", plan);
        assert!(wait.is_some_and(|w| w > Duration::from_millis(900) && w <= Duration::from_secs(1)), "{wait:?}");
        // Another operation has its own bucket.
        assert_eq!(l.try_take("other", plan), None);
    }
}
