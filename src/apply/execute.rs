//! The executor: runs a plan's operations against a provider, journaling every step
//! (see the `apply` module docs for the rules it keeps).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::journal::{Entry, Journal};
use super::precondition::{self, Precondition};
use super::{Backoff, Observer, Outcome, Report, deps, fault_point};
use crate::model::Org;
use crate::plan::{Change, Op, OpError, Plan};
use crate::provider::{BatchEvent, ErrorClass, Provider, ProviderError};

/// At most this many operations go to the provider in one call.
pub const MAX_BATCH: usize = 100;

/// Runs the plan's changes. `live` is the org as read just before; `already` holds
/// the indexes an interrupted run of this plan finished.
pub fn execute(
    plan: &Plan,
    provider: &mut dyn Provider,
    live: &Org,
    journal: &mut Journal,
    already: &BTreeSet<usize>,
    observer: &mut dyn Observer,
) -> std::io::Result<Report> {
    execute_with(
        plan,
        provider,
        live,
        journal,
        already,
        observer,
        &Backoff::DEFAULT,
    )
}

/// [`execute`], retrying transient failures as `backoff` says.
pub fn execute_with(
    plan: &Plan,
    provider: &mut dyn Provider,
    live: &Org,
    journal: &mut Journal,
    already: &BTreeSet<usize>,
    observer: &mut dyn Observer,
    backoff: &Backoff,
) -> std::io::Result<Report> {
    execute_judged(
        plan,
        provider,
        live,
        journal,
        already,
        &BTreeMap::new(),
        observer,
        backoff,
    )
}

/// [`execute_with`], refusing the changes judged conflicting beforehand (by index,
/// with why; SPEC §7.8): they are not attempted and what needs them is skipped.
#[allow(clippy::too_many_arguments)]
pub fn execute_judged(
    plan: &Plan,
    provider: &mut dyn Provider,
    live: &Org,
    journal: &mut Journal,
    already: &BTreeSet<usize>,
    conflicts: &BTreeMap<usize, String>,
    observer: &mut dyn Observer,
    backoff: &Backoff,
) -> std::io::Result<Report> {
    let start = Instant::now();
    let mut run = Run {
        ops: plan.changes.iter().map(Change::op).collect(),
        plan,
        live,
        journal,
        already,
        conflicts,
        backoff,
        broken: BTreeSet::new(),
        touched: BTreeSet::new(),
        writes: 0,
    };
    let mut report = Report::default();
    let mut index = 0;
    while index < plan.changes.len() {
        let end = run.batch_end(index);
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(end - index);
        let mut writes = Vec::new();
        for i in index..end {
            match run.decide(i)? {
                Step::Finished(outcome) => outcomes.push(Some(outcome)),
                Step::Write(op) => {
                    outcomes.push(None);
                    writes.push((i, op));
                }
            }
        }
        if !writes.is_empty() {
            for (i, outcome) in run.write(provider, writes)? {
                outcomes[i - index] = Some(outcome);
            }
        }
        for (i, outcome) in (index..end).zip(outcomes) {
            // `write` answers for every change it was given.
            let outcome = outcome.unwrap_or(Outcome::Skipped("not attempted".to_string()));
            observer.step(i, &plan.changes[i], &outcome);
            report.outcomes.push(outcome);
        }
        index = end;
    }
    report.elapsed = start.elapsed();
    run.journal.record(&Entry::End {
        time: super::journal::now(),
        done: report.count(|o| matches!(o, Outcome::Done | Outcome::AlreadyDone)),
        failed: report.count(|o| matches!(o, Outcome::Failed(_) | Outcome::Conflicting(_))),
        skipped: report.count(|o| matches!(o, Outcome::Skipped(_))),
    })?;
    Ok(report)
}

/// What becomes of a change before anything is written.
enum Step {
    Finished(Outcome),
    /// To be written (its precondition holds).
    Write(Op),
}

struct Run<'a> {
    plan: &'a Plan,
    /// Each change's operation (or why its fields do not describe one).
    ops: Vec<Result<Op, OpError>>,
    live: &'a Org,
    journal: &'a mut Journal,
    already: &'a BTreeSet<usize>,
    /// Judged conflicting before the run: refused, never attempted.
    conflicts: &'a BTreeMap<usize, String>,
    backoff: &'a Backoff,
    /// Objects whose change failed or was skipped: their dependants are skipped.
    broken: BTreeSet<String>,
    /// Objects this run wrote: the start snapshot is stale for them.
    touched: BTreeSet<String>,
    writes: usize,
}

