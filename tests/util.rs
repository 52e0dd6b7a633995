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

impl Run {
    /// What a user reads of a run, for a snapshot: the exit code, stdout and stderr.
    pub fn transcript(&self) -> String {
        format!(
            "exit code: {}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `orgform -C dir args...` as [`orgform`] does it, as a fixed actor (audit records and
/// "already applied by" name them).
pub fn orgform_as_tester(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("ORGFORM_ACTOR", "tester")
        .env_remove("ENCORD_SSH_KEY")
        .env_remove("ENCORD_SSH_KEY_FILE")
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

/// What changes from run to run in what orgform prints, and what it becomes in a
/// snapshot: the repository's temp path (as given and canonical), other temp paths,
/// journal names, timestamps, digests, commits, pids, durations and the version.
pub fn filters(dir: &Path) -> Vec<(String, String)> {
    let mut filters = Vec::new();
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for path in [canonical, dir.to_path_buf()] {
        filters.push((
            regex_escape(&path.display().to_string()),
            "[REPO]".to_string(),
        ));
    }
    let rules = [
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[TEMP]"),
        (r"\d{4}-\d{2}-\d{2}T\d{6}Z-\d{9}-[0-9a-f]{12}", "[JOURNAL]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r"sha256:[0-9a-f]{64}", "[DIGEST]"),
        (r"\b[0-9a-f]{40}\b", "[COMMIT]"),
        (r"\b(recorded|content) [0-9a-f]{12}\b", "$1 [SHORT-DIGEST]"),
        (r"pid \d+", "pid [PID]"),
        (r"\b\d+\.\d+s\b", "[DURATION]"),
    ];
    filters.extend(rules.iter().map(|(a, b)| (a.to_string(), b.to_string())));
    // This orgform's version (another one, named in a refusal, stays as it is).
    filters.push((
        format!(r"orgform {}\b", regex_escape(env!("CARGO_PKG_VERSION"))),
        "orgform [VERSION]".to_string(),
    ));
    filters
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// Snapshots what a user reads of a run (exit code, stdout, stderr) through
/// [`filters`], as uv's `uv_snapshot!` does. Either runs `orgform -C dir args...`
/// (as the fixed actor `tester`) and returns the run, or snapshots a run made
/// otherwise: `orgform_snapshot!("name", dir, run = &run)`.
macro_rules! orgform_snapshot {
    ($name:expr, $dir:expr, run = $run:expr) => {{
        let run: &$crate::util::Run = $run;
        insta::with_settings!({
            filters => $crate::util::filters($dir)
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect::<Vec<_>>(),
            prepend_module_to_snapshot => true,
        }, {
            insta::assert_snapshot!($name, run.transcript());
        });
    }};
    ($name:expr, $dir:expr, $args:expr) => {{
        let run = $crate::util::orgform_as_tester($dir, $args);
        $crate::util::orgform_snapshot!($name, $dir, run = &run);
        run
    }};
}
pub(crate) use orgform_snapshot;
