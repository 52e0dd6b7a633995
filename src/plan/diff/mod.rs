//! The planner: desired × live → changes, blocked items and warnings.
//!
//! Works kind by kind in dependency order. Destructive steps that cascade on the
//! platform (removing a user drops their memberships and access; deleting a group
//! revokes its access; deleting a tag unassigns it; renames re-key) are *projected*
//! onto the live state before memberships and access are compared, so the plan lists
//! exactly the writes that remain.

use std::collections::{BTreeMap, BTreeSet};

use super::order::{enforce_deletion_limits, sort_for_apply};
use super::{Blocked, Capabilities, Change, Kind, Plan, Source, Warning};
use crate::config::Policy;
use crate::diagnostic::{Rule, Sources};
use crate::model::{Desired, DesiredResource, Org, Principal, ResourceKind};

mod admins;
mod folders;
mod groups;
mod metadata;
mod resources;
mod tags;
mod users;

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
        blocked_names: BTreeSet::new(),
        frozen_names: BTreeSet::new(),
        tag_map: BTreeMap::new(),
        by_hash: BTreeMap::new(),
        declared_by_live: BTreeMap::new(),
    };
    p.index_resources();
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
        // Sealed by the command, once the plan is final (`integrity::seal`).
        digest: String::new(),
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
    /// Ambiguous renames (blocked): the declared names, which nothing may reference,
    /// and the live candidates, which nothing may touch.
    blocked_names: BTreeSet<(Kind, String)>,
    /// Live resources by hash, and the declaration (the first) for each live
    /// resource: built once, since sole-admin checks ask per resource.
    by_hash: BTreeMap<(ResourceKind, &'a str), Vec<&'a String>>,
    declared_by_live: BTreeMap<(ResourceKind, String), &'a DesiredResource>,
    frozen_names: BTreeSet<(Kind, String)>,
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
struct Resolved {
    kind: ResourceKind,
    name: String,
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
}
