//! Why an apply writes nothing: each reason a typed value whose `Display` is the
//! message a person reads (what is wrong, what to do, and that nothing was written).

use std::fmt;
use std::path::PathBuf;

use super::plan_file;
use crate::apply::journal::{self, Progress};
use crate::apply::lock::{Holder, LockError};
use crate::plan::Danger;

#[derive(Debug)]
pub enum Refusal {
    /// The saved plan cannot be read, is not a plan, or was edited.
    BadPlanFile { reason: String },
    /// Made by another orgform version (`plan` is its recorded version, if any).
    OtherVersion { plan: Option<String>, ours: String },
    /// Another apply holds the org's lock.
    Locked(LockError),
    /// Nothing to apply, and an apply (or re-init) is running against the org.
    Running { holder: Option<Holder> },
    /// Earlier applies on this org were cut short and are not this plan's.
    Interrupted {
        /// The repository, for the hint `orgform -C ROOT apply COPY`.
        root: PathBuf,
        journals: Vec<Progress>,
        /// The plan itself had nothing to do.
        no_changes: bool,
    },
    /// Destructive changes without `--allow-destroy`: each as `- user bob@vendor.io`.
    Destructive { changes: Vec<String> },
    /// More deletions than `policy.max_deletions` allows (the blocked item's message).
    DeletionLimit { message: String },
    /// The saved plan is not what the manifests here plan.
    Mismatch {
        /// The plan was made from other manifests (else: the same ones, but the plan
        /// differs from a fresh plan against the same org, so it was edited).
        other_manifests: bool,
        /// What differs, one line each, already indented.
        lines: Vec<String>,
    },
    /// The live org or the apply state could not be read.
    Unreadable { what: String, error: String },
}

impl Refusal {
    /// A short name for logs and JSON (`bad-plan-file`, `mismatch`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::BadPlanFile { .. } => "bad-plan-file",
            Refusal::OtherVersion { .. } => "other-version",
            Refusal::Locked(_) => "locked",
            Refusal::Running { .. } => "running",
            Refusal::Interrupted { .. } => "interrupted",
            Refusal::Destructive { .. } => "destructive",
            Refusal::DeletionLimit { .. } => "deletion-limit",
            Refusal::Mismatch { .. } => "mismatch",
            Refusal::Unreadable { .. } => "unreadable",
        }
    }
}

const NOTHING: &str = "Nothing was written.";

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadPlanFile { reason } => {
                write!(f, "Refusing to apply: {reason}. {NOTHING}")
            }
            Refusal::OtherVersion { plan, ours } => write!(
                f,
                "Refusing to apply: the plan was made by {}, and this is orgform {ours}: re-plan with this version (`orgform plan --out FILE`) and review that plan. {NOTHING}",
                plan.as_deref().map_or_else(
                    || "an orgform that did not record its version".to_string(),
                    |v| format!("orgform {v}")
                )
            ),
            Refusal::Locked(e) => write!(f, "Refusing to apply: {e}. {NOTHING}"),
            Refusal::Running { holder } => write!(
                f,
                "Nothing to apply: the plan has no changes.\n{} is running against this org{}: wait for it to finish, then plan again.",
                Holder::command(holder.as_ref()),
                Holder::process(holder.as_ref())
            ),
            Refusal::Interrupted {
                root,
                journals,
                no_changes,
            } => {
                if *no_changes {
                    writeln!(f, "Nothing to apply: the plan has no changes.")?;
                }
                writeln!(
                    f,
                    "Refusing to apply: an earlier apply on this org was interrupted, and what it left undone may include changes no new plan can see (e.g. access to restore after re-adding a user):"
                )?;
                let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
                for p in journals {
                    let copy = journal::plan_copy(&p.path);
                    let destroy = match plan_file::read(&copy) {
                        Ok(plan)
                            if plan.changes.iter().any(|c| c.danger == Danger::Destructive) =>
                        {
                            " --allow-destroy"
                        }
                        _ => "",
                    };
                    writeln!(
                        f,
                        "  {} of {} changes done; finish it with `orgform -C {} apply {}{destroy}`",
                        p.done.len(),
                        p.total,
                        root.display(),
                        copy.display()
                    )?;
                }
                write!(
                    f,
                    "Finish it first, or pass --discard-interrupted to give it up. {NOTHING}"
                )
            }
            Refusal::Destructive { changes } => write!(
                f,
                "Refusing to apply: the plan has {} destructive change(s):\n{}\nRe-run with --allow-destroy to apply them. {NOTHING}",
                changes.len(),
                changes
                    .iter()
                    .map(|c| format!("  {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            Refusal::DeletionLimit { message } => {
                write!(f, "Refusing to apply: {message}. {NOTHING}")
            }
            Refusal::Mismatch {
                other_manifests,
                lines,
            } => {
                let why = if *other_manifests {
                    "the plan file was made from other manifests than the ones here (orgform.yaml or a manifest changed since)"
                } else {
                    "the plan file is not what the manifests here plan against the same org (it was edited)"
                };
                write!(
                    f,
                    "Refusing to apply: {why}. A fresh plan would differ:\n{}\nRun `orgform plan --out FILE` on this checkout and review it. {NOTHING}",
                    lines.join("\n")
                )
            }
            Refusal::Unreadable { what, error } => {
                write!(
                    f,
                    "Refusing to apply: {what} could not be read: {error}. {NOTHING}"
                )
            }
        }
    }
}

impl std::error::Error for Refusal {}