impl Run<'_> {
    /// Where the batch starting at `index` ends: consecutive operations of one
    /// [`Op::batch_key`]. They provide no object, so none of them decides another.
    fn batch_end(&self, index: usize) -> usize {
        let key = |i: usize| self.ops[i].as_ref().ok().and_then(Op::batch_key);
        let Some(first) = key(index) else {
            return index + 1;
        };
        let mut end = index + 1;
        while end < self.ops.len() && end - index < MAX_BATCH && key(end).as_ref() == Some(&first) {
            end += 1;
        }
        end
    }

    /// Judges change `index` from the journal, its dependencies and its precondition.
    fn decide(&mut self, index: usize) -> std::io::Result<Step> {
        // The start snapshot already shows what earlier runs wrote; only this run's own
        // writes make it stale.
        if self.already.contains(&index) {
            return Ok(Step::Finished(Outcome::AlreadyDone));
        }
        let op = match &self.ops[index] {
            Ok(op) => op,
            Err(e) => {
                let error = e.to_string();
                self.journal.record(&Entry::Failed {
                    index,
                    error: error.clone(),
                })?;
                return Ok(Step::Finished(Outcome::Failed(error)));
            }
        };
        let provides = deps::provides(op);
        let requires = deps::requires(op);
        if let Some(why) = self.conflicts.get(&index) {
            let (op, why) = (op.clone(), why.clone());
            return Ok(Step::Finished(self.conflict(index, &op, why)?));
        }
        if let Op::Manual { .. } = op {
            // Until someone does it by hand, what needs it cannot happen either.
            self.broken.extend(provides);
            return Ok(Step::Finished(Outcome::Manual));
        }
        if let Some(missing) = requires.iter().find(|r| self.broken.contains(*r)) {
            let reason = format!("depends on {missing}, whose change did not succeed");
            self.journal.record(&Entry::Skipped {
                index,
                reason: reason.clone(),
            })?;
            self.broken.extend(provides);
            return Ok(Step::Finished(Outcome::Skipped(reason)));
        }
        let fresh = provides
            .iter()
            .chain(&requires)
            .any(|id| self.touched.contains(id));
        let pre = if fresh {
            Precondition::Ready
        } else {
            precondition::check_op(self.live, op)
        };
        Ok(match pre {
            Precondition::Done => {
                self.journal.record(&Entry::Done {
                    index,
                    already: true,
                })?;
                Step::Finished(Outcome::AlreadyDone)
            }
            Precondition::Conflict(why) => {
                let op = op.clone();
                Step::Finished(self.conflict(index, &op, why)?)
            }
            Precondition::Ready => Step::Write(op.clone()),
        })
    }

    /// Writes a batch (one change, or several one API call can make), retrying
    /// transient failures; returns each change's outcome.
    fn write(
        &mut self,
        provider: &mut dyn Provider,
        batch: Vec<(usize, Op)>,
    ) -> std::io::Result<Vec<(usize, Outcome)>> {
        let (mut indexes, mut ops): (Vec<usize>, Vec<Op>) = batch.into_iter().unzip();
        let mut outcomes = Vec::with_capacity(ops.len());
        let mut started = BTreeSet::new();
        let mut attempt = 1u32;
        loop {
            let results = self.send(provider, &indexes, &ops, &mut started)?;
            let mut retry = Vec::new();
            let mut wait = Duration::ZERO;
            let mut reread = Vec::new();
            for (k, result) in results.into_iter().enumerate() {
                let index = indexes[k];
                let outcome = match result {
                    Some(Ok(())) => Outcome::Done,
                    Some(Err(ProviderError {
                        class: ErrorClass::Transient { retry_after },
                        message,
                    })) => {
                        if attempt < self.backoff.attempts {
                            wait = wait.max(self.backoff.wait(attempt, retry_after));
                            retry.push(k);
                            continue;
                        }
                        let error = format!("{message} (gave up after {attempt} attempts)");
                        self.fail(index, &ops[k], error)?
                    }
                    Some(Err(e))
                        if matches!(e.class, ErrorClass::AlreadyExists | ErrorClass::NotFound) =>
                    {
                        reread.push((k, e));
                        continue;
                    }
                    Some(Err(e)) => self.fail(index, &ops[k], e.to_string())?,
                    None => {
                        let error = "the provider stopped before saying whether it made this change: `orgform plan` shows whether it is still needed".to_string();
                        self.fail(index, &ops[k], error)?
                    }
                };
                outcomes.push((index, outcome));
            }
            if !reread.is_empty() {
                // Written by a try whose answer was lost, or changed by someone else
                // since the org was read: read it again and judge as before a write
                // (SPEC §7.9).
                let now = provider.read();
                for (k, e) in reread {
                    let index = indexes[k];
                    let outcome = match &now {
                        Ok(org) => match precondition::check_op(org, &ops[k]) {
                            Precondition::Done => {
                                self.journal.record(&Entry::Done {
                                    index,
                                    already: true,
                                })?;
                                self.touched.extend(deps::provides(&ops[k]));
                                Outcome::AlreadyDone
                            }
                            Precondition::Conflict(why) => self.conflict(index, &ops[k], why)?,
                            Precondition::Ready => self.fail(index, &ops[k], e.to_string())?,
                        },
                        Err(read) => self.fail(
                            index,
                            &ops[k],
                            format!("{e} (and reading the org to compare failed: {read})"),
                        )?,
                    };
                    outcomes.push((index, outcome));
                }
            }
            if retry.is_empty() {
                return Ok(outcomes);
            }
            std::thread::sleep(wait);
            indexes = retry.iter().map(|k| indexes[*k]).collect();
            ops = retry.iter().map(|k| ops[*k].clone()).collect();
            attempt += 1;
        }
    }

    /// One provider call: journals `started` once per change and each write as it is
    /// reported; returns each operation's result (`None`: never reported).
    fn send(
        &mut self,
        provider: &mut dyn Provider,
        indexes: &[usize],
        ops: &[Op],
        started: &mut BTreeSet<usize>,
    ) -> std::io::Result<Vec<Option<Result<(), ProviderError>>>> {
        let mut results: Vec<Option<Result<(), ProviderError>>> = vec![None; ops.len()];
        let mut failure: Option<std::io::Error> = None;
        let (plan, journal, touched, writes) = (
            self.plan,
            &mut *self.journal,
            &mut self.touched,
            &mut self.writes,
        );
        let mut report = |event: BatchEvent| {
            let recorded = match event {
                BatchEvent::Writing(k) => match indexes.get(k) {
                    Some(&index) if started.insert(index) => {
                        let change = &plan.changes[index];
                        journal.record(&Entry::Started {
                            index,
                            kind: change.kind.to_string(),
                            key: change.key.clone(),
                            action: format!("{:?}", change.action).to_lowercase(),
                        })
                    }
                    _ => Ok(()),
                },
                BatchEvent::Finished(k, result) => {
                    let (Some(&index), Some(slot)) = (indexes.get(k), results.get_mut(k)) else {
                        return ControlFlow::Continue(());
                    };
                    let recorded = if result.is_ok() {
                        *writes += 1;
                        fault_point(*writes);
                        touched.extend(deps::provides(&ops[k]));
                        journal.record(&Entry::Done {
                            index,
                            already: false,
                        })
                    } else {
                        Ok(())
                    };
                    *slot = Some(result);
                    recorded
                }
            };
            match recorded {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        };
        provider.apply_batch(ops, &mut report);
        match failure {
            Some(e) => Err(e),
            None => Ok(results),
        }
    }

    /// Refuses a change that conflicts with the live org; what needs it is skipped.
    fn conflict(&mut self, index: usize, op: &Op, reason: String) -> std::io::Result<Outcome> {
        self.journal.record(&Entry::Conflicting {
            index,
            reason: reason.clone(),
        })?;
        self.broken.extend(deps::provides(op));
        Ok(Outcome::Conflicting(reason))
    }

    fn fail(&mut self, index: usize, op: &Op, error: String) -> std::io::Result<Outcome> {
        self.journal.record(&Entry::Failed {
            index,
            error: error.clone(),
        })?;
        self.broken.extend(deps::provides(op));
        Ok(Outcome::Failed(error))
    }
}

