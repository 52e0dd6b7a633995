//! Manifests from a git commit (`--git-ref REF`, `diff --base/--head`): `orgform.yaml`
//! and the manifests folder are read from the commit's tree with git2, never from the
//! work tree (which may hold other changes, or another branch).
//!
//! Files are shown as `REF:path`, the path from the repository's root, so every
//! diagnostic reads `main:org/people.yaml:4:7` and `git show main:org/people.yaml`
//! opens the file it names.

use std::path::{Component, Path, PathBuf};

use super::load::{Repo, load_repo_named};
use crate::config::CONFIG_FILE;

/// An org repository as declared at one commit.
#[derive(Debug)]
pub struct RefRepo {
    pub repo: Repo,
    /// The full id of the commit the ref names.
    pub commit: String,
}

/// Why a ref's manifests cannot be read. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum GitRefError {
    #[error(
        "{dir} is not inside a git repository, so `{reference}` cannot be read: run orgform in a clone of the org repository (or leave out the git ref to read the files here)"
    )]
    NotARepository { dir: String, reference: String },
    #[error(
        "unknown git ref `{reference}` in {repository}: check the name (`git branch -a`, `git log --oneline`), or fetch it first (`git fetch origin {reference}`)"
    )]
    UnknownRef {
        reference: String,
        repository: String,
    },
    #[error(
        "git ref `{reference}` is not in this shallow clone of {repository} (it was cloned with limited history): fetch it (`git fetch --no-tags origin {reference}`), or clone with full history (`fetch-depth: 0` in actions/checkout)"
    )]
    Shallow {
        reference: String,
        repository: String,
    },
    #[error("git ref `{reference}` names a {found}, not a commit: name a branch, tag or commit")]
    NotACommit { reference: String, found: String },
    #[error(
        "{reference}:{path} does not exist: there is no {CONFIG_FILE} at this place in commit {commit} of `{reference}`. Name a ref that holds the org repository, or point -C at the folder of {CONFIG_FILE}"
    )]
    NoConfig {
        reference: String,
        path: String,
        commit: String,
    },
    #[error(
        "{reference}:{path} does not exist: the manifests folder set by `manifests:` in {reference}:{config} is not in commit {commit}"
    )]
    NoManifestsDir {
        reference: String,
        path: String,
        config: String,
        commit: String,
    },
    #[error("reading `{reference}` from git: {message}")]
    Git { reference: String, message: String },
}

impl GitRefError {
    /// The path from the repository's root of the file or folder the problem is about,
    /// when it is about one.
    pub fn path(&self) -> Option<&str> {
        match self {
            GitRefError::NoConfig { path, .. } | GitRefError::NoManifestsDir { path, .. } => {
                Some(path)
            }
            _ => None,
        }
    }

    /// The place the problem is about, as shown to people (`REF:path` or the folder).
    pub fn file(&self) -> String {
        match self {
            GitRefError::NoConfig {
                reference, path, ..
            }
            | GitRefError::NoManifestsDir {
                reference, path, ..
            } => format!("{reference}:{path}"),
            GitRefError::NotARepository { dir, .. } => dir.clone(),
            GitRefError::UnknownRef { reference, .. }
            | GitRefError::Shallow { reference, .. }
            | GitRefError::NotACommit { reference, .. }
            | GitRefError::Git { reference, .. } => reference.clone(),
        }
    }
}

