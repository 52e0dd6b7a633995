//! How long apply waits before trying a transient failure again.

use std::time::Duration;

/// Bounded exponential backoff: `attempts` tries in all, waiting `first`, then twice as
/// long each time, never more than `max_wait` (a retry-after the platform asks for is
/// honoured up to `max_wait` too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
    pub max_wait: Duration,
}

impl Backoff {
    /// Four attempts, 1 s, 2 s, 4 s apart (the Encord SDK also tries four times).
    pub const DEFAULT: Backoff = Backoff {
        attempts: 4,
        first: Duration::from_secs(1),
        max_wait: Duration::from_secs(60),
    };

    /// The wait before retry number `retry` (1 for the first retry).
    pub fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self.first.saturating_mul(
            1u32.checked_shl(retry.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        retry_after.unwrap_or(doubled).min(self.max_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_bound_and_honour_retry_after() {
        let b = Backoff::DEFAULT;
        let secs = |r, after| b.wait(r, after).as_secs();
        assert_eq!([secs(1, None), secs(2, None), secs(3, None)], [1, 2, 4]);
        assert_eq!(secs(40, None), 60, "bounded");
        assert_eq!(secs(1, Some(Duration::from_secs(7))), 7);
        assert_eq!(secs(1, Some(Duration::from_secs(3600))), 60, "bounded too");
    }
}
