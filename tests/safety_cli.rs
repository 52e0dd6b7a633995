//! The planner's safety promises (issue 8), as a user meets them: a sandbox org made
//! from `sandbox.yaml`, manifests in `org/`, then `plan`, `apply --auto-approve
//! --allow-destroy`, `plan` again (and `export`), with the outcome read from the store.
//!
//! Classes: `resource-admin-required` (no Project or Dataset that has an admin is left
//! without one), resources whose `access:`/`tags:` keys are absent stay unmanaged,
//! grants before revocations, the offboarding replacement, `policy.unmanaged`,
//! resources keyed by hash, rename conflicts, and deletion limits that count only what
//! would be applied.

use std::path::Path;

use orgform::model::{Org, Principal, ResourceKind, UserType};
use orgform::sandbox::store::Store;
use serde_json::Value;

use crate::harness::{has_admin, plan_unvalidated};
use crate::util::{Run, TempRepo, orgform};

const USERS: &str = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: internal }
  - { email: z@acme.com, role: member, type: internal }
";

/// An org repository whose sandbox the first `plan` creates from `state`.
fn repo(policy: &str, state: &str, manifests: &str) -> TempRepo {
    let repo = TempRepo::new();
    repo.write("orgform.yaml", format!("manifests: org/\n{policy}"))
        .write("sandbox.yaml", state)
        .write("org/main.yaml", manifests);
    repo
}

/// `plan --format json`: the exit code and the plan.
fn plan(dir: &Path) -> (i32, Value) {
    let run = orgform(dir, &["plan", "--format", "json"]);
    (run.code, run.json())
}

fn apply(dir: &Path) -> Run {
    orgform(dir, &["apply", "--auto-approve", "--allow-destroy"])
}

fn live(dir: &Path) -> Org {
    Store::open(&dir.join(".orgform/sandbox.db"))
        .expect("sandbox")
        .read()
        .expect("read")
}

/// "action kind key" for every change, in apply order.
fn changes(plan: &Value) -> Vec<String> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| format!("{} {} {}", c["action"], c["kind"], c["key"]).replace('"', ""))
        .collect()
}

/// "kind key [rule]" for every blocked item.
fn blocked(plan: &Value) -> Vec<String> {
    plan["blocked"]
        .as_array()
        .expect("blocked")
        .iter()
        .map(|b| format!("{} {} [{}]", b["kind"], b["key"], b["rule"]).replace('"', ""))
        .collect()
}

/// The message of the blocked item on `key` with `rule`.
fn blocked_message(plan: &Value, key: &str, rule: &str) -> String {
    plan["blocked"]
        .as_array()
        .expect("blocked")
        .iter()
        .find(|b| b["key"] == key && b["rule"] == rule)
        .and_then(|b| b["message"].as_str())
        .unwrap_or_else(|| panic!("no blocked {key} [{rule}] in {:#}", plan["blocked"]))
        .to_string()
}

/// The role of `who` on a resource, as the live org has it.
fn role(org: &Org, kind: ResourceKind, hash: &str, who: &str) -> Option<String> {
    let who = if let Some(g) = who.strip_prefix("group:") {
        Principal::Group(g.to_string())
    } else {
        Principal::User(who.to_string())
    };
    org.access_of(kind, hash)
        .and_then(|a| a.into_iter().find(|(p, _)| **p == who).map(|(_, r)| r))
}

/// Applies and checks that every change was done; apply exits 1 only because
/// `blocked` items remain (never applied).
fn apply_all(dir: &Path, blocked: usize) {
    let run = apply(dir);
    let expected = if blocked == 0 { 0 } else { 1 };
    assert_eq!(run.code, expected, "{}", run.stderr);
    // The last line says what happened: nothing failed, conflicted or was skipped.
    let last = run.stderr.lines().last().unwrap_or_default();
    let finished = (last.starts_with("Applied ")
        || last.starts_with("Nothing to apply: the plan has no changes"))
        && [" failed: ", " conflicting: ", " skipped: "]
            .iter()
            .all(|bad| !last.contains(bad));
    assert!(finished, "{}", run.stderr);
    if blocked > 0 {
        assert!(
            last.contains(&format!("; {blocked} blocked: ")),
            "{}",
            run.stderr
        );
    }
}

/// After an apply the next plan has nothing left to do (blocked items may remain).
fn assert_converged(dir: &Path) -> Value {
    let (code, again) = plan(dir);
    assert_eq!(changes(&again), Vec::<String>::new(), "{again:#}");
    let nothing_blocked = again["blocked"].as_array().is_some_and(Vec::is_empty);
    assert_eq!(code, if nothing_blocked { 0 } else { 1 }, "{again:#}");
    again
}

// ---- resource-admin-required --------------------------------------------------------

