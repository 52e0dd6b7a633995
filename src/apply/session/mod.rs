//! An apply session: every decision of `orgform apply` short of asking and showing.
//!
//! [`Session::open`] takes the plan to apply (a saved file, one made now, or one a
//! person confirmed), takes the org's lock, reads the live org once and decides:
//! whether the plan may be applied at all (plan-file integrity, the orgform version,
//! the manifests it was made from, `--allow-destroy`, `policy.max_deletions`,
//! interrupted applies to resume or give up), then judges each change against the
//! live org (SPEC §7.8, [`judge`]). What it refuses is a [`Refusal`], recorded in the
//! audit log. [`Ready::run`] applies what is left, journaled, and records the result.
//!
//! The journal speeds a resumed apply up and records what happened; correctness does
//! not depend on it: a plan finished elsewhere, without the journal, is judged change
//! by change against the org and converges with nothing done twice.

mod judge;
mod mismatch;
mod plan_file;
mod refusal;
pub mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use judge::{Verdict, judge};
pub use mismatch::differences;
pub use refusal::Refusal;
pub use workspace::{Loaded, Workspace};

use super::journal::{self, Journal, Pending, Progress};
use super::lock::{self, ApplyLock};
use super::{Backoff, Observer, Outcome, Report, audit, execute_judged, plan_digest};
use crate::model::Org;
use crate::plan::{self, Change, Danger, Plan};
use crate::provider::Provider;
use crate::render;

/// This orgform's version, recorded in every plan it makes.
pub const ORGFORM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the person applying allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Destructive changes may be applied (`--allow-destroy`).
    pub allow_destroy: bool,
    /// Interrupted applies on this org may be given up (`--discard-interrupted`).
    pub discard_interrupted: bool,
}

/// The plan to apply.
pub enum Input {
    /// A plan saved by `orgform plan --out FILE`, applied exactly.
    Saved(PathBuf),
    /// A plan made now, under the lock (`--auto-approve`).
    Fresh,
    /// A plan a person was shown and confirmed ([`Session::preview`]).
    Confirmed(Box<Plan>),
}

pub struct Session {
    workspace: Workspace,
    provider: Box<dyn Provider>,
    options: Options,
    /// The org's apply state directory (lock, journals).
    state: PathBuf,
    /// The provider, described for people.
    against: String,
    /// The provider reads only what the manifests declare until asked for the rest
    /// (see [`Session::read_live`]).
    partial: bool,
}

/// A refused apply, with the audit record written for it.
#[derive(Debug)]
pub struct Refused {
    pub refusal: Refusal,
    pub record: audit::Record,
    /// The audit log could not be written.
    pub audit_error: Option<String>,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.refusal.fmt(f)
    }
}

/// What a preview leads to: a plan to confirm, or nothing to do.
pub enum Preview {
    Confirm(Box<Plan>),
    Nothing(Box<Applied>),
}

/// How an apply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Changes were applied (or attempted), journaled in `journal`.
    Ran { journal: PathBuf, resumed: bool },
    /// The plan has no changes.
    NoChanges,
    /// Every change already held, and this plan was applied before: when, and by
    /// whom when the audit log says.
    AlreadyApplied { at: String, by: Option<String> },
    /// Every change already held in the live org (no record of this plan being applied).
    AlreadyHolds,
}

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    pub plan: Plan,
    /// One outcome per change (all `already-done` when nothing had to be written).
    pub report: Report,
    pub status: Status,
    /// The audit record (appended to the audit log when anything ran).
    pub record: audit::Record,
    /// The audit log could not be written.
    pub audit_error: Option<String>,
}

impl Applied {
    /// Everything applicable was done, nothing is blocked, and it is on record
    /// (SPEC §7.11: apply exits 0 only then).
    pub fn succeeded(&self) -> bool {
        self.report.succeeded() && self.plan.blocked.is_empty() && self.audit_error.is_none()
    }
}

/// The journal could not be written: the apply stopped there.
#[derive(Debug, thiserror::Error)]
#[error(
    "the journal {} could not be written: {error}; run the same apply again once the disk is fixed",
    path.display()
)]
pub struct JournalError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

