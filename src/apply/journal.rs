//! The apply journal: one JSON-lines file per apply, every step recorded (and synced to
//! disk) as started, then done, failed or skipped. An apply interrupted at any point is
//! resumed from it: done steps are not repeated, and a started step is checked against
//! the live org before it is tried again.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
    End {
        time: String,
        done: usize,
        failed: usize,
        skipped: usize,
    },
    /// A later apply started: this unfinished one must not be resumed.
    Superseded {
        time: String,
    },
}

pub struct Journal {
    file: File,
    pub path: PathBuf,
}

/// What an unfinished journal says was achieved.
#[derive(Debug, Default)]
pub struct Progress {
    pub path: PathBuf,
    pub done: BTreeSet<usize>,
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Journal {
    /// Starts a new journal in `dir`.
    pub fn begin(
        dir: &Path,
        digest: &str,
        fingerprint: &str,
        changes: usize,
    ) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let stamp = now().replace(':', "");
        let short = digest.trim_start_matches("sha256:");
        let path = dir.join(format!("{stamp}-{}.jsonl", &short[..short.len().min(12)]));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        let mut j = Journal { file, path };
        j.record(&Entry::Begin {
            time: now(),
            plan_digest: digest.to_string(),
            plan_fingerprint: fingerprint.to_string(),
            changes,
        })?;
        Ok(j)
    }

    /// Continues an unfinished journal.
    pub fn resume(path: &Path) -> std::io::Result<Journal> {
        let file = OpenOptions::new().append(true).open(path)?;
        let mut j = Journal {
            file,
            path: path.to_path_buf(),
        };
        j.record(&Entry::Resume { time: now() })?;
        Ok(j)
    }

    /// Appends one entry and syncs it, so a crash right after loses nothing recorded.
    pub fn record(&mut self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
}

/// The entries of a journal file; a torn last line (crash mid-write) is ignored.
pub fn read(path: &Path) -> std::io::Result<Vec<Entry>> {
    let reader = BufReader::new(File::open(path)?);
    let mut entries = Vec::new();
    for line in reader.lines() {
        match serde_json::from_str(&line?) {
            Ok(entry) => entries.push(entry),
            Err(_) => break,
        }
    }
    Ok(entries)
}

/// Marks every unfinished journal in `dir` as superseded.
pub fn supersede_unfinished(dir: &Path) -> std::io::Result<()> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for path in listing.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        let entries = read(&path)?;
        let finished = entries
            .iter()
            .any(|e| matches!(e, Entry::End { .. } | Entry::Superseded { .. }));
        if !finished {
            let mut j = Journal {
                file: OpenOptions::new().append(true).open(&path)?,
                path: path.clone(),
            };
            j.record(&Entry::Superseded { time: now() })?;
        }
    }
    Ok(())
}

/// The newest journal in `dir` for this plan that never reached its end.
pub fn find_unfinished(dir: &Path, digest: &str) -> std::io::Result<Option<Progress>> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    for path in paths.into_iter().rev() {
        let entries = read(&path)?;
        let for_plan = matches!(entries.first(), Some(Entry::Begin { plan_digest, .. }) if plan_digest == digest);
        if !for_plan {
            continue;
        }
        if entries
            .iter()
            .any(|e| matches!(e, Entry::End { .. } | Entry::Superseded { .. }))
        {
            return Ok(None);
        }
        let done = entries
            .iter()
            .filter_map(|e| match e {
                Entry::Done { index, .. } => Some(*index),
                _ => None,
            })
            .collect();
        return Ok(Some(Progress { path, done }));
    }
    Ok(None)
}
