//! Groups: create, rename, describe, delete; their members and managers.

use std::collections::BTreeSet;

use crate::diagnostic::Rule;
use crate::model::Principal;
use crate::plan::{Action, Change, Danger, Kind, Op, Target};

use super::{Match, Planner};

impl<'a> Planner<'a> {
    pub(super) fn groups(&mut self) {
        let mut claimed = BTreeSet::new();
        for (name, want) in &self.desired.org.groups {
            if self.policy.unmanaged.group(name) {
                self.block_unmanaged(Kind::Group, name);
                // A refused rename never turns into deleting the group it renames.
                let olds = self.desired.group_renames.get(name).cloned();
                let live: Vec<String> = olds
                    .into_iter()
                    .flatten()
                    .filter(|o| self.live.groups.contains_key(o))
                    .collect();
                claimed.extend(self.freeze(Kind::Group, name, live));
                continue;
            }
            // An unmanaged group is never renamed: such a former name is not looked up.
            let renamed_from: Option<Vec<String>> = self
                .desired
                .group_renames
                .get(name)
                .map(|olds| {
                    olds.iter()
                        .filter(|o| {
                            let unmanaged = self.policy.unmanaged.group(o);
                            if unmanaged {
                                self.block_unmanaged(Kind::Group, o);
                            }
                            !unmanaged
                        })
                        .cloned()
                        .collect()
                })
                // Only unmanaged former names: no rename (their blocked items say why).
                .filter(|olds: &Vec<String>| !olds.is_empty());
            let found = self.match_renamed(
                Kind::Group,
                ("group", name.clone()),
                name,
                renamed_from.as_ref(),
                |n| self.live.groups.contains_key(n).then(|| n.to_string()),
            );
            let live_name = match found {
                Match::Found(live_name) => Some(live_name),
                Match::Missing => None,
                Match::Ambiguous(candidates) => {
                    claimed.extend(self.freeze(Kind::Group, name, candidates));
                    continue;
                }
            };
            let Some(live_name) = live_name else {
                let op = Op::CreateGroup {
                    name: name.clone(),
                    description: want.description.clone(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
                self.memberships(name, &Default::default(), &Default::default(), want, true);
                continue;
            };
            claimed.insert(live_name.clone());
            self.group_map.insert(live_name.clone(), Some(name.clone()));
            let have = &self.live.groups[&live_name];
            if live_name != *name {
                let op = Op::RenameGroup {
                    from: live_name.clone(),
                    to: name.clone(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
            }
            if have.description != want.description {
                let op = Op::SetGroupDescription {
                    name: name.clone(),
                    from: have.description.clone(),
                    to: want.description.clone(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
            }
            self.memberships(name, &have.members, &have.managers, want, false);
        }
        self.warn_unverified_managers();
        // Groups claimed through an ambiguous rename stay as they are.
        for (name, have) in &self.live.groups {
            if claimed.contains(name) {
                continue;
            }
            let held = self.held.groups.get(name).cloned();
            if let Some((rule, message)) = &held {
                self.block(Kind::Group, name, *rule, message.clone());
            }
            if self.policy.unmanaged.group(name) || !self.policy.prune.groups || held.is_some() {
                self.group_map.insert(name.clone(), Some(name.clone()));
                self.restore_memberships(name, have);
                continue;
            }
            self.group_map.insert(name.clone(), None);
            let grants = self
                .lookups
                .footprints
                .access_of(&Principal::Group(name.clone()))
                .len();
            let op = Op::DeleteGroup {
                name: name.clone(),
                description: have.description.clone(),
            };
            self.changes
                .push(Change::from_op(op, Danger::Destructive).note(format!(
                    "{} member(s) lose the group; revokes its access on {grants} resource(s)",
                    have.members.len()
                )));
        }
    }

    /// Re-adds replaced users to a group orgform leaves alone (their removal dropped them).
    pub(super) fn restore_memberships(&mut self, group: &str, have: &crate::model::Group) {
        for (is_manager, list) in [(false, &have.members), (true, &have.managers)] {
            for email in list.iter().filter(|e| self.replaced_users.contains(*e)) {
                let (group, email) = (group.to_string(), email.clone());
                let target = if is_manager {
                    Target::GroupManager { group, email }
                } else {
                    Target::GroupMember { group, email }
                };
                let change = self
                    .membership_change(target, Action::Create, Danger::Safe)
                    .note("restored after the user is re-added");
                self.changes.push(change);
            }
        }
    }

    /// Member and manager changes of one group (named as after the plan); `created`
    /// when this plan creates the group.
    pub(super) fn memberships(
        &mut self,
        group: &str,
        live_members: &BTreeSet<String>,
        live_managers: &BTreeSet<String>,
        want: &crate::model::Group,
        created: bool,
    ) {
        let live_list = |manager: bool| if manager { live_managers } else { live_members };
        for (is_manager, have, wanted) in [
            (false, live_members, &want.members),
            (true, live_managers, &want.managers),
        ] {
            if is_manager && !created && !self.caps.group_managers {
                // Live managers cannot be read: nothing to compare, never a change.
                self.unverified_managers += wanted.len();
                continue;
            }
            let have: BTreeSet<&String> = have
                .iter()
                .filter(|e| !self.removed_users.contains(*e))
                .collect();
            let target = |email: &str| {
                let (group, email) = (group.to_string(), email.to_string());
                if is_manager {
                    Target::GroupManager { group, email }
                } else {
                    Target::GroupMember { group, email }
                }
            };
            for email in wanted.iter().filter(|e| !have.contains(e)) {
                if !self.user_exists_after(email) {
                    self.block_unknown_user(target(email), email);
                    continue;
                }
                self.changes.push(self.membership_change(
                    target(email),
                    Action::Create,
                    Danger::Safe,
                ));
            }
            if !self.policy.prune.memberships {
                // Nothing is pruned, so a replaced user gets back what they had.
                for email in live_list(is_manager)
                    .iter()
                    .filter(|e| self.replaced_users.contains(*e) && !wanted.contains(*e))
                {
                    let change = self
                        .membership_change(target(email), Action::Create, Danger::Safe)
                        .note("restored after the user is re-added");
                    self.changes.push(change);
                }
                continue;
            }
            for email in have.into_iter().filter(|e| !wanted.contains(*e)) {
                if self.unmanaged_user(email) {
                    continue;
                }
                self.changes.push(self.membership_change(
                    target(email),
                    Action::Delete,
                    Danger::Disruptive,
                ));
            }
        }
    }

    /// One warning per run for the declared managers the provider cannot read.
    fn warn_unverified_managers(&mut self) {
        if self.unverified_managers == 0 {
            return;
        }
        self.warn(
            Rule::UnsupportedByProvider,
            format!(
                "the API cannot read group managers: {} declared manager(s) of existing groups are not checked and never changed; check them in the web app (My organisation → Settings → Groups → Edit)",
                self.unverified_managers
            ),
            None,
        );
    }

    /// Whether a user will be in the org once the plan's user changes are made.
    pub(super) fn user_exists_after(&self, email: &str) -> bool {
        // A declared unmanaged user is never created (see `unmanaged`).
        (self.desired.org.users.contains_key(email) && !self.unmanaged_user(email))
            || (self.live.users.contains_key(email) && !self.removed_users.contains(email))
    }

    /// Whether a group will be in the org once the plan's group changes are made.
    pub(super) fn group_exists_after(&self, name: &str) -> bool {
        (self.desired.org.groups.contains_key(name) && !self.policy.unmanaged.group(name))
            || self.group_map.values().any(|v| v.as_deref() == Some(name))
    }

    /// A reference to someone who is neither declared nor in the live org (possible
    /// for addresses covered by `policy.unmanaged`): the platform would refuse it.
    pub(super) fn block_unknown_user(&mut self, target: Target, email: &str) {
        self.block(
            target.kind(),
            target.key(),
            Rule::UserUnknown,
            format!(
                "`{email}` is not a member of the live org and is not declared (it matches `policy.unmanaged`): add them in Encord first, or declare them"
            ),
        );
    }

    /// Managers have no public API: without it their changes are manual steps. So is
    /// adding someone whose own arrival in the org is a manual step.
    pub(super) fn membership_change(
        &self,
        target: Target,
        action: Action,
        danger: Danger,
    ) -> Change {
        if let Target::GroupMember { email, .. } | Target::GroupManager { email, .. } = &target
            && self.manual_users.contains(email)
        {
            let email = email.clone();
            return self.waits_for_user(target, email);
        }
        if let Target::GroupManager { group, email } = &target
            && !self.caps.group_managers
        {
            let (group, email) = (group.clone(), email.clone());
            let verb = if action == Action::Create {
                "add"
            } else {
                "remove"
            };
            let op = Op::Manual {
                target,
                rename_to: None,
            };
            return Change::from_op(op, danger)
                .rule(Rule::UnsupportedByProvider)
                .note(format!(
                    "the API has no group-manager call: in the web app, My organisation → Settings → Groups → Edit `{group}` → {verb} manager {email}"
                ));
        }
        Change::new(target, action, danger)
    }

    /// A change that needs a user whose arrival is a manual step: manual too, done by
    /// the first plan after they have joined.
    pub(super) fn waits_for_user(&self, target: Target, email: String) -> Change {
        let op = Op::Manual {
            target,
            rename_to: None,
        };
        Change::from_op(op, Danger::Safe)
            .rule(Rule::UnsupportedByProvider)
            .note(format!(
                "waits for `{email}` to join the org (a manual step above); the first apply after they have joined makes it"
            ))
    }

    /// An ambiguous rename (blocked): the declared name may not be referenced, and the
    /// live candidates stay exactly as they are. Returns the candidates (now claimed).
    pub(super) fn freeze(
        &mut self,
        kind: Kind,
        name: &str,
        candidates: Vec<String>,
    ) -> Vec<String> {
        self.blocked_names.insert((kind, name.to_string()));
        for c in &candidates {
            let map = match kind {
                Kind::ProjectTag => &mut self.tag_map,
                _ => &mut self.group_map,
            };
            map.insert(c.clone(), Some(c.clone()));
            self.frozen_names.insert((kind, c.clone()));
        }
        candidates
    }

    /// Finds the live object a declared one corresponds to: same name, or one of its
    /// `renamed_from` names. Reports ambiguous and dangling renames.
    pub(super) fn match_renamed(
        &mut self,
        kind: Kind,
        origin: (&'static str, String),
        name: &str,
        renamed_from: Option<&Vec<String>>,
        find: impl Fn(&str) -> Option<String>,
    ) -> Match {
        let current = find(name);
        let Some(olds) = renamed_from else {
            return current.map_or(Match::Missing, Match::Found);
        };
        let found: Vec<String> = olds
            .iter()
            .filter_map(|o| find(o))
            .filter(|o| current.as_ref() != Some(o))
            .collect();
        if let Some(current) = current {
            if found.is_empty() {
                return Match::Found(current);
            }
            // Both the new name and a former one exist: renaming would need the one
            // deleted; orgform never picks, it asks.
            self.block(
                kind,
                name,
                Rule::RenameConflict,
                format!(
                    "`{name}` is renamed from {}, but `{current}` already exists in the live org too: remove `renamed_from` to keep both, or delete one of them first; until then neither is changed",
                    found.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                ),
            );
            let mut all = vec![current];
            all.extend(found);
            return Match::Ambiguous(all);
        }
        match found.as_slice() {
            [one] => Match::Found(one.clone()),
            [] => {
                self.warn(
                    Rule::RenameConflict,
                    format!(
                        "{kind} `{name}` is renamed from {}, but none of them exists in the live org: it will be created",
                        olds.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                    ),
                    Some(origin),
                );
                Match::Missing
            }
            many => {
                self.block(
                    kind,
                    name,
                    Rule::RenameConflict,
                    format!(
                        "several former names of `{name}` exist in the live org ({}): keep only the one to rename in `renamed_from`; until then none of them is changed",
                        many.join(", ")
                    ),
                );
                Match::Ambiguous(found)
            }
        }
    }
}
