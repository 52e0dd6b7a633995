//! One apply at a time per org: an exclusive lock on a file beside the org's state.
//! The OS releases it when the process ends, even on kill -9, so it never goes stale.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

pub struct ApplyLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another `orgform apply` is running against this org (lock {0}): wait for it to finish, then plan again"
    )]
    Busy(PathBuf),
    #[error("cannot take the apply lock {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

impl ApplyLock {
    pub fn acquire(path: &Path) -> Result<ApplyLock, LockError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| LockError::Io(path.into(), e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| LockError::Io(path.into(), e))?;
        match file.try_lock() {
            Ok(()) => Ok(ApplyLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy(path.into())),
            Err(TryLockError::Error(e)) => Err(LockError::Io(path.into(), e)),
        }
    }
}