/// A plan accepted for applying, the lock held, each change judged.
pub struct Ready {
    session: Session,
    plan: Plan,
    live: Org,
    _lock: ApplyLock,
    verdicts: Vec<Verdict>,
    start: Start,
}

enum Start {
    Nothing(Status),
    Resume(Progress),
    /// A new journal; these interrupted applies are given up first.
    Begin {
        supersede: Vec<Progress>,
    },
}

/// Unfinished work on the org a provider reaches, as seen without its lock (for the
/// line `plan` prints about it).
pub fn pending(provider: &dyn Provider) -> Option<Pending> {
    journal::pending(&super::state::dir(&provider.identity()))
        .ok()
        .flatten()
}

impl Session {
    pub fn new(workspace: Workspace, mut provider: Box<dyn Provider>, options: Options) -> Self {
        let state = super::state::dir(&provider.identity());
        let against = provider.describe();
        let partial = provider.set_read_scope(crate::provider::ReadScope::of(&workspace.desired));
        Session {
            workspace,
            provider,
            options,
            state,
            against,
            partial,
        }
    }

    /// The provider, described for people (`sandbox .orgform/sandbox.db`).
    pub fn against(&self) -> &str {
        &self.against
    }

    /// Plans now, without the lock, for a person to review before [`Input::Confirmed`]:
    /// refused when it could not be applied anyway.
    pub fn preview(&mut self, observer: &mut dyn Observer) -> Result<Preview, Box<Refused>> {
        let live = self.read_live(&Plan::default())?;
        let plan = self.plan_against(&live);
        observer.planned(&plan);
        if plan.changes.is_empty() {
            // Not under the lock: an unfinished journal may be a running apply's.
            let refusal = match journal::pending(&self.state) {
                Ok(None) => {
                    return Ok(Preview::Nothing(Box::new(
                        self.nothing(plan, Status::NoChanges),
                    )));
                }
                Ok(Some(Pending::Running(holder))) => Refusal::Running { holder },
                Ok(Some(Pending::Interrupted(journals))) => Refusal::Interrupted {
                    root: self.workspace.root.clone(),
                    journals,
                    no_changes: true,
                },
                Err(e) => self.unreadable_state(e),
            };
            return Err(self.refuse(refusal, &plan));
        }
        if let Err(refusal) = self.guard(&plan) {
            return Err(self.refuse(refusal, &plan));
        }
        Ok(Preview::Confirm(Box::new(plan)))
    }

