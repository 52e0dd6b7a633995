//! `resource-admin-required` (SPEC §7.3): no plan leaves a Project or Dataset that has
//! an admin with none, neither at the end nor part-way through the apply order.
//!
//! A resource *has an admin* when a user who stays in the org holds the admin role on
//! it, directly or through a group that keeps at least one member (invited users
//! count; an org admin's implicit access does not). The check simulates the plan's
//! changes in apply order on a small model of who administers what, and attributes
//! each lost admin to the changes that took it away: user removals and group deletions
//! are kept (and the org planned again, since they cascade), everything else is held
//! back. Where a removed user was the last admin of a resource whose access the
//! manifests do not manage, `policy.offboarding.replacement` takes over instead.

mod world;

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Rule;
use crate::model::{Org, Principal, ResourceKind, UserType, email};
use crate::plan::order::{limit_for, limit_message, phase, sort_refs_for_apply};
use crate::plan::{AccessRole, Action, Blocked, Change, Danger, Kind, Op, ResourceId, Target};

use super::{Held, Planner};
use world::{AdminWorld, At};

/// A Project or Dataset, by kind and hash.
type Res = (ResourceKind, String);

/// For changes in apply order, applied to `live`: which of them take away a Project's
/// or Dataset's last admin (SPEC §7.3), each with the resources (kind, hash) it would
/// leave without one. The planner's own verdict, for apply to judge what is left of a
/// plan against the org as it is now.
pub fn admin_losses(
    live: &Org,
    changes: &[Change],
) -> BTreeMap<usize, Vec<(ResourceKind, String)>> {
    let mut losses: BTreeMap<usize, Vec<(ResourceKind, String)>> = BTreeMap::new();
    let changes: Vec<&Change> = changes.iter().collect();
    for v in Verdict::compute(live, &changes).violations {
        for i in v.causes {
            losses.entry(i).or_default().push(v.res.clone());
        }
    }
    losses
}

/// When, in the apply order, a resource is without an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// After users are re-added with a new type, before any access is granted.
    Midway,
    /// Once the whole plan is applied.
    End,
}

/// A resource the plan would leave without an admin, and the changes (indexes into the
/// planner's changes) that take its admins away.
struct Violation {
    res: Res,
    stage: Stage,
    causes: Vec<usize>,
}

/// The resources a plan (in apply order) leaves without an admin.
pub(super) struct Verdict {
    violations: Vec<Violation>,
}

impl Verdict {
    fn compute<'a>(live: &'a Org, changes: &[&'a Change]) -> Verdict {
        let mut world = AdminWorld::of(live, changes);
        let had = world.administered();
        let mut causes: BTreeMap<At<'a>, Vec<usize>> = BTreeMap::new();
        let mut violations = Vec::new();
        let mut midway_checked = false;
        for (i, c) in changes.iter().enumerate() {
            if !midway_checked && phase(c) > 0 {
                midway_checked = true;
                violations.extend(Self::lost(&world, &had, &causes, Stage::Midway));
            }
            for res in world.apply(c) {
                causes.entry(res).or_default().push(i);
            }
        }
        if !midway_checked {
            violations.extend(Self::lost(&world, &had, &causes, Stage::Midway));
        }
        let midway: BTreeSet<Res> = violations.iter().map(|v| v.res.clone()).collect();
        violations.extend(
            Self::lost(&world, &had, &causes, Stage::End).filter(|v| !midway.contains(&v.res)),
        );
        Verdict { violations }
    }

