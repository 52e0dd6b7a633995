//! Drift: the plan read from the live side. Where the plan says "create X", the org
//! lacks something declared; where it says "delete X", someone added X by hand. Each
//! item says who it affects and the manifest change that would adopt it; `orgform
//! apply` (after reviewing the plan) reverts them all.
//!
//! Built from the same plan `orgform plan` shows, so drift sees exactly what apply
//! would change: nothing matching `policy.unmanaged`, nothing the provider cannot
//! observe (those are warnings, never changes), and no live object kept because pruning
//! is off for its kind (counted apart: not drift).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::config::{MaxDeletions, Policy, Prune};
use crate::diagnostic::Rule;
use crate::model::{Org, Principal};
use crate::plan::{Action, Change, Kind, Plan, Source, Target, Warning};
use crate::render::show;

pub const FORMAT_VERSION: u32 = 1;

/// How people revert drift: review the plan, then apply it.
pub const REVERT: &str =
    "review `orgform plan --out plan.json`, then run `orgform apply plan.json`";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub format_version: u32,
    /// The manifests the org was compared with.
    pub source: Source,
    /// The org, described for people (`sandbox .orgform/sandbox.db`).
    pub against: String,
    pub drifted: bool,
    pub summary: Summary,
    pub items: Vec<Item>,
    /// Live objects missing from the manifests that stay because pruning is off for
    /// their kind: not drift.
    pub kept_unpruned: usize,
    /// The command that reverts every item but the blocked ones.
    pub revert: String,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub not_declared: usize,
    pub missing: usize,
    pub changed: usize,
    pub renamed: usize,
    pub manual: usize,
    pub blocked: usize,
}

/// How the live org differs from the manifests, for one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// In the org, not in the manifests: created by hand (apply deletes it).
    NotDeclared,
    /// Declared, not in the org: removed by hand, or never applied (apply creates it).
    Missing,
    /// In both, different (apply sets the declared values).
    Changed,
    /// The org still has the former name (apply renames it).
    Renamed,
    /// Different, and the provider's API cannot change it: the note says how.
    Manual,
    /// Different, and orgform will not change it (a platform rule or a policy limit).
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub kind: Kind,
    pub key: String,
    pub state: State,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// The users whose membership, access or role this touches (emails).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<String>,
    /// The manifest change that would make the manifests say what the org has.
    pub adopt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A field as the org has it and as the manifests declare it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub field: String,
    pub live: Value,
    pub declared: Value,
}

/// The policy that prunes every kind, without deletion limits: what it plans to delete
/// beyond the real plan is what pruning being off keeps.
pub fn prune_everything(policy: &Policy) -> Policy {
    Policy {
        prune: Prune {
            users: true,
            groups: true,
            memberships: true,
            project_tags: true,
            metadata_keys: true,
            folders: true,
        },
        max_deletions: MaxDeletions {
            default: u32::MAX,
            ..MaxDeletions::default()
        },
        ..policy.clone()
    }
}

/// The live objects `pruned` (planned with [`prune_everything`]) would delete or block
/// that `plan` leaves alone.
pub fn kept_unpruned(plan: &Plan, pruned: &Plan) -> usize {
    let seen: BTreeSet<(Kind, &str)> = plan
        .changes
        .iter()
        .map(|c| (c.kind, c.key.as_str()))
        .chain(plan.blocked.iter().map(|b| (b.kind, b.key.as_str())))
        .collect();
    let kept: BTreeSet<(Kind, &str)> = pruned
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| (c.kind, c.key.as_str()))
        .chain(pruned.blocked.iter().map(|b| (b.kind, b.key.as_str())))
        .filter(|k| !seen.contains(k))
        .collect();
    kept.len()
}

/// The drift report of `plan`, computed against `live`.
pub fn report(plan: &Plan, live: &Org, against: &str, kept_unpruned: usize) -> Report {
    let mut items: Vec<Item> = plan.changes.iter().map(|c| item(c, live)).collect();
    items.extend(plan.blocked.iter().map(|b| Item {
        kind: b.kind,
        key: b.key.clone(),
        state: State::Blocked,
        fields: Vec::new(),
        affected: Vec::new(),
        adopt: b.message.clone(),
        rule: Some(b.rule),
        note: None,
    }));
    let mut summary = Summary::default();
    for i in &items {
        match i.state {
            State::NotDeclared => summary.not_declared += 1,
            State::Missing => summary.missing += 1,
            State::Changed => summary.changed += 1,
            State::Renamed => summary.renamed += 1,
            State::Manual => summary.manual += 1,
            State::Blocked => summary.blocked += 1,
        }
    }
    Report {
        format_version: FORMAT_VERSION,
        source: plan.source.clone(),
        against: against.to_string(),
        drifted: !items.is_empty(),
        summary,
        items,
        kept_unpruned,
        revert: REVERT.to_string(),
        warnings: plan.warnings.clone(),
    }
}

