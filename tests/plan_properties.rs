//! Property tests of the planner over random live and desired orgs:
//! 1. no planned change violates a platform rule (the sandbox store, which enforces
//!    them, accepts every change in plan order);
//! 2. applying the plan yields the desired org (a fresh plan is empty, and the store
//!    holds what the manifests declare);
//! 3. planning an org against itself yields no change;
//! 4. an export of a live org, planned against that org, yields no change.
//!
//! The orgs are built from proptest strategies (a `Case` is one live and one desired
//! `OrgCase`), so a failure shrinks to a small org. They reach renames (`renamed_from`,
//! with live groups, tags and folders still under their old names), tags that differ
//! only by case, user type changes, every metadata type, nested folders, access with
//! every role and tags on projects: `the_generator_reaches_every_kind_of_change` keeps
//! that so.

use std::collections::BTreeSet;
use std::fmt::Write;

use orgform::model::ResourceKind;
use orgform::plan::{Action, Kind, Target};
use orgform::provider::sandbox::SandboxProvider;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::harness::{plan_case, replan, store_from};

const CONFIG: &str = "manifests: org/
policy:
  prune: { users: true, groups: true, memberships: true, project_tags: true, metadata_keys: true, folders: true }
  max_deletions: { default: 1000 }
  offboarding: { replacement: ada@acme.com }
";

/// Everyone who may be in an org. ada (the first) is its admin, on both sides.
const PEOPLE: [&str; 7] = [
    "ada@acme.com",
    "u1@acme.com",
    "u2@acme.com",
    "u3@acme.com",
    "u4@acme.com",
    "x1@vendor.io",
    "x2@vendor.io",
];
/// Groups `g0`..; a live one may still carry its former name `old-g0`.
const GROUPS: usize = 3;
/// Project tags `t0`..; a live one may be spelled `T0` or still be `old-t0`.
const TAGS: [usize; 3] = [0, 1, 2];
/// Metadata keys `k0`.. and every type they may have.
const METADATA_KEYS: usize = 4;
const METADATA: [&str; 10] = [
    "varchar",
    "text",
    "number",
    "boolean",
    "datetime",
    "uuid",
    "{ enum: [a, b] }",
    "{ enum: [a, b, c] }",
    "{ embedding: 256 }",
    "{ embedding: 512 }",
];
/// Index folders by path; a folder is in an org only with its parents.
const FOLDERS: [&str; 5] = ["a", "a/b", "a/b/c", "d", "d/e"];
const PROJECTS: [&str; 2] = ["P0", "P1"];
/// Roles, the plainest first (a shrunk case shows `admin` only when it matters).
const PROJECT_ROLES: [&str; 6] = [
    "viewer",
    "annotator",
    "reviewer",
    "annotator_reviewer",
    "team_manager",
    "admin",
];
const DATASET_ROLES: [&str; 2] = ["user", "admin"];
/// Access is given to principals: PEOPLE, then the groups.
const PRINCIPALS: usize = PEOPLE.len() + GROUPS;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Side {
    /// The sandbox state: the live org.
    Live,
    /// The manifests.
    Desired,
}

