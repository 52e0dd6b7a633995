//! The workspace: an org repository's manifests loaded, checked and turned into the
//! desired model, with what a plan records about where it came from (the commit and
//! the manifests digest). `plan` and `apply` both start from it.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::apply::audit::{self, Commit};
use crate::diagnostic::{self, Diagnostic, Severity, Sources};
use crate::manifest::{self, LoadError, Repo};
use crate::model::{Desired, Org};
use crate::plan::{self, Capabilities, Plan, Source, Warning};
use crate::validate::{self, Mode};

/// Valid manifests, ready to plan from.
pub struct Workspace {
    pub root: PathBuf,
    /// The repository as loaded; its manifests and file texts are let go once the
    /// desired model is built (large orgs), its config and file paths stay.
    pub repo: Repo,
    pub desired: Desired,
    /// Validation warnings, carried into every plan.
    pub warnings: Vec<Warning>,
    pub commit: Option<Commit>,
    /// See [`manifests_digest`].
    pub manifests_digest: String,
}

/// What loading found: valid manifests, or the diagnostics that stop here.
pub enum Loaded {
    Valid(Box<Workspace>),
    /// Errors among the diagnostics: nothing may be planned from these manifests.
    Invalid {
        repo: Box<Repo>,
        diagnostics: Vec<Diagnostic>,
    },
}

impl Workspace {
    /// Loads and checks the repository at `root` (its working tree).
    pub fn load(root: &Path) -> Result<Loaded, LoadError> {
        Ok(Workspace::from_repo(root, manifest::load_repo(root)?))
    }

    /// Checks a repository loaded from the working tree at `root`.
    pub fn from_repo(root: &Path, repo: Repo) -> Loaded {
        let commit = audit::git_commit(root, &repo.config.manifests);
        Workspace::from_repo_at(root, repo, commit)
    }

    /// Checks a repository loaded from anywhere (the working tree, a git ref), made
    /// from `commit`.
    pub fn from_repo_at(root: &Path, mut repo: Repo, commit: Option<Commit>) -> Loaded {
        let diagnostics = check(&repo);
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Loaded::Invalid {
                repo: Box::new(repo),
                diagnostics,
            };
        }
        let desired = Desired::from_manifests(&repo.manifests);
        let warnings = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(|d| Warning {
                rule: d.rule,
                message: d.message.clone(),
                origin: d.origin.map(|o| repo.sources.locate(o)),
            })
            .collect();
        let digest = manifests_digest(&repo.sources);
        // The desired model and the warnings hold all that is needed from here on: let
        // the spanned manifests and file texts go before the live org is read.
        repo.manifests = Default::default();
        repo.sources.forget_texts();
        Loaded::Valid(Box::new(Workspace {
            root: root.to_path_buf(),
            repo,
            desired,
            warnings,
            commit,
            manifests_digest: digest,
        }))
    }

    /// Plans against a snapshot of the live org, stamped with this orgform's version
    /// and the manifests digest, and sealed against edits. Pure.
    pub fn plan_against(&self, live: &Org, capabilities: Capabilities) -> Plan {
        let mut plan = self.plan_unsealed(live, capabilities);
        plan::integrity::seal(&mut plan);
        plan
    }

    /// [`Workspace::plan_against`] before sealing: a caller that seals later can drop
    /// the live org first (sealing builds the plan's JSON tree, the largest moment of a
    /// big plan).
    pub fn plan_unsealed(&self, live: &Org, capabilities: Capabilities) -> Plan {
        let source = Source {
            manifests: self.repo.config.manifests.clone(),
            git_commit: self.git_commit(),
            dirty: self.commit.as_ref().is_some_and(|c| c.dirty),
        };
        let mut plan = plan::plan(
            &self.desired,
            live,
            &self.repo.config.policy,
            capabilities,
            source,
            &self.repo.sources,
        );
        plan.orgform_version = super::ORGFORM_VERSION.to_string();
        plan.manifests_digest = self.manifests_digest.clone();
        plan.warnings.splice(0..0, self.warnings.iter().cloned());
        plan
    }

    /// The checkout's commit, `-dirty` when the manifests differ from it.
    pub fn git_commit(&self) -> Option<String> {
        self.commit.as_ref().map(ToString::to_string)
    }
}

