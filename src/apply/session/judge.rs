//! SPEC §7.8: each change of a plan judged against the live org as it is now, read once
//! under the lock (§7.9). *Done*: its result holds (skipped, reported as already done).
//! *Applicable*: its precondition holds and the platform rules still allow it on the
//! org as it is now. *Conflicting*: anything else — it is refused by name, and the
//! changes that need it are skipped. A reviewed plan thus survives unrelated live
//! changes, and can be finished anywhere without the journal.
//!
//! The platform rule judged here beyond each change's precondition is the one that
//! spans changes: `resource-admin-required`, decided by the planner's own verdict on
//! what is left of the plan.

use std::collections::BTreeSet;

use super::super::deps;
use super::super::precondition::{self, Precondition};
use crate::diagnostic::Rule;
use crate::model::Org;
use crate::plan::{self, Change, Op, Plan};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Done,
    Applicable,
    Conflicting(String),
}

/// Judges every change of `plan` against `live`; `journaled` are the changes an
/// interrupted run of this plan recorded as done.
pub fn judge(live: &Org, plan: &Plan, journaled: &BTreeSet<usize>) -> Vec<Verdict> {
    let ops: Vec<Option<Op>> = plan.changes.iter().map(|c| c.op().ok()).collect();
    // Objects an earlier change of this plan will write: the snapshot says nothing
    // about them by then (a re-added user's access is gone when it is granted again),
    // so a change touching one is applicable, as the executor will find it.
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut verdicts = Vec::with_capacity(plan.changes.len());
    for (i, change) in plan.changes.iter().enumerate() {
        if journaled.contains(&i) {
            verdicts.push(Verdict::Done);
            continue;
        }
        let ids = ops[i].as_ref().map(|op| {
            let mut ids = deps::provides(op);
            ids.extend(deps::requires(op));
            ids
        });
        let fresh = ids
            .as_ref()
            .is_some_and(|ids| ids.iter().any(|id| touched.contains(id)));
        let verdict = match (fresh, precondition::check(live, change)) {
            (_, Precondition::Conflict(why)) if ops[i].is_none() => Verdict::Conflicting(why),
            (true, _) | (false, Precondition::Ready) => Verdict::Applicable,
            (false, Precondition::Done) => Verdict::Done,
            (false, Precondition::Conflict(why)) => Verdict::Conflicting(why),
        };
        if verdict == Verdict::Applicable
            && let Some(op) = &ops[i]
        {
            touched.extend(deps::provides(op));
        }
        verdicts.push(verdict);
    }
    // Refusing a change can take away a grant a later removal relied on: judge again
    // until nothing more conflicts.
    loop {
        let runs = what_runs(&ops, &verdicts);
        let changes: Vec<Change> = runs.iter().map(|&i| plan.changes[i].clone()).collect();
        let losses = plan::admin_losses(live, &changes);
        if losses.is_empty() {
            return verdicts;
        }
        for (k, resources) in losses {
            let list: Vec<String> = resources
                .iter()
                .map(|(kind, hash)| format!("{kind} `{}`", live.title(*kind, hash).unwrap_or(hash)))
                .collect();
            verdicts[runs[k]] = Verdict::Conflicting(format!(
                "with the org as it is now, this would leave {} without an admin ({})",
                list.join(", "),
                Rule::ResourceAdminRequired
            ));
        }
    }
}