    fn lost<'w, 'a>(
        world: &'w AdminWorld<'a>,
        had: &'w BTreeSet<At<'a>>,
        causes: &'w BTreeMap<At<'a>, Vec<usize>>,
        stage: Stage,
    ) -> impl Iterator<Item = Violation> + 'w {
        had.iter()
            .filter(|r| !world.has_admin(r))
            .map(move |r| Violation {
                res: (r.0, r.1.to_string()),
                stage,
                causes: causes.get(r).cloned().unwrap_or_default(),
            })
    }

    pub(super) fn of(p: &Planner<'_>) -> Verdict {
        let changes: Vec<&Change> = p.changes.iter().collect();
        Verdict::compute(p.live, &changes)
    }

    pub(super) fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// Keeps the users and groups whose removal takes a resource's last admin away.
    /// True when any was added: the org must be planned again.
    pub(super) fn hold_removals(&self, p: &Planner<'_>, held: &mut Held) -> bool {
        // Who, and which resources they would leave without an admin (and when).
        let mut users: BTreeMap<&str, (Stage, Vec<&Res>)> = BTreeMap::new();
        let mut groups: BTreeMap<&str, Vec<&Res>> = BTreeMap::new();
        for v in &self.violations {
            for &i in &v.causes {
                let c = &p.changes[i];
                match (&c.target, c.action) {
                    (Target::User { email }, Action::Delete | Action::Replace) => {
                        let entry = users.entry(email).or_insert((v.stage, Vec::new()));
                        if v.stage == Stage::Midway {
                            entry.0 = Stage::Midway;
                        }
                        entry.1.push(&v.res);
                    }
                    (Target::Group { name }, Action::Delete) => {
                        groups.entry(name).or_default().push(&v.res);
                    }
                    _ => {}
                }
            }
        }
        let mut added = false;
        for (email, (stage, resources)) in users {
            if held.users.contains_key(email) {
                continue;
            }
            let list = p.list_resources(&resources);
            let message = match stage {
                Stage::Midway => format!(
                    "changing `{email}`'s type removes and re-adds them, which leaves {list} without an admin until access is granted again: give each another admin first (apply that), then change the type"
                ),
                Stage::End => {
                    let managed = resources.iter().any(|(kind, hash)| {
                        p.declared(*kind, hash).is_some_and(|d| d.manages_access())
                    });
                    let fix = match (managed, p.replacement()) {
                        (true, _) => "declare another admin in the access list of each (a user who stays in the org, or a group with members)".to_string(),
                        (false, Ok(_)) => "declare another admin for each".to_string(),
                        (false, Err(why)) => format!("{why}; or declare another admin for each"),
                    };
                    format!("removing `{email}` would leave {list} without an admin: {fix}")
                }
            };
            held.users
                .insert(email.to_string(), (Rule::SoleResourceAdmin, message));
            added = true;
        }
        for (name, resources) in groups {
            if held.groups.contains_key(name) {
                continue;
            }
            let message = format!(
                "deleting group `{name}` would leave {} without an admin: declare another admin for each first (a user who stays in the org, or a group with members), or keep the group",
                p.list_resources(&resources)
            );
            held.groups
                .insert(name.to_string(), (Rule::ResourceAdminRequired, message));
            added = true;
        }
        added
    }

    /// Holds back the remaining changes that take a resource's last admin away (access
    /// removals, demotions, membership removals), each as a blocked item, with one
    /// blocked item per resource saying what to do. False when there was nothing left
    /// to hold back.
    pub(super) fn hold_back(&self, p: &mut Planner<'_>) -> bool {
        let mut held_back: BTreeSet<usize> = BTreeSet::new();
        let mut blocked: Vec<Blocked> = Vec::new();
        for v in &self.violations {
            let (kind, hash) = &v.res;
            let label = p.label(*kind, hash);
            let causes: Vec<usize> = v
                .causes
                .iter()
                .copied()
                .filter(|i| held_back.insert(*i))
                .collect();
            for &i in &causes {
                let c = &p.changes[i];
                blocked.push(Blocked {
                    kind: c.kind,
                    key: c.key.clone(),
                    rule: Rule::ResourceAdminRequired,
                    message: format!(
                        "held back: with the rest of this plan it would leave {kind} `{label}` without an admin"
                    ),
                });
            }
            let changes: Vec<String> = causes
                .iter()
                .map(|&i| format!("{} {}", p.changes[i].kind, p.changes[i].key))
                .collect();
            blocked.push(Blocked {
                kind: Kind::Access,
                key: format!("{kind}:{label}"),
                rule: Rule::ResourceAdminRequired,
                message: format!(
                    "{kind} `{label}` has an admin now and this plan would leave it with none ({}): declare another admin in its access list (a user who stays in the org, or a group with members), then plan again",
                    if changes.is_empty() {
                        "nothing to hold back".to_string()
                    } else {
                        format!("held back: {}", changes.join(", "))
                    }
                ),
            });
        }
        let mut index = 0;
        p.changes.retain(|_| {
            index += 1;
            !held_back.contains(&(index - 1))
        });
        p.blocked.extend(blocked);
        !held_back.is_empty()
    }
}

