//! One scenario per planner rule: a small live org, manifests, and the exact plan
//! (asserted facts plus text and JSON snapshots).

use orgform::plan::{Action, Capabilities, Danger, Kind, Plan};
use orgform::render;

use crate::harness::{plan_case, plan_with};

const CONFIG: &str = "manifests: org/\n";

const ADMIN_ONLY: &str = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
";

fn snapshot(name: &str, plan: &Plan) {
    insta::assert_snapshot!(
        format!("{name}_text"),
        render::text(plan, "sandbox test", false)
    );
    insta::assert_snapshot!(
        format!("{name}_json"),
        serde_json::to_string_pretty(plan).expect("plan serializes")
    );
}

fn blocked_rules(plan: &Plan) -> Vec<(String, String, String)> {
    plan.blocked
        .iter()
        .map(|b| (b.kind.to_string(), b.key.clone(), b.rule.to_string()))
        .collect()
}

fn actions(plan: &Plan) -> Vec<(String, String, Action, Danger)> {
    plan.changes
        .iter()
        .map(|c| (c.kind.to_string(), c.key.clone(), c.action, c.danger))
        .collect()
}

#[test]
fn admin_unremovable_blocks_removing_a_live_admin() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: root@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
";
    let p = plan_case(CONFIG, state, ADMIN_ONLY);
    assert_eq!(
        blocked_rules(&p.plan),
        [(
            "user".into(),
            "root@acme.com".into(),
            "admin-unremovable".into()
        )]
    );
    assert_eq!(
        actions(&p.plan),
        [(
            "user".into(),
            "bob@acme.com".into(),
            Action::Delete,
            Danger::Destructive
        )]
    );
    snapshot("admin_unremovable", &p.plan);
}

#[test]
fn admin_role_locked_blocks_demotion_but_promotion_is_allowed() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: root@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: root@acme.com, role: member, type: internal }
  - { email: bob@acme.com, role: admin, type: internal }
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        blocked_rules(&p.plan),
        [(
            "user".into(),
            "root@acme.com".into(),
            "admin-role-locked".into()
        )]
    );
    assert_eq!(
        actions(&p.plan),
        [(
            "user".into(),
            "bob@acme.com".into(),
            Action::Update,
            Danger::Safe
        )]
    );
    snapshot("admin_role_locked", &p.plan);
}

#[test]
fn admin_must_be_internal_blocks_promoting_an_external_user() {
    // Validate accepts this (the type is explicit and internal in neither place is
    // required offline), but the live user is external: promoting it in place is refused.
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: eve@vendor.io, role: member, type: external }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: eve@vendor.io, role: member, type: external }
  - { email: new@vendor.io, role: collaborator }
";
    let p = plan_case(CONFIG, state, manifests);
    assert!(p.plan.blocked.is_empty());
    // The planner checks the rule itself too: a desired admin of another type is blocked.
    let mut desired = p.desired.clone();
    if let Some(u) = desired.org.users.get_mut("eve@vendor.io") {
        u.role = orgform::model::OrgRole::Admin;
    }
    let plan = orgform::plan::plan(
        &desired,
        &p.live,
        &p.repo.config.policy,
        Capabilities::ALL,
        p.plan.source.clone(),
        &p.repo.sources,
    );
    assert_eq!(
        blocked_rules(&plan),
        [(
            "user".into(),
            "eve@vendor.io".into(),
            "admin-must-be-internal".into()
        )]
    );
    snapshot("admin_must_be_internal", &plan);
}

#[test]
fn user_type_change_is_a_destructive_replace_that_restores_declared_access() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: fran@acme.com, role: member, type: external }
groups:
  - { name: team, members: [fran@acme.com] }
projects:
  - name: Lung CT
    access:
      - { user: ada@acme.com, role: admin }
      - { user: fran@acme.com, role: annotator }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: fran@acme.com, role: member, type: internal }
groups:
  - { name: team, members: [fran@acme.com] }
projects:
  - name: Lung CT
    access:
      - { user: ada@acme.com, role: admin }
      - { user: fran@acme.com, role: annotator }
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        actions(&p.plan),
        [
            (
                "user".into(),
                "fran@acme.com".into(),
                Action::Replace,
                Danger::Destructive
            ),
            (
                "group_member".into(),
                "team/fran@acme.com".into(),
                Action::Create,
                Danger::Safe
            ),
            (
                "access".into(),
                "project:Lung CT/user:fran@acme.com".into(),
                Action::Create,
                Danger::Safe
            ),
        ]
    );
    assert_eq!(
        p.plan.changes[0].rule.map(|r| r.to_string()).as_deref(),
        Some("user-type-change")
    );
    snapshot("user_type_change", &p.plan);
}

