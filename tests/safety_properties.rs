//! Safety invariants of plan + apply over random orgs, stated on outcomes:
//! 1. no Project or Dataset that has an admin is left without one — after the apply,
//!    and after every single change of it (grants come before revocations);
//! 2. no change touches an object matching `policy.unmanaged`, and every unmanaged
//!    user and group is as it was afterwards;
//! 3. the store (which enforces the platform's rules) accepts every planned change.
//!
//! The generator is built from proptest strategies, so a failure shrinks to a small
//! org. It aims at the hard cases: sole admins (users, groups with one member), admins
//! dropped, demoted or declared with `access: []`, resources whose access is not
//! managed, type changes of admins, offboarding replacements that cannot take over,
//! and declarations of unmanaged users and groups (which validate refuses, planned
//! here anyway to test the planner's own defence).

use std::fmt::Write;

use orgform::model::{Org, Principal};
use orgform::plan::{Action, Change, Target};
use orgform::provider::Provider;
use orgform::provider::sandbox::SandboxProvider;
use proptest::prelude::*;

use crate::harness::{administered, has_admin, plan_unvalidated, store_from};

/// Users: ada is the org admin; `svc@bots.io` matches `policy.unmanaged`.
const USERS: [&str; 6] = [
    "ada@acme.com",
    "u1@acme.com",
    "u2@acme.com",
    "x1@vendor.io",
    "w1@vendor.io",
    "svc@bots.io",
];
/// Groups: `ext-team` and `ext-new` match `policy.unmanaged`.
const GROUPS: [&str; 4] = ["g0", "g1", "ext-team", "ext-new"];
const RESOURCES: [(&str, &str); 3] = [("projects", "P0"), ("projects", "P1"), ("datasets", "D0")];

#[derive(Debug, Clone)]
struct UserCase {
    /// (role, type) live and declared; `None`: absent.
    live: Option<(&'static str, &'static str)>,
    declared: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone)]
struct GroupCase {
    /// Members (indexes into USERS), live and declared; `None`: absent.
    live: Option<Vec<usize>>,
    declared: Option<Vec<usize>>,
}

/// One access entry: principal (index into USERS, then GROUPS) and whether it is
/// admin (else the lowest role of the kind).
type Entry = (usize, bool);

#[derive(Debug, Clone)]
struct ResourceCase {
    live: Vec<Entry>,
    /// `None`: declared without `access:` (or not at all).
    declared: Option<Vec<Entry>>,
    /// Declared at all (with or without `access:`).
    listed: bool,
}

#[derive(Debug, Clone)]
struct Case {
    users: Vec<UserCase>,
    groups: Vec<GroupCase>,
    resources: Vec<ResourceCase>,
    prune_memberships: bool,
    prune_groups: bool,
    /// Index into USERS, or USERS.len() for someone who is nowhere.
    replacement: Option<usize>,
}

fn role_type(email: &'static str) -> BoxedStrategy<(&'static str, &'static str)> {
    let roles = prop_oneof![
        Just("member"),
        Just("collaborator"),
        Just("workforce_manager")
    ];
    let types: BoxedStrategy<&'static str> = if email.ends_with("@acme.com") {
        prop_oneof![3 => Just("internal"), 1 => Just("external")].boxed()
    } else {
        prop_oneof![Just("external"), Just("workforce")].boxed()
    };
    (roles, types).boxed()
}

fn user_case(i: usize) -> BoxedStrategy<UserCase> {
    if i == 0 {
        return Just(UserCase {
            live: Some(("admin", "internal")),
            declared: Some(("admin", "internal")),
        })
        .boxed();
    }
    let email = USERS[i];
    (
        proptest::option::weighted(0.8, role_type(email)),
        proptest::option::weighted(0.7, role_type(email)),
    )
        .prop_map(|(live, declared)| UserCase { live, declared })
        .boxed()
}

fn members() -> impl Strategy<Value = Vec<usize>> {
    proptest::sample::subsequence((0..USERS.len()).collect::<Vec<_>>(), 0..=3)
}

fn group_case(i: usize) -> BoxedStrategy<GroupCase> {
    // `ext-new` exists only in (invalid) manifests.
    let live = if i == 3 {
        Just(None).boxed()
    } else {
        proptest::option::weighted(0.8, members()).boxed()
    };
    let declared_weight = if i >= 2 { 0.3 } else { 0.7 };
    (live, proptest::option::weighted(declared_weight, members()))
        .prop_map(|(live, declared)| GroupCase { live, declared })
        .boxed()
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec((0..USERS.len() + GROUPS.len(), any::<bool>()), 0..=3)
}