impl<'a> Planner<'a> {
    /// "project `A`, dataset `B`".
    fn list_resources(&self, resources: &[&Res]) -> String {
        let mut seen = BTreeSet::new();
        resources
            .iter()
            .filter(|r| seen.insert(**r))
            .map(|(kind, hash)| format!("{kind} `{}`", self.label(*kind, hash)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The user who takes over resources whose last admin is removed, or why there is
    /// none that can.
    pub(super) fn replacement(&self) -> Result<String, String> {
        let Some(configured) = &self.policy.offboarding.replacement else {
            return Err(
                "set `policy.offboarding.replacement` in orgform.yaml to a user who takes over"
                    .to_string(),
            );
        };
        let r = email::normalize(configured);
        let why = |reason: String| {
            Err(format!(
                "`policy.offboarding.replacement` (`{r}`) cannot take over: {reason}; choose another replacement"
            ))
        };
        if self.removed_users.contains(&r) {
            return why("this plan removes or re-adds that user too".to_string());
        }
        let user = self
            .desired
            .org
            .users
            .get(&r)
            .or_else(|| self.live.users.get(&r).filter(|_| self.unmanaged_user(&r)));
        match user {
            None => why(format!(
                "`{r}` is not a member of the org (neither declared nor in the live org)"
            )),
            Some(u) if u.user_type != UserType::Internal => why(format!(
                "`{r}` is {}: only an internal user can take over as admin",
                u.user_type
            )),
            Some(_) => Ok(r),
        }
    }

    /// Where a removed user was the last admin of a resource whose access the manifests
    /// do not manage, the configured replacement takes over (an admin grant, applied
    /// before the removal). Elsewhere the removal is kept (see [`Verdict`]).
    pub(super) fn offboarding_replacements(&mut self) {
        let removes_users = self
            .changes
            .iter()
            .any(|c| c.kind == Kind::User && c.action == Action::Delete);
        let Ok(replacement) = self.replacement() else {
            return;
        };
        if !removes_users {
            return;
        }
        // Judged in apply order, without copying the changes.
        let mut sorted: Vec<&Change> = self.changes.iter().collect();
        sort_refs_for_apply(&mut sorted);
        let verdict = Verdict::compute(self.live, &sorted);
        let deleted: BTreeSet<&str> = sorted
            .iter()
            .filter_map(|c| match (&c.target, c.action) {
                (Target::User { email }, Action::Delete) => Some(email.as_str()),
                _ => None,
            })
            .collect();
        let mut grants = Vec::new();
        for v in &verdict.violations {
            let (kind, hash) = &v.res;
            // Who leaves the org holding the admin role: directly, or as the members of
            // a group deleted in the same plan (its deletion comes first in apply order,
            // so it is the recorded cause) when every one of them leaves too.
            let offboarded: BTreeSet<&str> = v
                .causes
                .iter()
                .flat_map(|&i| match (&sorted[i].target, sorted[i].action) {
                    (Target::User { email }, Action::Delete) => vec![email.as_str()],
                    (Target::Group { name }, Action::Delete) => self
                        .live
                        .groups
                        .get(name)
                        .map(|g| g.members.iter().map(String::as_str).collect::<Vec<_>>())
                        .filter(|members| members.iter().all(|m| deleted.contains(m)))
                        .unwrap_or_default(),
                    _ => Vec::new(),
                })
                .collect();
            let managed = self
                .declared(*kind, hash)
                .is_some_and(|d| d.manages_access());
            if v.stage != Stage::End || offboarded.is_empty() || managed {
                continue;
            }
            let who = Principal::User(replacement.clone());
            let live_role = self
                .live
                .access_of(*kind, hash)
                .and_then(|a| a.into_iter().find(|(w, _)| **w == who).map(|(_, r)| r));
            let resource = ResourceId {
                kind: *kind,
                hash: hash.clone(),
                title: self.label(*kind, hash),
            };
            let admin = AccessRole::admin(*kind);
            let op = match live_role.and_then(|r| AccessRole::parse(*kind, &r)) {
                Some(from) => Op::SetAccessRole {
                    resource,
                    principal: who,
                    from,
                    to: admin,
                },
                None => Op::GrantAccess {
                    resource,
                    principal: who,
                    role: admin,
                },
            };
            grants.push(
                Change::from_op(op, Danger::Safe)
                    .rule(Rule::SoleResourceAdmin)
                    .note(format!(
                        "takes over as admin from {} (policy offboarding.replacement)",
                        offboarded
                            .iter()
                            .map(|e| format!("`{e}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
            );
        }
        self.changes.extend(grants);
    }

    /// When more users would be removed (deleted or re-added) than
    /// `policy.max_deletions` allows, keeps every one of them. True when any was kept:
    /// the org must be planned again. Users kept for other reasons do not count.
    pub(super) fn limit_user_removals(&self, held: &mut Held) -> bool {
        let removals: Vec<&str> = self
            .changes
            .iter()
            .filter(|c| {
                c.kind == Kind::User && matches!(c.action, Action::Delete | Action::Replace)
            })
            .map(|c| c.key.as_str())
            .collect();
        let limit = limit_for(&self.policy.max_deletions, Kind::User);
        if removals.len() as u64 <= u64::from(limit) {
            return false;
        }
        let message = limit_message(Kind::User, removals.len() as u32, limit);
        for email in removals {
            held.users.insert(
                email.to_string(),
                (Rule::DeletionLimitExceeded, message.clone()),
            );
        }
        true
    }
}
