//! How many calls may be in flight: at most `--concurrency`, fewer while the API
//! answers 429. Additive increase, multiplicative decrease (as TCP does): a 429 halves
//! the limit, and each run of `limit` successes raises it by one, back up to the
//! maximum. So a rate-limited org is read at the rate it allows instead of by retry
//! storms, and a passing limit costs only a few round trips.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// 429s closer together than this count as one: the calls already in flight when the
/// limit was cut answer 429 too, and must not cut it again.
const CUT_SPACING: Duration = Duration::from_millis(500);

pub struct Limit {
    max: usize,
    state: Mutex<State>,
    /// Wakes one waiter when a slot frees or the limit rises.
    freed: Notify,
}

struct State {
    limit: usize,
    in_flight: usize,
    /// Successes since the limit last changed.
    successes: usize,
    last_cut: Option<Instant>,
    /// The lowest the limit went (`--stats`).
    lowest: usize,
}

/// A slot: the call it was taken for is in flight until it is dropped.
pub struct Slot<'a>(&'a Limit);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.state().in_flight -= 1;
        self.0.freed.notify_one();
    }
}

impl Limit {
    pub fn new(max: usize) -> Limit {
        let max = max.max(1);
        Limit {
            max,
            state: Mutex::new(State {
                limit: max,
                in_flight: 0,
                successes: 0,
                last_cut: None,
                lowest: max,
            }),
            freed: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot under the current limit.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            // Registered before looking, so a slot freed in between still wakes us.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut s = self.state();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    let spare = s.in_flight < s.limit;
                    drop(s);
                    if spare {
                        // Pass the wake-up on: another waiter may fit too.
                        self.freed.notify_one();
                    }
                    return Slot(self);
                }
            }
            freed.await;
        }
    }

    /// An answer that was not a 429: after `limit` of them, one more slot.
    pub fn succeeded(&self) {
        let mut s = self.state();
        if s.limit >= self.max {
            return;
        }
        s.successes += 1;
        if s.successes >= s.limit {
            s.limit += 1;
            s.successes = 0;
            drop(s);
            self.freed.notify_one();
        }
    }

    /// A 429: half the slots (at least one), once per burst of 429s.
    pub fn rate_limited(&self) {
        let mut s = self.state();
        if s.last_cut.is_some_and(|at| at.elapsed() < CUT_SPACING) {
            return;
        }
        s.limit = (s.limit / 2).max(1);
        s.successes = 0;
        s.last_cut = Some(Instant::now());
        s.lowest = s.lowest.min(s.limit);
    }

    /// The limit now and the lowest it went.
    pub fn levels(&self) -> (usize, usize) {
        let s = self.state();
        (s.limit, s.lowest)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn never_more_in_flight_than_the_limit_and_every_waiter_runs() {
        runtime().block_on(async {
            let limit = Arc::new(Limit::new(3));
            let now = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let tasks = (0..40).map(|_| {
                let (limit, now, peak) = (limit.clone(), now.clone(), peak.clone());
                async move {
                    let _slot = limit.acquire().await;
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                }
            });
            futures_util::future::join_all(tasks).await;
            assert_eq!(peak.load(Ordering::SeqCst), 3);
        });
    }

    #[test]
    fn a_429_halves_the_limit_once_per_burst_and_successes_bring_it_back() {
        let limit = Limit::new(8);
        limit.rate_limited();
        limit.rate_limited(); // the same burst
        assert_eq!(limit.levels(), (4, 4));
        // 4 successes at limit 4 → 5, 5 more → 6, then 6 → 7, 7 → 8.
        for _ in 0..(4 + 5 + 6 + 7) {
            limit.succeeded();
        }
        assert_eq!(limit.levels(), (8, 4));
        for _ in 0..100 {
            limit.succeeded();
        }
        assert_eq!(limit.levels().0, 8, "never above the maximum");
    }

    #[test]
    fn the_limit_never_falls_below_one() {
        let limit = Limit::new(2);
        for _ in 0..5 {
            limit.state().last_cut = None;
            limit.rate_limited();
        }
        assert_eq!(limit.levels(), (1, 1));
    }
}