    /// Takes the lock, reads the live org and decides whether and how `input` is
    /// applied (see the module docs).
    pub fn open(
        mut self,
        input: Input,
        observer: &mut dyn Observer,
    ) -> Result<Ready, Box<Refused>> {
        let saved = match &input {
            Input::Saved(path) => match plan_file::read(path) {
                Ok(plan) => Some(plan),
                Err(reason) => {
                    return Err(self.refuse(Refusal::BadPlanFile { reason }, &Plan::default()));
                }
            },
            _ => None,
        };
        if let Some(plan) = &saved
            && plan.orgform_version != ORGFORM_VERSION
        {
            let refusal = Refusal::OtherVersion {
                plan: (!plan.orgform_version.is_empty()).then(|| plan.orgform_version.clone()),
                ours: ORGFORM_VERSION.to_string(),
            };
            return Err(self.refuse(refusal, plan));
        }
        // The plan as far as it is known before the live org is read.
        let known = match (&saved, &input) {
            (Some(plan), _) => plan.clone(),
            (None, Input::Confirmed(plan)) => (**plan).clone(),
            _ => Plan::default(),
        };
        let lock = match ApplyLock::acquire(&lock::path(&self.state), "apply") {
            Ok(lock) => lock,
            Err(e) => return Err(self.refuse(Refusal::Locked(e), &known)),
        };
        // The one read of the live org that every change is judged against.
        let live = self.read_live(&known)?;
        let from_file = saved.is_some();
        let plan = match (saved, input) {
            (Some(plan), _) => plan,
            (None, Input::Confirmed(plan)) => *plan,
            (None, _) => {
                let plan = self.plan_against(&live);
                observer.planned(&plan);
                plan
            }
        };
        let pending = match journal::unfinished(&journal::dir(&self.state)) {
            Ok(pending) => pending,
            Err(e) => {
                let refusal = self.unreadable_state(e);
                return Err(self.refuse(refusal, &plan));
            }
        };
        let ready = |session: Session, plan, live, verdicts, start| Ready {
            session,
            plan,
            live,
            _lock: lock,
            verdicts,
            start,
        };
        if plan.changes.is_empty() {
            if !pending.is_empty() {
                let refusal = Refusal::Interrupted {
                    root: self.workspace.root.clone(),
                    journals: pending,
                    no_changes: true,
                };
                return Err(self.refuse(refusal, &plan));
            }
            return Ok(ready(
                self,
                plan,
                live,
                Vec::new(),
                Start::Nothing(Status::NoChanges),
            ));
        }
        if let Err(refusal) = self.guard(&plan) {
            return Err(self.refuse(refusal, &plan));
        }
        let digest = plan_digest(&plan);
        let (resumed, interrupted): (Vec<Progress>, Vec<Progress>) =
            pending.into_iter().partition(|p| p.digest == digest);
        let resumed = resumed.into_iter().next();
        if resumed.is_none() && !interrupted.is_empty() && !self.options.discard_interrupted {
            let refusal = Refusal::Interrupted {
                root: self.workspace.root.clone(),
                journals: interrupted,
                no_changes: false,
            };
            return Err(self.refuse(refusal, &plan));
        }
        // A resumed plan was accepted here before; its journal says so.
        if resumed.is_none()
            && from_file
            && let Err(refusal) = self.same_source(&plan, &live)
        {
            return Err(self.refuse(refusal, &plan));
        }
        let journaled = resumed.as_ref().map(|p| p.done.clone()).unwrap_or_default();
        let verdicts = judge(&live, &plan, &journaled);
        let start = match resumed {
            Some(progress) => Start::Resume(progress),
            None if verdicts.iter().all(|v| *v == Verdict::Done) => {
                Start::Nothing(self.already_applied(&plan, &digest))
            }
            None => Start::Begin {
                supersede: interrupted,
            },
        };
        Ok(ready(self, plan, live, verdicts, start))
    }

    fn plan_against(&self, live: &Org) -> Plan {
        self.workspace
            .plan_against(live, self.provider.capabilities())
    }

    /// Reads the live org: what the manifests declare, and the rest of the org too when
    /// `plan` (or a plan made now) removes users or deletes groups or tags (SPEC §7.2),
    /// so the admin checks see every resource.
    fn read_live(&mut self, plan: &Plan) -> Result<Org, Box<Refused>> {
        let read = self.provider.read().and_then(|live| {
            let needs_rest = self.partial
                && (plan::needs_whole_org(plan)
                    || plan::needs_whole_org(&self.plan_against(&live)));
            if needs_rest {
                self.partial = false;
                self.provider.read_rest(live)
            } else {
                Ok(live)
            }
        });
        match read {
            Ok(org) => Ok(org),
            Err(e) => {
                let refusal = Refusal::Unreadable {
                    what: "the live org".to_string(),
                    error: e.to_string(),
                };
                Err(self.refuse(refusal, plan))
            }
        }
    }

    fn unreadable_state(&self, e: std::io::Error) -> Refusal {
        Refusal::Unreadable {
            what: format!("the apply journals in {}", self.state.display()),
            error: e.to_string(),
        }
    }