fn item(c: &Change, live: &Org) -> Item {
    let state = match c.action {
        Action::Create => State::Missing,
        Action::Delete => State::NotDeclared,
        Action::Update | Action::Replace => State::Changed,
        Action::Rename => State::Renamed,
        Action::Manual => State::Manual,
    };
    let fields: Vec<Field> = c
        .fields
        .iter()
        .filter(|f| f.before != f.after)
        // An empty description on one side and none on the other says nothing.
        .filter(|f| !crate::diff::only_empty(&f.before, &f.after))
        .map(|f| Field {
            field: f.field.clone(),
            live: f.before.clone(),
            declared: f.after.clone(),
        })
        .collect();
    Item {
        kind: c.kind,
        key: c.key.clone(),
        state,
        adopt: adopt(c, state, &fields),
        fields,
        affected: affected(&c.target, live),
        rule: c.rule,
        note: c.note.clone(),
    }
}

/// The users a difference reaches: the user concerned, or a group's members.
fn affected(target: &Target, live: &Org) -> Vec<String> {
    let members = |group: &str| -> Vec<String> {
        live.groups
            .get(group)
            .map(|g| g.members.iter().cloned().collect())
            .unwrap_or_default()
    };
    match target {
        Target::User { email }
        | Target::GroupMember { email, .. }
        | Target::GroupManager { email, .. } => vec![email.clone()],
        Target::Group { name } => members(name),
        Target::Access { principal, .. } => match principal {
            Principal::User(email) => vec![email.clone()],
            Principal::Group(group) => members(group),
        },
        Target::ProjectTag { .. }
        | Target::ProjectTagAssignment { .. }
        | Target::MetadataKey { .. }
        | Target::Folder { .. } => Vec::new(),
    }
}

/// What to write in the manifests so they declare what the org has.
fn adopt(c: &Change, state: State, fields: &[Field]) -> String {
    let live = |name: &str| {
        fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| show(&f.live))
            .or_else(|| c.before(name).map(show))
            .unwrap_or_default()
    };
    let (object, section) = place(&c.target);
    match state {
        State::Missing => format!("remove {object} from {section}"),
        State::NotDeclared => match &c.target {
            Target::User { email } => format!(
                "declare it in {section}: `- {{ email: {email}, role: {}, type: {} }}`",
                live("role"),
                live("type")
            ),
            Target::MetadataKey { key } => {
                format!("declare it in {section}: `{key}: {}`", live("type"))
            }
            Target::Access { principal, .. } => {
                let (who, name) = match principal {
                    Principal::User(e) => ("user", e),
                    Principal::Group(g) => ("group", g),
                };
                format!(
                    "add `{{ {who}: {name}, role: {} }}` to {section}",
                    live("role")
                )
            }
            _ => format!("add {object} to {section}"),
        },
        State::Renamed => format!(
            "keep the name the org has: declare `{}` instead of `{}` in {section} (and drop its `renamed_from`)",
            live("name"),
            c.key
        ),
        State::Changed | State::Manual if !fields.is_empty() => {
            let set: Vec<String> = fields
                .iter()
                .map(|f| format!("`{}: {}`", f.field, show(&f.live)))
                .collect();
            format!("set {} for {object} in {section}", set.join(", "))
        }
        State::Changed | State::Manual | State::Blocked => c
            .note
            .clone()
            .unwrap_or_else(|| format!("review {object} in {section}")),
    }
}

/// An object and the manifest list that declares it, in words: (`` `bob@vendor.io` ``,
/// `` `users:` ``).
fn place(target: &Target) -> (String, String) {
    match target {
        Target::User { email } => (format!("`{email}`"), "`users:`".to_string()),
        Target::Group { name } => (format!("group `{name}`"), "`groups:`".to_string()),
        Target::GroupMember { group, email } => (
            format!("`{email}`"),
            format!("the `members:` of group `{group}`"),
        ),
        Target::GroupManager { group, email } => (
            format!("`{email}`"),
            format!("the `managers:` of group `{group}`"),
        ),
        Target::ProjectTag { name } => (format!("tag `{name}`"), "`project_tags:`".to_string()),
        Target::ProjectTagAssignment { title, tag, .. } => (
            format!("`{tag}`"),
            format!("the `tags:` of project `{title}`"),
        ),
        Target::MetadataKey { key } => (format!("`{key}`"), "`metadata_schema:`".to_string()),
        Target::Folder { path } => (format!("folder `{path}`"), "`folders:`".to_string()),
        Target::Access {
            resource_kind,
            title,
            principal,
            ..
        } => (
            format!("`{principal}`"),
            format!("the `access:` of {resource_kind} `{title}`"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Group, ResourceKind};
    use crate::plan::Danger;

    #[test]
    fn a_group_grant_made_by_hand_names_the_group_members_and_how_to_adopt_it() {
        let mut live = Org::default();
        live.groups.insert(
            "labelers".to_string(),
            Group {
                members: ["bob@vendor.io".to_string(), "eve@vendor.io".to_string()].into(),
                ..Group::default()
            },
        );
        let change = Change::new(
            Target::Access {
                resource_kind: ResourceKind::Project,
                resource: "h1".to_string(),
                title: "Lung CT".to_string(),
                principal: Principal::Group("labelers".to_string()),
            },
            Action::Delete,
            Danger::Disruptive,
        )
        .field("role", serde_json::json!("reviewer"), None);
        let item = item(&change, &live);
        assert_eq!(item.state, State::NotDeclared);
        assert_eq!(item.affected, ["bob@vendor.io", "eve@vendor.io"]);
        assert_eq!(
            item.adopt,
            "add `{ group: labelers, role: reviewer }` to the `access:` of project `Lung CT`"
        );
    }
}