#[cfg(test)]
mod tests {
    //! The executor against small providers: a scripted one that fails as told (the
    //! sandbox never fails transiently), and the real sandbox store behind a provider
    //! that batches like a list-taking API.
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;
    use crate::apply::journal;
    use crate::diagnostic::Rule;
    use crate::model::{InvitationStatus, OrgRole, Principal, ProjectRole, ResourceKind, UserType};
    use crate::plan::{AccessRole, Capabilities, Danger, ResourceId};
    use crate::provider::OrgIdentity;
    use crate::provider::sandbox::SandboxProvider;
    use crate::sandbox::store::Store;

    const FAST: Backoff = Backoff {
        attempts: 3,
        first: Duration::from_millis(1),
        max_wait: Duration::from_millis(500),
    };

    /// Fails its first `failures` writes with `error`, then succeeds.
    struct Scripted {
        failures: usize,
        error: ProviderError,
        calls: usize,
    }

    impl Scripted {
        fn failing(failures: usize, class: ErrorClass) -> Self {
            Scripted {
                failures,
                error: ProviderError::new(class, "the platform said no"),
                calls: 0,
            }
        }
    }

    impl Provider for Scripted {
        fn describe(&self) -> String {
            "scripted".into()
        }
        fn identity(&self) -> OrgIdentity {
            OrgIdentity::Remote {
                provider: "scripted".into(),
                id: "test".into(),
            }
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::ALL
        }
        fn read(&mut self) -> Result<Org, ProviderError> {
            Ok(Org::default())
        }
        fn apply(&mut self, _op: &Op) -> Result<(), ProviderError> {
            self.calls += 1;
            if self.calls <= self.failures {
                Err(self.error.clone())
            } else {
                Ok(())
            }
        }
    }

