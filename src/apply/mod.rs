//! Applying a plan: the only place orgform writes.
//!
//! Changes run in plan order (dependency order) as typed operations. Before each write
//! its precondition is checked against the live org read at the start (one batched
//! read); objects this apply has already written are trusted to be as planned. Every
//! step is journaled. A failed change does not stop independent ones; the changes that
//! need its object are skipped. Manual changes are reported, never attempted. What a
//! provider error leads to depends on its class: transient ones are retried with
//! backoff, an "already exists" create whose object is as planned counts as done.
//! Consecutive operations one list-taking API call can do go to the provider together.
//!
//! The state of applies to an org (lock, journals, plan copies) is kept per org
//! identity, on this machine ([`state`]): the lock keeps two applies on one machine
//! apart, not two machines (see [`state`] for what to do about that).

pub mod audit;
mod deps;
mod execute;
pub mod journal;
pub mod lock;
pub mod precondition;
mod retry;
pub mod session;
pub mod state;

use std::time::Duration;

use crate::plan::{Change, Plan};
pub use execute::{MAX_BATCH, execute, execute_judged, execute_with};
pub use retry::Backoff;

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Found already applied (an earlier, interrupted apply wrote it).
    AlreadyDone,
    Failed(String),
    Skipped(String),
    /// Refused without trying: it conflicts with the live org as it is now (SPEC §7.8).
    Conflicting(String),
    /// Not something the provider can do: the plan's note gives the steps.
    Manual,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::AlreadyDone => "already-done",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped(_) => "skipped",
            Outcome::Conflicting(_) => "conflicting",
            Outcome::Manual => "manual",
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Failed(e) | Outcome::Skipped(e) | Outcome::Conflicting(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    /// One outcome per plan change, in plan order.
    pub outcomes: Vec<Outcome>,
    pub elapsed: Duration,
}

impl Report {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(o)).count()
    }

    pub fn succeeded(&self) -> bool {
        self.count(|o| {
            matches!(
                o,
                Outcome::Failed(_) | Outcome::Skipped(_) | Outcome::Conflicting(_)
            )
        }) == 0
    }
}

/// Told what an apply does as it goes (progress bar or log lines).
pub trait Observer {
    /// A change has finished.
    fn step(&mut self, index: usize, change: &Change, outcome: &Outcome);
    /// The plan about to be applied, when it was made now (not read from a file).
    fn planned(&mut self, _plan: &Plan) {}
    /// Something worth a line (resuming an interrupted apply, discarding others).
    fn note(&mut self, _message: &str) {}
}

/// Test hook for crash and concurrency tests: after this many writes, stop between the
/// write and its journal record (the most delicate moment), create the marker file,
/// and wait until it is removed (or the process is killed). Only in builds with the
/// `fault-injection` feature, which test builds enable (Cargo.toml): a binary users
/// install ignores these variables.
#[cfg(feature = "fault-injection")]
fn fault_point(writes: usize) {
    const FAULT_PAUSE_AFTER_WRITES: &str = "ORGFORM_FAULT_PAUSE_AFTER_WRITES";
    const FAULT_MARKER: &str = "ORGFORM_FAULT_MARKER";
    let Some(limit) = std::env::var(FAULT_PAUSE_AFTER_WRITES)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    if writes == limit {
        let Ok(marker) = std::env::var(FAULT_MARKER) else {
            return;
        };
        let _ = std::fs::write(&marker, writes.to_string());
        while std::path::Path::new(&marker).exists() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(not(feature = "fault-injection"))]
fn fault_point(_writes: usize) {}

/// A digest of the plan itself, naming its journal.
pub fn plan_digest(plan: &Plan) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(plan).unwrap_or_default();
    let hex: String = Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
