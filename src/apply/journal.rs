//! The apply journal: one JSON-lines file per apply, every step recorded (and synced to
//! disk) as started, then done, failed or skipped, with a copy of the plan beside it.
//! An apply interrupted at any point is finished from it: done steps are not repeated,
//! and a started step is checked against the live org before it is tried again.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::lock::{self, Holder};
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    Begin {
        time: String,
        plan_digest: String,
        plan_fingerprint: String,
        changes: usize,
    },
    Resume {
        time: String,
    },
    Started {
        index: usize,
        kind: String,
        key: String,
        action: String,
    },
    Done {
        index: usize,
        /// The write had already happened (found on resume): not repeated.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        already: bool,
    },
    Failed {
        index: usize,
        error: String,
    },
    Skipped {
        index: usize,
        reason: String,
    },
    /// Refused: it conflicts with the live org (SPEC §7.8).
    Conflicting {
        index: usize,
        reason: String,
    },
    End {
        time: String,
        done: usize,
        failed: usize,
        skipped: usize,
    },
    /// Given up on purpose (`--discard-interrupted`): never resumed.
    Superseded {
        time: String,
    },
}

pub struct Journal {
    file: File,
    pub path: PathBuf,
}

/// What an unfinished journal says was achieved.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    pub path: PathBuf,
    pub done: BTreeSet<usize>,
    pub digest: String,
    /// How many changes its plan has.
    pub total: usize,
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Journal {
    /// Starts a new journal in `dir`, with a copy of the plan beside it so that an
    /// interrupted apply can always be finished, even without the original file.
    pub fn begin(dir: &Path, plan: &Plan, digest: &str) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let short = digest.trim_start_matches("sha256:");
        let stem = format!(
            "{}-{nanos:09}-{}",
            now().replace(':', ""),
            &short[..short.len().min(12)]
        );
        let path = dir.join(format!("{stem}.jsonl"));
        let copy = serde_json::to_vec_pretty(plan).map_err(std::io::Error::other)?;
        let mut file = File::create(plan_copy(&path))?;
        file.write_all(&copy)?;
        file.sync_all()?;
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        let mut j = Journal { file, path };
        j.record(&Entry::Begin {
            time: now(),
            plan_digest: digest.to_string(),
            plan_fingerprint: plan.actual_fingerprint.clone(),
            changes: plan.changes.len(),
        })?;
        Ok(j)
    }

    /// Continues an unfinished journal.
    pub fn resume(path: &Path) -> std::io::Result<Journal> {
        let mut j = Journal::append_to(path)?;
        j.record(&Entry::Resume { time: now() })?;
        Ok(j)
    }

    fn append_to(path: &Path) -> std::io::Result<Journal> {
        repair(path)?;
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one entry and syncs it, so a crash right after loses nothing recorded.
    pub fn record(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
}

/// The copy of the plan kept beside a journal.
pub fn plan_copy(journal: &Path) -> PathBuf {
    journal.with_extension("plan.json")
}

/// The entries of a journal file; an unreadable line (a write torn by a crash or a
/// full disk, possibly mid-character) is skipped.
pub fn read(path: &Path) -> std::io::Result<Vec<Entry>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect())
}

/// Cuts a torn last line off, so what is appended next starts on a line of its own.
fn repair(path: &Path) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        return Ok(());
    }
    let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    OpenOptions::new()
        .write(true)
        .open(path)?
        .set_len(keep as u64)
}

/// The journals in `dir` that never reached their end, oldest first.
pub fn unfinished(dir: &Path) -> std::io::Result<Vec<Progress>> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let entries = read(&path)?;
        let finished = entries
            .iter()
            .any(|e| matches!(e, Entry::End { .. } | Entry::Superseded { .. }));
        if finished {
            continue;
        }
        let (digest, total) = match entries.first() {
            Some(Entry::Begin {
                plan_digest,
                changes,
                ..
            }) => (plan_digest.clone(), *changes),
            // Cut short before it began: nothing was written to the org.
            _ => continue,
        };
        let done = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Done { index, .. } => Some(*index),
                _ => None,
            })
            .collect();
        out.push(Progress {
            path,
            done,
            digest,
            total,
        });
    }
    Ok(out)
}

/// When an apply of the plan with this digest ran to its end in `dir`, if one did:
/// the time of its last end.
pub fn finished(dir: &Path, digest: &str) -> Option<String> {
    let listing = std::fs::read_dir(dir).ok()?;
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    paths.iter().rev().find_map(|path| {
        let entries = read(path).ok()?;
        match entries.first() {
            Some(Entry::Begin { plan_digest, .. }) if plan_digest == digest => {}
            _ => return None,
        }
        entries.iter().rev().find_map(|e| match e {
            Entry::End { time, .. } => Some(time.clone()),
            _ => None,
        })
    })
}

/// The journal directory in an org's state directory.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("journal")
}

/// Unfinished work on an org, as a command that does not hold the apply lock sees it.
#[derive(Debug, Clone)]
pub enum Pending {
    /// The lock is held: an apply (or a re-init) is under way, not interrupted.
    Running(Option<Holder>),
    /// Unfinished journals and nobody holding the lock: these applies were cut short.
    Interrupted(Vec<Progress>),
}

impl Pending {
    /// The one line `plan` prints about it.
    pub fn warning(&self) -> String {
        match self {
            Pending::Running(holder) => format!(
                "note: {} is running against this org{}: the live org may change while it runs; plan again once it has finished.",
                Holder::command(holder.as_ref()),
                Holder::process(holder.as_ref())
            ),
            Pending::Interrupted(list) => format!(
                "warning: {} interrupted apply(s) on this org are unfinished; `orgform apply` says how to finish them.",
                list.len()
            ),
        }
    }
}

/// Judges the org's unfinished journals without taking the lock: a journal is only
/// "interrupted" when no one holds the lock, since a running apply's journal is
/// unfinished too. Reads only.
pub fn pending(state_dir: &Path) -> std::io::Result<Option<Pending>> {
    if let lock::State::Held(holder) = lock::state(&lock::path(state_dir))? {
        return Ok(Some(Pending::Running(holder)));
    }
    let unfinished = unfinished(&dir(state_dir))?;
    Ok((!unfinished.is_empty()).then_some(Pending::Interrupted(unfinished)))
}

/// Deletes every journal of the org and its plan copy (the org was replaced: they
/// describe another org). Call with the apply lock held. Returns how many there were.
pub fn clear(state_dir: &Path) -> std::io::Result<usize> {
    let dir = dir(state_dir);
    let count = match std::fs::read_dir(&dir) {
        Ok(listing) => listing
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
            .count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    std::fs::remove_dir_all(&dir)?;
    Ok(count)
}

/// Marks unfinished journals as given up: they will never be resumed.
pub fn supersede(journals: &[Progress]) -> std::io::Result<()> {
    for p in journals {
        Journal::append_to(&p.path)?.record(&Entry::Superseded { time: now() })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_before_appending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("j.jsonl");
        std::fs::write(
            &path,
            "{\"event\":\"resume\",\"time\":\"t\"}\n{\"event\":\"do",
        )
        .expect("write");
        let mut j = Journal::resume(&path).expect("resume");
        j.record(&Entry::End {
            time: "t".into(),
            done: 0,
            failed: 0,
            skipped: 0,
        })
        .expect("record");
        let entries = read(&path).expect("read");
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert!(matches!(entries.last(), Some(Entry::End { .. })));
    }
}