    /// Why the plan must not be applied as it is, if it must not: destructive changes
    /// without `--allow-destroy`, or more deletions than the policy allows now.
    fn guard(&self, plan: &Plan) -> Result<(), Refusal> {
        let destructive: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.danger == Danger::Destructive)
            .map(|c| {
                format!(
                    "{} {} {}",
                    render::marker(c.action),
                    c.kind,
                    render::printable(&c.key)
                )
            })
            .collect();
        if !destructive.is_empty() && !self.options.allow_destroy {
            return Err(Refusal::Destructive {
                changes: destructive,
            });
        }
        // The policy may have tightened since the plan was saved: check its limits again.
        let mut changes = plan.changes.clone();
        let mut blocked = Vec::new();
        let limits = &self.workspace.repo.config.policy.max_deletions;
        plan::enforce_deletion_limits(&mut changes, &mut blocked, limits);
        match blocked.into_iter().next() {
            Some(b) => Err(Refusal::DeletionLimit { message: b.message }),
            None => Ok(()),
        }
    }

    /// A saved plan must come from the manifests here (SPEC §7.8). While the org is
    /// still the one it was planned against, it must also be exactly what they plan
    /// (else it was edited); once the org moved on, each change is judged instead.
    fn same_source(&self, plan: &Plan, live: &Org) -> Result<(), Refusal> {
        let same_manifests = plan.manifests_digest == self.workspace.manifests_digest;
        let unmanaged = &self.workspace.repo.config.policy.unmanaged;
        let same_org = plan.actual_fingerprint == plan::fingerprint(live, unmanaged);
        if same_manifests && !same_org {
            return Ok(());
        }
        // Other manifests that plan exactly the same (a comment edited) are accepted.
        match differences(plan, &self.plan_against(live)) {
            None => Ok(()),
            Some(lines) => Err(Refusal::Mismatch {
                other_manifests: !same_manifests,
                lines,
            }),
        }
    }

    /// Every change of the plan already holds: was it applied before, and when?
    fn already_applied(&self, plan: &Plan, digest: &str) -> Status {
        let log = self.audit_path();
        if let Some((at, by)) = audit::applied(&log, &plan.digest) {
            return Status::AlreadyApplied { at, by: Some(by) };
        }
        match journal::finished(&journal::dir(&self.state), digest) {
            Some(at) => Status::AlreadyApplied { at, by: None },
            None => Status::AlreadyHolds,
        }
    }

    fn audit_path(&self) -> PathBuf {
        self.workspace
            .root
            .join(&self.workspace.repo.config.audit.path)
    }

    /// Records a refusal in the audit log.
    fn refuse(&self, refusal: Refusal, plan: &Plan) -> Box<Refused> {
        let record = self.record("refused", Some(refusal.to_string()), plan, None);
        let audit_error = self.append(&record);
        Box::new(Refused {
            refusal,
            record,
            audit_error,
        })
    }

    /// An apply that had nothing to write (not recorded in the audit log).
    fn nothing(&self, plan: Plan, status: Status) -> Applied {
        let report = Report {
            outcomes: vec![Outcome::AlreadyDone; plan.changes.len()],
            ..Report::default()
        };
        let record = self.record("nothing", None, &plan, Some(&report));
        Applied {
            plan,
            report,
            status,
            record,
            audit_error: None,
        }
    }

    fn append(&self, record: &audit::Record) -> Option<String> {
        let path = self.audit_path();
        audit::append(&path, record)
            .err()
            .map(|e| format!("writing the audit log {}: {e}", path.display()))
    }

    fn record(
        &self,
        outcome: &str,
        reason: Option<String>,
        plan: &Plan,
        report: Option<&Report>,
    ) -> audit::Record {
        let changes = plan
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let outcome = report.and_then(|r| r.outcomes.get(i));
                audit::ChangeResult {
                    kind: c.kind.to_string(),
                    key: c.key.clone(),
                    action: format!("{:?}", c.action).to_lowercase(),
                    danger: format!("{:?}", c.danger).to_lowercase(),
                    result: outcome.map_or("not-applied", Outcome::label).to_string(),
                    error: outcome.and_then(|o| o.detail()).map(str::to_string),
                }
            })
            .collect();
        audit::Record {
            time: journal::now(),
            actor: audit::actor(&self.workspace.root),
            // A plan file that could not be read records no commit: the checkout's, then.
            git_commit: plan
                .source
                .git_commit
                .clone()
                .or_else(|| self.workspace.git_commit()),
            provider: self.against.clone(),
            plan_fingerprint: plan.actual_fingerprint.clone(),
            plan_digest: plan.digest.clone(),
            outcome: outcome.to_string(),
            reason,
            changes,
        }
    }
}

