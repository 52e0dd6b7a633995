//! Running the real `orgform` binary on real directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout parsed as JSON, with the whole run shown if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// `orgform -C dir args...` with no colour, no TTY and no stdin, as in CI.
pub fn orgform(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("ENCORD_SSH_KEY")
        .env_remove("ENCORD_SSH_KEY_FILE")
        // Plans record the commit from these; keep snapshots independent of the CI.
        .env_remove("GITHUB_SHA")
        .env_remove("CI_COMMIT_SHA")
        .env_remove("BUILDKITE_COMMIT")
        .stdin(Stdio::null())
        .output()
        .expect("the orgform binary runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "orgform panicked:\n{}",
        run.stderr
    );
    run
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(path: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(path)
}

/// A throwaway org repository: `orgform.yaml` plus the given files.
pub struct TempRepo {
    pub dir: tempfile::TempDir,
}

impl TempRepo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("org")).expect("org dir");
        std::fs::write(dir.path().join("orgform.yaml"), "manifests: org/\n").expect("config");
        TempRepo { dir }
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(path, bytes).expect("write file");
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
