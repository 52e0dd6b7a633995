//! Which changes depend on which: when one fails, the changes that need its object
//! are skipped, and independent changes still go ahead.

use crate::model::Principal;
use crate::plan::{Action, Change, Target};

/// The objects a change brings into being (or changes the identity of), as ids.
pub fn provides(change: &Change) -> Vec<String> {
    let after_name = || {
        change
            .after("name")
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match (&change.target, change.action) {
        (Target::User { email }, _) => vec![format!("user:{email}")],
        (Target::Group { name }, Action::Rename) => {
            vec![format!(
                "group:{}",
                after_name().unwrap_or_else(|| name.clone())
            )]
        }
        (Target::Group { name }, _) => vec![format!("group:{name}")],
        (Target::ProjectTag { name }, Action::Rename | Action::Manual) => {
            vec![format!(
                "tag:{}",
                after_name().unwrap_or_else(|| name.clone())
            )]
        }
        (Target::ProjectTag { name }, _) => vec![format!("tag:{name}")],
        (Target::Folder { path }, Action::Rename) => {
            let new = match (path.parent(), after_name()) {
                (Some(p), Some(n)) => p.child(&n).to_string(),
                (None, Some(n)) => n,
                _ => path.to_string(),
            };
            vec![format!("folder:{new}")]
        }
        (Target::Folder { path }, _) => vec![format!("folder:{path}")],
        _ => Vec::new(),
    }
}

/// The objects a change needs to exist (as this plan leaves them).
pub fn requires(change: &Change) -> Vec<String> {
    match &change.target {
        Target::GroupMember { group, email } | Target::GroupManager { group, email } => {
            vec![format!("group:{group}"), format!("user:{email}")]
        }
        Target::ProjectTagAssignment { tag, .. } => vec![format!("tag:{tag}")],
        Target::Access { principal, .. } => vec![match principal {
            Principal::User(e) => format!("user:{e}"),
            Principal::Group(g) => format!("group:{g}"),
        }],
        Target::Folder { path } => {
            let mut out: Vec<String> = (1..path.depth())
                .map(|n| format!("folder:{}", path.0[..n].join("/")))
                .collect();
            if change.action == Action::Update {
                out.push(format!("folder:{path}"));
            }
            out
        }
        Target::Group { name } if change.action == Action::Update => vec![format!("group:{name}")],
        Target::ProjectTag { name } if change.action == Action::Update => {
            vec![format!("tag:{name}")]
        }
        _ => Vec::new(),
    }
}