const SOLE_ADMIN_STATE: &str = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: olga@acme.com, role: member, type: internal }
datasets:
  - name: legacy
    access: [ { user: olga@acme.com, role: admin } ]
";

#[test]
fn sole_resource_admin_blocks_removal_without_a_replacement() {
    let p = plan_case(CONFIG, SOLE_ADMIN_STATE, ADMIN_ONLY);
    assert_eq!(
        blocked_rules(&p.plan),
        [(
            "user".into(),
            "olga@acme.com".into(),
            "sole-resource-admin".into()
        )]
    );
    assert!(p.plan.changes.is_empty());
    snapshot("sole_resource_admin_blocked", &p.plan);
}

#[test]
fn sole_resource_admin_with_a_replacement_reassigns_first() {
    let config = "manifests: org/\npolicy:\n  offboarding:\n    replacement: ada@acme.com\n";
    let p = plan_case(config, SOLE_ADMIN_STATE, ADMIN_ONLY);
    assert!(p.plan.blocked.is_empty());
    assert_eq!(
        actions(&p.plan),
        [
            (
                "access".into(),
                "dataset:legacy/user:ada@acme.com".into(),
                Action::Create,
                Danger::Safe
            ),
            (
                "user".into(),
                "olga@acme.com".into(),
                Action::Delete,
                Danger::Destructive
            ),
        ]
    );
    snapshot("sole_resource_admin_replacement", &p.plan);
}

#[test]
fn tag_deletion_says_how_many_projects_lose_it() {
    let config = "manifests: org/\npolicy:\n  prune:\n    project_tags: true\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
project_tags:
  - { name: old }
  - { name: keep }
projects:
  - { name: A, tags: [old, keep] }
  - { name: B, tags: [old] }
  - { name: C }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
project_tags:
  - { name: keep }
";
    let p = plan_case(config, state, manifests);
    assert_eq!(
        actions(&p.plan),
        [(
            "project_tag".into(),
            "old".into(),
            Action::Delete,
            Danger::Destructive
        )]
    );
    assert_eq!(
        p.plan.changes[0].note.as_deref(),
        Some("removes the tag from 2 project(s)")
    );
    snapshot("tag_delete_count", &p.plan);
}

#[test]
fn renames_are_planned_from_renamed_from() {
    let config = "manifests: org/\npolicy:\n  prune:\n    folders: true\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: eu-labelers, description: EU }
project_tags:
  - { name: golden }
folders:
  - name: raw
    folders: [ { name: old-2026 } ]
projects:
  - name: P
    tags: [golden]
    access: [ { group: eu-labelers, role: annotator } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: labelers-eu, renamed_from: [eu-labelers], description: EU }
project_tags:
  - { name: gold-standard, renamed_from: [golden] }
folders:
  - name: uploads
    renamed_from: [raw]
    folders: [ { name: '2026', renamed_from: [old-2026] } ]
projects:
  - name: P
    tags: [gold-standard]
    access: [ { group: labelers-eu, role: annotator } ]
";
    let p = plan_case(config, state, manifests);
    assert!(p.plan.blocked.is_empty(), "{:?}", p.plan.blocked);
    assert_eq!(
        actions(&p.plan),
        [
            (
                "group".into(),
                "labelers-eu".into(),
                Action::Rename,
                Danger::Safe
            ),
            (
                "project_tag".into(),
                "gold-standard".into(),
                Action::Rename,
                Danger::Safe
            ),
            (
                "folder".into(),
                "uploads".into(),
                Action::Rename,
                Danger::Safe
            ),
            (
                "folder".into(),
                "uploads/2026".into(),
                Action::Rename,
                Danger::Safe
            ),
        ],
        "renames carry access, tags and children along: nothing else changes"
    );
    snapshot("renames", &p.plan);
}

#[test]
fn rename_conflict_when_several_former_names_exist_or_none_does() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: a }
  - { name: b }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: merged, renamed_from: [a, b] }
  - { name: fresh, renamed_from: [never-existed] }
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        blocked_rules(&p.plan),
        [("group".into(), "merged".into(), "rename-conflict".into())]
    );
    assert_eq!(p.plan.warnings.len(), 1);
    assert_eq!(p.plan.warnings[0].rule.to_string(), "rename-conflict");
    assert_eq!(
        p.plan.warnings[0].origin.as_deref(),
        Some("org/main.yaml:6:13")
    );
    snapshot("rename_conflict", &p.plan);
}