    /// The sandbox behind one call per batch, as a list-taking API does it: every
    /// operation announced, then all written, then all reported. Records batch sizes.
    struct Batching {
        sandbox: SandboxProvider,
        batches: Vec<usize>,
        /// Die after reporting the first operation of the next batch of several.
        crash: bool,
    }

    impl Provider for Batching {
        fn describe(&self) -> String {
            self.sandbox.describe()
        }
        fn identity(&self) -> OrgIdentity {
            self.sandbox.identity()
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::ALL
        }
        fn read(&mut self) -> Result<Org, ProviderError> {
            self.sandbox.read()
        }
        fn apply(&mut self, op: &Op) -> Result<(), ProviderError> {
            self.sandbox.apply(op)
        }
        fn apply_batch(&mut self, ops: &[Op], report: &mut crate::provider::BatchReport<'_>) {
            self.batches.push(ops.len());
            for i in 0..ops.len() {
                let _ = report(BatchEvent::Writing(i));
            }
            let results: Vec<_> = ops.iter().map(|op| self.sandbox.apply(op)).collect();
            for (i, result) in results.into_iter().enumerate() {
                let _ = report(BatchEvent::Finished(i, result));
                if self.crash && ops.len() > 1 {
                    panic!("simulated crash: the process dies mid-batch");
                }
            }
        }
    }

    struct Quiet;

    impl Observer for Quiet {
        fn step(&mut self, _: usize, _: &Change, _: &Outcome) {}
    }

    fn plan_of(ops: Vec<Op>) -> Plan {
        Plan {
            changes: ops
                .into_iter()
                .map(|op| Change::from_op(op, Danger::Safe))
                .collect(),
            ..Plan::default()
        }
    }

    fn create_group(name: &str, description: &str) -> Op {
        Op::CreateGroup {
            name: name.into(),
            description: description.into(),
        }
    }

    fn add_member(group: &str, email: &str) -> Op {
        Op::AddGroupMember {
            group: group.into(),
            email: email.into(),
        }
    }

    /// Runs the plan with a fresh journal; returns the report and the journal's entries.
    fn run(
        plan: &Plan,
        provider: &mut dyn Provider,
        live: &Org,
        backoff: &Backoff,
    ) -> (Report, Vec<Entry>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::begin(dir.path(), plan, "sha256:test").expect("journal");
        let report = execute_with(
            plan,
            provider,
            live,
            &mut journal,
            &BTreeSet::new(),
            &mut Quiet,
            backoff,
        )
        .expect("journal writable");
        (
            report,
            journal::read(&journal.path).expect("journal readable"),
        )
    }

    fn count(entries: &[Entry], f: impl Fn(&Entry) -> bool) -> usize {
        entries.iter().filter(|e| f(e)).count()
    }

