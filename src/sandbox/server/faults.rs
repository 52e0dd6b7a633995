//! What makes the sandbox server behave like a busy, imperfect service: a rate limit
//! (429 with `Retry-After`), added latency, and faults drawn from a seed — 500, 502 and
//! 503 answers, a connection dropped before the answer, a slow answer, and a write that
//! is performed but whose answer is lost. The n-th request draws the same fault for
//! the same seed, so a failing run can be replayed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a slow answer is held back.
pub const SLOW: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (500, 502 or 503) without doing anything.
    Status(u16),
    /// Close the connection without answering, doing nothing.
    Drop,
    /// Answer normally after [`SLOW`].
    Slow,
    /// Perform the write, then close the connection without answering.
    LostWrite,
}

impl Fault {
    pub fn name(self) -> String {
        match self {
            Fault::Status(s) => format!("fault {s}"),
            Fault::Drop => "fault: connection dropped".into(),
            Fault::Slow => "fault: slow".into(),
            Fault::LostWrite => "fault: write done, response lost".into(),
        }
    }
}

/// Faults at `rate` (0..=1 of requests), reproducible from `seed`.
#[derive(Debug)]
pub struct Faults {
    rate: f64,
    seed: u64,
    sequence: AtomicU64,
}

/// splitmix64: a small, well-mixed function of (seed, n).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Faults {
    pub fn new(rate: f64, seed: u64) -> Self {
        Faults {
            rate,
            seed,
            sequence: AtomicU64::new(0),
        }
    }

    /// The fault of the next request, if any. Reads never get [`Fault::LostWrite`].
    pub fn draw(&self, write: bool) -> Option<Fault> {
        let n = self.sequence.fetch_add(1, Ordering::SeqCst);
        Self::nth(self.seed, self.rate, n, write)
    }

    pub fn nth(seed: u64, rate: f64, n: u64, write: bool) -> Option<Fault> {
        let a = mix(seed ^ mix(n));
        let chance = (a >> 11) as f64 / (1u64 << 53) as f64;
        if chance >= rate {
            return None;
        }
        let kinds: &[Fault] = &[
            Fault::Status(500),
            Fault::Status(502),
            Fault::Status(503),
            Fault::Drop,
            Fault::Slow,
            Fault::LostWrite,
        ];
        let kinds = if write { kinds } else { &kinds[..5] };
        Some(kinds[(mix(a) % kinds.len() as u64) as usize])
    }
}

/// A token bucket: `per_second` requests a second, bursts up to one second's worth.
#[derive(Debug)]
pub struct RateLimit {
    per_second: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub fn new(per_second: f64) -> Self {
        RateLimit {
            per_second,
            bucket: Mutex::new((per_second, Instant::now())),
        }
    }

    /// Takes a token, or says after how many whole seconds one is available.
    pub fn take(&self) -> Result<(), u64> {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, last) = *bucket;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.per_second)
            .min(self.per_second.max(1.0));
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            Ok(())
        } else {
            *bucket = (tokens, now);
            Err(((1.0 - tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_faults_and_every_kind_occurs() {
        let draw = |seed| -> Vec<Option<Fault>> {
            let f = Faults::new(0.5, seed);
            (0..200).map(|i| f.draw(i % 2 == 0)).collect()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
        let faults = draw(7);
        let hit = faults.iter().flatten().count();
        assert!((60..140).contains(&hit), "about half: {hit}");
        for kind in [
            Fault::Status(500),
            Fault::Status(502),
            Fault::Status(503),
            Fault::Drop,
            Fault::Slow,
            Fault::LostWrite,
        ] {
            assert!(faults.contains(&Some(kind)), "{kind:?} never drawn");
        }
        assert!(
            faults
                .iter()
                .skip(1)
                .step_by(2)
                .all(|f| *f != Some(Fault::LostWrite)),
            "reads never lose a write"
        );
    }

    #[test]
    fn the_rate_limit_refuses_beyond_its_burst() {
        let limit = RateLimit::new(3.0);
        assert!((0..3).all(|_| limit.take().is_ok()));
        assert_eq!(limit.take(), Err(1));
    }
}
