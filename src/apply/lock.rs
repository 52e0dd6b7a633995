//! One apply at a time per org: an exclusive lock on a file beside the org's state.
//! The OS releases it when the process ends, even on kill -9, so it never goes stale.
//! The holder writes who it is into the file, so whoever finds the lock taken can say
//! which command holds it; replacing the org (`sandbox init --force`) takes it too.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub struct ApplyLock {
    _file: File,
}

/// Who holds the lock, as written into the lock file by the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The orgform command, e.g. `apply` or `sandbox init`.
    pub command: String,
    pub pid: u32,
    pub since: String,
}

impl Holder {
    /// The command holding a lock, for messages: "`orgform apply`". A lock file without
    /// a holder was taken by an orgform that did not record itself: only applies locked.
    pub fn command(holder: Option<&Holder>) -> String {
        format!(
            "`orgform {}`",
            holder.map_or("apply", |h| h.command.as_str())
        )
    }

    /// Which process, when the holder said: " (pid 12, since …)", or nothing.
    pub fn process(holder: Option<&Holder>) -> String {
        holder.map_or_else(String::new, |h| {
            format!(" (pid {}, since {})", h.pid, h.since)
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another {} is running against this org{} (lock {}): wait for it to finish, then plan again",
        Holder::command(.holder.as_ref()),
        Holder::process(.holder.as_ref()),
        .path.display()
    )]
    Busy {
        path: PathBuf,
        holder: Option<Holder>,
    },
    #[error("cannot take the apply lock {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Whether the lock is held, and by whom when the holder said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Free,
    Held(Option<Holder>),
}

/// The lock file in an org's state directory.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("apply.lock")
}

/// How long a taker waits for a lock held only for a moment (another command checking
/// whether an apply is running) before calling it busy.
const PATIENCE: Duration = Duration::from_millis(500);

impl ApplyLock {
    /// Takes the lock for `command` (as shown to whoever finds it taken).
    pub fn acquire(path: &Path, command: &str) -> Result<ApplyLock, LockError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| LockError::Io(path.into(), e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| LockError::Io(path.into(), e))?;
        let deadline = Instant::now() + PATIENCE;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Busy {
                        path: path.into(),
                        holder: read_holder(path),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(LockError::Io(path.into(), e)),
            }
        }
        let holder = Holder {
            command: command.to_string(),
            pid: std::process::id(),
            since: super::journal::now(),
        };
        // Who holds it is advice for messages only: failing to write it does not matter.
        let _ = file
            .set_len(0)
            .and_then(|()| serde_json::to_writer(&mut file, &holder).map_err(Into::into))
            .and_then(|()| file.flush());
        Ok(ApplyLock { _file: file })
    }
}

/// Whether the lock at `path` is held right now. Reads only: never creates the lock
/// file or its directory (plan never writes).
pub fn state(path: &Path) -> std::io::Result<State> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::Free),
        Err(e) => return Err(e),
    };
    // A shared lock for an instant: an apply taking the lock meanwhile waits PATIENCE.
    match file.try_lock_shared() {
        Ok(()) => Ok(State::Free),
        Err(TryLockError::WouldBlock) => Ok(State::Held(read_holder(path))),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