/// The changes that would be written, in order: applicable ones whose dependencies
/// are not refused or skipped, and not manual (nobody writes those).
fn what_runs(ops: &[Option<Op>], verdicts: &[Verdict]) -> Vec<usize> {
    let mut broken: BTreeSet<String> = BTreeSet::new();
    let mut runs = Vec::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        let Some(op) = &ops[i] else { continue };
        let provides = deps::provides(op);
        match verdict {
            Verdict::Done => {}
            Verdict::Conflicting(_) => broken.extend(provides),
            Verdict::Applicable => {
                let manual = matches!(op, Op::Manual { .. });
                if manual || deps::requires(op).iter().any(|r| broken.contains(r)) {
                    broken.extend(provides);
                } else {
                    runs.push(i);
                }
            }
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InvitationStatus, OrgRole, Principal, ResourceKind, UserType};
    use crate::plan::{AccessRole, Danger, ResourceId};
    use crate::sandbox::store::Store;

    fn plan_of(ops: Vec<Op>) -> Plan {
        Plan {
            changes: ops
                .into_iter()
                .map(|op| Change::from_op(op, Danger::Safe))
                .collect(),
            ..Plan::default()
        }
    }

    /// A project administered by ada and bob; carl is a member.
    fn org() -> Store {
        let mut s = Store::in_memory().expect("store");
        for email in ["ada@acme.com", "bob@acme.com", "carl@acme.com"] {
            s.add_user(
                email,
                OrgRole::Member,
                UserType::Internal,
                InvitationStatus::Joined,
            )
            .expect("user");
        }
        s.create_resource(ResourceKind::Project, "Lung CT", Some("p-1"))
            .expect("project");
        for email in ["ada@acme.com", "bob@acme.com"] {
            s.set_access(
                ResourceKind::Project,
                "p-1",
                &Principal::User(email.into()),
                "admin",
            )
            .expect("access");
        }
        s
    }

    fn remove_admin(email: &str) -> Op {
        Op::RemoveAccess {
            resource: ResourceId {
                kind: ResourceKind::Project,
                hash: "p-1".into(),
                title: "Lung CT".into(),
            },
            principal: Principal::User(email.into()),
            role: AccessRole::admin(ResourceKind::Project),
        }
    }

    #[test]
    fn a_removal_that_would_now_leave_no_admin_conflicts_and_the_rest_applies() {
        let mut store = org();
        // Planned while bob was admin too: removing ada was fine then.
        let plan = plan_of(vec![
            remove_admin("ada@acme.com"),
            Op::SetOrgRole {
                email: "carl@acme.com".into(),
                from: OrgRole::Member,
                to: OrgRole::WorkforceManager,
            },
        ]);
        assert_eq!(
            judge(&store.read().expect("read"), &plan, &BTreeSet::new()),
            [Verdict::Applicable, Verdict::Applicable]
        );
        // By hand, bob's admin role is taken away since.
        store
            .remove_access(
                ResourceKind::Project,
                "p-1",
                &Principal::User("bob@acme.com".into()),
            )
            .expect("by hand");
        let verdicts = judge(&store.read().expect("read"), &plan, &BTreeSet::new());
        assert_eq!(
            verdicts,
            [
                Verdict::Conflicting(
                    "with the org as it is now, this would leave project `Lung CT` without an admin (resource-admin-required)".into()
                ),
                Verdict::Applicable
            ]
        );
    }

    #[test]
    fn done_changes_and_changed_objects_are_told_apart() {
        let mut store = org();
        let plan = plan_of(vec![
            Op::SetOrgRole {
                email: "carl@acme.com".into(),
                from: OrgRole::Member,
                to: OrgRole::WorkforceManager,
            },
            Op::SetOrgRole {
                email: "bob@acme.com".into(),
                from: OrgRole::Member,
                to: OrgRole::WorkforceManager,
            },
            Op::CreateGroup {
                name: "labelers".into(),
                description: String::new(),
            },
        ]);
        store
            .set_user_role("carl@acme.com", OrgRole::WorkforceManager)
            .expect("as planned");
        store
            .set_user_role("bob@acme.com", OrgRole::Collaborator)
            .expect("otherwise");
        let live = store.read().expect("read");
        let verdicts = judge(&live, &plan, &BTreeSet::new());
        assert_eq!(verdicts[0], Verdict::Done);
        assert!(
            matches!(&verdicts[1], Verdict::Conflicting(why) if why.contains("user bob@acme.com changed since the plan")),
            "{verdicts:?}"
        );
        assert_eq!(verdicts[2], Verdict::Applicable);
        // What the journal says was done is done, whatever the org shows.
        assert_eq!(judge(&live, &plan, &BTreeSet::from([2]))[2], Verdict::Done);
    }

    #[test]
    fn a_change_to_an_object_an_earlier_change_rewrites_is_applicable() {
        // Re-adding ada (a type change) drops her admin role on the project; the plan
        // grants it back. The snapshot shows her as admin already: not done, though.
        let store = org();
        let plan = plan_of(vec![
            Op::ReplaceUser {
                email: "ada@acme.com".into(),
                from_role: OrgRole::Member,
                from_type: UserType::Internal,
                role: OrgRole::Member,
                user_type: UserType::External,
            },
            Op::GrantAccess {
                resource: ResourceId {
                    kind: ResourceKind::Project,
                    hash: "p-1".into(),
                    title: "Lung CT".into(),
                },
                principal: Principal::User("ada@acme.com".into()),
                role: AccessRole::admin(ResourceKind::Project),
            },
            remove_admin("bob@acme.com"),
        ]);
        assert_eq!(
            judge(&store.read().expect("read"), &plan, &BTreeSet::new()),
            [
                Verdict::Applicable,
                Verdict::Applicable,
                Verdict::Applicable
            ]
        );
    }
}
