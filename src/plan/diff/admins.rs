//! Removing users who administer resources: deletion limits and sole admins,
//! settled before anything is projected from the removals.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::diagnostic::Rule;
use crate::model::{DesiredResource, Principal, ProjectRole, ResourceKind, ResourceRole};
use crate::plan::order::enforce_deletion_limits;
use crate::plan::{Action, Change, Danger, Kind, Target};

use super::{Planner, only_admins};

impl<'a> Planner<'a> {
    /// Resources of one kind where `who` is an admin and, after the plan, no other user
    /// would be: (kind, name, whether the manifests declare its access).
    pub(super) fn left_without_admin<R: Copy + PartialEq + 'a>(
        &self,
        who: &Principal,
        kind: ResourceKind,
        live: impl Iterator<Item = (&'a String, &'a BTreeMap<Principal, R>)>,
        admin: R,
        declared_access: impl Fn(&'a DesiredResource) -> &'a BTreeMap<Principal, R>,
    ) -> Vec<(ResourceKind, String, bool)> {
        let mut out = Vec::new();
        for (name, access) in live {
            if access.get(who) != Some(&admin) {
                continue;
            }
            let declared = self.declared(kind, name);
            // What stays: the declared entries, plus the live ones orgform keeps
            // (unmanaged principals; all of them when memberships are not pruned).
            let mut after = self.project_access(access);
            if let Some(r) = declared {
                let keep_all = !self.policy.prune.memberships;
                after.retain(|w, _| {
                    keep_all
                        || match w {
                            Principal::User(e) => self.unmanaged_user(e),
                            Principal::Group(g) => self.policy.unmanaged.group(g),
                        }
                });
                after.extend(
                    declared_access(r)
                        .iter()
                        .map(|(w, role)| (w.clone(), *role)),
                );
            }
            let has_admin = after.iter().any(|(w, role)| {
                matches!(w, Principal::User(e) if !self.removed_users.contains(e)) && *role == admin
            });
            if !has_admin {
                out.push((kind, name.clone(), declared.is_some()));
            }
        }
        out
    }

    /// Blocks every user removal (deletion or replace) when there are more than
    /// `policy.max_deletions` allows, before anything is projected from them.
    pub(super) fn limit_user_removals(&mut self) {
        let before = self.blocked.len();
        enforce_deletion_limits(
            &mut self.changes,
            &mut self.blocked,
            &self.policy.max_deletions,
        );
        for b in &self.blocked[before..] {
            self.removed_users.remove(&b.key);
            self.replaced_users.remove(&b.key);
        }
    }

    /// Takes a planned removal of `email` back, as blocked.
    pub(super) fn block_removal(&mut self, email: &str, rule: Rule, message: String) {
        self.changes.retain(|c| {
            !(c.kind == Kind::User
                && c.key == email
                && matches!(c.action, Action::Delete | Action::Replace))
        });
        self.removed_users.remove(email);
        self.replaced_users.remove(email);
        self.block(Kind::User, email, rule, message);
    }

    /// A removed user who is the only admin of a Project or Dataset needs a
    /// replacement (platform rule): assign `offboarding.replacement` where orgform does
    /// not manage the resource's access, or block the removal.
    pub(super) fn sole_resource_admins(&mut self) {
        let removals: Vec<(String, Action)> = self
            .changes
            .iter()
            .filter(|c| {
                c.kind == Kind::User && matches!(c.action, Action::Delete | Action::Replace)
            })
            .map(|c| (c.key.clone(), c.action))
            .collect();
        let replacement = self
            .policy
            .offboarding
            .replacement
            .as_ref()
            .map(|r| crate::model::email::normalize(r))
            .filter(|r| !self.removed_users.contains(r) && self.desired.org.users.contains_key(r));
        let mut reassigned: BTreeSet<(ResourceKind, String)> = BTreeSet::new();
        let live = self.live;
        for (email, action) in removals {
            let who = Principal::User(email.clone());
            if action == Action::Replace {
                // A type change runs first in apply order, before any access change:
                // another admin must already be there.
                let mut now: Vec<String> = Vec::new();
                for (kind, name, access) in live
                    .projects
                    .iter()
                    .map(|(n, p)| {
                        (
                            ResourceKind::Project,
                            n,
                            only_admins(&p.access, ProjectRole::Admin),
                        )
                    })
                    .chain(live.datasets.iter().map(|(n, d)| {
                        (
                            ResourceKind::Dataset,
                            n,
                            only_admins(&d.access, ResourceRole::Admin),
                        )
                    }))
                {
                    let others = access
                        .iter()
                        .any(|e| *e != email && !self.replaced_users.contains(e));
                    if access.contains(&email) && !others {
                        now.push(format!("{kind} `{name}`"));
                    }
                }
                if !now.is_empty() {
                    self.block_removal(
                        &email,
                        Rule::SoleResourceAdmin,
                        format!(
                            "`{email}` is the only admin of {}: changing their type removes and re-adds them; give each another admin first (apply that), then change the type",
                            now.join(", ")
                        ),
                    );
                }
                continue;
            }
            let mut sole = self.left_without_admin(
                &who,
                ResourceKind::Project,
                live.projects.iter().map(|(n, p)| (n, &p.access)),
                ProjectRole::Admin,
                |r| &r.project_access,
            );
            sole.extend(self.left_without_admin(
                &who,
                ResourceKind::Dataset,
                live.datasets.iter().map(|(n, d)| (n, &d.access)),
                ResourceRole::Admin,
                |r| &r.resource_access,
            ));
            if sole.is_empty() {
                continue;
            }

            let blocked_on: Vec<String> = sole
                .iter()
                .filter(|(_, _, declared)| *declared || replacement.is_none())
                .map(|(k, n, _)| format!("{k} `{n}`"))
                .collect();
            if !blocked_on.is_empty() {
                let fix = match &replacement {
                    Some(_) => "declare another admin in the access list of each".to_string(),
                    None => "set `policy.offboarding.replacement` in orgform.yaml, or declare another admin for each".to_string(),
                };
                self.block_removal(
                    &email,
                    Rule::SoleResourceAdmin,
                    format!(
                        "`{email}` is the only admin of {}: removing them needs a replacement admin; {fix}",
                        blocked_on.join(", ")
                    ),
                );
                continue;
            }
            let Some(replacement) = &replacement else {
                continue;
            };
            for (kind, name, _) in sole {
                if !reassigned.insert((kind, name.clone())) {
                    continue;
                }
                let role = match kind {
                    ResourceKind::Project => json!(ProjectRole::Admin),
                    _ => json!(ResourceRole::Admin),
                };
                let live_role: Option<Value> = match kind {
                    ResourceKind::Project => self.live.projects[&name]
                        .access
                        .get(&Principal::User(replacement.clone()))
                        .map(|r| json!(r)),
                    _ => self.live.datasets[&name]
                        .access
                        .get(&Principal::User(replacement.clone()))
                        .map(|r| json!(r)),
                };
                let action = if live_role.is_some() {
                    Action::Update
                } else {
                    Action::Create
                };
                self.changes.push(
                    Change::new(
                        Target::Access {
                            resource_kind: kind,
                            resource: name.clone(),
                            principal: Principal::User(replacement.clone()),
                        },
                        action,
                        Danger::Safe,
                    )
                    .field("role", live_role, role)
                    .rule(Rule::SoleResourceAdmin)
                    .note(format!(
                        "takes over as admin from `{email}` (policy offboarding.replacement)"
                    )),
                );
            }
        }
    }
}