#[test]
fn resource_unknown_blocks_access_to_missing_resources() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - { name: Lung CT, hash: p-1 }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - name: Lung CTT
    access: [ { user: ada@acme.com, role: admin } ]
  - hash: p-1
    access: [ { user: ada@acme.com, role: viewer } ]
datasets:
  - name: nope
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        blocked_rules(&p.plan),
        [
            (
                "access".into(),
                "dataset:nope".into(),
                "resource-unknown".into()
            ),
            (
                "access".into(),
                "project:Lung CTT".into(),
                "resource-unknown".into()
            ),
        ]
    );
    assert_eq!(
        actions(&p.plan),
        [(
            "access".into(),
            "project:Lung CT/user:ada@acme.com".into(),
            Action::Create,
            Danger::Safe
        )],
        "a project named by hash is resolved"
    );
    snapshot("resource_unknown", &p.plan);
}

#[test]
fn deletion_limit_exceeded_blocks_every_deletion_of_that_kind() {
    let config = "manifests: org/\npolicy:\n  max_deletions: { default: 10, users: 2 }\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: a@acme.com, role: member, type: internal }
  - { email: b@acme.com, role: member, type: internal }
  - { email: c@acme.com, role: member, type: internal }
groups:
  - { name: g1 }
";
    let p = plan_case(config, state, ADMIN_ONLY);
    let blocked = blocked_rules(&p.plan);
    assert_eq!(blocked.len(), 3);
    assert!(
        blocked
            .iter()
            .all(|(k, _, r)| k == "user" && r == "deletion-limit-exceeded")
    );
    assert_eq!(
        actions(&p.plan),
        [(
            "group".into(),
            "g1".into(),
            Action::Delete,
            Danger::Destructive
        )],
        "other kinds stay within their limit"
    );
    snapshot("deletion_limit", &p.plan);
}

#[test]
fn unmanaged_users_are_never_touched_nor_reported() {
    let config = "manifests: org/\npolicy:\n  unmanaged:\n    users: ['*@encord.com']\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: support@encord.com, role: collaborator, type: external }
groups:
  - { name: g, members: [support@encord.com] }
projects:
  - name: P
    access: [ { user: support@encord.com, role: viewer } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: g }
projects:
  - name: P
    access: []
";
    let p = plan_case(config, state, manifests);
    assert!(p.plan.changes.is_empty(), "{:?}", actions(&p.plan));
    assert!(p.plan.blocked.is_empty());
    let text = render::text(&p.plan, "sandbox", false);
    assert!(!text.contains("encord.com"), "{text}");
}

#[test]
fn prune_switches_keep_live_objects_per_kind() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
groups:
  - { name: g, members: [bob@acme.com] }
project_tags:
  - { name: t }
metadata_schema:
  k: text
folders:
  - { name: f }
projects:
  - name: P
    tags: [t]
    access: [ { user: ada@acme.com, role: admin }, { group: g, role: viewer } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
groups:
  - { name: g }
projects:
  - name: P
    access: [ { user: ada@acme.com, role: admin } ]
";
    let off = "manifests: org/\npolicy:\n  prune: { users: false, groups: false, memberships: false, project_tags: false, metadata_keys: false, folders: false }\n";
    let p = plan_case(off, state, manifests);
    assert!(p.plan.changes.is_empty(), "{:?}", actions(&p.plan));
    let on = "manifests: org/\npolicy:\n  prune: { users: true, groups: true, memberships: true, project_tags: true, metadata_keys: true, folders: true }\n";
    let p = plan_case(on, state, manifests);
    let mut kinds: Vec<Kind> = p.plan.changes.iter().map(|c| c.kind).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            Kind::GroupMember,
            Kind::ProjectTag,
            Kind::MetadataKey,
            Kind::Folder,
            Kind::Access
        ]
    );
    snapshot("prune_on", &p.plan);
}

#[test]
fn metadata_retype_is_destructive_but_adding_enum_options_is_safe() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
metadata_schema:
  age: varchar
  weather: { enum: [sunny, rainy] }
  mood: { enum: [happy, sad] }
  emb: { embedding: 256 }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