#[test]
fn a_blocked_user_removal_also_keeps_that_users_admin_access() {
    // The first route of issue 8: x is the only admin of P1; the manifests drop x and
    // give P1 a viewer only.
    let state = format!(
        "{USERS}projects:\n  - {{ name: P1, hash: p1, access: [ {{ user: x@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: z@acme.com, role: member, type: internal }
projects:
  - name: P1
    access: [ { user: z@acme.com, role: viewer } ]
";
    let repo = repo("", &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1, "blocked items: {p:#}");
    assert_eq!(changes(&p), ["create access project:P1/user:z@acme.com"]);
    assert_eq!(
        blocked(&p),
        [
            "user x@acme.com [sole-resource-admin]",
            "access project:P1 [resource-admin-required]",
            "access project:P1/user:x@acme.com [resource-admin-required]",
        ]
    );
    let why = blocked_message(&p, "x@acme.com", "sole-resource-admin");
    assert!(
        why.contains("project `P1`") && why.contains("declare another admin"),
        "{why}"
    );
    let text = orgform(repo.path(), &["plan"]);
    insta::assert_snapshot!("blocked_user_removal_text", text.stdout);

    apply_all(repo.path(), 3);
    let org = live(repo.path());
    assert!(org.users.contains_key("x@acme.com"), "x stays in the org");
    assert_eq!(
        role(&org, ResourceKind::Project, "p1", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "p1", "z@acme.com").as_deref(),
        Some("viewer")
    );
    // The next plan does not delete x freely: the same items stay blocked.
    let again = assert_converged(repo.path());
    assert_eq!(blocked(&again), blocked(&p));
}

#[test]
fn demoting_the_only_admin_is_held_back() {
    let state = format!(
        "{USERS}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: annotator }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}projects:\n  - name: P\n    access: [ {{ user: x@acme.com, role: viewer }}, {{ user: z@acme.com, role: reviewer }} ]\n"
    );
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    // z's role change does not touch the admin: it goes ahead.
    assert_eq!(changes(&p), ["update access project:P/user:z@acme.com"]);
    assert_eq!(
        blocked(&p),
        [
            "access project:P [resource-admin-required]",
            "access project:P/user:x@acme.com [resource-admin-required]",
        ]
    );
    let fix = blocked_message(&p, "project:P", "resource-admin-required");
    assert!(
        fix.contains("declare another admin in its access list"),
        "{fix}"
    );
    apply_all(repo.path(), 2);
    let org = live(repo.path());
    assert!(has_admin(&org, ResourceKind::Project, "p"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "z@acme.com").as_deref(),
        Some("reviewer")
    );
    assert_converged(repo.path());
}

#[test]
fn demoting_an_admin_while_granting_another_applies_the_grant_first() {
    let state = format!(
        "{USERS}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}projects:\n  - name: P\n    access: [ {{ user: x@acme.com, role: viewer }}, {{ user: z@acme.com, role: admin }} ]\n"
    );
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "create access project:P/user:z@acme.com",
            "update access project:P/user:x@acme.com",
        ],
        "the grant comes before the demotion"
    );
    assert_eq!(blocked(&p), Vec::<String>::new());
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "z@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "x@acme.com").as_deref(),
        Some("viewer")
    );
    let again = assert_converged(repo.path());
    assert_eq!(blocked(&again), Vec::<String>::new());
}

#[test]
fn a_dataset_declared_with_no_access_keeps_its_admin() {
    // `access: []` manages the dataset's access (to nothing): the plain user goes, the
    // only admin stays.
    let state = format!(
        "{USERS}datasets:\n  - {{ name: scans, hash: d, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: user }} ] }}\n"
    );
    let manifests = format!("{USERS}datasets:\n  - name: scans\n    access: []\n");
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), ["delete access dataset:scans/user:z@acme.com"]);
    assert_eq!(
        blocked(&p),
        [
            "access dataset:scans [resource-admin-required]",
            "access dataset:scans/user:x@acme.com [resource-admin-required]",
        ]
    );
    apply_all(repo.path(), 2);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Dataset, "d", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(role(&org, ResourceKind::Dataset, "d", "z@acme.com"), None);
    assert_converged(repo.path());
}

#[test]
fn deleting_the_group_that_is_a_projects_only_admin_is_blocked() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    // No `groups:`: prune deletes undeclared groups, and P is not declared.
    let repo = repo("", &state, USERS);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(blocked(&p), ["group leads [resource-admin-required]"]);
    let why = blocked_message(&p, "leads", "resource-admin-required");
    assert!(
        why.contains("project `P`") && why.contains("or keep the group"),
        "{why}"
    );
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert!(org.groups["leads"].members.contains("z@acme.com"));
    assert!(has_admin(&org, ResourceKind::Project, "p"));
}

#[test]
fn an_admin_group_goes_once_the_project_declares_another_admin() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}projects:\n  - name: P\n    access: [ {{ user: x@acme.com, role: admin }} ]\n"
    );
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "create access project:P/user:x@acme.com",
            "delete group leads"
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert!(!org.groups.contains_key("leads"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());
}

#[test]
fn a_project_declared_only_for_its_tags_keeps_its_access() {
    // P1 declares tags only (its access is not managed); P2 declares access only (its
    // tags are not managed).
    let state = format!(
        "{USERS}project_tags:\n  - {{ name: ct }}\n  - {{ name: mri }}\nprojects:\n  - {{ name: P1, hash: p1, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: viewer }} ] }}\n  - {{ name: P2, hash: p2, tags: [mri], access: [ {{ user: x@acme.com, role: admin }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}project_tags:\n  - {{ name: ct }}\n  - {{ name: mri }}\nprojects:\n  - name: P1\n    tags: [ct]\n  - name: P2\n    access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: annotator }} ]\n"
    );
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "create project_tag_assignment P1/ct",
            "create access project:P2/user:z@acme.com",
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Project, "p1", "z@acme.com").as_deref(),
        Some("viewer"),
        "undeclared access is not pruned"
    );
    assert!(has_admin(&org, ResourceKind::Project, "p1"));
    assert!(
        org.projects["p2"].tags.contains("mri"),
        "undeclared tags stay"
    );
    assert!(org.projects["p1"].tags.contains("ct"));
    assert_converged(repo.path());
}

