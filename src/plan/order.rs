//! Apply order and the per-kind deletion limits.

use std::collections::BTreeMap;

use super::{Action, Blocked, Change, Kind, Op, Target};
use crate::config::MaxDeletions;
use crate::diagnostic::Rule;

/// Apply order (SPEC §5): users → tags / groups / folders / metadata keys →
/// memberships, managers, access, tag assignments → removals in reverse dependency
/// order (assignments and access first, users last). Folders are created parents
/// first and deleted children first.
pub fn sort_for_apply(changes: &mut [Change]) {
    changes.sort_by_cached_key(sort_key);
}

/// [`sort_for_apply`] for borrowed changes (the same order).
pub fn sort_refs_for_apply(changes: &mut [&Change]) {
    changes.sort_by_cached_key(|c| sort_key(c));
}

/// The step of the apply order a change belongs to (0 users first … 5 user removals).
/// Grants come before revocations: taking an admin role away is a revocation, so a
/// resource keeps an admin while another is granted.
pub fn phase(c: &Change) -> u8 {
    let removal = c.action == Action::Delete || takes_admin_away(c);
    match (c.kind, removal) {
        (Kind::User, false) => 0,
        (Kind::ProjectTag | Kind::Group | Kind::Folder | Kind::MetadataKey, false) => 1,
        (_, false) => 2,
        (
            Kind::GroupMember | Kind::GroupManager | Kind::Access | Kind::ProjectTagAssignment,
            true,
        ) => 3,
        (Kind::Folder | Kind::MetadataKey | Kind::Group | Kind::ProjectTag, true) => 4,
        (Kind::User, true) => 5,
    }
}

/// An access change from the admin role to another.
fn takes_admin_away(c: &Change) -> bool {
    c.kind == Kind::Access
        && matches!(
            c.op(),
            Ok(Op::SetAccessRole { from, to, .. } | Op::ReplaceAccess { from, to, .. })
                if from.is_admin() && !to.is_admin()
        )
}

fn sort_key(c: &Change) -> (u8, u8, i64, String) {
    let removal = c.action == Action::Delete;
    let phase = phase(c);
    let depth = match &c.target {
        Target::Folder { path } if removal => -(path.depth() as i64),
        Target::Folder { path } => path.depth() as i64,
        _ => 0,
    };
    // Renames before other changes of the same kind, which use the new names.
    let action = match c.action {
        Action::Rename => 0,
        _ => 1,
    };
    (phase, c.kind as u8 * 2 + action, depth, c.key.clone())
}

/// The limit for a kind, from `policy.max_deletions`.
pub fn limit_for(limits: &MaxDeletions, kind: Kind) -> u32 {
    let specific = match kind {
        Kind::User => limits.users,
        Kind::Group => limits.groups,
        Kind::GroupMember => limits.group_members,
        Kind::GroupManager => limits.group_managers,
        Kind::ProjectTag => limits.project_tags,
        Kind::ProjectTagAssignment => limits.project_tag_assignments,
        Kind::MetadataKey => limits.metadata_keys,
        Kind::Folder => limits.folders,
        Kind::Access => limits.access,
    };
    specific.unwrap_or(limits.default)
}

/// Counts as a deletion: deleting, or replacing a user (remove + re-add).
fn is_deletion(c: &Change) -> bool {
    c.action == Action::Delete || (c.action == Action::Replace && c.kind == Kind::User)
}

/// Moves every deletion of a kind over its limit into `blocked`: none of them is applied.
pub fn enforce_deletion_limits(
    changes: &mut Vec<Change>,
    blocked: &mut Vec<Blocked>,
    limits: &MaxDeletions,
) {
    let mut counts: BTreeMap<Kind, u32> = BTreeMap::new();
    for c in changes.iter().filter(|c| is_deletion(c)) {
        *counts.entry(c.kind).or_default() += 1;
    }
    let over: BTreeMap<Kind, (u32, u32)> = counts
        .into_iter()
        .map(|(k, n)| (k, (n, limit_for(limits, k))))
        .filter(|(_, (n, limit))| n > limit)
        .collect();
    if over.is_empty() {
        return;
    }
    changes.retain(|c| {
        let Some((n, limit)) = over.get(&c.kind).filter(|_| is_deletion(c)) else {
            return true;
        };
        blocked.push(Blocked {
            kind: c.kind,
            key: c.key.clone(),
            rule: Rule::DeletionLimitExceeded,
            message: limit_message(c.kind, *n, *limit),
        });
        false
    });
}

/// Why deletions of a kind are blocked by `policy.max_deletions`.
pub fn limit_message(kind: Kind, n: u32, limit: u32) -> String {
    format!(
        "{n} {kind} deletions exceed `policy.max_deletions.{}` = {limit}: raise the limit in orgform.yaml or remove fewer at a time",
        kind.policy_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_names_in_the_one_table() {
        for kind in Kind::ALL {
            // The plan's spelling is serde's: the table must agree with it.
            assert_eq!(
                serde_json::to_value(kind).ok(),
                Some(serde_json::Value::from(kind.as_str())),
                "{kind:?}"
            );
            assert_eq!(kind.policy_name(), kind.plural().replace(' ', "_"));
        }
    }
}
