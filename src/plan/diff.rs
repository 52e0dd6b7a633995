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
    p.groups();
    p.tags();
    p.metadata();
    p.folders();
    let resolved = p.resources();
    p.sole_resource_admins(&resolved);
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
        actual_fingerprint: super::fingerprint(live),
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

fn role_rank(role: OrgRole) -> u8 {
    match role {
        OrgRole::Admin => 3,
        OrgRole::WorkforceManager => 2,
        OrgRole::Member => 1,
        OrgRole::Collaborator => 0,
    }
}

fn project_role_rank(role: ProjectRole) -> u8 {
    match role {
        ProjectRole::Admin => 5,
        ProjectRole::TeamManager => 4,
        ProjectRole::AnnotatorReviewer => 3,
        ProjectRole::Reviewer | ProjectRole::Annotator => 2,
        ProjectRole::Viewer => 1,
    }
}

fn resource_role_rank(role: ResourceRole) -> u8 {
    match role {
        ResourceRole::Admin => 1,
        ResourceRole::User => 0,
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
                let danger = if role_rank(want.role) < role_rank(have.role) {
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
            let live_name = self.match_renamed(
                Kind::Group,
                "group",
                name,
                self.desired.group_renames.get(name),
                |n| self.live.groups.contains_key(n).then(|| n.to_string()),
            );
            let target = Target::Group { name: name.clone() };
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
                self.changes.push(self.membership_change(
                    target(email),
                    Action::Create,
                    Danger::Safe,
                ));
            }
            if !self.policy.prune.memberships {
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
        origin_kind: &'static str,
        name: &str,
        renamed_from: Option<&Vec<String>>,
        find: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        if let Some(found) = find(name) {
            return Some(found);
        }
        let olds = renamed_from?;
        let found: Vec<String> = olds.iter().filter_map(|o| find(o)).collect();
        match found.as_slice() {
            [one] => Some(one.clone()),
            [] => {
                self.warn(
                    Rule::RenameConflict,
                    format!(
                        "{kind} `{name}` is renamed from {}, but none of them exists in the live org: it will be created",
                        olds.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                    ),
                    Some((origin_kind, name.to_string())),
                );
                None
            }
            many => {
                self.block(
                    kind,
                    name,
                    Rule::RenameConflict,
                    format!(
                        "several former names of `{name}` exist in the live org ({}): keep only the one to rename in `renamed_from`",
                        many.join(", ")
                    ),
                );
                // Treat as matched to the first so nothing is created twice.
                Some(many[0].clone())
            }
        }
    }

    // ---------------------------------------------------------------- tags

    fn tags(&mut self) {
        let mut claimed = BTreeSet::new();
        for (name, want) in &self.desired.org.project_tags {
            let live_name = self.match_renamed(
                Kind::ProjectTag,
                "project_tag",
                name,
                self.desired.tag_renames.get(name),
                |n| self.live.tag_named(n).map(str::to_string),
            );
            let target = Target::ProjectTag { name: name.clone() };
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
        for (path, want) in &self.desired.org.folders {
            let live_parent = match path.parent() {
                Some(parent) => matched.get(&parent).cloned(),
                None => Some(FolderPath(Vec::new())),
            };
            let live_path = live_parent.and_then(|parent| {
                self.match_renamed(
                    Kind::Folder,
                    "folder",
                    path.name(),
                    self.desired.folder_renames.get(path),
                    |n| {
                        let candidate = parent.child(n);
                        self.live
                            .folders
                            .contains_key(&candidate)
                            .then(|| candidate.name().to_string())
                    },
                )
                .map(|n| parent.child(&n))
            });
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
        // Where a live folder will be once its ancestors are renamed.
        let renamed_prefixes: Vec<(&FolderPath, &FolderPath)> =
            matched.iter().map(|(new, old)| (old, new)).collect();
        for (path, have) in &self.live.folders {
            if kept.contains(path) {
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

    fn resolve(&mut self, r: &DesiredResource) -> Option<String> {
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
        if let [name] = names.as_slice() {
            return Some((*name).clone());
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

    fn resources(&mut self) -> Vec<Resolved<'a>> {
        let desired = self.desired;
        let mut resolved = Vec::new();
        for r in &desired.resources {
            let Some(name) = self.resolve(r) else {
                continue;
            };
            match r.kind {
                ResourceKind::Project => {
                    let live = &self.live.projects[&name];
                    let have = self.project_access(&live.access);
                    self.access_changes(r.kind, &name, &have, &r.project_access, |a, b| {
                        project_role_rank(a) < project_role_rank(b)
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
                    let have = self.project_access(&map[&name].access);
                    self.access_changes(kind, &name, &have, &r.resource_access, |a, b| {
                        resource_role_rank(a) < resource_role_rank(b)
                    });
                }
            }
            resolved.push(Resolved {
                kind: r.kind,
                name,
                declared: r,
            });
        }
        self.restore_undeclared_access(&resolved);
        resolved
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
        have: &BTreeMap<Principal, R>,
        want: &BTreeMap<Principal, R>,
        lower: impl Fn(R, R) -> bool,
    ) {
        let target = |who: &Principal| Target::Access {
            resource_kind: kind,
            resource: resource.to_string(),
            principal: who.clone(),
        };
        for (who, role) in want {
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
    fn left_without_admin<'r, R: Copy + PartialEq + 'a + 'r>(
        &self,
        who: &Principal,
        kind: ResourceKind,
        live: impl Iterator<Item = (&'r String, &'r BTreeMap<Principal, R>)>,
        admin: R,
        resolved: &[Resolved<'a>],
        declared_access: impl Fn(&Resolved<'a>) -> &'a BTreeMap<Principal, R>,
    ) -> Vec<(ResourceKind, String, bool)> {
        let mut out = Vec::new();
        for (name, access) in live {
            if access.get(who) != Some(&admin) {
                continue;
            }
            let declared = resolved.iter().find(|r| r.kind == kind && r.name == *name);
            let after = match declared {
                Some(r) => declared_access(r).clone(),
                None => self.project_access(access),
            };
            let has_admin = after.iter().any(|(w, role)| {
                matches!(w, Principal::User(e) if !self.removed_users.contains(e)) && *role == admin
            });
            if !has_admin {
                out.push((kind, name.clone(), declared.is_some()));
            }
        }
        out
    }

    /// A removed user who is the only admin of a Project or Dataset needs a
    /// replacement (platform rule): assign `offboarding.replacement` where orgform does
    /// not manage the resource's access, or block the removal.
    fn sole_resource_admins(&mut self, resolved: &[Resolved<'a>]) {
        let deletions: Vec<String> = self
            .changes
            .iter()
            .filter(|c| c.kind == Kind::User && c.action == Action::Delete)
            .map(|c| c.key.clone())
            .collect();
        let replacement = self
            .policy
            .offboarding
            .replacement
            .as_ref()
            .map(|r| crate::model::email::normalize(r))
            .filter(|r| !self.removed_users.contains(r) && self.desired.org.users.contains_key(r));
        let mut reassigned: BTreeSet<(ResourceKind, String)> = BTreeSet::new();
        for email in deletions {
            let who = Principal::User(email.clone());
            let mut sole = self.left_without_admin(
                &who,
                ResourceKind::Project,
                self.live.projects.iter().map(|(n, p)| (n, &p.access)),
                ProjectRole::Admin,
                resolved,
                |r| &r.declared.project_access,
            );
            sole.extend(self.left_without_admin(
                &who,
                ResourceKind::Dataset,
                self.live.datasets.iter().map(|(n, d)| (n, &d.access)),
                ResourceRole::Admin,
                resolved,
                |r| &r.declared.resource_access,
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
                self.changes.retain(|c| {
                    !(c.kind == Kind::User && c.key == email && c.action == Action::Delete)
                });
                let fix = match &replacement {
                    Some(_) => "declare another admin in the access list of each".to_string(),
                    None => "set `policy.offboarding.replacement` in orgform.yaml, or declare another admin for each".to_string(),
                };
                self.block(
                    Kind::User,
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