metadata_schema:
  age: number
  weather: { enum: [sunny, rainy, snow] }
  mood: { enum: [happy] }
  emb: { embedding: 512 }
  caption: string
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        actions(&p.plan),
        [
            (
                "metadata_key".into(),
                "age".into(),
                Action::Update,
                Danger::Destructive
            ),
            (
                "metadata_key".into(),
                "caption".into(),
                Action::Create,
                Danger::Safe
            ),
            (
                "metadata_key".into(),
                "emb".into(),
                Action::Update,
                Danger::Destructive
            ),
            (
                "metadata_key".into(),
                "mood".into(),
                Action::Update,
                Danger::Destructive
            ),
            (
                "metadata_key".into(),
                "weather".into(),
                Action::Update,
                Danger::Safe
            ),
        ]
    );
    snapshot("metadata_retype", &p.plan);
}

#[test]
fn unsupported_by_provider_becomes_manual_or_replace() {
    // The encord provider's table (SPEC §7.1).
    let caps = orgform::provider::encord::capabilities(Some("ada@acme.com"));
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: member, type: internal }
groups:
  - { name: g }
project_tags:
  - { name: golden, description: old }
projects:
  - name: P
    access:
      - { user: ada@acme.com, role: admin }
      - { user: bob@acme.com, role: annotator }
ontologies:
  - name: O
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: bob@acme.com, role: collaborator, type: internal }
  - { email: wes@vendor.io, role: collaborator, type: workforce }
groups:
  - { name: g, managers: [ada@acme.com] }
  - { name: h, managers: [bob@acme.com], members: [wes@vendor.io] }
project_tags:
  - { name: gold, renamed_from: [golden], description: new }
projects:
  - name: P
    access:
      - { user: ada@acme.com, role: admin }
      - { user: bob@acme.com, role: reviewer }
ontologies:
  - name: O
    access: [ { user: ada@acme.com, role: admin } ]
";
    let p = plan_with(CONFIG, state, manifests, caps);
    let manual = |kind: &str, key: &str| {
        (
            kind.to_string(),
            key.to_string(),
            Action::Manual,
            Danger::Safe,
        )
    };
    assert_eq!(
        actions(&p.plan),
        [
            (
                "user".into(),
                "bob@acme.com".into(),
                Action::Manual,
                Danger::Disruptive
            ),
            manual("user", "wes@vendor.io"),
            ("group".into(), "h".into(), Action::Create, Danger::Safe),
            manual("project_tag", "gold"),
            manual("project_tag", "gold"),
            manual("group_member", "h/wes@vendor.io"),
            manual("group_manager", "h/bob@acme.com"),
            (
                "access".into(),
                "project:P/user:bob@acme.com".into(),
                Action::Replace,
                Danger::Disruptive
            ),
        ],
        "an existing group's managers cannot be read: never a change"
    );
    assert!(
        p.plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Manual)
            .all(|c| {
                c.rule.map(|r| r.to_string()).as_deref() == Some("unsupported-by-provider")
                    && c.note
                        .as_deref()
                        .is_some_and(|n| n.contains("web app") || n.contains("waits for"))
            })
    );
    let warnings: Vec<&str> = p.plan.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        warnings.len(),
        2,
        "one for managers, one per ontology user entry: {warnings:#?}"
    );
    assert!(
        warnings[0].contains("1 declared manager(s)"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("`ada@acme.com` as admin on ontology `O`"),
        "{}",
        warnings[1]
    );
    snapshot("unsupported_by_provider", &p.plan);
}

#[test]
fn the_key_user_is_never_removed_demoted_or_replaced() {
    let caps = orgform::provider::encord::capabilities(Some("Key@Acme.com"));
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: key@acme.com, role: member, type: internal }
  - { email: bot@acme.com, role: member, type: internal }
";
    let removed = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: bot@acme.com, role: member, type: internal }
";
    let demoted = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: key@acme.com, role: collaborator, type: internal }
  - { email: bot@acme.com, role: member, type: internal }
";
    let replaced = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: key@acme.com, role: member, type: external }
  - { email: bot@acme.com, role: member, type: internal }