    #[test]
    fn transient_failures_are_retried_until_they_succeed() {
        let plan = plan_of(vec![create_group("labelers", "")]);
        let mut provider = Scripted::failing(2, ErrorClass::Transient { retry_after: None });
        let (report, entries) = run(&plan, &mut provider, &Org::default(), &FAST);
        assert_eq!(report.outcomes, [Outcome::Done]);
        assert_eq!(provider.calls, 3);
        // Started once however often it is tried; done once.
        assert_eq!(count(&entries, |e| matches!(e, Entry::Started { .. })), 1);
        assert_eq!(count(&entries, |e| matches!(e, Entry::Done { .. })), 1);
    }

    #[test]
    fn a_change_still_failing_after_the_attempts_fails_and_its_dependants_are_skipped() {
        let plan = plan_of(vec![
            create_group("labelers", ""),
            add_member("labelers", "bob@acme.com"),
        ]);
        let mut provider = Scripted::failing(100, ErrorClass::Transient { retry_after: None });
        let (report, _) = run(&plan, &mut provider, &Org::default(), &FAST);
        assert_eq!(provider.calls, 3, "bounded by the attempts");
        assert_eq!(
            report.outcomes,
            [
                Outcome::Failed("the platform said no (gave up after 3 attempts)".into()),
                Outcome::Skipped("depends on group:labelers, whose change did not succeed".into()),
            ]
        );
    }

    #[test]
    fn a_retry_after_from_the_platform_is_waited_for() {
        let plan = plan_of(vec![create_group("labelers", "")]);
        let after = Duration::from_millis(120);
        let mut provider = Scripted::failing(
            1,
            ErrorClass::Transient {
                retry_after: Some(after),
            },
        );
        let start = Instant::now();
        let (report, _) = run(&plan, &mut provider, &Org::default(), &FAST);
        assert_eq!(report.outcomes, [Outcome::Done]);
        assert!(start.elapsed() >= after, "{:?}", start.elapsed());
    }

    #[test]
    fn refused_not_found_and_denied_changes_are_not_retried() {
        for class in [
            ErrorClass::Refused(Rule::AdminUnremovable),
            ErrorClass::Denied,
            ErrorClass::Other,
        ] {
            let plan = plan_of(vec![create_group("labelers", "")]);
            let mut provider = Scripted::failing(100, class.clone());
            let (report, _) = run(&plan, &mut provider, &Org::default(), &FAST);
            assert_eq!(provider.calls, 1, "{class:?}");
            assert_eq!(
                report.outcomes,
                [Outcome::Failed("the platform said no".into())]
            );
        }
    }

    #[test]
    fn a_create_that_already_exists_as_planned_counts_as_done() {
        // Someone creates both groups between the read and the writes: one as the plan
        // would, one with other content.
        let mut store = Store::in_memory().expect("store");
        let live = store.read().expect("read");
        store.create_group("labelers", "Labelers").expect("group");
        store
            .create_group("reviewers", "someone else's")
            .expect("group");
        let mut provider = SandboxProvider::from_store(store);
        let plan = plan_of(vec![
            create_group("labelers", "Labelers"),
            create_group("reviewers", "Reviewers"),
        ]);
        let (report, entries) = run(&plan, &mut provider, &live, &FAST);
        assert_eq!(
            report.outcomes,
            [
                Outcome::AlreadyDone,
                Outcome::Conflicting(
                    "group reviewers already exists with other values: someone created it since the plan"
                        .into()
                ),
            ]
        );
        assert!(entries.contains(&Entry::Done {
            index: 0,
            already: true
        }));
    }

    /// A sandbox with three users, two groups and a project where two users have access.
    fn batch_store() -> Store {
        let mut s = Store::in_memory().expect("store");
        for email in ["a@acme.com", "b@acme.com", "c@acme.com"] {
            s.add_user(
                email,
                OrgRole::Member,
                UserType::Internal,
                InvitationStatus::Joined,
            )
            .expect("user");
        }
        s.create_group("g", "").expect("group");
        s.create_group("h", "").expect("group");
        s.create_resource(ResourceKind::Project, "P", Some("p-1"))
            .expect("project");
        for email in ["a@acme.com", "b@acme.com"] {
            let who = Principal::User(email.into());
            s.set_access(ResourceKind::Project, "p-1", &who, "viewer")
                .expect("access");
        }
        s
    }

