//! The planner: desired × live → changes, blocked items and warnings.
//!
//! Works kind by kind in dependency order. Destructive steps that cascade on the
//! platform (removing a user drops their memberships and access; deleting a group
//! revokes its access; deleting a tag unassigns it; renames re-key) are *projected*
//! onto the live state before memberships and access are compared, so the plan lists
//! exactly the writes that remain.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::order::{enforce_deletion_limits, sort_for_apply};
use super::{Action, Blocked, Capabilities, Change, Danger, Kind, Plan, Source, Target, Warning};
use crate::config::Policy;
use crate::diagnostic::{Rule, Sources};
use crate::model::{
    Desired, DesiredResource, FolderPath, Org, OrgRole, Principal, ProjectRole, ResourceKind,
    ResourceRef, ResourceRole, UserType,
};

/// Computes the plan. Pure: reads its arguments, writes nothing.
pub fn plan(
    desired: &Desired,
    live: &Org,
    policy: &Policy,
    caps: Capabilities,
    source: Source,
    sources: &Sources,
) -> Plan {
    let mut p = Planner {
        desired,
        live,
        policy,
        caps,
        sources,
        changes: Vec::new(),
        blocked: Vec::new(),
        warnings: Vec::new(),
        removed_users: BTreeSet::new(),
        replaced_users: BTreeSet::new(),
        group_map: BTreeMap::new(),
        tag_map: BTreeMap::new(),
    };
    p.users();
    // Which users leave is settled before anything is projected from their leaving.
    p.limit_user_removals();
    p.sole_resource_admins();
    p.groups();
    p.tags();
    p.metadata();
    p.folders();
    p.resources();
    let Planner {
        mut changes,
        mut blocked,
        warnings,
        ..
    } = p;
    enforce_deletion_limits(&mut changes, &mut blocked, &policy.max_deletions);
    sort_for_apply(&mut changes);
    blocked.sort_by(|a, b| (a.kind, &a.key, a.rule).cmp(&(b.kind, &b.key, b.rule)));
    Plan {
        format_version: super::FORMAT_VERSION,
        source,
        actual_fingerprint: super::fingerprint(live, &policy.unmanaged),
        summary: Plan::summarize(&changes, blocked.len()),
        changes,
        blocked,
        warnings,
    }
}

struct Planner<'a> {
    desired: &'a Desired,
    live: &'a Org,
    policy: &'a Policy,
    caps: Capabilities,
    sources: &'a Sources,
    changes: Vec<Change>,
    blocked: Vec<Blocked>,
    warnings: Vec<Warning>,
    /// Users this plan removes from the org (deleted or replaced): their group
    /// memberships and access disappear with them.
    removed_users: BTreeSet<String>,
    /// Users removed and re-added (type change): where orgform does not manage their
    /// memberships or access, the plan restores them.
    replaced_users: BTreeSet<String>,
    /// Live group name → its name after the plan (`None`: deleted).
    group_map: BTreeMap<String, Option<String>>,
    /// Live tag name → its name after the plan (`None`: deleted).
    tag_map: BTreeMap<String, Option<String>>,
}

/// The users holding the admin role in an access list.
fn only_admins<R: PartialEq>(access: &BTreeMap<Principal, R>, admin: R) -> Vec<String> {
    access
        .iter()
        .filter(|(_, role)| **role == admin)
        .filter_map(|(w, _)| match w {
            Principal::User(e) => Some(e.clone()),
            Principal::Group(_) => None,
        })
        .collect()
}

/// How a declared object was found in the live org.
enum Match {
    Found(String),
    Missing,
    /// Several `renamed_from` names exist: blocked, and every candidate is left alone.
    Ambiguous(Vec<String>),
}

/// A declared resource matched to the live one.
struct Resolved<'a> {
    kind: ResourceKind,
    name: String,
    declared: &'a DesiredResource,
}