#[test]
fn emptying_an_admin_group_of_its_only_member_is_held_back() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = format!("{USERS}groups:\n  - {{ name: leads, members: [] }}\n");
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(
        blocked(&p),
        [
            "group_member leads/z@acme.com [resource-admin-required]",
            "access project:P [resource-admin-required]",
        ]
    );
    apply_all(repo.path(), 2);
    let org = live(repo.path());
    assert!(org.groups["leads"].members.contains("z@acme.com"));
    assert!(has_admin(&org, ResourceKind::Project, "p"));
}

#[test]
fn the_only_member_of_an_admin_group_leaving_the_org_is_blocked() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: internal }
groups:
  - { name: leads, members: [] }
";
    let repo = repo("", &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(
        blocked(&p),
        [
            "user z@acme.com [sole-resource-admin]",
            "group_member leads/z@acme.com [resource-admin-required]",
            "access project:P [resource-admin-required]",
        ]
    );
    apply_all(repo.path(), 3);
    let org = live(repo.path());
    assert!(org.users.contains_key("z@acme.com"));
    assert!(org.groups["leads"].members.contains("z@acme.com"));
    assert!(has_admin(&org, ResourceKind::Project, "p"));
}

#[test]
fn changing_the_type_of_a_projects_only_admin_is_blocked() {
    // A type change removes and re-adds the user: between the two, P has no admin.
    let state = format!(
        "{USERS}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: external }
  - { email: z@acme.com, role: member, type: internal }
projects:
  - name: P
    access: [ { user: x@acme.com, role: admin } ]
";
    let repo = repo("", &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(blocked(&p), ["user x@acme.com [sole-resource-admin]"]);
    let why = blocked_message(&p, "x@acme.com", "sole-resource-admin");
    assert!(
        why.contains("removes and re-adds them") && why.contains("project `P`"),
        "{why}"
    );
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert_eq!(org.users["x@acme.com"].user_type, UserType::Internal);
    assert!(has_admin(&org, ResourceKind::Project, "p"));
}

#[test]
fn changing_the_type_of_an_admin_with_a_co_admin_restores_their_access() {
    // P declares both admins; Q is not declared: x's access there is restored too.
    let state = format!(
        "{USERS}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: admin }} ] }}\n  - {{ name: Q, hash: q, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: external }
  - { email: z@acme.com, role: member, type: internal }
projects:
  - name: P
    access: [ { user: x@acme.com, role: admin }, { user: z@acme.com, role: admin } ]
";
    let repo = repo("", &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "replace user x@acme.com",
            "create access project:P/user:x@acme.com",
            "create access project:Q/user:x@acme.com",
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert_eq!(org.users["x@acme.com"].user_type, UserType::External);
    for hash in ["p", "q"] {
        assert_eq!(
            role(&org, ResourceKind::Project, hash, "x@acme.com").as_deref(),
            Some("admin"),
            "{hash}"
        );
    }
    assert_converged(repo.path());
}

#[test]
fn changing_the_type_of_an_admin_groups_only_member_is_blocked() {
    // Re-adding z drops their membership of leads: leads is empty until it is restored.
    let state = format!(
        "{USERS}groups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: internal }
  - { email: z@acme.com, role: member, type: external }
groups:
  - { name: leads, members: [z@acme.com] }
";
    let repo = repo("", &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(blocked(&p), ["user z@acme.com [sole-resource-admin]"]);
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert_eq!(org.users["z@acme.com"].user_type, UserType::Internal);
    assert!(org.groups["leads"].members.contains("z@acme.com"));
}

#[test]
fn re_adding_one_admin_while_demoting_the_other_grants_first() {
    // x is re-added (type change) and granted admin again before z is demoted.
    let state = format!(
        "{USERS}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: external }
  - { email: z@acme.com, role: member, type: internal }
projects:
  - name: P
    access: [ { user: x@acme.com, role: admin }, { user: z@acme.com, role: viewer } ]
";
    let repo = repo("", &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "replace user x@acme.com",
            "create access project:P/user:x@acme.com",
            "update access project:P/user:z@acme.com",
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "z@acme.com").as_deref(),
        Some("viewer")
    );
    assert_converged(repo.path());
}

#[test]
fn renaming_an_admin_group_and_swapping_its_member_keeps_the_project_administered() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}groups:\n  - {{ name: owners, renamed_from: [leads], members: [x@acme.com] }}\nprojects:\n  - name: P\n    access: [ {{ group: owners, role: admin }} ]\n"
    );
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "rename group owners",
            "create group_member owners/x@acme.com",
            "delete group_member owners/z@acme.com",
        ],
        "the new member joins before the old one leaves"
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert!(!org.groups.contains_key("leads"));
    assert!(org.groups["owners"].members.contains("x@acme.com"));
    assert!(has_admin(&org, ResourceKind::Project, "p"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "group:owners").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());
}

#[test]
fn only_the_access_removals_that_leave_no_admin_are_held_back() {
    // x's removal is blocked (P would have no admin); on Q, z stays admin, so x's
    // admin entry there goes. Only what would be applied counts against the limit.
    let policy = "policy:\n  max_deletions: { default: 2 }\n";
    let state = format!(
        "{USERS}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: viewer }} ] }}\n  - {{ name: Q, hash: q, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: z@acme.com, role: member, type: internal }
projects:
  - { name: P, access: [] }
  - { name: Q, access: [ { user: z@acme.com, role: admin } ] }
";
    let repo = repo(policy, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(
        changes(&p),
        [
            "delete access project:P/user:z@acme.com",
            "delete access project:Q/user:x@acme.com",
        ]
    );
    assert_eq!(
        blocked(&p),
        [
            "user x@acme.com [sole-resource-admin]",
            "access project:P [resource-admin-required]",
            "access project:P/user:x@acme.com [resource-admin-required]",
        ]
    );
    apply_all(repo.path(), 3);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(role(&org, ResourceKind::Project, "p", "z@acme.com"), None);
    assert_eq!(role(&org, ResourceKind::Project, "q", "x@acme.com"), None);
    assert_eq!(
        role(&org, ResourceKind::Project, "q", "z@acme.com").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());
}

// ---- policy.offboarding.replacement ------------------------------------------------

const REPLACEMENT: &str = "policy:\n  offboarding:\n    replacement: r@acme.com\n";

#[test]
fn the_offboarding_replacement_takes_over_resources_whose_access_is_unmanaged() {
    let state = format!(
        "{USERS}  - {{ email: r@acme.com, role: member, type: internal }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n  - {{ name: T, hash: t, access: [ {{ user: x@acme.com, role: admin }} ] }}\ndatasets:\n  - {{ name: D, hash: d, access: [ {{ user: x@acme.com, role: admin }}, {{ user: r@acme.com, role: user }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: z@acme.com, role: member, type: internal }
  - { email: r@acme.com, role: member, type: internal }
projects:
  - { name: T, tags: [] }   # tags managed, access not
";
    let repo = repo(REPLACEMENT, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "update access dataset:D/user:r@acme.com",
            "create access project:P/user:r@acme.com",
            "create access project:T/user:r@acme.com",
            "delete user x@acme.com",
        ],
        "the replacement is granted admin before x is removed"
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert!(!org.users.contains_key("x@acme.com"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "r@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Dataset, "d", "r@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "t", "r@acme.com").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());
}

#[test]
fn the_offboarding_replacement_takes_over_from_a_departing_admin_group() {
    // leads (the only admin of P) is pruned and its only member leaves the org: the
    // replacement takes over, nothing is blocked.
    let state = format!(
        "{USERS}  - {{ email: r@acme.com, role: member, type: internal }}\ngroups:\n  - {{ name: leads, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: internal }
  - { email: r@acme.com, role: member, type: internal }
";
    let repo = repo(REPLACEMENT, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "create access project:P/user:r@acme.com",
            "delete group leads",
            "delete user z@acme.com",
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert!(!org.groups.contains_key("leads") && !org.users.contains_key("z@acme.com"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "r@acme.com").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());
}

#[test]
fn an_admin_group_that_keeps_a_member_is_kept_without_the_replacement() {
    // leads is pruned but y, who stays, is still in it: keeping leads keeps P
    // administered, so z may leave and the replacement is not needed.
    let state = format!(
        "{USERS}  - {{ email: r@acme.com, role: member, type: internal }}\n  - {{ email: y@acme.com, role: member, type: internal }}\ngroups:\n  - {{ name: leads, members: [y@acme.com, z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: leads, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: internal }
  - { email: r@acme.com, role: member, type: internal }
  - { email: y@acme.com, role: member, type: internal }
";
    let repo = repo(REPLACEMENT, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), ["delete user z@acme.com"]);
    assert_eq!(blocked(&p), ["group leads [resource-admin-required]"]);
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert!(org.groups["leads"].members.contains("y@acme.com"));
    assert_eq!(role(&org, ResourceKind::Project, "p", "r@acme.com"), None);
    assert!(has_admin(&org, ResourceKind::Project, "p"));
}

#[test]
fn the_offboarding_replacement_does_not_override_a_declared_access_list() {
    let state = format!(
        "{USERS}  - {{ email: r@acme.com, role: member, type: internal }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: viewer }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: z@acme.com, role: member, type: internal }
  - { email: r@acme.com, role: member, type: internal }
projects:
  - name: P
    access: [ { user: z@acme.com, role: viewer } ]
";
    let repo = repo(REPLACEMENT, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    let why = blocked_message(&p, "x@acme.com", "sole-resource-admin");
    assert!(
        why.contains("declare another admin in the access list"),
        "{why}"
    );
    apply_all(repo.path(), 3);
    let org = live(repo.path());
    assert!(org.users.contains_key("x@acme.com"));
    assert_eq!(role(&org, ResourceKind::Project, "p", "r@acme.com"), None);
}

#[test]
fn an_unusable_offboarding_replacement_says_why() {
    struct Case {
        replacement: &'static str,
        /// r's line in the live org (none: not in the org).
        live: Option<&'static str>,
        /// r's declaration (none: unmanaged).
        declared: Option<&'static str>,
        reason: &'static str,
    }
    let cases = [
        Case {
            replacement: "r@acme.com",
            live: Some("{ email: r@acme.com, role: member, type: external }"),
            declared: Some("{ email: r@acme.com, role: member, type: internal }"),
            reason: "this plan removes or re-adds that user too",
        },
        Case {
            replacement: "ghost@encord.com",
            live: None,
            declared: None,
            reason: "`ghost@encord.com` is not a member of the org",
        },
        Case {
            replacement: "r@acme.com",
            live: Some("{ email: r@acme.com, role: collaborator, type: external }"),
            declared: Some("{ email: r@acme.com, role: collaborator, type: external }"),
            reason: "`r@acme.com` is external: only an internal user can take over as admin",
        },
        Case {
            replacement: "r@acme.com",
            live: Some("{ email: r@acme.com, role: collaborator, type: workforce }"),
            declared: Some("{ email: r@acme.com, role: collaborator, type: workforce }"),
            reason: "`r@acme.com` is workforce: only an internal user can take over as admin",
        },
        Case {
            replacement: "help@encord.com",
            live: Some("{ email: help@encord.com, role: member, type: external }"),
            declared: None,
            reason: "`help@encord.com` is external",
        },
    ];
    for case in cases {
        let policy = format!(
            "policy:\n  unmanaged:\n    users: [\"*@encord.com\"]\n  offboarding:\n    replacement: {}\n",
            case.replacement
        );
        let state = format!(
            "{USERS}{}projects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n",
            case.live.map(|u| format!("  - {u}\n")).unwrap_or_default()
        );
        let manifests = format!(
            "users:\n  - {{ email: admin@acme.com, role: admin, type: internal }}\n  - {{ email: z@acme.com, role: member, type: internal }}\n{}",
            case.declared
                .map(|u| format!("  - {u}\n"))
                .unwrap_or_default()
        );
        let repo = repo(&policy, &state, &manifests);
        let (code, p) = plan(repo.path());
        assert_eq!(code, 1, "{}: {p:#}", case.reason);
        let why = blocked_message(&p, "x@acme.com", "sole-resource-admin");
        let configured = format!(
            "`policy.offboarding.replacement` (`{}`) cannot take over: {}",
            case.replacement, case.reason
        );
        assert!(why.contains(&configured), "wanted {configured:?} in {why}");
        assert!(
            !changes(&p).iter().any(|c| c.contains("x@acme.com")),
            "{}: {p:#}",
            case.reason
        );
        assert_eq!(apply(repo.path()).code, 1, "{}", case.reason);
        let org = live(repo.path());
        assert!(org.users.contains_key("x@acme.com"), "{}", case.reason);
        assert!(
            has_admin(&org, ResourceKind::Project, "p"),
            "{}",
            case.reason
        );
    }
}

#[test]
fn an_unmanaged_internal_user_can_be_the_offboarding_replacement() {
    let policy = "policy:\n  unmanaged:\n    users: [\"*@encord.com\"]\n  offboarding:\n    replacement: help@encord.com\n";
    let state = format!(
        "{USERS}  - {{ email: help@encord.com, role: member, type: internal }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: z@acme.com, role: member, type: internal }
";
    let repo = repo(policy, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "create access project:P/user:help@encord.com",
            "delete user x@acme.com",
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "help@encord.com").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());
}

// ---- policy.unmanaged ---------------------------------------------------------------

const UNMANAGED: &str =
    "manifests: org/\npolicy:\n  unmanaged:\n    users: [\"*@encord.com\"]\n    groups: [\"x*\"]\n";

/// A plan's changes and blocked items touching none of the unmanaged objects.
fn assert_untouched(plan: &orgform::plan::Plan, names: &[&str]) {
    for c in &plan.changes {
        let key = c.key.clone();
        let text = serde_json::to_string(c).expect("change");
        assert!(
            !names.iter().any(|n| text.contains(n)),
            "change {:?} {key} touches an unmanaged object: {text}",
            c.action
        );
    }
}

#[test]
fn declared_unmanaged_users_are_never_created_or_changed() {
    // Validate refuses these manifests (`unmanaged-declared`); the planner holds even
    // when it is bypassed.
    let state = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: support@encord.com, role: collaborator, type: external }
  - { email: ops@encord.com, role: member, type: internal }
";
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: support@encord.com, role: member, type: internal }
  - { email: new@encord.com, role: member, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
";
    let p = plan_unvalidated(UNMANAGED, state, manifests);
    let keys: Vec<(String, String)> = p
        .plan
        .changes
        .iter()
        .map(|c| (format!("{:?}", c.action), c.key.clone()))
        .collect();
    assert_eq!(keys, [("Create".to_string(), "bob@acme.com".to_string())]);
    assert_untouched(&p.plan, &["encord.com"]);
    let rules: Vec<(String, String)> = p
        .plan
        .blocked
        .iter()
        .map(|b| (b.key.clone(), b.rule.to_string()))
        .collect();
    assert_eq!(
        rules,
        [
            ("new@encord.com".into(), "unmanaged-declared".into()),
            ("support@encord.com".into(), "unmanaged-declared".into()),
        ]
    );
}

#[test]
fn unmanaged_groups_are_never_renamed_created_or_pruned() {
    let state = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: a@acme.com, role: member, type: internal }
  - { email: b@acme.com, role: member, type: internal }
groups:
  - { name: xg, members: [a@acme.com, b@acme.com] }
  - { name: xkeep, members: [a@acme.com, b@acme.com] }
  - { name: team, members: [a@acme.com] }
";
    // xg renamed away to a managed name; team renamed onto an unmanaged one; xkeep
    // declared with fewer members; xnew declared new.
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: a@acme.com, role: member, type: internal }
  - { email: b@acme.com, role: member, type: internal }
groups:
  - { name: eng, renamed_from: [xg], members: [a@acme.com] }
  - { name: xteam, renamed_from: [team], members: [] }
  - { name: xkeep, members: [a@acme.com] }
  - { name: xnew, members: [a@acme.com] }
";
    let p = plan_unvalidated(UNMANAGED, state, manifests);
    assert_untouched(&p.plan, &["xg", "xteam", "xkeep", "xnew"]);
    let keys: Vec<(String, String)> = p
        .plan
        .changes
        .iter()
        .map(|c| (c.kind.to_string(), c.key.clone()))
        .collect();
    // `eng` is a new managed group (xg is not its former self); team is neither renamed
    // onto an unmanaged name nor, its rename being refused, pruned.
    assert_eq!(
        keys,
        [
            ("group".to_string(), "eng".to_string()),
            ("group_member".to_string(), "eng/a@acme.com".to_string()),
        ]
    );
    let blocked: Vec<(String, String)> = p
        .plan
        .blocked
        .iter()
        .map(|b| (b.key.clone(), b.rule.to_string()))
        .collect();
    let unmanaged = |k: &str| (k.to_string(), "unmanaged-declared".to_string());
    assert_eq!(
        blocked,
        [
            unmanaged("xg"),
            unmanaged("xkeep"),
            unmanaged("xnew"),
            unmanaged("xteam")
        ]
    );
    assert!(
        p.plan.warnings.is_empty(),
        "a refused former name is not reported as missing: {:#?}",
        p.plan.warnings
    );
}

#[test]
fn declaring_an_unmanaged_user_stops_plan_and_apply() {
    let policy = "policy:\n  unmanaged:\n    users: [\"*@encord.com\"]\n";
    let state = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: support@encord.com, role: collaborator, type: external }
";
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: support@encord.com, role: member, type: external }
";
    let repo = repo(policy, state, manifests);
    for args in [
        &["plan"][..],
        &["apply", "--auto-approve", "--allow-destroy"],
    ] {
        let run = orgform(repo.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("error[unmanaged-declared]")
                && run.stderr.contains("org/main.yaml:4:")
                && run.stderr.contains("*@encord.com"),
            "{}",
            run.stderr
        );
    }
    assert!(
        !repo.path().join(".orgform/sandbox.db").exists(),
        "the org was not even opened"
    );
}

#[test]
fn undeclared_memberships_and_access_of_unmanaged_objects_are_never_pruned() {
    let policy = "policy:\n  unmanaged:\n    users: [\"*@encord.com\"]\n    groups: [\"ext-*\"]\n";
    let state = format!(
        "{USERS}  - {{ email: support@encord.com, role: collaborator, type: external }}\n  - {{ email: ops@encord.com, role: member, type: internal }}\ngroups:\n  - {{ name: team, members: [z@acme.com, support@encord.com] }}\n  - {{ name: ext-vendor, members: [support@encord.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }}, {{ user: support@encord.com, role: viewer }}, {{ group: ext-vendor, role: annotator }}, {{ user: z@acme.com, role: viewer }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}groups:\n  - {{ name: team, members: [ops@encord.com] }}\nprojects:\n  - name: P\n    access: [ {{ user: x@acme.com, role: admin }} ]\n"
    );
    let repo = repo(policy, &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    // A managed group may list an unmanaged user: that entry is managed like any other.
    assert_eq!(
        changes(&p),
        [
            "create group_member team/ops@encord.com",
            "delete group_member team/z@acme.com",
            "delete access project:P/user:z@acme.com",
        ]
    );
    assert_eq!(blocked(&p), Vec::<String>::new(), "nothing reported");
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert!(org.groups["team"].members.contains("support@encord.com"));
    assert!(org.groups["team"].members.contains("ops@encord.com"));
    assert!(org.groups.contains_key("ext-vendor"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "support@encord.com").as_deref(),
        Some("viewer")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "group:ext-vendor").as_deref(),
        Some("annotator")
    );
    assert_converged(repo.path());
}

// ---- resources keyed by hash --------------------------------------------------------

const DUPS: &str = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: x@acme.com, role: member, type: internal }
  - { email: z@acme.com, role: member, type: internal }
projects:
  - { name: Dup, hash: h1, access: [ { user: x@acme.com, role: admin } ] }
  - { name: Dup, hash: h2, access: [ { user: z@acme.com, role: admin } ] }
  - { name: Solo, hash: s1, access: [ { user: x@acme.com, role: admin } ] }
";

#[test]
fn two_projects_with_one_title_are_two_resources_end_to_end() {
    let by_name = format!(
        "{USERS}projects:\n  - name: Dup\n    access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: viewer }} ]\n"
    );
    let repo = repo("", DUPS, &by_name);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(
        blocked(&p),
        ["access project:Dup [resource-name-ambiguous]"]
    );
    let why = blocked_message(&p, "project:Dup", "resource-name-ambiguous");
    assert!(
        why.contains("org/main.yaml:") && why.contains("hashes h1, h2") && why.contains("`hash:`"),
        "{why}"
    );
    insta::assert_snapshot!(
        "ambiguous_title_text",
        orgform(repo.path(), &["plan"]).stdout
    );

    // By name and hash, and by hash only: each manages exactly that project.
    repo.write(
        "org/main.yaml",
        format!(
            "{USERS}projects:\n  - name: Dup\n    hash: h1\n    access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: viewer }} ]\n  - hash: h2\n    access: [ {{ user: z@acme.com, role: admin }}, {{ user: x@acme.com, role: annotator }} ]\n"
        ),
    );
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(
        changes(&p),
        [
            "create access project:Dup (h1)/user:z@acme.com",
            "create access project:Dup (h2)/user:x@acme.com",
        ]
    );
    apply_all(repo.path(), 0);
    let org = live(repo.path());
    assert_eq!(
        role(&org, ResourceKind::Project, "h1", "z@acme.com").as_deref(),
        Some("viewer")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "h1", "x@acme.com").as_deref(),
        Some("admin")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "h2", "x@acme.com").as_deref(),
        Some("annotator")
    );
    assert_eq!(
        role(&org, ResourceKind::Project, "h2", "z@acme.com").as_deref(),
        Some("admin")
    );
    assert_converged(repo.path());

    // Export writes `hash:` for the shared title; planning the export changes nothing.
    std::fs::remove_dir_all(repo.path().join("org")).expect("rm org");
    let run = orgform(repo.path(), &["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let access = std::fs::read_to_string(repo.path().join("org/access.yaml")).expect("access");
    for needle in ["hash: h1", "hash: h2", "Dup", "Solo"] {
        assert!(access.contains(needle), "{needle} in:\n{access}");
    }
    assert!(
        !access.contains("hash: s1"),
        "a unique title needs no hash:\n{access}"
    );
    assert_eq!(orgform(repo.path(), &["validate"]).code, 0);
    let run = orgform(repo.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn an_export_manages_empty_access_and_tags_too() {
    // Exported resources keep `access: []` and `tags: []`: access or tags added by hand
    // afterwards show in the plan, rather than being silently unmanaged.
    let state = format!(
        "{USERS}project_tags:\n  - {{ name: ct }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\ndatasets:\n  - {{ name: D, hash: d }}\n"
    );
    let repo = repo("", &state, USERS);
    assert_eq!(plan(repo.path()).0, 0);
    std::fs::remove_dir_all(repo.path().join("org")).expect("rm org");
    let run = orgform(repo.path(), &["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = orgform(repo.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    let mut store = Store::open(&repo.path().join(".orgform/sandbox.db")).expect("sandbox");
    store.assign_tag("p", "ct").expect("tag by hand");
    store
        .set_access(
            ResourceKind::Dataset,
            "d",
            &Principal::User("z@acme.com".into()),
            "user",
        )
        .expect("access by hand");
    drop(store);
    let (_, p) = plan(repo.path());
    assert_eq!(
        changes(&p),
        [
            "delete project_tag_assignment P/ct",
            "delete access dataset:D/user:z@acme.com",
        ]
    );
}

#[test]
fn a_hash_whose_live_title_differs_is_a_warning() {
    let manifests = format!(
        "{USERS}projects:\n  - name: Renamed\n    hash: s1\n    access: [ {{ user: x@acme.com, role: admin }}, {{ user: z@acme.com, role: viewer }} ]\n"
    );
    let repo = repo("", DUPS, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(changes(&p), ["create access project:Solo/user:z@acme.com"]);
    let warnings = p["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let message = warnings[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`s1` is titled `Solo`") && message.contains("not `Renamed`"),
        "{message}"
    );
    assert!(
        warnings[0]["origin"]
            .as_str()
            .is_some_and(|o| o.starts_with("org/main.yaml:")),
        "{warnings:#?}"
    );
}

// ---- rename conflicts ---------------------------------------------------------------

#[test]
fn renaming_a_tag_onto_an_existing_one_is_a_conflict_and_touches_neither() {
    let policy = "policy:\n  prune:\n    project_tags: true\n";
    let state = format!(
        "{USERS}project_tags:\n  - {{ name: Gold, description: the good ones }}\n  - {{ name: old, description: legacy }}\nprojects:\n  - {{ name: P, hash: p, tags: [old] }}\n"
    );
    let manifests = format!(
        "{USERS}project_tags:\n  - {{ name: gold, renamed_from: [old], description: renamed }}\n"
    );
    let repo = repo(policy, &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(blocked(&p), ["project_tag gold [rename-conflict]"]);
    insta::assert_snapshot!(
        "tag_rename_conflict_text",
        orgform(repo.path(), &["plan"]).stdout
    );
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert_eq!(org.project_tags["Gold"].description, "the good ones");
    assert_eq!(org.project_tags["old"].description, "legacy");
    assert!(org.projects["p"].tags.contains("old"));
}

#[test]
fn renaming_a_group_onto_an_existing_one_is_a_conflict_and_touches_neither() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: team, members: [x@acme.com] }}\n  - {{ name: old-team, members: [z@acme.com] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ group: old-team, role: annotator }} ] }}\n"
    );
    let manifests = format!(
        "{USERS}groups:\n  - {{ name: team, renamed_from: [old-team], members: [z@acme.com] }}\n"
    );
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(blocked(&p), ["group team [rename-conflict]"]);
    let why = blocked_message(&p, "team", "rename-conflict");
    assert!(why.contains("neither is changed"), "{why}");
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert!(org.groups["team"].members.contains("x@acme.com"));
    assert!(org.groups["old-team"].members.contains("z@acme.com"));
    assert_eq!(
        role(&org, ResourceKind::Project, "p", "group:old-team").as_deref(),
        Some("annotator")
    );
}

#[test]
fn a_group_renamed_from_several_live_groups_touches_none() {
    let state = format!(
        "{USERS}groups:\n  - {{ name: eu, members: [x@acme.com] }}\n  - {{ name: us, members: [z@acme.com] }}\n"
    );
    let manifests =
        format!("{USERS}groups:\n  - {{ name: global, renamed_from: [eu, us], members: [] }}\n");
    let repo = repo("", &state, &manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    assert_eq!(blocked(&p), ["group global [rename-conflict]"]);
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert!(org.groups["eu"].members.contains("x@acme.com"));
    assert!(org.groups["us"].members.contains("z@acme.com"));
    assert!(!org.groups.contains_key("global"));
}

// ---- deletion limits ----------------------------------------------------------------

/// Five crew members (staying in the org) and x, the only admin of P.
fn crew_state(members: usize) -> String {
    let mut state = USERS.to_string();
    let emails: Vec<String> = (1..=members).map(|i| format!("m{i}@acme.com")).collect();
    for e in &emails {
        state.push_str(&format!(
            "  - {{ email: {e}, role: member, type: internal }}\n"
        ));
    }
    state.push_str(&format!(
        "groups:\n  - {{ name: crew, members: [{}] }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n",
        emails.join(", ")
    ));
    state
}

/// The same users without x, and crew emptied.
fn crew_manifests(members: usize) -> String {
    let mut m = "users:\n  - { email: admin@acme.com, role: admin, type: internal }\n  - { email: z@acme.com, role: member, type: internal }\n".to_string();
    for i in 1..=members {
        m.push_str(&format!(
            "  - {{ email: m{i}@acme.com, role: member, type: internal }}\n"
        ));
    }
    m.push_str("groups:\n  - { name: crew, members: [] }\n");
    m
}

#[test]
fn deletion_limits_count_only_what_would_be_applied() {
    let policy = "policy:\n  max_deletions: { default: 5 }\n";
    let repo = repo(policy, &crew_state(5), &crew_manifests(5));
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(
        changes(&p),
        (1..=5)
            .map(|i| format!("delete group_member crew/m{i}@acme.com"))
            .collect::<Vec<_>>()
    );
    assert_eq!(blocked(&p), ["user x@acme.com [sole-resource-admin]"]);
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert!(org.groups["crew"].members.is_empty());
    assert!(org.users.contains_key("x@acme.com"));
    assert!(has_admin(&org, ResourceKind::Project, "p"));
}

#[test]
fn deletion_limits_still_hold_when_exceeded() {
    let policy = "policy:\n  max_deletions: { default: 5 }\n";
    let repo = repo(policy, &crew_state(6), &crew_manifests(6));
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), Vec::<String>::new());
    let rules = blocked(&p);
    assert_eq!(rules.len(), 7, "{rules:#?}");
    assert_eq!(
        rules
            .iter()
            .filter(|r| r.ends_with("[deletion-limit-exceeded]"))
            .count(),
        6,
        "{rules:#?}"
    );
    assert!(rules.contains(&"user x@acme.com [sole-resource-admin]".to_string()));
    let why = blocked_message(&p, "crew/m1@acme.com", "deletion-limit-exceeded");
    assert!(why.contains("6") && why.contains("5"), "{why}");
}

#[test]
fn a_user_kept_as_sole_admin_does_not_count_against_the_user_limit() {
    let policy = "policy:\n  max_deletions: { default: 10, users: 1 }\n";
    let state = format!(
        "{USERS}  - {{ email: y@acme.com, role: member, type: internal }}\nprojects:\n  - {{ name: P, hash: p, access: [ {{ user: x@acme.com, role: admin }} ] }}\n"
    );
    let manifests = "
users:
  - { email: admin@acme.com, role: admin, type: internal }
  - { email: z@acme.com, role: member, type: internal }
";
    let repo = repo(policy, &state, manifests);
    let (code, p) = plan(repo.path());
    assert_eq!(code, 1);
    assert_eq!(changes(&p), ["delete user y@acme.com"]);
    assert_eq!(blocked(&p), ["user x@acme.com [sole-resource-admin]"]);
    apply_all(repo.path(), 1);
    let org = live(repo.path());
    assert!(!org.users.contains_key("y@acme.com"));
    assert!(org.users.contains_key("x@acme.com"));
}