/// Loader diagnostics plus every validation check: root causes first (files that could
/// not be parsed, and the note on the checks that skipped because of them), then the
/// rest in file order.
pub fn check(repo: &Repo) -> Vec<Diagnostic> {
    let mut all = repo.diagnostics.clone();
    validate::escape_messages(&mut all);
    all.extend(validate::validate(
        &repo.manifests,
        &repo.config,
        Mode::Manifests,
        &repo.salvaged,
    ));
    diagnostic::sort(&mut all);
    let unparsed = &repo.salvaged.unparsed_files;
    let root_cause = |d: &Diagnostic| {
        d.rule == crate::diagnostic::Rule::ChecksSkipped
            || d.origin
                .is_some_and(|o| unparsed.iter().any(|f| f == repo.sources.path(o.file)))
    };
    // Stable: each part keeps its order; the skipped-checks note ends the first part.
    all.sort_by_key(|d| {
        (
            !root_cause(d),
            d.rule == crate::diagnostic::Rule::ChecksSkipped,
        )
    });
    all
}

/// A file's name as shown, without its folders or the `REF:` a git ref puts before
/// its path.
fn file_name(shown: &str) -> &str {
    let last = shown.rsplit('/').next().unwrap_or(shown);
    last.rsplit(':').next().unwrap_or(last)
}

/// `sha256:` over orgform.yaml and the manifest files as read (name and text of each,
/// in reading order): what a plan was made from. Any edit changes it, a comment too.
/// Files are named without their folder or git ref, so a plan made with `--git-ref`
/// and one made in a checkout of that commit have the same digest.
pub fn manifests_digest(sources: &Sources) -> String {
    let mut hasher = Sha256::new();
    for (path, text) in sources.files() {
        let name = file_name(path);
        // Lengths first, so no two different file lists hash the same bytes.
        hasher.update(format!("{}:{}\n", name.len(), text.len()).as_bytes());
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(files: &[(&str, &str)]) -> String {
        let mut sources = Sources::default();
        for (path, text) in files {
            sources.add(*path, text.to_string());
        }
        manifests_digest(&sources)
    }

    #[test]
    fn the_manifests_digest_changes_with_any_byte_and_any_file() {
        let base = digest(&[
            ("orgform.yaml", "manifests: org/\n"),
            ("org/a.yaml", "users: []\n"),
        ]);
        assert_eq!(
            base,
            digest(&[
                ("orgform.yaml", "manifests: org/\n"),
                ("org/a.yaml", "users: []\n")
            ]),
            "stable"
        );
        for other in [
            digest(&[
                ("orgform.yaml", "manifests: org/\n"),
                ("org/a.yaml", "users: [] \n"),
            ]),
            digest(&[
                ("orgform.yaml", "manifests: org/\n"),
                ("org/b.yaml", "users: []\n"),
            ]),
            digest(&[("orgform.yaml", "manifests: org/\n")]),
            // The same bytes split differently between files.
            digest(&[
                ("orgform.yaml", "manifests: org/\norg/a.yaml"),
                ("", "users: []\n"),
            ]),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn invalid_manifests_stop_before_planning() {
        let repo = manifest::load_repo_files(
            b"manifests: org/\n".to_vec(),
            vec![(
                "org/people.yaml".to_string(),
                b"users:\n  - { email: not-an-email, role: member }\n".to_vec(),
            )],
        );
        match Workspace::from_repo(Path::new("."), repo) {
            Loaded::Invalid { diagnostics, .. } => {
                assert!(
                    diagnostics.iter().any(Diagnostic::is_error),
                    "{diagnostics:?}"
                );
            }
            Loaded::Valid(_) => panic!("an invalid email was accepted"),
        }
    }
}
