//! The audit log: one JSON line per apply (or refused apply) — who, when, from which
//! commit, against which org, and every change with its result. Never credentials.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub time: String,
    pub actor: String,
    pub git_commit: Option<String>,
    pub provider: String,
    pub plan_fingerprint: String,
    /// The plan's own `digest`: which plan this was (re-applying it finds it here).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub plan_digest: String,
    /// `applied`, `partial` (some changes failed, conflicted or were skipped),
    /// `refused`, or `nothing` (every change already held: nothing written).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub changes: Vec<ChangeResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeResult {
    pub kind: String,
    pub key: String,
    pub action: String,
    pub danger: String,
    /// `done`, `already-done`, `failed`, `conflicting`, `skipped`, `manual`, or
    /// `not-applied` (the apply was refused).
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

/// When and by whom the plan with this digest was applied in full, according to the
/// audit log at `path` (the latest such record), if it was.
pub fn applied(path: &Path, plan_digest: &str) -> Option<(String, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|r| r["plan_digest"] == plan_digest && r["outcome"] == "applied")
        .and_then(|r| {
            Some((
                r["time"].as_str()?.to_string(),
                r["actor"].as_str()?.to_string(),
            ))
        })
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
            && let Some(email) = git_user_email(repo)
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

/// git's `user.email` as the repository (or, outside one, the user's config) sets it.
fn git_user_email(repo: &Path) -> Option<String> {
    let config = match git2::Repository::discover(repo) {
        Ok(repository) => repository.config(),
        Err(_) => git2::Config::open_default(),
    };
    let email = config.ok()?.get_string("user.email").ok()?;
    let email = email.trim();
    (!email.is_empty()).then(|| email.to_string())
}

/// The commit the manifests were read from (SPEC §7.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// HEAD of the repository holding orgform.yaml.
    pub id: String,
    /// The manifests or orgform.yaml differ from HEAD (modified, added, deleted or
    /// untracked files): HEAD alone does not say what was planned.
    pub dirty: bool,
}

impl std::fmt::Display for Commit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id)?;
        if self.dirty {
            f.write_str("-dirty")?;
        }
        Ok(())
    }
}

/// HEAD of the git repository holding `root` (the folder of orgform.yaml), and whether
/// `manifests` (relative to `root`) or orgform.yaml differ from it. `None` outside a
/// repository or before its first commit: orgform works without git.
pub fn git_commit(root: &Path, manifests: &str) -> Option<Commit> {
    let repository = git2::Repository::discover(root).ok()?;
    let head = repository.head().ok()?.peel_to_commit().ok()?.id();
    let workdir = std::fs::canonicalize(repository.workdir()?).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    let inside = |path: PathBuf| {
        // A deleted manifests folder cannot be canonicalized, and still counts.
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        path.strip_prefix(&workdir)
            .ok()
            .map(|rel| rel.to_string_lossy().into_owned())
    };
    let paths: Vec<String> = [root.join(manifests), root.join("orgform.yaml")]
        .into_iter()
        .filter_map(inside)
        .collect();
    Some(Commit {
        id: head.to_string(),
        dirty: differs_from_head(&repository, &paths),
    })
}

/// Whether any file under `paths` (relative to the work tree) is not as in HEAD.
/// Ignored files do not count; a status that cannot be read counts as dirty.
fn differs_from_head(repository: &git2::Repository, paths: &[String]) -> bool {
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(true)
        // Paths, not patterns: a folder matches everything under it.
        .disable_pathspec_match(true);
    // An empty path is the whole work tree: no pathspec then.
    if !paths.iter().any(String::is_empty) {
        for path in paths {
            options.pathspec(path);
        }
    }
    match repository.statuses(Some(&mut options)) {
        Ok(statuses) => statuses
            .iter()
            .any(|entry| entry.status() != git2::Status::CURRENT),
        Err(_) => true,
    }
}