#[derive(Debug, Clone)]
struct UserCase {
    role: &'static str,
    user_type: &'static str,
    /// Live users only.
    status: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct GroupCase {
    /// Live: still named `old-gN`. Desired: declares `renamed_from: [old-gN]`.
    renamed: bool,
    description: &'static str,
    /// Only those in the org are rendered.
    members: Vec<&'static str>,
    managers: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct TagCase {
    /// How the name `tN` is spelled live: `t`, `T` (case only) or `old-t` (renamed).
    spelling: &'static str,
    /// Desired: declares `renamed_from: [old-tN]`.
    renamed: bool,
    description: &'static str,
}

#[derive(Debug, Clone)]
struct FolderCase {
    /// Live: still named `old-NAME`. Desired: declares `renamed_from: [old-NAME]`.
    renamed: bool,
    description: &'static str,
}

#[derive(Debug, Clone)]
struct ProjectCase {
    /// Live only: the project's sole admin instead of ada (when that user is live).
    admin: Option<&'static str>,
    /// Indexes into TAGS; only tags in the org are rendered.
    tags: Vec<usize>,
    /// A role (or none) per principal; ada and the admin keep theirs.
    access: Vec<Option<&'static str>>,
}

#[derive(Debug, Clone)]
struct OrgCase {
    side: Side,
    /// PEOPLE but ada, in order.
    users: Vec<Option<UserCase>>,
    groups: Vec<Option<GroupCase>>,
    tags: Vec<Option<TagCase>>,
    metadata: Vec<Option<&'static str>>,
    folders: Vec<Option<FolderCase>>,
    projects: Vec<Option<ProjectCase>>,
    /// Dataset `D0`: a role (or none) per principal; ada is its admin.
    dataset: Option<Vec<Option<&'static str>>>,
}

#[derive(Debug, Clone)]
struct Case {
    live: OrgCase,
    desired: OrgCase,
}

/// Each of `items`, kept with probability `p` (shrinks towards none).
fn subset<T: Copy + std::fmt::Debug + 'static>(
    items: &'static [T],
    p: f64,
) -> impl Strategy<Value = Vec<T>> {
    proptest::collection::vec(proptest::bool::weighted(p), items.len()).prop_map(move |keep| {
        items
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(item, _)| *item)
            .collect()
    })
}

/// Present with probability `p` (1: always; shrinks towards absent otherwise).
fn maybe<S: Strategy + 'static>(p: f64, s: S) -> BoxedStrategy<Option<S::Value>> {
    if p >= 1.0 {
        s.prop_map(Some).boxed()
    } else {
        proptest::option::weighted(p, s).boxed()
    }
}

fn user_case(email: &'static str, side: Side) -> BoxedStrategy<UserCase> {
    let types: BoxedStrategy<&'static str> = if email.ends_with("@acme.com") {
        prop_oneof![4 => Just("internal"), 1 => Just("external")].boxed()
    } else {
        prop_oneof![Just("external"), Just("workforce")].boxed()
    };
    let status: BoxedStrategy<Option<&'static str>> = match side {
        Side::Live => proptest::sample::select(&["joined", "invited", "declined"][..])
            .prop_map(Some)
            .boxed(),
        Side::Desired => Just(None).boxed(),
    };
    (types, status)
        .prop_flat_map(move |(user_type, status)| {
            let mut roles = vec!["member", "workforce_manager", "collaborator"];
            // Only the desired side promotes: live admins other than ada would be
            // unremovable.
            if side == Side::Desired && user_type == "internal" {
                roles.push("admin");
            }
            proptest::sample::select(roles).prop_map(move |role| UserCase {
                role,
                user_type,
                status,
            })
        })
        .boxed()
}

fn group_case(side: Side) -> impl Strategy<Value = GroupCase> {
    let renamed = proptest::bool::weighted(if side == Side::Live { 0.3 } else { 0.5 });
    (
        renamed,
        proptest::sample::select(&["", "team", "vendor team"][..]),
        subset(&PEOPLE, 0.4),
        subset(&PEOPLE, 0.25),
    )
        .prop_map(|(renamed, description, members, managers)| GroupCase {
            renamed,
            description,
            members,
            managers,
        })
}

fn tag_case(side: Side) -> BoxedStrategy<TagCase> {
    let description = proptest::sample::select(&["", "tag"][..]);
    match side {
        Side::Live => (
            proptest::sample::select(&["t", "T", "old-t"][..]),
            description,
        )
            .prop_map(|(spelling, description)| TagCase {
                spelling,
                renamed: false,
                description,
            })
            .boxed(),
        Side::Desired => (any::<bool>(), description)
            .prop_map(|(renamed, description)| TagCase {
                spelling: "t",
                renamed,
                description,
            })
            .boxed(),
    }
}