impl Ready {
    /// The plan to apply.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Each change's verdict against the live org (empty when there are no changes).
    pub fn verdicts(&self) -> &[Verdict] {
        &self.verdicts
    }

    /// Applies what is applicable, journaled; records the result in the audit log.
    pub fn run(self, observer: &mut dyn Observer) -> Result<Applied, JournalError> {
        self.run_with(observer, &Backoff::DEFAULT)
    }

    /// [`Ready::run`], retrying transient failures as `backoff` says.
    pub fn run_with(
        self,
        observer: &mut dyn Observer,
        backoff: &Backoff,
    ) -> Result<Applied, JournalError> {
        let Ready {
            mut session,
            plan,
            live,
            _lock,
            verdicts,
            start,
        } = self;
        let digest = plan_digest(&plan);
        let journal_dir = journal::dir(&session.state);
        let failed = |path: &Path, error| JournalError {
            path: path.to_path_buf(),
            error,
        };
        let (mut journal, already, resumed) = match start {
            Start::Nothing(status) => return Ok(session.nothing(plan, status)),
            Start::Resume(progress) => {
                observer.note(&format!(
                    "Resuming an interrupted apply of this plan ({} of {} changes were done; journal {}).",
                    progress.done.len(),
                    plan.changes.len(),
                    progress.path.display()
                ));
                let journal =
                    Journal::resume(&progress.path).map_err(|e| failed(&progress.path, e))?;
                (journal, progress.done, true)
            }
            Start::Begin { supersede } => {
                // Only now, with the new plan accepted, are the interrupted ones given up.
                if !supersede.is_empty() {
                    journal::supersede(&supersede).map_err(|e| failed(&journal_dir, e))?;
                    observer.note(&format!(
                        "Discarded {} interrupted apply(s), as asked; their unfinished changes will not be made.",
                        supersede.len()
                    ));
                }
                let journal = Journal::begin(&journal_dir, &plan, &digest)
                    .map_err(|e| failed(&journal_dir, e))?;
                (journal, BTreeSet::new(), false)
            }
        };
        let conflicts: BTreeMap<usize, String> = verdicts
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Verdict::Conflicting(why) => Some((i, why.clone())),
                _ => None,
            })
            .collect();
        let report = execute_judged(
            &plan,
            session.provider.as_mut(),
            &live,
            &mut journal,
            &already,
            &conflicts,
            observer,
            backoff,
        );
        let report = match report {
            Ok(report) => report,
            Err(error) => {
                // Stop, and say so everywhere we can.
                let error = failed(&journal.path, error);
                let record = session.record("error", Some(error.to_string()), &plan, None);
                let _ = session.append(&record);
                return Err(error);
            }
        };
        let outcome = if report.succeeded() {
            "applied"
        } else {
            "partial"
        };
        let record = session.record(outcome, None, &plan, Some(&report));
        let audit_error = session.append(&record);
        Ok(Applied {
            plan,
            report,
            status: Status::Ran {
                journal: journal.path.clone(),
                resumed,
            },
            record,
            audit_error,
        })
    }
}

/// The changes a plan lists as blocked, as people read them: `user root@acme.com
/// [admin-unremovable]`.
pub fn blocked_names(plan: &Plan) -> Vec<String> {
    plan.blocked
        .iter()
        .map(|b| format!("{} {} [{}]", b.kind, render::printable(&b.key), b.rule))
        .collect()
}

/// A change as people read it in one line: `group labelers-eu`.
pub fn name(change: &Change) -> String {
    format!("{} {}", change.kind, render::printable(&change.key))
}

#[cfg(test)]
mod tests {
    //! Sessions on a real sandbox file in a temp dir, in-process: refusals are values.
    use super::*;
    use crate::model::{InvitationStatus, OrgRole, UserType};
    use crate::provider::sandbox::SandboxProvider;
    use crate::sandbox::store::{Access, Store};

    struct Quiet;