fn resource_case() -> impl Strategy<Value = ResourceCase> {
    (
        entries(),
        proptest::option::weighted(0.6, entries()),
        any::<bool>(),
    )
        .prop_map(|(live, declared, listed)| ResourceCase {
            listed: listed || declared.is_some(),
            live,
            declared,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        (0..USERS.len()).map(user_case).collect::<Vec<_>>(),
        (0..GROUPS.len()).map(group_case).collect::<Vec<_>>(),
        proptest::collection::vec(resource_case(), RESOURCES.len()),
        any::<bool>(),
        proptest::bool::weighted(0.8),
        prop_oneof![
            1 => Just(None),
            2 => Just(Some(0)),
            2 => (1..=USERS.len()).prop_map(Some),
        ],
    )
        .prop_map(
            |(users, groups, resources, prune_memberships, prune_groups, replacement)| Case {
                users,
                groups,
                resources,
                prune_memberships,
                prune_groups,
                replacement,
            },
        )
}

impl Case {
    fn config(&self) -> String {
        let replacement = match self.replacement {
            Some(i) if i < USERS.len() => {
                format!("\n  offboarding: {{ replacement: {} }}", USERS[i])
            }
            Some(_) => "\n  offboarding: { replacement: ghost@acme.com }".to_string(),
            None => String::new(),
        };
        format!(
            "manifests: org/
policy:
  prune: {{ users: true, groups: {}, memberships: {} }}
  max_deletions: {{ default: 1000 }}
  unmanaged: {{ users: ['svc@*'], groups: ['ext-*'] }}{replacement}
",
            self.prune_groups, self.prune_memberships
        )
    }

    /// The state (`live`) or the manifests, as YAML.
    fn yaml(&self, live: bool) -> String {
        let mut y = String::from("organization: { email_domains: [acme.com] }\nusers:\n");
        let user_of = |u: &UserCase| if live { u.live } else { u.declared };
        let present: Vec<bool> = self.users.iter().map(|u| user_of(u).is_some()).collect();
        for (i, u) in self.users.iter().enumerate() {
            if let Some((role, ty)) = user_of(u) {
                let _ = writeln!(y, "  - {{ email: {}, role: {role}, type: {ty} }}", USERS[i]);
            }
        }
        y.push_str("groups:\n");
        let mut group_present = [false; GROUPS.len()];
        for (i, g) in self.groups.iter().enumerate() {
            let Some(members) = (if live { &g.live } else { &g.declared }) else {
                continue;
            };
            group_present[i] = true;
            // The state must be one the platform holds: members are in the org.
            let members: Vec<&str> = members
                .iter()
                .filter(|m| !live || present[**m])
                .map(|m| USERS[*m])
                .collect();
            let _ = writeln!(
                y,
                "  - {{ name: {}, members: [{}] }}",
                GROUPS[i],
                members.join(", ")
            );
        }
        let mut sections: [String; 2] = [String::new(), String::new()];
        for (r, (section, name)) in self.resources.iter().zip(RESOURCES) {
            let (is_project, out) = if section == "projects" {
                (true, &mut sections[0])
            } else {
                (false, &mut sections[1])
            };
            let entries = if live {
                Some(&r.live)
            } else if r.listed {
                r.declared.as_ref()
            } else {
                continue;
            };
            let hash = if live {
                format!(", hash: h-{name}")
            } else {
                String::new()
            };
            let Some(entries) = entries else {
                let _ = writeln!(out, "  - {{ name: {name}{hash} }}");
                continue;
            };
            let mut seen = Vec::new();
            let mut list = Vec::new();
            for (who, admin) in entries {
                if seen.contains(who) {
                    continue;
                }
                seen.push(*who);
                let principal = if *who < USERS.len() {
                    if live && !present[*who] {
                        continue;
                    }
                    format!("user: {}", USERS[*who])
                } else {
                    let g = who - USERS.len();
                    if live && !group_present[g] {
                        continue;
                    }
                    format!("group: {}", GROUPS[g])
                };
                let role = match (admin, is_project) {
                    (true, _) => "admin",
                    (false, true) => "viewer",
                    (false, false) => "user",
                };
                list.push(format!("{{ {principal}, role: {role} }}"));
            }
            let _ = writeln!(
                out,
                "  - {{ name: {name}{hash}, access: [{}] }}",
                list.join(", ")
            );
        }
        let _ = write!(y, "projects:\n{}datasets:\n{}", sections[0], sections[1]);
        y
    }
}

/// Whether a change acts on an object that `policy.unmanaged` covers. Putting back a
/// re-added user's membership (a type change dropped it) leaves the group as it was.
fn touches_unmanaged(c: &Change, plan: &[Change], unmanaged: &orgform::config::Unmanaged) -> bool {
    let new_name = c.after("name").and_then(|v| v.as_str()).unwrap_or_default();
    let replaced = |email: &str| {
        plan.iter().any(|p| {
            p.action == Action::Replace
                && p.target
                    == Target::User {
                        email: email.to_string(),
                    }
        })
    };
    match &c.target {
        Target::User { email } => unmanaged.user(email),
        Target::Group { name } => unmanaged.group(name) || unmanaged.group(new_name),
        Target::GroupMember { group, email } | Target::GroupManager { group, email } => {
            let restores = c.action == Action::Create && replaced(email);
            (unmanaged.group(group) && !restores)
                || (c.action == Action::Delete && unmanaged.user(email))
        }
        Target::Access { principal, .. } => {
            c.action == Action::Delete
                && match principal {
                    Principal::User(e) => unmanaged.user(e),
                    Principal::Group(g) => unmanaged.group(g),
                }
        }
        _ => false,
    }
}

/// The unmanaged users and groups of an org, as they are.
fn unmanaged_part(org: &Org, unmanaged: &orgform::config::Unmanaged) -> String {
    let users: Vec<String> = org
        .users
        .iter()
        .filter(|(e, _)| unmanaged.user(e))
        .map(|(e, u)| format!("{e} {} {}", u.role, u.user_type))
        .collect();
    let groups: Vec<String> = org
        .groups
        .iter()
        .filter(|(n, _)| unmanaged.group(n))
        .map(|(n, g)| format!("{n} {:?}", g.description))
        .collect();
    format!("{users:?} {groups:?}")
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let config = case.config();
    let state = case.yaml(true);
    let manifests = case.yaml(false);
    let context =
        || format!("--- orgform.yaml\n{config}--- state\n{state}--- manifests\n{manifests}");
    let planned = plan_unvalidated(&config, &state, &manifests);
    let unmanaged = planned.repo.config.policy.unmanaged.clone();
    for c in &planned.plan.changes {
        prop_assert!(
            !touches_unmanaged(c, &planned.plan.changes, &unmanaged),
            "the plan touches an unmanaged object: {} {} {:?}\n{}",
            c.kind,
            c.key,
            c.action,
            context()
        );
    }
    let before = planned.live.clone();
    let had = administered(&before);
    let mut provider = SandboxProvider::from_store(planned.store);
    // Change by change, in plan order: every intermediate state keeps the admins.
    for c in &planned.plan.changes {
        if c.action == Action::Manual {
            continue;
        }
        let result = provider.apply(&c.op().expect("every planned change is a typed operation"));
        prop_assert!(
            result.is_ok(),
            "the store refused {} {} {:?}: {:?}\n{}",
            c.kind,
            c.key,
            c.action,
            result,
            context()
        );
        let now = provider.read().expect("read");
        for (kind, hash) in &had {
            prop_assert!(
                has_admin(&now, *kind, hash),
                "{} {} has no admin after {} {} {:?}\n{}",
                kind,
                hash,
                c.kind,
                c.key,
                c.action,
                context()
            );
        }
    }
    let after = provider.read().expect("read");
    prop_assert_eq!(
        unmanaged_part(&before, &unmanaged),
        unmanaged_part(&after, &unmanaged),
        "unmanaged users or groups changed\n{}",
        context()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn no_apply_leaves_a_resource_without_an_admin_or_touches_unmanaged_objects(case in case()) {
        check(&case)?;
    }
}

/// The generator reaches the situations the invariants are about, in a fair share of
/// cases: a failure of the planner there would be found.
#[test]
fn the_generator_reaches_the_hard_situations() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut held_back, mut sole_admin_removals, mut unmanaged_declared, mut replacements) =
        (0, 0, 0, 0);
    for _ in 0..300 {
        let case = case().new_tree(&mut runner).expect("case").current();
        let planned = plan_unvalidated(&case.config(), &case.yaml(true), &case.yaml(false));
        let rules: Vec<String> = planned
            .plan
            .blocked
            .iter()
            .map(|b| b.rule.to_string())
            .collect();
        held_back += usize::from(rules.iter().any(|r| r == "resource-admin-required"));
        sole_admin_removals += usize::from(rules.iter().any(|r| r == "sole-resource-admin"));
        unmanaged_declared += usize::from(rules.iter().any(|r| r == "unmanaged-declared"));
        replacements += usize::from(planned.plan.changes.iter().any(|c| {
            c.rule
                .is_some_and(|r| r.to_string() == "sole-resource-admin")
        }));
    }
    for (what, n, least) in [
        ("held-back admin removals", held_back, 10),
        ("blocked sole-admin user removals", sole_admin_removals, 10),
        ("unmanaged declarations", unmanaged_declared, 10),
        ("offboarding replacements", replacements, 5),
    ] {
        assert!(n >= least, "only {n} of 300 cases have {what}");
    }
}

#[test]
fn state_generator_produces_orgs_the_store_accepts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for _ in 0..100 {
        let case = case().new_tree(&mut runner).expect("case").current();
        let _ = store_from(&case.yaml(true));
    }
}
