//! What the provider sent: calls per endpoint, retries, 429s and bytes (`--stats`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Calls (attempts included) per `METHOD endpoint`, the endpoint as a template
    /// (`GET projects/{project}/users`).
    pub calls: BTreeMap<String, u64>,
    /// Attempts after the first.
    pub retries: u64,
    /// Answers with 429 Too Many Requests.
    pub rate_limited: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The fewest calls allowed in flight at once, after 429s cut `--concurrency`.
    pub lowest_concurrency: Option<usize>,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }

    /// Calls that may change the org (anything but GET; the v1 RPC only adds).
    pub fn writes(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| !k.starts_with("GET "))
            .map(|(_, n)| n)
            .sum()
    }

    /// The report `--stats` prints on stderr.
    pub fn render(&self, against: &str) -> String {
        let mut out = format!("HTTP calls to {against}:\n");
        for (endpoint, n) in &self.calls {
            let _ = writeln!(out, "  {n:>6}  {endpoint}");
        }
        let _ = writeln!(
            out,
            "  {} calls ({} writes), {} retries, {} rate-limited (429), {} bytes sent, {} bytes received",
            self.total(),
            self.writes(),
            self.retries,
            self.rate_limited,
            self.bytes_sent,
            self.bytes_received
        );
        if self.rate_limited > 0
            && let Some(low) = self.lowest_concurrency
        {
            let _ = writeln!(
                out,
                "  429s cut the calls in flight to {low} at the lowest (it recovers after successes)"
            );
        }
        out
    }
}

/// Counts shared by concurrent calls.
#[derive(Debug, Default)]
pub struct Stats(Mutex<Counts>);

impl Stats {
    pub fn record(&self, f: impl FnOnce(&mut Counts)) {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut counts);
    }

    pub fn snapshot(&self) -> Counts {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