/// Loads `orgform.yaml` and the manifests of the org in `dir` (a folder of a git work
/// tree) as they are in the commit `reference` names.
pub fn load_at_ref(dir: &Path, reference: &str) -> Result<RefRepo, GitRefError> {
    let repository = git2::Repository::discover(dir).map_err(|_| GitRefError::NotARepository {
        dir: dir.display().to_string(),
        reference: reference.to_string(),
    })?;
    let shown_repository = repository
        .workdir()
        .unwrap_or_else(|| repository.path())
        .display()
        .to_string();
    let git = |e: git2::Error| GitRefError::Git {
        reference: reference.to_string(),
        message: e.message().to_string(),
    };
    let object = match repository.revparse_single(reference) {
        Ok(object) => object,
        Err(_) if repository.is_shallow() => {
            return Err(GitRefError::Shallow {
                reference: reference.to_string(),
                repository: shown_repository,
            });
        }
        Err(_) => {
            return Err(GitRefError::UnknownRef {
                reference: reference.to_string(),
                repository: shown_repository,
            });
        }
    };
    let commit = object
        .peel_to_commit()
        .map_err(|_| GitRefError::NotACommit {
            reference: reference.to_string(),
            found: object.kind().map_or("object", |k| k.str()).to_string(),
        })?;
    let commit_id = commit.id().to_string();
    let tree = commit.tree().map_err(git)?;
    let prefix = org_prefix_in(&repository, dir).unwrap_or_default();

    let config_path = join(&prefix, CONFIG_FILE);
    let config = match blob_at(&repository, &tree, &config_path).map_err(git)? {
        Some(bytes) => bytes,
        None => {
            return Err(GitRefError::NoConfig {
                reference: reference.to_string(),
                path: config_path,
                commit: short(&commit_id),
            });
        }
    };
    let config_display = format!("{reference}:{config_path}");
    // The config decides where the manifests are: read it first, alone.
    let manifests = load_repo_named(&config_display, config.clone(), Vec::new())
        .config
        .manifests;
    let dir_path = join(&prefix, &manifests);
    let entry = if dir_path.is_empty() {
        None
    } else {
        tree.get_path(Path::new(&dir_path)).ok()
    };
    let folder = match entry {
        _ if dir_path.is_empty() => tree.clone(),
        Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
            repository.find_tree(entry.id()).map_err(git)?
        }
        _ => {
            return Err(GitRefError::NoManifestsDir {
                reference: reference.to_string(),
                path: dir_path,
                config: config_path,
                commit: short(&commit_id),
            });
        }
    };
    let mut files = Vec::new();
    for entry in folder.iter() {
        let Ok(name) = entry.name() else { continue };
        // Files only: symlinks (mode 120000) and folders are not manifests here.
        if !name.ends_with(".yaml")
            || entry.kind() != Some(git2::ObjectType::Blob)
            || entry.filemode() == 0o120000
        {
            continue;
        }
        let blob = repository.find_blob(entry.id()).map_err(git)?;
        files.push((
            format!("{reference}:{}", join(&dir_path, name)),
            blob.content().to_vec(),
        ));
    }
    files.sort();
    Ok(RefRepo {
        repo: load_repo_named(&config_display, config, files),
        commit: commit_id,
    })
}

/// The folder `dir` relative to the root of its git work tree (`""` at the root,
/// `orgs/acme` below it); `None` outside a work tree.
pub fn org_prefix(dir: &Path) -> Option<String> {
    let repository = git2::Repository::discover(dir).ok()?;
    org_prefix_in(&repository, dir)
}

fn org_prefix_in(repository: &git2::Repository, dir: &Path) -> Option<String> {
    let workdir = std::fs::canonicalize(repository.workdir()?).ok()?;
    let dir = std::fs::canonicalize(dir).ok()?;
    let relative = dir.strip_prefix(&workdir).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The contents of the file at `path` in `tree`, `None` when there is no file there.
fn blob_at(
    repository: &git2::Repository,
    tree: &git2::Tree<'_>,
    path: &str,
) -> Result<Option<Vec<u8>>, git2::Error> {
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    if entry.kind() != Some(git2::ObjectType::Blob) {
        return Ok(None);
    }
    Ok(Some(repository.find_blob(entry.id())?.content().to_vec()))
}

/// `prefix/path` in git's form (forward slashes, no `.`, `..` resolved, no trailing
/// slash); `""` for the root.
fn join(prefix: &str, path: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for component in PathBuf::from(prefix).join(path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn paths_join_as_git_names_them() {
        assert_eq!(join("", "orgform.yaml"), "orgform.yaml");
        assert_eq!(join("", "org/"), "org");
        assert_eq!(join("orgs/acme", "./org/"), "orgs/acme/org");
        assert_eq!(join("orgs/acme", "../shared"), "orgs/shared");
        assert_eq!(join("", "."), "");
    }
}