";
    for manifests in [removed, demoted, replaced] {
        let p = plan_with(CONFIG, state, manifests, caps.clone());
        assert!(p.plan.changes.is_empty(), "{:#?}", p.plan.changes);
        let blocked: Vec<(&str, String)> = p
            .plan
            .blocked
            .iter()
            .map(|b| (b.key.as_str(), b.rule.to_string()))
            .collect();
        assert_eq!(
            blocked,
            [("key@acme.com", "key-user-protected".to_string())]
        );
    }
    // Without key_user: one warning, and nothing protects anyone.
    let p = plan_with(
        CONFIG,
        state,
        removed,
        orgform::provider::encord::capabilities(None),
    );
    assert_eq!(actions(&p.plan).len(), 1);
    let warned: Vec<String> = p.plan.warnings.iter().map(|w| w.rule.to_string()).collect();
    assert_eq!(warned, ["key-user-protected"]);
}

#[test]
fn output_is_deterministic() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: zed@acme.com, role: member, type: internal }
  - { email: amy@acme.com, role: member, type: internal }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: new2@acme.com, role: member }
  - { email: new1@acme.com, role: member }
";
    let a = plan_case(CONFIG, state, manifests).plan;
    let b = plan_case(CONFIG, state, manifests).plan;
    assert_eq!(
        serde_json::to_string(&a).ok(),
        serde_json::to_string(&b).ok()
    );
    let keys: Vec<&str> = a.changes.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "new1@acme.com",
            "new2@acme.com",
            "amy@acme.com",
            "zed@acme.com"
        ]
    );
}

#[test]
fn an_ambiguous_rename_touches_none_of_the_candidates() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: a, members: [ada@acme.com] }
  - { name: b }
project_tags:
  - { name: old1 }
  - { name: old2 }
projects:
  - name: P
    tags: [old1, old2]
    access: [ { group: a, role: viewer }, { group: b, role: viewer } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: merged, renamed_from: [a, b] }
project_tags:
  - { name: new, renamed_from: [old1, old2] }
projects:
  - name: P
    tags: [new]
    access: [ { group: merged, role: viewer } ]
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        blocked_rules(&p.plan),
        [
            ("group".into(), "merged".into(), "rename-conflict".into()),
            ("project_tag".into(), "new".into(), "rename-conflict".into()),
        ]
    );
    assert!(
        p.plan.changes.is_empty(),
        "no candidate is renamed, deleted, unassigned or stripped of access, and nothing refers to the blocked names: {:?}",
        actions(&p.plan)
    );
}

#[test]
fn replacing_a_sole_resource_admin_waits_for_another_admin() {
    let config = "manifests: org/\npolicy:\n  offboarding:\n    replacement: ada@acme.com\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: uma@acme.com, role: member, type: external }
datasets:
  - name: scans
    access: [ { user: uma@acme.com, role: admin } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: uma@acme.com, role: member, type: internal }
";
    let p = plan_case(config, state, manifests);
    assert_eq!(
        blocked_rules(&p.plan),
        [(
            "user".into(),
            "uma@acme.com".into(),
            "sole-resource-admin".into()
        )]
    );
    assert!(p.plan.changes.is_empty(), "{:?}", actions(&p.plan));
    snapshot("replace_sole_admin", &p.plan);
}

#[test]
fn a_kept_unmanaged_admin_counts_as_another_admin() {
    let config = "manifests: org/\npolicy:\n  unmanaged:\n    users: ['*@encord.com']\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: olga@acme.com, role: member, type: internal }
  - { email: ops@encord.com, role: member, type: internal }
projects:
  - name: P
    access: [ { user: olga@acme.com, role: admin }, { user: ops@encord.com, role: admin } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - name: P
    access: []
";
    let p = plan_case(config, state, manifests);
    assert!(p.plan.blocked.is_empty(), "{:?}", p.plan.blocked);
    assert_eq!(
        actions(&p.plan),
        [(
            "user".into(),
            "olga@acme.com".into(),
            Action::Delete,
            Danger::Destructive
        )]
    );
}

#[test]
fn without_membership_pruning_a_replaced_user_gets_everything_back() {
    let config = "manifests: org/\npolicy:\n  prune: { memberships: false }\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: fran@acme.com, role: member, type: external }
groups:
  - { name: team, members: [fran@acme.com] }
projects:
  - name: P
    access: [ { user: ada@acme.com, role: admin }, { user: fran@acme.com, role: reviewer } ]
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
  - { email: fran@acme.com, role: member, type: internal }
groups:
  - { name: team }
projects:
  - name: P
    access: [ { user: ada@acme.com, role: admin } ]
";
    let p = plan_case(config, state, manifests);
    assert_eq!(
        actions(&p.plan),
        [
            (
                "user".into(),
                "fran@acme.com".into(),
                Action::Replace,
                Danger::Destructive
            ),
            (
                "group_member".into(),
                "team/fran@acme.com".into(),
                Action::Create,
                Danger::Safe
            ),
            (
                "access".into(),
                "project:P/user:fran@acme.com".into(),
                Action::Create,
                Danger::Safe
            ),
        ]
    );
}

#[test]
fn tag_names_compare_ignoring_unicode_case() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
project_tags:
  - { name: Ärzte }
projects:
  - { name: P, tags: [Ärzte] }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
project_tags:
  - { name: ärzte }
projects:
  - { name: P, tags: [ärzte] }
";
    let mut p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        actions(&p.plan),
        [(
            "project_tag".into(),
            "ärzte".into(),
            Action::Rename,
            Danger::Safe
        )]
    );
    let mut provider = orgform::provider::sandbox::SandboxProvider::from_store(std::mem::replace(
        &mut p.store,
        orgform::sandbox::store::Store::in_memory().expect("store"),
    ));
    for c in &p.plan.changes {
        orgform::provider::Provider::apply(&mut provider, &c.op().expect("a typed operation"))
            .expect("the store accepts it");
    }
}