    impl Observer for Quiet {
        fn step(&mut self, _: usize, _: &Change, _: &Outcome) {}
    }

    /// A repository declaring `users` against a sandbox holding ada (admin) and bob.
    fn repo(users: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("org")).expect("org");
        std::fs::write(dir.path().join("orgform.yaml"), "manifests: org/\n").expect("config");
        std::fs::write(dir.path().join("org/people.yaml"), users).expect("people");
        let mut store = Store::create(&dir.path().join("org.db")).expect("store");
        for (email, role) in [
            ("ada@acme.com", OrgRole::Admin),
            ("bob@acme.com", OrgRole::Member),
        ] {
            store
                .add_user(email, role, UserType::Internal, InvitationStatus::Joined)
                .expect("user");
        }
        dir
    }

    fn session(dir: &Path, options: Options) -> Session {
        let workspace = match Workspace::load(dir).expect("loads") {
            Loaded::Valid(w) => *w,
            Loaded::Invalid { diagnostics, .. } => panic!("invalid: {diagnostics:?}"),
        };
        let provider =
            SandboxProvider::open(&dir.join("org.db"), "org.db", Access::ReadWrite).expect("open");
        Session::new(workspace, Box::new(provider), options)
    }

    const ADA_ONLY: &str = "users:\n  - { email: ada@acme.com, role: admin, type: internal }\n";

    #[test]
    fn removing_a_user_without_allow_destroy_is_refused_and_recorded() {
        let dir = repo(ADA_ONLY);
        let refused = match session(dir.path(), Options::default()).open(Input::Fresh, &mut Quiet) {
            Err(refused) => refused,
            Ok(_) => panic!("a destructive plan was accepted"),
        };
        assert!(
            matches!(&refused.refusal, Refusal::Destructive { changes } if changes == &["- user bob@acme.com"]),
            "{refused}"
        );
        assert_eq!(refused.record.outcome, "refused");
        assert!(dir.path().join(".orgform/audit.jsonl").is_file());
    }

    #[test]
    fn a_saved_plan_from_another_version_is_refused_before_the_lock() {
        let dir = repo(ADA_ONLY);
        let mut s = session(dir.path(), Options::default());
        let live = s.provider.read().expect("read");
        let mut plan = s.plan_against(&live);
        plan.orgform_version = "0.0.1".into();
        plan::integrity::seal(&mut plan);
        let file = dir.path().join("plan.json");
        std::fs::write(&file, serde_json::to_string(&plan).expect("JSON")).expect("write");
        match s.open(Input::Saved(file), &mut Quiet) {
            Err(refused) => assert!(
                matches!(&refused.refusal, Refusal::OtherVersion { plan: Some(v), .. } if v == "0.0.1"),
                "{refused}"
            ),
            Ok(_) => panic!("a plan from another version was accepted"),
        }
    }

    #[test]
    fn an_applied_plan_is_judged_done_change_by_change() {
        let dir = repo(ADA_ONLY);
        let options = Options {
            allow_destroy: true,
            ..Options::default()
        };
        let s = session(dir.path(), options);
        let ready = s
            .open(Input::Fresh, &mut Quiet)
            .map_err(|r| r.to_string())
            .expect("ready");
        assert_eq!(ready.verdicts(), [Verdict::Applicable]);
        let plan = ready.plan().clone();
        let applied = ready.run(&mut Quiet).expect("journal");
        assert!(applied.succeeded(), "{applied:?}");
        assert!(matches!(applied.status, Status::Ran { resumed: false, .. }));
        // The same plan again: every change holds, and the audit log says who did it.
        let again = session(dir.path(), options)
            .open(Input::Confirmed(Box::new(plan)), &mut Quiet)
            .map_err(|r| r.to_string())
            .expect("ready");
        assert_eq!(again.verdicts(), [Verdict::Done]);
        let applied = again.run(&mut Quiet).expect("journal");
        assert!(
            matches!(&applied.status, Status::AlreadyApplied { by: Some(_), .. }),
            "{:?}",
            applied.status
        );
        assert_eq!(applied.report.outcomes, [Outcome::AlreadyDone]);
    }
}