fn folder_case(side: Side) -> impl Strategy<Value = FolderCase> {
    (
        proptest::bool::weighted(if side == Side::Live { 0.2 } else { 0.4 }),
        proptest::sample::select(&["", "data"][..]),
    )
        .prop_map(|(renamed, description)| FolderCase {
            renamed,
            description,
        })
}

fn access(
    roles: &'static [&'static str],
    p: f64,
) -> impl Strategy<Value = Vec<Option<&'static str>>> {
    proptest::collection::vec(
        proptest::option::weighted(p, proptest::sample::select(roles)),
        PRINCIPALS,
    )
}

fn project_case(side: Side) -> impl Strategy<Value = ProjectCase> {
    // A live project may have another sole admin instead of ada.
    let admin: BoxedStrategy<Option<&'static str>> = match side {
        Side::Live => {
            proptest::option::weighted(0.3, proptest::sample::select(&PEOPLE[1..])).boxed()
        }
        Side::Desired => Just(None).boxed(),
    };
    (admin, subset(&TAGS, 0.5), access(&PROJECT_ROLES, 0.4)).prop_map(|(admin, tags, access)| {
        ProjectCase {
            admin,
            tags,
            access,
        }
    })
}

fn org_case(side: Side) -> impl Strategy<Value = OrgCase> {
    let live = side == Side::Live;
    let users: Vec<_> = PEOPLE[1..]
        .iter()
        .map(|email| proptest::option::weighted(0.7, user_case(email, side)))
        .collect();
    // The live org has every resource; manifests may leave P1 and D0 out.
    let projects = vec![
        maybe(1.0, project_case(side)),
        maybe(if live { 1.0 } else { 0.5 }, project_case(side)),
    ];
    (
        users,
        proptest::collection::vec(proptest::option::weighted(0.7, group_case(side)), GROUPS),
        proptest::collection::vec(proptest::option::weighted(0.7, tag_case(side)), TAGS.len()),
        proptest::collection::vec(
            proptest::option::weighted(0.7, proptest::sample::select(&METADATA[..])),
            METADATA_KEYS,
        ),
        proptest::collection::vec(
            proptest::option::weighted(0.75, folder_case(side)),
            FOLDERS.len(),
        ),
        projects,
        maybe(if live { 1.0 } else { 0.5 }, access(&DATASET_ROLES, 0.3)),
    )
        .prop_map(
            move |(users, groups, tags, metadata, folders, projects, dataset)| OrgCase {
                side,
                users,
                groups,
                tags,
                metadata,
                folders,
                projects,
                dataset,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (org_case(Side::Live), org_case(Side::Desired))
        .prop_map(|(live, desired)| Case { live, desired })
}

impl OrgCase {
    fn present(&self, email: &str) -> bool {
        PEOPLE
            .iter()
            .position(|p| *p == email)
            .is_some_and(|i| i == 0 || self.users[i - 1].is_some())
    }

    /// Group `i`'s name here, if it is in the org.
    fn group_name(&self, i: usize) -> Option<String> {
        let g = self.groups[i].as_ref()?;
        Some(if self.side == Side::Live && g.renamed {
            format!("old-g{i}")
        } else {
            format!("g{i}")
        })
    }

    fn tag_name(&self, i: usize) -> Option<String> {
        let t = self.tags[i].as_ref()?;
        Some(format!("{}{i}", t.spelling))
    }

    /// The org as sandbox state (live) or manifests (desired) YAML.
    fn yaml(&self) -> String {
        let live = self.side == Side::Live;
        let mut y = String::from("organization: { email_domains: [acme.com] }\nusers:\n");
        y.push_str("  - { email: ada@acme.com, role: admin, type: internal }\n");
        for (email, user) in PEOPLE[1..].iter().zip(&self.users) {
            let Some(u) = user else { continue };
            let status = u
                .status
                .map(|s| format!(", status: {s}"))
                .unwrap_or_default();
            let _ = writeln!(
                y,
                "  - {{ email: {email}, role: {}, type: {}{status} }}",
                u.role, u.user_type
            );
        }
        let in_org = |people: &[&'static str]| -> String {
            people
                .iter()
                .filter(|p| self.present(p))
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        };
        y.push_str("groups:\n");
        for (i, group) in self.groups.iter().enumerate() {
            let (Some(g), Some(name)) = (group, self.group_name(i)) else {
                continue;
            };
            let renamed = if !live && g.renamed {
                format!(", renamed_from: [old-g{i}]")
            } else {
                String::new()
            };
            let _ = writeln!(
                y,
                "  - {{ name: {name}{renamed}, description: '{}', members: [{}], managers: [{}] }}",
                g.description,
                in_org(&g.members),
                in_org(&g.managers)
            );
        }
        y.push_str("project_tags:\n");
        for (i, tag) in self.tags.iter().enumerate() {
            let (Some(t), Some(name)) = (tag, self.tag_name(i)) else {
                continue;
            };
            let renamed = if t.renamed {
                format!(", renamed_from: [old-t{i}]")
            } else {
                String::new()
            };
            let _ = writeln!(
                y,
                "  - {{ name: {name}{renamed}, description: '{}' }}",
                t.description
            );
        }
        y.push_str("metadata_schema:\n");
        for (i, ty) in self.metadata.iter().enumerate() {
            if let Some(ty) = ty {
                let _ = writeln!(y, "  k{i}: {ty}");
            }
        }
        y.push_str("folders:\n");
        self.write_folders(&mut y, "", 1);
        // Access entries for principals in the org but ada and `admin`.
        let entries = |roles: &[Option<&'static str>], admin: &str| -> Vec<String> {
            roles
                .iter()
                .enumerate()
                .filter_map(|(i, role)| {
                    let role = (*role)?;
                    let principal = if i < PEOPLE.len() {
                        let email = PEOPLE[i];
                        if i == 0 || email == admin || !self.present(email) {
                            return None;
                        }
                        format!("user: {email}")
                    } else {
                        format!("group: {}", self.group_name(i - PEOPLE.len())?)
                    };
                    Some(format!("{{ {principal}, role: {role} }}"))
                })
                .collect()
        };
        y.push_str("projects:\n");
        for (i, (name, project)) in PROJECTS.iter().zip(&self.projects).enumerate() {
            let Some(p) = project else { continue };
            let hash = if live {
                format!(", hash: hash-p{i}")
            } else {
                String::new()
            };
            let tags: Vec<String> = p.tags.iter().filter_map(|t| self.tag_name(*t)).collect();
            let admin = p
                .admin
                .filter(|a| self.present(a))
                .unwrap_or("ada@acme.com");
            let mut access = vec![format!("{{ user: {admin}, role: admin }}")];
            access.extend(entries(&p.access, admin));
            let _ = writeln!(
                y,
                "  - {{ name: {name}{hash}, tags: [{}], access: [{}] }}",
                tags.join(", "),
                access.join(", ")
            );
        }
        y.push_str("datasets:\n");
        if let Some(roles) = &self.dataset {
            let hash = if live { ", hash: hash-d0" } else { "" };
            let mut access = vec!["{ user: ada@acme.com, role: admin }".to_string()];
            access.extend(entries(roles, "ada@acme.com"));
            let _ = writeln!(
                y,
                "  - {{ name: D0{hash}, access: [{}] }}",
                access.join(", ")
            );
        }
        y
    }

    /// A folder is in the org when it and all its parents are.
    fn folder_in_org(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        (1..=parts.len()).all(|n| {
            let prefix = parts[..n].join("/");
            FOLDERS
                .iter()
                .position(|f| *f == prefix)
                .is_some_and(|i| self.folders[i].is_some())
        })
    }

    fn write_folders(&self, y: &mut String, parent: &str, depth: usize) {
        let indent = "  ".repeat(depth);
        for (path, folder) in FOLDERS.iter().zip(&self.folders) {
            let Some(f) = folder else { continue };
            let child_of_parent = path.split('/').count() == depth
                && (parent.is_empty() || path.starts_with(&format!("{parent}/")));
            if !child_of_parent || !self.folder_in_org(path) {
                continue;
            }
            let name = path.rsplit('/').next().unwrap_or(path);
            let (shown, renamed) = match (self.side, f.renamed) {
                (Side::Live, true) => (format!("old-{name}"), String::new()),
                (Side::Desired, true) => (
                    name.to_string(),
                    format!("\n{indent}  renamed_from: [old-{name}]"),
                ),
                (_, false) => (name.to_string(), String::new()),
            };
            let _ = writeln!(
                y,
                "{indent}- name: {shown}{renamed}\n{indent}  description: '{}'\n{indent}  folders:",
                f.description
            );
            self.write_folders(y, path, depth + 1);
        }
    }
}

/// `n` cases from the strategy, the same on every run.
fn sample<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("case").current())
        .collect()
}

