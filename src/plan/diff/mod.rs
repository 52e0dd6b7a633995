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
use crate::model::{Desired, Org, ResourceKind};
use lookups::Lookups;

mod admins;
mod folders;
mod groups;
mod lookups;
mod metadata;
mod resources;
mod tags;
mod unmanaged;
mod users;

pub use admins::admin_losses;

/// Computes the plan. Pure: reads its arguments, writes nothing.
///
/// Planning runs until the outcome is safe: when the plan as computed would leave a
/// Project or Dataset without an admin (SPEC §7.3), the users and groups whose removal
/// contributes are kept (blocked) and the org is planned again, since keeping them
/// changes what cascades; the remaining contributions (access removals, demotions,
/// membership removals) are then held back. Deletion limits count only what would
/// be applied.
pub fn plan(
    desired: &Desired,
    live: &Org,
    policy: &Policy,
    caps: Capabilities,
    source: Source,
    sources: &Sources,
) -> Plan {
    let mut held = Held::default();
    protect_key_user(&caps, live, &mut held);
    let lookups = Lookups::new(desired, live);
    let p = 'plan: loop {
        let mut p = Planner::new(desired, live, policy, caps.clone(), sources, &lookups, held);
        p.run();
        sort_for_apply(&mut p.changes);
        // Holding a change back can expose another that takes the same admin away
        // later in the order: judge again until nothing does.
        loop {
            let verdict = admins::Verdict::of(&p);
            if verdict.is_clean() {
                break;
            }
            let mut more = std::mem::take(&mut p.held);
            if verdict.hold_removals(&p, &mut more) {
                held = more;
                continue 'plan;
            }
            p.held = more;
            if !verdict.hold_back(&mut p) {
                break;
            }
        }
        let mut more = std::mem::take(&mut p.held);
        if p.limit_user_removals(&mut more) {
            held = more;
            continue;
        }
        break p;
    };
    let Planner {
        mut changes,
        mut blocked,
        warnings,
        ..
    } = p;
    enforce_deletion_limits(&mut changes, &mut blocked, &policy.max_deletions);
    sort_for_apply(&mut changes);
    super::impact::attach(&mut changes, live, &lookups.footprints, &lookups.titles);
    blocked.sort_by(|a, b| (a.kind, &a.key, a.rule).cmp(&(b.kind, &b.key, b.rule)));
    // A resource judged in several rounds is reported once.
    blocked.dedup_by(|a, b| (a.kind, &a.key, a.rule) == (b.kind, &b.key, b.rule));
    Plan {
        format_version: super::FORMAT_VERSION,
        // Stamped, with the manifests digest, by whoever read the manifests.
        orgform_version: String::new(),
        source,
        manifests_digest: String::new(),
        actual_fingerprint: super::fingerprint(live, &policy.unmanaged),
        summary: Plan::summarize(&changes, blocked.len()),
        changes,
        blocked,
        warnings,
        // Sealed by the command, once the plan is final (`integrity::seal`).
        digest: String::new(),
    }
}

/// The key's own user (SPEC §7.5) is kept like a user whose removal a platform rule
/// refuses: never removed nor replaced (a demotion is refused where roles change).
fn protect_key_user(caps: &Capabilities, live: &Org, held: &mut Held) {
    if let super::KeyUser::Known(email) = &caps.key_user
        && live.users.contains_key(email)
    {
        held.users.insert(
            email.clone(),
            (
                Rule::KeyUserProtected,
                format!(
                    "`{email}` is provider.key_user, the user orgform's key acts as: a plan never removes or replaces it. Keep it in `users:` as it is, or change it in the web app with another admin's account"
                ),
            ),
        );
    }
}

/// Live users and groups a plan must keep, with why (the blocked item's rule and
/// message). Grows while planning; never shrinks.
#[derive(Debug, Default)]
pub(super) struct Held {
    pub users: BTreeMap<String, (Rule, String)>,
    pub groups: BTreeMap<String, (Rule, String)>,
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
    /// Users whose invitation is a manual step (the API cannot add them): what needs
    /// them is a manual step too.
    manual_users: BTreeSet<String>,
    /// Declared managers of existing groups the provider cannot read (one warning).
    unverified_managers: usize,
    /// Live group name → its name after the plan (`None`: deleted).
    group_map: BTreeMap<String, Option<String>>,
    /// Ambiguous renames (blocked): the declared names, which nothing may reference,
    /// and the live candidates, which nothing may touch.
    blocked_names: BTreeSet<(Kind, String)>,
    /// Built once per plan (see [`Lookups`]).
    lookups: &'a Lookups<'a>,
    /// Users and groups that must stay (see [`plan`]).
    held: Held,
    frozen_names: BTreeSet<(Kind, String)>,
    /// Live tag name → its name after the plan (`None`: deleted).
    tag_map: BTreeMap<String, Option<String>>,
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
    hash: String,
    /// As people read it (see [`Planner::label`]).
    label: String,
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
    fn new(
        desired: &'a Desired,
        live: &'a Org,
        policy: &'a Policy,
        caps: Capabilities,
        sources: &'a Sources,
        lookups: &'a Lookups<'a>,
        held: Held,
    ) -> Self {
        Planner {
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
            manual_users: BTreeSet::new(),
            unverified_managers: 0,
            group_map: BTreeMap::new(),
            blocked_names: BTreeSet::new(),
            frozen_names: BTreeSet::new(),
            tag_map: BTreeMap::new(),
            lookups,
            held,
        }
    }

    fn run(&mut self) {
        if self.caps.key_user == super::KeyUser::Unknown {
            self.warn(
                Rule::KeyUserProtected,
                "provider.key_user is not set: orgform cannot tell which user its key acts as, so nothing keeps a plan from removing or demoting it. Set `key_user: EMAIL` under `provider:` in orgform.yaml".to_string(),
                None,
            );
        }
        self.users();
        self.groups();
        self.tags();
        self.metadata();
        self.folders();
        self.resources();
        self.keep_out_unmanaged();
        self.offboarding_replacements();
    }

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
