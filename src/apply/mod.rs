//! Applying a plan: the only place orgform writes.
//!
//! Changes run in plan order (dependency order). Before each write its precondition is
//! checked against the live org read at the start (one batched read); objects this
//! apply has already written are trusted to be as planned. Every step is journaled. A
//! failed change does not stop independent ones; the changes that need its object are
//! skipped. Manual changes are reported, never attempted.

pub mod audit;
mod deps;
pub mod journal;
pub mod lock;
pub mod precondition;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::model::Org;
use crate::plan::{Action, Change, Plan};
use crate::provider::Provider;
use journal::{Entry, Journal};
use precondition::Precondition;

/// What became of one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Found already applied (an earlier, interrupted apply wrote it).
    AlreadyDone,
    Failed(String),
    Skipped(String),
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
            Outcome::Manual => "manual",
        }
    }

    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Failed(e) | Outcome::Skipped(e) => Some(e),
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
        self.count(|o| matches!(o, Outcome::Failed(_) | Outcome::Skipped(_))) == 0
    }
}

/// Told about each step as it finishes (progress bar or log lines).
pub trait Observer {
    fn step(&mut self, index: usize, change: &Change, outcome: &Outcome);
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

/// Runs the plan's changes. `live` is the org as read just before; `already` holds
/// the indexes an interrupted run of this plan finished.
pub fn execute(
    plan: &Plan,
    provider: &mut dyn Provider,
    live: &Org,
    journal: &mut Journal,
    already: &BTreeSet<usize>,
    observer: &mut dyn Observer,
) -> std::io::Result<Report> {
    let start = Instant::now();
    let mut report = Report::default();
    // Objects whose change failed or was skipped: their dependants are skipped.
    let mut broken: BTreeSet<String> = BTreeSet::new();
    // Objects this run wrote: the start snapshot is stale for them.
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut writes = 0usize;
    for (index, change) in plan.changes.iter().enumerate() {
        let provides = deps::provides(change);
        let requires = deps::requires(change);
        // The start snapshot already shows what earlier runs wrote; only this run's own
        // writes make it stale.
        let outcome = if already.contains(&index) {
            Outcome::AlreadyDone
        } else if change.action == Action::Manual {
            // Until someone does it by hand, what needs it cannot happen either.
            broken.extend(provides.iter().cloned());
            Outcome::Manual
        } else if let Some(missing) = requires.iter().find(|r| broken.contains(*r)) {
            let reason = format!("depends on {missing}, whose change did not succeed");
            journal.record(&Entry::Skipped {
                index,
                reason: reason.clone(),
            })?;
            broken.extend(provides.iter().cloned());
            Outcome::Skipped(reason)
        } else {
            let fresh = provides
                .iter()
                .chain(&requires)
                .any(|id| touched.contains(id));
            let pre = if fresh {
                Precondition::Ready
            } else {
                precondition::check(live, change)
            };
            match pre {
                Precondition::Done => {
                    journal.record(&Entry::Done {
                        index,
                        already: true,
                    })?;
                    Outcome::AlreadyDone
                }
                Precondition::Conflict(why) => {
                    journal.record(&Entry::Failed {
                        index,
                        error: why.clone(),
                    })?;
                    broken.extend(provides.iter().cloned());
                    Outcome::Failed(why)
                }
                Precondition::Ready => {
                    journal.record(&Entry::Started {
                        index,
                        kind: change.kind.to_string(),
                        key: change.key.clone(),
                        action: format!("{:?}", change.action).to_lowercase(),
                    })?;
                    match provider.apply(change) {
                        Ok(()) => {
                            writes += 1;
                            fault_point(writes);
                            journal.record(&Entry::Done {
                                index,
                                already: false,
                            })?;
                            touched.extend(provides.iter().cloned());
                            Outcome::Done
                        }
                        Err(e) => {
                            let error = e.to_string();
                            journal.record(&Entry::Failed {
                                index,
                                error: error.clone(),
                            })?;
                            broken.extend(provides.iter().cloned());
                            Outcome::Failed(error)
                        }
                    }
                }
            }
        };
        observer.step(index, change, &outcome);
        report.outcomes.push(outcome);
    }
    report.elapsed = start.elapsed();
    journal.record(&Entry::End {
        time: journal::now(),
        done: report.count(|o| matches!(o, Outcome::Done | Outcome::AlreadyDone)),
        failed: report.count(|o| matches!(o, Outcome::Failed(_))),
        skipped: report.count(|o| matches!(o, Outcome::Skipped(_))),
    })?;
    Ok(report)
}

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