struct Quiet;

impl orgform::apply::Observer for Quiet {
    fn step(&mut self, _: usize, _: &orgform::plan::Change, _: &orgform::apply::Outcome) {}
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let live_yaml = case.live.yaml();
    let desired_yaml = case.desired.yaml();
    let context = || format!("--- live\n{live_yaml}--- desired\n{desired_yaml}");
    let mut p = plan_case(CONFIG, &live_yaml, &desired_yaml);
    let mut plan = p.plan.clone();
    // A type change of a resource's only admin is blocked until the resource has
    // another admin: when the manifests give it one, the next round does the change.
    // So apply round after round (at most three) until a plan has nothing left.
    for round in 1..=3 {
        // The generator keeps ada as the only org admin and admins internal, so the
        // one thing that may be blocked is such a type change.
        prop_assert!(
            plan.blocked.iter().all(|b| matches!(
                b.rule.to_string().as_str(),
                "sole-resource-admin" | "resource-admin-required"
            )),
            "round {}: unexpected blocked items {:?}\n{}",
            round,
            plan.blocked,
            context()
        );
        if plan.changes.is_empty() {
            break;
        }
        prop_assert!(
            round < 3,
            "no fixed point after 3 rounds: {:?}\n{}",
            plan.changes,
            context()
        );
        // (1) Every change is one the platform accepts, in plan order.
        // Through the real apply engine: preconditions, dependencies, journal.
        let live_now = p.store.read().expect("read");
        let mut provider = SandboxProvider::from_store(std::mem::replace(
            &mut p.store,
            orgform::sandbox::store::Store::in_memory().expect("store"),
        ));
        let dir = tempfile::tempdir().expect("temp dir");
        let mut journal = orgform::apply::journal::Journal::begin(dir.path(), &plan, "sha256:prop")
            .expect("journal");
        let report = orgform::apply::execute(
            &plan,
            &mut provider,
            &live_now,
            &mut journal,
            &Default::default(),
            &mut Quiet,
        )
        .expect("execute");
        for (change, outcome) in plan.changes.iter().zip(&report.outcomes) {
            prop_assert_eq!(
                outcome,
                &orgform::apply::Outcome::Done,
                "round {}: {} {} ({:?})\n{}",
                round,
                change.kind,
                change.key,
                change.action,
                context()
            );
        }
        p.store = std::mem::replace(
            provider.store(),
            orgform::sandbox::store::Store::in_memory().expect("store"),
        );
        let again = replan(&mut p);
        // Blocked items never multiply from one round to the next (their messages may
        // narrow, e.g. "only admin of P0 and P1" becomes "of P1").
        let id = |b: &orgform::plan::Blocked| (b.kind, b.key.clone(), b.rule);
        let before: Vec<_> = plan.blocked.iter().map(id).collect();
        prop_assert!(
            again.blocked.iter().all(|b| before.contains(&id(b))),
            "round {}: new blocked items {:?}\n{}",
            round,
            again.blocked,
            context()
        );
        plan = again;
    }
    // (2) Converged: the store holds the declared org (but for blocked type changes).
    let blocked_users: Vec<String> = plan.blocked.iter().map(|b| b.key.clone()).collect();
    let live = p.store.read().expect("read");
    let want = &p.desired.org;
    prop_assert_eq!(live.users.len(), want.users.len(), "{}", context());
    for (email, u) in want
        .users
        .iter()
        .filter(|(e, _)| !blocked_users.contains(e))
    {
        let have = &live.users[email];
        prop_assert_eq!(
            (have.role, have.user_type),
            (u.role, u.user_type),
            "{}",
            context()
        );
    }
    prop_assert_eq!(&live.groups, &want.groups, "{}", context());
    prop_assert_eq!(&live.project_tags, &want.project_tags, "{}", context());
    prop_assert_eq!(
        &live.metadata_schema,
        &want.metadata_schema,
        "{}",
        context()
    );
    prop_assert_eq!(&live.folders, &want.folders, "{}", context());
    for r in &p.desired.resources {
        let Some(name) = &r.by.name else {
            continue;
        };
        let hash = live
            .resources_of(r.kind)
            .into_iter()
            .find(|(_, title)| title == name)
            .map(|(h, _)| h.to_string())
            .unwrap_or_default();
        match r.kind {
            ResourceKind::Project => {
                prop_assert_eq!(
                    Some(&live.projects[&hash].access),
                    r.project_access.as_ref(),
                    "{}",
                    context()
                );
                prop_assert_eq!(
                    Some(&live.projects[&hash].tags),
                    r.tags.as_ref(),
                    "{}",
                    context()
                );
            }
            _ => prop_assert_eq!(
                Some(&live.datasets[&hash].access),
                r.resource_access.as_ref(),
                "{}",
                context()
            ),
        }
    }
    // Resources that had an admin still have one (resource-admin-required): where a
    // removed user was the last, the offboarding replacement stepped in.
    for (kind, hash) in crate::harness::administered(&p.live) {
        prop_assert!(
            crate::harness::has_admin(&live, kind, &hash),
            "{} {} lost its last admin\n{}",
            kind,
            hash,
            context()
        );
    }