/// "also leaves 2 group(s) and loses access to 3 resource(s)", or nothing to say.
fn footprint_note(groups: usize, access: usize) -> String {
    match (groups, access) {
        (0, 0) => "has no group memberships or resource access".to_string(),
        (g, 0) => format!("also leaves {g} group(s)"),
        (0, a) => format!("also loses access to {a} resource(s)"),
        (g, a) => format!("also leaves {g} group(s) and loses access to {a} resource(s)"),
    }
}

impl<'a> Planner<'a> {
    fn block(
        &mut self,
        kind: Kind,
        key: impl Into<String>,
        rule: Rule,
        message: impl Into<String>,
    ) {
        self.blocked.push(Blocked {
            kind,
            key: key.into(),
            rule,
            message: message.into(),
        });
    }

    fn warn(&mut self, rule: Rule, message: String, origin_key: Option<(&'static str, String)>) {
        let origin = origin_key
            .and_then(|k| self.desired.origins.get(&k).copied())
            .map(|o| self.sources.locate(o));
        self.warnings.push(Warning {
            rule,
            message,
            origin,
        });
    }

    fn unmanaged_user(&self, email: &str) -> bool {
        self.policy.unmanaged.user(email)
    }

    // ---------------------------------------------------------------- users

    fn users(&mut self) {
        let (desired, live) = (&self.desired.org.users, &self.live.users);
        for (email, want) in desired {
            let target = Target::User {
                email: email.clone(),
            };
            let Some(have) = live.get(email) else {
                if want.role == OrgRole::Admin && want.user_type != UserType::Internal {
                    self.block(
                        Kind::User,
                        email,
                        Rule::AdminMustBeInternal,
                        format!("`{email}` would be an admin of type {}; only internal users can be admins", want.user_type),
                    );
                    continue;
                }
                self.changes.push(
                    Change::new(target, Action::Create, Danger::Safe)
                        .field("role", None, json!(want.role))
                        .field("type", None, json!(want.user_type)),
                );
                continue;
            };
            let type_changes = have.user_type != want.user_type;
            let role_changes = have.role != want.role;
            if !type_changes && !role_changes {
                continue;
            }
            if have.role == OrgRole::Admin {
                let (rule, message) = if role_changes {
                    (
                        Rule::AdminRoleLocked,
                        format!(
                            "`{email}` is an admin; an admin's role cannot be changed (wanted {}). Ask Encord support, or declare `role: admin`",
                            want.role
                        ),
                    )
                } else {
                    (
                        Rule::AdminUnremovable,
                        format!(
                            "`{email}` is an admin; changing its type to {} means removing and re-adding it, and admins cannot be removed",
                            want.user_type
                        ),
                    )
                };
                self.block(Kind::User, email, rule, message);
                continue;
            }
            if want.role == OrgRole::Admin && want.user_type != UserType::Internal {
                self.block(
                    Kind::User,
                    email,
                    Rule::AdminMustBeInternal,
                    format!("`{email}` would become an admin of type {}; only internal users can be admins", want.user_type),
                );
                continue;
            }
            let mut change;
            if type_changes || !self.caps.change_org_role {
                // The platform re-adds the user: memberships and access are dropped.
                self.removed_users.insert(email.clone());
                self.replaced_users.insert(email.clone());
                change = Change::new(target, Action::Replace, Danger::Destructive)
                    .rule(if type_changes {
                        Rule::UserTypeChange
                    } else {
                        Rule::UnsupportedByProvider
                    })
                    .note(if type_changes {
                        "removed and re-added with the new type: drops their group memberships and resource access; the declared ones are added back"
                    } else {
                        "the platform API cannot change a role: removed and re-added; declared memberships and access are added back"
                    });
                change = change
                    .field("type", json!(have.user_type), json!(want.user_type))
                    .field("role", json!(have.role), json!(want.role));
            } else {
                let danger = if want.role.rank() < have.role.rank() {
                    Danger::Disruptive
                } else {
                    Danger::Safe
                };
                change = Change::new(target, Action::Update, danger).field(
                    "role",
                    json!(have.role),
                    json!(want.role),
                );
            }
            self.changes.push(change);
        }
        for (email, have) in live {
            if desired.contains_key(email) || self.unmanaged_user(email) || !self.policy.prune.users
            {
                continue;
            }
            if have.role == OrgRole::Admin {
                self.block(
                    Kind::User,
                    email,
                    Rule::AdminUnremovable,
                    format!("admin `{email}` is not in the manifests, but admins cannot be removed by orgform: add it back to `users:` (or ask Encord support to remove it)"),
                );
                continue;
            }
            self.removed_users.insert(email.clone());
            let (groups, access) = self.user_footprint(email);
            self.changes.push(
                Change::new(
                    Target::User {
                        email: email.clone(),
                    },
                    Action::Delete,
                    Danger::Destructive,
                )
                .field("role", json!(have.role), None)
                .field("type", json!(have.user_type), None)
                .note(footprint_note(groups, access)),
            );
        }
    }

    /// How many groups a live user is in, and on how many resources they have access.
    fn user_footprint(&self, email: &str) -> (usize, usize) {
        let groups = self
            .live
            .groups
            .values()
            .filter(|g| g.members.contains(email) || g.managers.contains(email))
            .count();
        let who = Principal::User(email.to_string());
        let access = self
            .live
            .access_entries()
            .iter()
            .filter(|(_, _, p, _)| **p == who)
            .count();
        (groups, access)
    }

    // ---------------------------------------------------------------- groups

    fn groups(&mut self) {
        let mut claimed = BTreeSet::new();
        for (name, want) in &self.desired.org.groups {
            let found = self.match_renamed(
                Kind::Group,
                ("group", name.clone()),
                name,
                self.desired.group_renames.get(name),
                |n| self.live.groups.contains_key(n).then(|| n.to_string()),
            );
            let target = Target::Group { name: name.clone() };
            let live_name = match found {
                Match::Found(live_name) => Some(live_name),
                Match::Missing => None,
                Match::Ambiguous(candidates) => {
                    for c in candidates {
                        self.group_map.insert(c.clone(), Some(c.clone()));
                        claimed.insert(c);
                    }
                    continue;
                }
            };
            let Some(live_name) = live_name else {
                self.changes
                    .push(Change::new(target, Action::Create, Danger::Safe).field(
                        "description",
                        None,
                        json!(want.description),
                    ));
                self.memberships(name, &Default::default(), &Default::default(), want);
                continue;
            };
            claimed.insert(live_name.clone());
            self.group_map.insert(live_name.clone(), Some(name.clone()));
            let have = &self.live.groups[&live_name];
            if live_name != *name {
                self.changes.push(
                    Change::new(
                        Target::Group {
                            name: live_name.clone(),
                        },
                        Action::Rename,
                        Danger::Safe,
                    )
                    .field("name", json!(live_name), json!(name)),
                );
                // People read the new name; the target names the group as it is now.
                if let Some(c) = self.changes.last_mut() {
                    c.key = name.clone();
                }
            }
            if have.description != want.description {
                self.changes
                    .push(Change::new(target, Action::Update, Danger::Safe).field(
                        "description",
                        json!(have.description),
                        json!(want.description),
                    ));
            }
            self.memberships(name, &have.members, &have.managers, want);
        }
        // Groups claimed through an ambiguous rename stay as they are.
        for (name, have) in &self.live.groups {
            if claimed.contains(name) {
                continue;
            }
            if self.policy.unmanaged.group(name) || !self.policy.prune.groups {
                self.group_map.insert(name.clone(), Some(name.clone()));
                self.restore_memberships(name, have);
                continue;
            }
            self.group_map.insert(name.clone(), None);
            let grants = self
                .live
                .access_entries()
                .iter()
                .filter(|(_, _, p, _)| **p == Principal::Group(name.clone()))
                .count();
            self.changes.push(
                Change::new(
                    Target::Group { name: name.clone() },
                    Action::Delete,
                    Danger::Destructive,
                )
                .field("description", json!(have.description), None)
                .note(format!(
                    "{} member(s) lose the group; revokes its access on {grants} resource(s)",
                    have.members.len()
                )),
            );
        }
    }

    /// Re-adds replaced users to a group orgform leaves alone (their removal dropped them).
    fn restore_memberships(&mut self, group: &str, have: &crate::model::Group) {
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

    /// Member and manager changes of one group (named as after the plan).
    fn memberships(
        &mut self,
        group: &str,
        live_members: &BTreeSet<String>,
        live_managers: &BTreeSet<String>,
        want: &crate::model::Group,
    ) {
        let live_list = |manager: bool| if manager { live_managers } else { live_members };
        for (is_manager, have, wanted) in [
            (false, live_members, &want.members),
            (true, live_managers, &want.managers),
        ] {
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

    /// Whether a user will be in the org once the plan's user changes are made.
    fn user_exists_after(&self, email: &str) -> bool {
        self.desired.org.users.contains_key(email)
            || (self.live.users.contains_key(email) && !self.removed_users.contains(email))
    }

    /// A reference to someone who is neither declared nor in the live org (possible
    /// for addresses covered by `policy.unmanaged`): the platform would refuse it.
    fn block_unknown_user(&mut self, target: Target, email: &str) {
        self.block(
            target.kind(),
            target.key(),
            Rule::UserUnknown,
            format!(
                "`{email}` is not a member of the live org and is not declared (it matches `policy.unmanaged`): add them in Encord first, or declare them"
            ),
        );
    }

    /// Managers have no public API: without it their changes are manual steps.
    fn membership_change(&self, target: Target, action: Action, danger: Danger) -> Change {
        let manager = matches!(target, Target::GroupManager { .. });
        if manager && !self.caps.group_managers {
            let (group, email) = match &target {
                Target::GroupManager { group, email } => (group.clone(), email.clone()),
                _ => unreachable!("checked above"),
            };
            let verb = if action == Action::Create {
                "add"
            } else {
                "remove"
            };
            return Change::new(target, Action::Manual, danger)
                .rule(Rule::UnsupportedByProvider)
                .note(format!(
                    "the API has no group-manager call: in the web app, My organisation → Settings → Groups → Edit `{group}` → {verb} manager {email}"
                ));
        }
        Change::new(target, action, danger)
    }

    /// Finds the live object a declared one corresponds to: same name, or one of its
    /// `renamed_from` names. Reports ambiguous and dangling renames.
    fn match_renamed(
        &mut self,
        kind: Kind,
        origin: (&'static str, String),
        name: &str,
        renamed_from: Option<&Vec<String>>,
        find: impl Fn(&str) -> Option<String>,
    ) -> Match {
        if let Some(found) = find(name) {
            return Match::Found(found);
        }
        let Some(olds) = renamed_from else {
            return Match::Missing;
        };
        let found: Vec<String> = olds.iter().filter_map(|o| find(o)).collect();
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

    // ---------------------------------------------------------------- tags

    fn tags(&mut self) {
        let mut claimed = BTreeSet::new();
        for (name, want) in &self.desired.org.project_tags {
            let found = self.match_renamed(
                Kind::ProjectTag,
                ("project_tag", name.clone()),
                name,
                self.desired.tag_renames.get(name),
                |n| self.live.tag_named(n).map(str::to_string),
            );
            let target = Target::ProjectTag { name: name.clone() };
            let live_name = match found {
                Match::Found(live_name) => Some(live_name),
                Match::Missing => None,
                Match::Ambiguous(candidates) => {
                    for c in candidates {
                        self.tag_map.insert(c.clone(), Some(c.clone()));
                        claimed.insert(c);
                    }
                    continue;
                }
            };
            let Some(live_name) = live_name else {
                self.changes
                    .push(Change::new(target, Action::Create, Danger::Safe).field(
                        "description",
                        None,
                        json!(want.description),
                    ));
                continue;
            };
            claimed.insert(live_name.clone());
            self.tag_map.insert(live_name.clone(), Some(name.clone()));
            if live_name != *name {
                let mut change = Change::new(
                    Target::ProjectTag {
                        name: live_name.clone(),
                    },
                    Action::Rename,
                    Danger::Safe,
                )
                .field("name", json!(live_name), json!(name));
                if !self.caps.rename_tag {
                    change.action = Action::Manual;
                    change = change.rule(Rule::UnsupportedByProvider).note(format!(
                        "the API cannot rename tags: in the web app, My organisation → Settings → Project tags, double-click `{live_name}`, type `{name}`, press Enter"
                    ));
                }
                change.key = name.clone();
                self.changes.push(change);
            }
            let have = &self.live.project_tags[&live_name];
            if have.description != want.description {
                self.changes
                    .push(Change::new(target, Action::Update, Danger::Safe).field(
                        "description",
                        json!(have.description),
                        json!(want.description),
                    ));
            }
        }
        for (name, have) in &self.live.project_tags {
            if claimed.contains(name) {
                continue;
            }
            if !self.policy.prune.project_tags {
                self.tag_map.insert(name.clone(), Some(name.clone()));
                continue;
            }
            self.tag_map.insert(name.clone(), None);
            let used = self
                .live
                .projects
                .values()
                .filter(|p| p.tags.contains(name))
                .count();
            self.changes.push(
                Change::new(
                    Target::ProjectTag { name: name.clone() },
                    Action::Delete,
                    Danger::Destructive,
                )
                .field("description", json!(have.description), None)
                .note(format!("removes the tag from {used} project(s)")),
            );
        }
    }

    // ---------------------------------------------------------------- metadata

    fn metadata(&mut self) {
        for (key, want) in &self.desired.org.metadata_schema {
            let target = Target::MetadataKey { key: key.clone() };
            match self.live.metadata_schema.get(key) {
                None => self
                    .changes
                    .push(Change::new(target, Action::Create, Danger::Safe).field(
                        "type",
                        None,
                        json!(want),
                    )),
                Some(have) if have != want => {
                    let mut change = Change::new(target, Action::Update, Danger::Safe).field(
                        "type",
                        json!(have),
                        json!(want),
                    );
                    if have.retype_breaks_data(want) {
                        change.danger = Danger::Destructive;
                        change = change.rule(Rule::MetadataRetype).note(format!(
                            "changing `{key}` from {have} to {want} can break existing metadata values"
                        ));
                    }
                    self.changes.push(change);
                }
                Some(_) => {}
            }
        }
        if !self.policy.prune.metadata_keys {
            return;
        }
        for (key, have) in &self.live.metadata_schema {
            if !self.desired.org.metadata_schema.contains_key(key) {
                self.changes.push(
                    Change::new(
                        Target::MetadataKey { key: key.clone() },
                        Action::Delete,
                        Danger::Destructive,
                    )
                    .field("type", json!(have), None)
                    .note("existing values of this key stop being part of the schema"),
                );
            }
        }
    }

    // ---------------------------------------------------------------- folders

    fn folders(&mut self) {
        // Declared path → live path it corresponds to. Parents come first in the map's
        // order, so a child is matched under its (possibly renamed) parent.
        let mut matched: BTreeMap<FolderPath, FolderPath> = BTreeMap::new();
        // Declared folders left alone (an ambiguous rename), and the live ones they keep.
        let mut skipped: BTreeSet<FolderPath> = BTreeSet::new();
        let mut untouchable: BTreeSet<FolderPath> = BTreeSet::new();
        for (path, want) in &self.desired.org.folders {
            if path.parent().is_some_and(|p| skipped.contains(&p)) {
                skipped.insert(path.clone());
                continue;
            }
            let live_parent = match path.parent() {
                Some(parent) => matched.get(&parent).cloned(),
                None => Some(FolderPath(Vec::new())),
            };
            let live_path = match live_parent {
                None => None,
                Some(parent) => match self.match_renamed(
                    Kind::Folder,
                    ("folder", path.to_string()),
                    path.name(),
                    self.desired.folder_renames.get(path),
                    |n| {
                        let candidate = parent.child(n);
                        self.live
                            .folders
                            .contains_key(&candidate)
                            .then(|| candidate.name().to_string())
                    },
                ) {
                    Match::Found(n) => Some(parent.child(&n)),
                    Match::Missing => None,
                    Match::Ambiguous(candidates) => {
                        skipped.insert(path.clone());
                        untouchable.extend(candidates.iter().map(|c| parent.child(c)));
                        continue;
                    }
                },
            };
            let target = Target::Folder { path: path.clone() };
            let Some(live_path) = live_path else {
                self.changes
                    .push(Change::new(target, Action::Create, Danger::Safe).field(
                        "description",
                        None,
                        json!(want.description),
                    ));
                continue;
            };
            matched.insert(path.clone(), live_path.clone());
            if live_path.name() != path.name() {
                // Parents are renamed first, so the folder is found under its new parent.
                let now = match path.parent() {
                    Some(parent) => parent.child(live_path.name()),
                    None => FolderPath(vec![live_path.name().to_string()]),
                };
                let mut change = Change::new(
                    Target::Folder { path: now },
                    Action::Rename,
                    Danger::Safe,
                )
                .field("name", json!(live_path.name()), json!(path.name()));
                change.key = path.to_string();
                self.changes.push(change);
            }
            let have = &self.live.folders[&live_path];
            if have.description != want.description {
                self.changes
                    .push(Change::new(target, Action::Update, Danger::Safe).field(
                        "description",
                        json!(have.description),
                        json!(want.description),
                    ));
            }
        }
        if !self.policy.prune.folders {
            return;
        }
        let kept: BTreeSet<&FolderPath> = matched.values().collect();
        let untouchable = |p: &FolderPath| untouchable.iter().any(|u| p.starts_with(u));
        // Where a live folder will be once its ancestors are renamed.
        let renamed_prefixes: Vec<(&FolderPath, &FolderPath)> =
            matched.iter().map(|(new, old)| (old, new)).collect();
        for (path, have) in &self.live.folders {
            if kept.contains(path) || untouchable(path) {
                continue;
            }
            // The deepest kept ancestor decides where the folder is after the renames.
            let ancestor = renamed_prefixes
                .iter()
                .filter(|(old, _)| path.starts_with(old) && old.depth() < path.depth())
                .max_by_key(|(old, _)| old.depth());
            let now = match ancestor {
                Some((old, new)) => {
                    let mut p = new.0.clone();
                    p.extend_from_slice(&path.0[old.depth()..]);
                    FolderPath(p)
                }
                None => path.clone(),
            };
            self.changes.push(
                Change::new(
                    Target::Folder { path: now },
                    Action::Delete,
                    Danger::Destructive,
                )
                .field("description", json!(have.description), None)
                .note("deletes the folder and the files in it"),
            );
        }
    }

    // ---------------------------------------------------------------- resources

    /// Live access of a resource as it will be after the plan's removals and renames.
    fn project_access<R: Copy>(&self, access: &BTreeMap<Principal, R>) -> BTreeMap<Principal, R> {
        access
            .iter()
            .filter_map(|(who, role)| {
                let who = match who {
                    Principal::User(e) if self.removed_users.contains(e) => return None,
                    Principal::User(_) => who.clone(),
                    Principal::Group(g) => match self.group_map.get(g) {
                        Some(Some(new)) => Principal::Group(new.clone()),
                        Some(None) => return None,
                        None => who.clone(),
                    },
                };
                Some((who, *role))
            })
            .collect()
    }

    /// The live names a declared resource matches (one, when all is well).
    fn lookup(&self, r: &DesiredResource) -> Vec<String> {
        let names: Vec<&String> = match (r.kind, &r.by) {
            (ResourceKind::Project, ResourceRef::Name(n)) => self
                .live
                .projects
                .get_key_value(n)
                .map(|(k, _)| k)
                .into_iter()
                .collect(),
            (ResourceKind::Project, ResourceRef::Hash(h)) => self
                .live
                .projects
                .iter()
                .filter(|(_, p)| p.hash == *h)
                .map(|(k, _)| k)
                .collect(),
            (kind, by) => {
                let map = if kind == ResourceKind::Dataset {
                    &self.live.datasets
                } else {
                    &self.live.ontologies
                };
                match by {
                    ResourceRef::Name(n) => {
                        map.get_key_value(n).map(|(k, _)| k).into_iter().collect()
                    }
                    ResourceRef::Hash(h) => map
                        .iter()
                        .filter(|(_, v)| v.hash == *h)
                        .map(|(k, _)| k)
                        .collect(),
                }
            }
        };
        names.into_iter().cloned().collect()
    }

    /// The declared resource whose access the manifests give for a live resource.
    fn declared(&self, kind: ResourceKind, live_name: &str) -> Option<&'a DesiredResource> {
        let desired = self.desired;
        desired
            .resources
            .iter()
            .find(|r| r.kind == kind && self.lookup(r).iter().any(|n| n == live_name))
    }

    fn resolve(&mut self, r: &DesiredResource) -> Option<String> {
        let names = self.lookup(r);
        if let [name] = names.as_slice() {
            return Some(name.clone());
        }
        let origin = self.sources.locate(r.origin);
        self.block(
            Kind::Access,
            format!("{}:{}", r.kind, r.by),
            Rule::ResourceUnknown,
            format!(
                "{} `{}` (declared at {origin}) does not exist in the live org: orgform manages access to existing {}s only; create it in Encord first or fix the name",
                r.kind, r.by, r.kind
            ),
        );
        None
    }

    fn resources(&mut self) {
        let desired = self.desired;
        let mut resolved: Vec<Resolved<'a>> = Vec::new();
        for r in &desired.resources {
            let Some(name) = self.resolve(r) else {
                continue;
            };
            if let Some(first) = resolved.iter().find(|x| x.kind == r.kind && x.name == name) {
                let (here, there) = (
                    self.sources.locate(r.origin),
                    self.sources.locate(first.declared.origin),
                );
                self.block(
                    Kind::Access,
                    format!("{}:{name}", r.kind),
                    Rule::InvalidValue,
                    format!(
                        "{} `{name}` is declared twice (at {there} and, as `{}`, at {here}): merge the two entries",
                        r.kind, r.by
                    ),
                );
                continue;
            }
            match r.kind {
                ResourceKind::Project => {
                    let live = &self.live.projects[&name];
                    self.access_changes(r.kind, &name, &live.access, &r.project_access, |a, b| {
                        a.rank() < b.rank()
                    });
                    let have_tags: BTreeSet<String> = live
                        .tags
                        .iter()
                        .filter_map(|t| match self.tag_map.get(t) {
                            Some(new) => new.clone(),
                            None => Some(t.clone()),
                        })
                        .collect();
                    for tag in r.tags.difference(&have_tags) {
                        self.changes.push(Change::new(
                            Target::ProjectTagAssignment {
                                project: name.clone(),
                                tag: tag.clone(),
                            },
                            Action::Create,
                            Danger::Safe,
                        ));
                    }
                    if self.policy.prune.memberships {
                        for tag in have_tags.difference(&r.tags) {
                            self.changes.push(Change::new(
                                Target::ProjectTagAssignment {
                                    project: name.clone(),
                                    tag: tag.clone(),
                                },
                                Action::Delete,
                                Danger::Disruptive,
                            ));
                        }
                    }
                }
                kind => {
                    let map = if kind == ResourceKind::Dataset {
                        &self.live.datasets
                    } else {
                        &self.live.ontologies
                    };
                    self.access_changes(
                        kind,
                        &name,
                        &map[&name].access,
                        &r.resource_access,
                        |a, b| a.rank() < b.rank(),
                    );
                }
            }
            resolved.push(Resolved {
                kind: r.kind,
                name,
                declared: r,
            });
        }
        self.restore_undeclared_access(&resolved);
    }

    /// Re-grants replaced users their access on resources the manifests do not manage:
    /// re-adding a user drops it, and orgform must not lose what it does not own.
    fn restore_undeclared_access(&mut self, resolved: &[Resolved<'a>]) {
        let declared = |kind: ResourceKind, name: &str| {
            resolved.iter().any(|r| r.kind == kind && r.name == name)
        };
        let mut restore = Vec::new();
        for (kind, name, who, role) in self.live.access_entries() {
            if let Principal::User(email) = who
                && self.replaced_users.contains(email)
                && !declared(kind, name)
            {
                restore.push((kind, name.to_string(), who.clone(), role));
            }
        }
        for (kind, name, who, role) in restore {
            self.changes.push(
                Change::new(
                    Target::Access {
                        resource_kind: kind,
                        resource: name,
                        principal: who,
                    },
                    Action::Create,
                    Danger::Safe,
                )
                .field("role", None, json!(role))
                .note("restored after the user is re-added"),
            );
        }
    }

    fn access_changes<R: Copy + PartialEq + serde::Serialize>(
        &mut self,
        kind: ResourceKind,
        resource: &str,
        live: &BTreeMap<Principal, R>,
        want: &BTreeMap<Principal, R>,
        lower: impl Fn(R, R) -> bool,
    ) {
        let have = &self.project_access(live);
        let target = |who: &Principal| Target::Access {
            resource_kind: kind,
            resource: resource.to_string(),
            principal: who.clone(),
        };
        for (who, role) in want {
            let exists = match who {
                Principal::User(e) => self.user_exists_after(e),
                Principal::Group(g) => {
                    self.desired.org.groups.contains_key(g)
                        || self
                            .group_map
                            .values()
                            .any(|v| v.as_deref() == Some(g.as_str()))
                }
            };
            if !exists {
                match who {
                    Principal::User(e) => self.block_unknown_user(target(who), e),
                    Principal::Group(g) => self.block(
                        Kind::Access,
                        target(who).key(),
                        Rule::UserUnknown,
                        format!("group `{g}` does not exist in the live org and is not declared"),
                    ),
                }
                continue;
            }
            match have.get(who) {
                None => self.changes.push(
                    Change::new(target(who), Action::Create, Danger::Safe).field(
                        "role",
                        None,
                        json!(role),
                    ),
                ),
                Some(old) if old != role => {
                    let danger = if lower(*role, *old) || !self.caps.change_access_role {
                        Danger::Disruptive
                    } else {
                        Danger::Safe
                    };
                    let mut change = Change::new(target(who), Action::Update, danger).field(
                        "role",
                        json!(old),
                        json!(role),
                    );
                    if !self.caps.change_access_role {
                        change.action = Action::Replace;
                        change = change
                            .rule(Rule::UnsupportedByProvider)
                            .note("the API cannot change a role in place: removed and re-added");
                    }
                    self.changes.push(change);
                }
                Some(_) => {}
            }
        }
        if !self.policy.prune.memberships {
            // Nothing is pruned, so a replaced user gets back what they had.
            for (who, role) in live {
                if matches!(who, Principal::User(e) if self.replaced_users.contains(e))
                    && !want.contains_key(who)
                {
                    self.changes.push(
                        Change::new(target(who), Action::Create, Danger::Safe)
                            .field("role", None, json!(role))
                            .note("restored after the user is re-added"),
                    );
                }
            }
            return;
        }
        for (who, role) in have {
            if want.contains_key(who) {
                continue;
            }
            let unmanaged = match who {
                Principal::User(e) => self.unmanaged_user(e),
                Principal::Group(g) => self.policy.unmanaged.group(g),
            };
            if !unmanaged {
                self.changes.push(
                    Change::new(target(who), Action::Delete, Danger::Disruptive).field(
                        "role",
                        json!(role),
                        None,
                    ),
                );
            }
        }
    }

    // ---------------------------------------------------------------- sole admins

    /// Resources of one kind where `who` is an admin and, after the plan, no other user
    /// would be: (kind, name, whether the manifests declare its access).
    fn left_without_admin<R: Copy + PartialEq + 'a>(
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
    fn limit_user_removals(&mut self) {
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
    fn block_removal(&mut self, email: &str, rule: Rule, message: String) {
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
    fn sole_resource_admins(&mut self) {
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
