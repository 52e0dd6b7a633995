//! Before each write: is the object still as the plan saw it?
//!
//! A change is *ready* when the live object matches the plan's `before` values, *done*
//! when it already matches the `after` values (an interrupted apply wrote it but did not
//! record it), and in *conflict* otherwise (someone changed it since the plan).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::{FolderPath, Org, Principal, ResourceKind};
use crate::plan::{Action, Change, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    Ready,
    Done,
    Conflict(String),
}

/// The live fields of the object a target names, or `None` when it does not exist.
pub fn current(org: &Org, target: &Target) -> Option<BTreeMap<String, Value>> {
    let fields = |pairs: Vec<(&str, Value)>| {
        Some(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    match target {
        Target::User { email } => {
            let u = org.users.get(email)?;
            fields(vec![("role", json!(u.role)), ("type", json!(u.user_type))])
        }
        Target::Group { name } => {
            let g = org.groups.get(name)?;
            fields(vec![
                ("name", json!(name)),
                ("description", json!(g.description)),
            ])
        }
        Target::GroupMember { group, email } => org
            .groups
            .get(group)
            .filter(|g| g.members.contains(email))
            .and_then(|_| fields(vec![])),
        Target::GroupManager { group, email } => org
            .groups
            .get(group)
            .filter(|g| g.managers.contains(email))
            .and_then(|_| fields(vec![])),
        Target::ProjectTag { name } => {
            let t = org.project_tags.get(name)?;
            fields(vec![
                ("name", json!(name)),
                ("description", json!(t.description)),
            ])
        }
        Target::ProjectTagAssignment { project, tag, .. } => org
            .projects
            .get(project)
            .filter(|p| p.tags.contains(tag))
            .and_then(|_| fields(vec![])),
        Target::MetadataKey { key } => {
            let ty = org.metadata_schema.get(key)?;
            fields(vec![("type", json!(ty))])
        }
        Target::Folder { path } => {
            let f = org.folders.get(path)?;
            fields(vec![
                ("name", json!(path.name())),
                ("description", json!(f.description)),
            ])
        }
        Target::Access {
            resource_kind,
            resource,
            principal,
            ..
        } => {
            let role = access_role(org, *resource_kind, resource, principal)?;
            fields(vec![("role", json!(role))])
        }
    }
}

fn access_role(org: &Org, kind: ResourceKind, resource: &str, who: &Principal) -> Option<String> {
    match kind {
        ResourceKind::Project => org
            .projects
            .get(resource)?
            .access
            .get(who)
            .map(|r| r.to_string()),
        ResourceKind::Dataset => org
            .datasets
            .get(resource)?
            .access
            .get(who)
            .map(|r| r.to_string()),
        ResourceKind::Ontology => org
            .ontologies
            .get(resource)?
            .access
            .get(who)
            .map(|r| r.to_string()),
    }
}

/// Where a renamed object is found once renamed.
fn renamed_target(change: &Change) -> Option<Target> {
    let new = change.after("name")?.as_str()?.to_string();
    match &change.target {
        Target::Group { .. } => Some(Target::Group { name: new }),
        Target::ProjectTag { .. } => Some(Target::ProjectTag { name: new }),
        Target::Folder { path } => Some(Target::Folder {
            path: match path.parent() {
                Some(p) => p.child(&new),
                None => FolderPath(vec![new]),
            },
        }),
        _ => None,
    }
}

/// Whether the live fields match the given side (`before` or `after`) of every field.
fn matches(live: &BTreeMap<String, Value>, change: &Change, after: bool) -> bool {
    change.fields.iter().all(|f| {
        let want = if after { &f.after } else { &f.before };
        // A field absent on one side (create: before; delete: after) says nothing.
        want.is_null() || live.get(&f.field).is_none_or(|v| v == want)
    })
}

pub fn check(org: &Org, change: &Change) -> Precondition {
    let now = current(org, &change.target);
    let what = format!("{} {}", change.kind, change.key);
    match change.action {
        Action::Create => match now {
            None => Precondition::Ready,
            Some(live) if matches(&live, change, true) => Precondition::Done,
            Some(_) => Precondition::Conflict(format!(
                "{what} already exists with other values: someone created it since the plan"
            )),
        },
        Action::Delete => match now {
            None => Precondition::Done,
            Some(live) if matches(&live, change, false) => Precondition::Ready,
            Some(_) => Precondition::Conflict(format!(
                "{what} changed since the plan: it is not what the plan meant to delete"
            )),
        },
        Action::Update | Action::Replace => match now {
            None => Precondition::Conflict(format!("{what} no longer exists")),
            Some(live) if matches(&live, change, false) => Precondition::Ready,
            Some(live) if matches(&live, change, true) => Precondition::Done,
            Some(_) => Precondition::Conflict(format!(
                "{what} changed since the plan: it no longer has the values the plan expected"
            )),
        },
        Action::Rename => {
            let renamed = renamed_target(change).and_then(|t| current(org, &t));
            match (now, renamed) {
                (Some(_), None) => Precondition::Ready,
                (None, Some(_)) => Precondition::Done,
                (None, None) => {
                    Precondition::Conflict(format!("{what}: the object to rename is gone"))
                }
                (Some(_), Some(_)) => Precondition::Conflict(format!(
                    "{what}: both the old and the new name exist now"
                )),
            }
        }
        Action::Manual => Precondition::Ready,
    }
}