    // (3) An org planned against itself needs nothing.
    let own = plan_case(CONFIG, &desired_yaml, &desired_yaml);
    let own_changes: Vec<String> = own
        .plan
        .changes
        .iter()
        .map(|c| format!("{} {} {:?}", c.kind, c.key, c.action))
        .collect();
    prop_assert!(
        own_changes.is_empty(),
        "self-plan not empty: {:?}\n{}",
        own_changes,
        context()
    );
    prop_assert!(own.plan.blocked.is_empty(), "{}", context());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn plans_respect_platform_rules_and_converge(case in case()) {
        check(&case)?;
    }
}

#[test]
fn state_and_manifest_generators_produce_valid_yaml() {
    for case in sample(case(), 50) {
        // Both load, and the manifests validate without errors (the harness asserts).
        let _ = store_from(&case.live.yaml());
        let _ = crate::harness::load(CONFIG, &case.desired.yaml());
    }
}

/// The generator reaches every kind of change the planner makes, in a fair share of
/// cases: a planner bug there would be found.
#[test]
fn the_generator_reaches_every_kind_of_change() {
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut metadata_types = BTreeSet::new();
    let mut project_roles = BTreeSet::new();
    for case in sample(case(), 200) {
        let p = plan_case(CONFIG, &case.live.yaml(), &case.desired.yaml());
        let mut count =
            |what: &'static str, hit: bool| *seen.entry(what).or_default() += usize::from(hit);
        let has = |kind: Kind, action: Action| {
            p.plan
                .changes
                .iter()
                .any(|c| c.kind == kind && c.action == action)
        };
        count("group renames", has(Kind::Group, Action::Rename));
        count("tag renames", has(Kind::ProjectTag, Action::Rename));
        count(
            "tag renames by case only",
            p.plan.changes.iter().any(|c| {
                matches!(&c.target, Target::ProjectTag { name } if c.action == Action::Rename
                    && *name != c.key
                    && name.eq_ignore_ascii_case(&c.key))
            }),
        );
        count("folder renames", has(Kind::Folder, Action::Rename));
        count(
            "nested folders created",
            p.plan.changes.iter().any(|c| {
                c.kind == Kind::Folder
                    && c.action == Action::Create
                    && c.key.matches('/').count() == 2
            }),
        );
        count("user type changes", has(Kind::User, Action::Replace));
        count("user role changes", has(Kind::User, Action::Update));
        count("metadata retypes", has(Kind::MetadataKey, Action::Update));
        count(
            "group members added",
            has(Kind::GroupMember, Action::Create),
        );
        count(
            "group managers removed",
            has(Kind::GroupManager, Action::Delete),
        );
        count(
            "tags put on projects",
            has(Kind::ProjectTagAssignment, Action::Create),
        );
        count(
            "tags taken off projects",
            has(Kind::ProjectTagAssignment, Action::Delete),
        );
        count("access changed", has(Kind::Access, Action::Update));
        count("access removed", has(Kind::Access, Action::Delete));
        metadata_types.extend(p.desired.org.metadata_schema.values().map(|t| t.name()));
        for r in &p.desired.resources {
            project_roles.extend(r.project_access.iter().flat_map(|a| a.values().copied()));
        }
    }
    for (what, n) in &seen {
        assert!(*n >= 10, "only {n} of 200 plans have {what}");
    }
    assert_eq!(
        metadata_types.len(),
        8,
        "every metadata type is declared: {metadata_types:?}"
    );
    assert_eq!(
        project_roles.len(),
        PROJECT_ROLES.len(),
        "every project role is given: {project_roles:?}"
    );
}

