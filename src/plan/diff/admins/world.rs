//! The simulation behind `resource-admin-required`: who administers which Project and
//! Dataset, and who is in the org and in which group, as a plan's changes are applied
//! in order. It borrows everything from the live org and the plan (at scale it runs
//! over tens of thousands of users and memberships, several times per plan).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Org, Principal, ProjectRole, ResourceKind, ResourceRole, User};
use crate::plan::{Action, Change, Op, Target};

/// A Project or Dataset, by kind and hash, borrowed from the live org or the plan.
pub(super) type At<'a> = (ResourceKind, &'a str);

/// A principal, borrowed from the live org or the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who<'a> {
    User(&'a str),
    Group(&'a str),
}

impl<'a> From<&'a Principal> for Who<'a> {
    fn from(p: &'a Principal) -> Self {
        match p {
            Principal::User(e) => Who::User(e),
            Principal::Group(g) => Who::Group(g),
        }
    }
}

/// A live set of names: the org's users, a group's members.
trait Names {
    fn has(&self, name: &str) -> bool;
    fn count(&self) -> usize;
}

impl Names for BTreeSet<String> {
    fn has(&self, name: &str) -> bool {
        self.contains(name)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

impl<V> Names for BTreeMap<String, V> {
    fn has(&self, name: &str) -> bool {
        self.contains_key(name)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

/// A set of names as the simulation goes: the live set (if any) less the names taken
/// out, plus those put in. Nothing is copied from the live org.
struct Overlay<'a, L> {
    live: Option<&'a L>,
    /// Live names taken out.
    out: BTreeSet<&'a str>,
    /// Names put in that the live set lacks.
    put: BTreeSet<&'a str>,
}

impl<'a, L: Names> Overlay<'a, L> {
    fn new(live: Option<&'a L>) -> Self {
        Overlay {
            live,
            out: BTreeSet::new(),
            put: BTreeSet::new(),
        }
    }

    fn in_live(&self, name: &str) -> bool {
        self.live.is_some_and(|l| l.has(name))
    }

    fn contains(&self, name: &str) -> bool {
        self.put.contains(name) || (self.in_live(name) && !self.out.contains(name))
    }

    fn insert(&mut self, name: &'a str) {
        if self.in_live(name) {
            self.out.remove(name);
        } else {
            self.put.insert(name);
        }
    }

    /// True when `name` was in the set.
    fn remove(&mut self, name: &'a str) -> bool {
        self.put.remove(name) || (self.in_live(name) && self.out.insert(name))
    }

    fn is_empty(&self) -> bool {
        self.put.is_empty() && self.out.len() == self.live.map_or(0, L::count)
    }
}

/// Whether an access change leaves its principal with the admin role.
fn grants_admin(c: &Change) -> bool {
    c.action != Action::Delete
        && matches!(
            c.op(),
            Ok(Op::GrantAccess { role: to, .. }
                | Op::SetAccessRole { to, .. }
                | Op::ReplaceAccess { to, .. }) if to.is_admin()
        )
}

/// A group rename's (live name, new name). The new name is read from the change's
/// `name` field, as [`Change::op`] reads `Op::RenameGroup`'s: no rename when that fails.
fn group_rename(c: &Change) -> Option<(&str, &str)> {
    match (&c.target, c.action) {
        (Target::Group { name }, Action::Rename) => c
            .after("name")
            .and_then(serde_json::Value::as_str)
            .map(|new| (name.as_str(), new)),
        _ => None,
    }
}

/// Who administers which resource, and who is in the org and in which group, as a
/// plan's changes are applied in order.
///
/// Only groups that hold an admin role at some point are followed: another group's
/// members never make or take an admin, so leaving it out changes no answer, and at
/// scale it spares copying every group (most hold no admin role).
pub(super) struct AdminWorld<'a> {
    users: Overlay<'a, BTreeMap<String, User>>,
    /// Followed groups, by current name → members.
    groups: BTreeMap<&'a str, Overlay<'a, BTreeSet<String>>>,
    /// The names of followed groups (whatever they are called at the moment).
    followed: BTreeSet<&'a str>,
    admins: BTreeMap<At<'a>, Vec<Who<'a>>>,
    /// The reverse of `admins`.
    admin_of: BTreeMap<Who<'a>, Vec<At<'a>>>,
}

impl<'a> AdminWorld<'a> {
    pub(super) fn of(live: &'a Org, changes: &[&'a Change]) -> Self {
        let mut world = AdminWorld {
            users: Overlay::new(Some(&live.users)),
            groups: BTreeMap::new(),
            followed: BTreeSet::new(),
            admins: BTreeMap::new(),
            admin_of: BTreeMap::new(),
        };
        // Entries are unique per (resource, principal): pushed without a check.
        let mut admin = |res: At<'a>, who: &'a Principal| {
            let who = Who::from(who);
            world.admin_of.entry(who).or_default().push(res);
            world.admins.entry(res).or_default().push(who);
        };
        for (hash, p) in &live.projects {
            for (who, role) in &p.access {
                if *role == ProjectRole::Admin {
                    admin((ResourceKind::Project, hash), who);
                }
            }
        }
        for (hash, d) in &live.datasets {
            for (who, role) in &d.access {
                if *role == ResourceRole::Admin {
                    admin((ResourceKind::Dataset, hash), who);
                }
            }
        }
        world.followed = Self::followed_groups(&world.admin_of, changes);
        for name in &world.followed {
            if let Some(g) = live.groups.get(*name) {
                world.groups.insert(name, Overlay::new(Some(&g.members)));
            }
        }
        world
    }

    /// The groups that hold an admin role at some point: live admins and those the
    /// plan makes admins, with the groups renamed from or to one of them (a rename
    /// carries the members and the roles over).
    fn followed_groups(
        admin_of: &BTreeMap<Who<'a>, Vec<At<'a>>>,
        changes: &[&'a Change],
    ) -> BTreeSet<&'a str> {
        let mut followed: BTreeSet<&'a str> = admin_of
            .keys()
            .filter_map(|who| match who {
                Who::Group(g) => Some(*g),
                Who::User(_) => None,
            })
            .collect();
        for c in changes {
            if let Target::Access {
                resource_kind,
                principal: Principal::Group(g),
                ..
            } = &c.target
                && *resource_kind != ResourceKind::Ontology
                && grants_admin(c)
            {
                followed.insert(g);
            }
        }
        let renames: Vec<(&'a str, &'a str)> =
            changes.iter().filter_map(|c| group_rename(c)).collect();
        loop {
            let mut grew = false;
            for (old, new) in &renames {
                if followed.contains(old) != followed.contains(new) {
                    followed.insert(old);
                    followed.insert(new);
                    grew = true;
                }
            }
            if !grew {
                return followed;
            }
        }
    }

    fn grant(&mut self, res: At<'a>, who: Who<'a>) {
        let of = self.admin_of.entry(who).or_default();
        if !of.contains(&res) {
            of.push(res);
        }
        let admins = self.admins.entry(res).or_default();
        if !admins.contains(&who) {
            admins.push(who);
        }
    }

    /// Takes `who`'s admin role away everywhere (or on one resource); returns where.
    fn revoke(&mut self, who: Who<'a>, only: Option<At<'a>>) -> Vec<At<'a>> {
        let Some(of) = self.admin_of.get_mut(&who) else {
            return Vec::new();
        };
        let lost: Vec<At<'a>> = match only {
            Some(res) => match of.iter().position(|r| *r == res) {
                Some(i) => vec![of.swap_remove(i)],
                None => Vec::new(),
            },
            None => std::mem::take(of),
        };
        for res in &lost {
            if let Some(admins) = self.admins.get_mut(res) {
                admins.retain(|w| *w != who);
            }
        }
        lost
    }

    /// Where a group is admin (whose admin may go when the group loses members).
    fn administered_by_group(&self, group: &'a str) -> &[At<'a>] {
        self.admin_of
            .get(&Who::Group(group))
            .map_or(&[], Vec::as_slice)
    }

    /// The resources that have an admin now.
    pub(super) fn administered(&self) -> BTreeSet<At<'a>> {
        self.admins
            .keys()
            .filter(|r| self.has_admin(r))
            .copied()
            .collect()
    }

    pub(super) fn has_admin(&self, res: &At<'a>) -> bool {
        self.admins.get(res).is_some_and(|admins| {
            admins.iter().any(|who| match who {
                Who::User(e) => self.users.contains(e),
                Who::Group(g) => self.groups.get(g).is_some_and(|m| !m.is_empty()),
            })
        })
    }

    /// Applies one change; returns the resources where it took an admin away (a
    /// resource once per way it was taken).
    pub(super) fn apply(&mut self, c: &'a Change) -> Vec<At<'a>> {
        match (&c.target, c.action) {
            (Target::User { email }, Action::Create) => {
                self.users.insert(email);
                Vec::new()
            }
            (Target::User { email }, Action::Delete | Action::Replace) => {
                // Removing (or re-adding) a user drops their access and memberships.
                let mut lost = self.revoke(Who::User(email), None);
                let left: Vec<&'a str> = self
                    .groups
                    .iter_mut()
                    .filter_map(|(g, members)| members.remove(email).then_some(*g))
                    .collect();
                for g in left {
                    lost.extend_from_slice(self.administered_by_group(g));
                }
                if c.action == Action::Delete {
                    self.users.remove(email);
                }
                lost
            }
            (Target::Group { name }, Action::Create) => {
                if self.followed.contains(name.as_str()) {
                    self.groups
                        .entry(name)
                        .or_insert_with(|| Overlay::new(None));
                }
                Vec::new()
            }
            (Target::Group { .. }, Action::Rename) => {
                let Some((old, new)) = group_rename(c) else {
                    return Vec::new();
                };
                if let Some(members) = self.groups.remove(old) {
                    self.groups.insert(new, members);
                }
                for res in self.revoke(Who::Group(old), None) {
                    self.grant(res, Who::Group(new));
                }
                Vec::new()
            }
            (Target::Group { name }, Action::Delete) => {
                self.groups.remove(name.as_str());
                self.revoke(Who::Group(name), None)
            }
            (Target::GroupMember { group, email }, Action::Create) => {
                if self.followed.contains(group.as_str()) {
                    self.groups
                        .entry(group)
                        .or_insert_with(|| Overlay::new(None))
                        .insert(email);
                }
                Vec::new()
            }
            (Target::GroupMember { group, email }, Action::Delete) => {
                let removed = self
                    .groups
                    .get_mut(group.as_str())
                    .is_some_and(|members| members.remove(email));
                if removed {
                    self.administered_by_group(group).to_vec()
                } else {
                    Vec::new()
                }
            }
            (
                Target::Access {
                    resource_kind,
                    resource,
                    principal,
                    ..
                },
                _,
            ) if *resource_kind != ResourceKind::Ontology => {
                let res = (*resource_kind, resource.as_str());
                let who = Who::from(principal);
                if grants_admin(c) {
                    self.grant(res, who);
                    Vec::new()
                } else {
                    self.revoke(who, Some(res))
                }
            }
            _ => Vec::new(),
        }
    }
}