#[test]
fn a_resource_declared_twice_by_name_and_hash_is_blocked() {
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - { name: Lung CT, hash: p-1 }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - name: Lung CT
    access: [ { user: ada@acme.com, role: admin } ]
  - hash: p-1
    access: [ { user: ada@acme.com, role: viewer } ]
";
    let p = plan_case(CONFIG, state, manifests);
    assert_eq!(
        blocked_rules(&p.plan),
        [(
            "access".into(),
            "project:Lung CT".into(),
            "invalid-value".into()
        )]
    );
    assert!(
        p.plan.changes.is_empty(),
        "neither declaration is planned: {:?}",
        actions(&p.plan)
    );
}

#[test]
fn references_to_unmanaged_people_outside_the_org_are_blocked() {
    let config = "manifests: org/\npolicy:\n  unmanaged:\n    users: ['*@encord.com']\n";
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - { name: P }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
groups:
  - { name: g, members: [bot@encord.com] }
projects:
  - name: P
    access: [ { user: bot@encord.com, role: viewer } ]
";
    let p = plan_case(config, state, manifests);
    let rules = blocked_rules(&p.plan);
    assert_eq!(
        rules,
        [
            (
                "group_member".into(),
                "g/bot@encord.com".into(),
                "user-unknown".into()
            ),
            (
                "access".into(),
                "project:P/user:bot@encord.com".into(),
                "user-unknown".into()
            ),
        ]
    );
    assert_eq!(
        actions(&p.plan),
        [("group".into(), "g".into(), Action::Create, Danger::Safe)]
    );
}

#[test]
fn manual_changes_hold_back_what_depends_on_them() {
    let caps = Capabilities {
        rename_tag: false,
        ..Capabilities::ALL
    };
    let state = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
project_tags:
  - { name: golden }
projects:
  - { name: P }
";
    let manifests = "
users:
  - { email: ada@acme.com, role: admin, type: internal }
project_tags:
  - { name: gold, renamed_from: [golden], description: renamed }
projects:
  - { name: P, tags: [gold] }
";
    let mut p = plan_with(CONFIG, state, manifests, caps);
    let live = p.store.read().expect("read");
    let mut provider = orgform::provider::sandbox::SandboxProvider::from_store(std::mem::replace(
        &mut p.store,
        orgform::sandbox::store::Store::in_memory().expect("store"),
    ));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut journal = orgform::apply::journal::Journal::begin(dir.path(), &p.plan, "sha256:test")
        .expect("journal");
    struct Quiet;
    impl orgform::apply::Observer for Quiet {
        fn step(&mut self, _: usize, _: &orgform::plan::Change, _: &orgform::apply::Outcome) {}
    }
    let report = orgform::apply::execute(
        &p.plan,
        &mut provider,
        &live,
        &mut journal,
        &Default::default(),
        &mut Quiet,
    )
    .expect("execute");
    let labels: Vec<(&str, &str)> = p
        .plan
        .changes
        .iter()
        .zip(&report.outcomes)
        .map(|(c, o)| (c.key.as_str(), o.label()))
        .collect();
    assert_eq!(
        labels,
        [
            ("gold", "manual"),
            ("gold", "skipped"),
            ("P/gold", "skipped")
        ],
        "the description update and the assignment wait for the manual rename"
    );
}
