//! Checks a saved plan read from a file: its changes must be ones the planner could
//! have produced. A plan edited to look safer than it is (a deletion marked `safe`, a
//! change filed under another kind) is refused, so `--allow-destroy` and
//! `policy.max_deletions` cannot be sidestepped.

use serde_json::Value;

use super::{Action, Change, Danger, Kind, Plan, Target};
use crate::model::{MetadataType, OrgRole, ProjectRole, ResourceKind, ResourceRole};

/// The least danger a change can carry, from what it does.
pub fn minimum_danger(c: &Change) -> Danger {
    let field = |name: &str, after: bool| {
        let v = if after { c.after(name) } else { c.before(name) };
        v.cloned().unwrap_or(Value::Null)
    };
    let lowers = |before: Value, after: Value| -> bool {
        let rank = |v: Value| -> Option<u8> {
            match &c.target {
                Target::User { .. } => serde_json::from_value::<OrgRole>(v).ok().map(OrgRole::rank),
                Target::Access {
                    resource_kind: ResourceKind::Project,
                    ..
                } => serde_json::from_value::<ProjectRole>(v)
                    .ok()
                    .map(ProjectRole::rank),
                Target::Access { .. } => serde_json::from_value::<ResourceRole>(v)
                    .ok()
                    .map(ResourceRole::rank),
                _ => None,
            }
        };
        matches!((rank(before), rank(after)), (Some(b), Some(a)) if a < b)
    };
    match (c.action, &c.target) {
        (
            Action::Delete,
            Target::User { .. }
            | Target::Group { .. }
            | Target::ProjectTag { .. }
            | Target::MetadataKey { .. }
            | Target::Folder { .. },
        ) => Danger::Destructive,
        (Action::Delete, _) => Danger::Disruptive,
        (Action::Replace, Target::User { .. }) => Danger::Destructive,
        (Action::Replace, _) => Danger::Disruptive,
        (Action::Update, Target::MetadataKey { .. }) => {
            let parse = |v: Value| serde_json::from_value::<MetadataType>(v).ok();
            match (parse(field("type", false)), parse(field("type", true))) {
                (Some(old), Some(new)) if !old.retype_breaks_data(&new) => Danger::Safe,
                _ => Danger::Destructive,
            }
        }
        (Action::Update, Target::User { .. } | Target::Access { .. })
            if lowers(field("role", false), field("role", true)) =>
        {
            Danger::Disruptive
        }
        _ => Danger::Safe,
    }
}

/// Why a plan read from a file cannot be trusted, if it cannot.
pub fn check(plan: &Plan) -> Result<(), String> {
    for (i, c) in plan.changes.iter().enumerate() {
        let what = format!("change {} ({} {})", i + 1, c.kind, c.key);
        if c.kind != c.target.kind() {
            return Err(format!(
                "{what} is filed as `{}` but acts on a {}",
                c.kind,
                c.target.kind()
            ));
        }
        let least = minimum_danger(c);
        if c.danger < least {
            return Err(format!(
                "{what} is marked `{:?}` but is at least `{:?}`",
                c.danger, least
            )
            .to_lowercase());
        }
        if c.action == Action::Manual && c.kind == Kind::User {
            return Err(format!("{what}: users have no manual changes"));
        }
    }
    Ok(())
}