    fn project() -> ResourceId {
        ResourceId {
            kind: ResourceKind::Project,
            hash: "p-1".into(),
            title: "P".into(),
        }
    }

    fn batch_plan() -> Plan {
        let viewer = AccessRole::Project(ProjectRole::Viewer);
        let grant = |who: Principal| Op::GrantAccess {
            resource: project(),
            principal: who,
            role: viewer,
        };
        let remove = |email: &str| Op::RemoveAccess {
            resource: project(),
            principal: Principal::User(email.into()),
            role: viewer,
        };
        plan_of(vec![
            add_member("g", "a@acme.com"),
            add_member("g", "b@acme.com"),
            add_member("g", "c@acme.com"),
            add_member("h", "a@acme.com"),
            grant(Principal::Group("g".into())),
            grant(Principal::Group("h".into())),
            grant(Principal::User("c@acme.com".into())),
            remove("a@acme.com"),
            remove("b@acme.com"),
        ])
    }

    #[test]
    fn compatible_operations_go_to_the_provider_together_and_are_journaled_one_by_one() {
        let store = batch_store();
        let live = store.read().expect("read");
        let mut provider = Batching {
            sandbox: SandboxProvider::from_store(store),
            batches: Vec::new(),
            crash: false,
        };
        let plan = batch_plan();
        let (report, entries) = run(&plan, &mut provider, &live, &FAST);
        assert!(
            report.outcomes.iter().all(|o| *o == Outcome::Done),
            "{report:?}"
        );
        // Members of g; of h; the grants to groups with one role; a user grant alone;
        // user removals from one project.
        assert_eq!(provider.batches, [3, 1, 2, 1, 2]);
        for index in 0..plan.changes.len() {
            let started = count(
                &entries,
                |e| matches!(e, Entry::Started { index: i, .. } if *i == index),
            );
            let done = count(
                &entries,
                |e| matches!(e, Entry::Done { index: i, already: false } if *i == index),
            );
            assert_eq!((started, done), (1, 1), "change {index}: {entries:?}");
        }
        let org = provider.read().expect("read");
        assert_eq!(org.groups["g"].members.len(), 3);
        let access = &org.projects["p-1"].access;
        let holders: BTreeSet<String> = access.keys().map(ToString::to_string).collect();
        assert_eq!(
            holders,
            BTreeSet::from(["group:g", "group:h", "user:c@acme.com"].map(String::from))
        );
    }

    #[test]
    fn an_apply_that_dies_mid_batch_resumes_per_operation() {
        let store = batch_store();
        let live = store.read().expect("read");
        let mut provider = Batching {
            sandbox: SandboxProvider::from_store(store),
            batches: Vec::new(),
            crash: true,
        };
        let plan = plan_of(
            batch_plan().changes[..3]
                .iter()
                .map(|c| c.op().expect("op"))
                .collect(),
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = Journal::begin(dir.path(), &plan, "sha256:test").expect("journal");
        let died = catch_unwind(AssertUnwindSafe(|| {
            execute_with(
                &plan,
                &mut provider,
                &live,
                &mut journal,
                &BTreeSet::new(),
                &mut Quiet,
                &FAST,
            )
        }));
        assert!(died.is_err(), "the simulated crash happened");
        // All three written, only the first recorded as done.
        let progress = journal::unfinished(dir.path()).expect("journals");
        assert_eq!(progress.len(), 1);
        assert_eq!(progress[0].done, BTreeSet::from([0]));

        provider.crash = false;
        provider.batches.clear();
        let live = provider.read().expect("read");
        let mut journal = Journal::resume(&progress[0].path).expect("resume");
        let report = execute_with(
            &plan,
            &mut provider,
            &live,
            &mut journal,
            &progress[0].done,
            &mut Quiet,
            &FAST,
        )
        .expect("journal writable");
        assert_eq!(report.outcomes, vec![Outcome::AlreadyDone; 3]);
        assert!(provider.batches.is_empty(), "nothing written twice");
        let entries = journal::read(&progress[0].path).expect("journal");
        assert_eq!(
            count(&entries, |e| matches!(e, Entry::Done { already: true, .. })),
            2,
            "the two unrecorded writes were found, not repeated"
        );
    }
}