/// Export of a random live org, loaded back as manifests, plans to no change.
fn export_round_trip(case: &OrgCase) -> Result<(), TestCaseError> {
    let live_yaml = case.yaml();
    let store = store_from(&live_yaml);
    let org = store.read().expect("read");
    let config_repo = orgform::manifest::load_repo_files(CONFIG.as_bytes().to_vec(), Vec::new());
    let files: Vec<(String, Vec<u8>)> =
        orgform::export::render(&org, &config_repo.config, "exported")
            .into_iter()
            .map(|(name, text)| (format!("org/{name}"), text.into_bytes()))
            .collect();
    let shown: String = files
        .iter()
        .map(|(n, t)| format!("--- {n}\n{}", String::from_utf8_lossy(t)))
        .collect();
    let exported = orgform::manifest::load_repo_files(CONFIG.as_bytes().to_vec(), files);
    let mut diags = exported.diagnostics.clone();
    diags.extend(orgform::validate::validate(
        &exported.manifests,
        &exported.config,
        orgform::validate::Mode::Manifests,
        &exported.salvaged,
    ));
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.full_message(&exported.sources))
        .collect();
    prop_assert!(
        errors.is_empty(),
        "export does not validate: {errors:?}\n{shown}"
    );
    let desired = orgform::model::Desired::from_manifests(&exported.manifests);
    let plan = orgform::plan::plan(
        &desired,
        &org,
        &exported.config.policy,
        orgform::plan::Capabilities::ALL,
        orgform::plan::Source {
            manifests: "org/".into(),
            git_commit: None,
            dirty: false,
        },
        &exported.sources,
    );
    let changes: Vec<String> = plan
        .changes
        .iter()
        .map(|c| format!("{} {} {:?}", c.kind, c.key, c.action))
        .collect();
    prop_assert!(
        changes.is_empty() && plan.blocked.is_empty(),
        "export → plan not empty: {changes:?} {:?}\n--- live\n{live_yaml}\n{shown}",
        plan.blocked
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn export_then_plan_is_empty_for_random_orgs(org in org_case(Side::Live)) {
        export_round_trip(&org)?;
    }
}
