//! The audit log: one JSON line per apply (or refused apply) — who, when, from which
//! commit, against which org, and every change with its result. Never credentials.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Record {
    pub time: String,
    pub actor: String,
    pub git_commit: Option<String>,
    pub provider: String,
    pub plan_fingerprint: String,
    /// `applied`, `partial` (some changes failed or were skipped) or `refused`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub changes: Vec<ChangeResult>,
}

#[derive(Debug, Serialize)]
pub struct ChangeResult {
    pub kind: String,
    pub key: String,
    pub action: String,
    pub danger: String,
    /// `done`, `already-done`, `failed`, `skipped` or `manual`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn append(path: &Path, record: &Record) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_data()
}

/// Who is applying: `ORGFORM_ACTOR`, else the CI's user variable, else git's
/// `user.email`, else the login name.
pub fn actor(repo: &Path) -> String {
    for var in [
        "ORGFORM_ACTOR",
        "GITHUB_ACTOR",
        "GITLAB_USER_LOGIN",
        "BUILDKITE_BUILD_CREATOR",
        "USER",
    ] {
        if var == "USER"
            && let Some(email) = git(repo, &["config", "user.email"])
        {
            return email;
        }
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return v;
        }
    }
    "unknown".to_string()
}

/// The commit being applied: the CI's variable, else `git rev-parse HEAD`.
pub fn git_commit(repo: &Path) -> Option<String> {
    for var in ["GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT"] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            return Some(v);
        }
    }
    git(repo, &["rev-parse", "HEAD"])
}

/// Asks the git command line, if there is one; orgform works without it.
fn git(repo: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}
