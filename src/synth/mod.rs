//! Synthetic orgs, for the benchmarks, the scale test and the fuzz harness: an org
//! repository (`orgform.yaml`, `org/*.yaml`) and a sandbox state (`sandbox.yaml`, the
//! live org) that differs from it by about PCT% of the objects of every kind.
//!
//! The org's shape is fixed by its [`Sizes`] (SPEC §6: XL and its fractions s, m, l);
//! the seed only chooses which objects differ. Every difference is one change in a
//! plan (new hires and leavers belong to no group, new and removed groups are empty,
//! new and removed tags are on no project), so [`Synth::expected`] says exactly which
//! changes a plan of the generated repository has.

pub mod emit;
mod rng;

use std::collections::BTreeSet;
use std::path::Path;

pub use emit::Yaml;
use rng::Rng;

use crate::plan::{Action, Kind};

/// How many objects of each kind the declared org has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sizes {
    pub users: usize,
    pub groups: usize,
    /// Members per group.
    pub members: usize,
    pub tags: usize,
    pub metadata_keys: usize,
    /// Rounded down to whole areas of 20 (an area and its 19 subfolders), at least one.
    pub folders: usize,
    pub projects: usize,
}

impl Sizes {
    /// SPEC §6's "XL" org.
    pub const XL: Sizes = Sizes {
        users: 20_000,
        groups: 2_000,
        members: 50,
        tags: 1_000,
        metadata_keys: 500,
        folders: 2_000,
        projects: 5_000,
    };

    /// `fraction` of XL (each count at least one; groups keep ~50 members).
    pub fn fraction(fraction: f64) -> Sizes {
        let n = |x: usize| ((x as f64 * fraction) as usize).max(1);
        let users = n(Sizes::XL.users).max(2);
        Sizes {
            users,
            groups: n(Sizes::XL.groups),
            members: Sizes::XL.members.min(users),
            tags: n(Sizes::XL.tags),
            metadata_keys: n(Sizes::XL.metadata_keys),
            folders: n(Sizes::XL.folders),
            projects: n(Sizes::XL.projects),
        }
    }

    /// SPEC §6's named sizes: `s` (1/100 of XL), `m` (1/10), `l` (1/2), `xl`.
    pub fn named(scale: &str) -> Option<Sizes> {
        Some(Sizes::fraction(match scale {
            "s" => 0.01,
            "m" => 0.1,
            "l" => 0.5,
            "xl" => 1.0,
            _ => return None,
        }))
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub sizes: Sizes,
    /// Percentage of the objects of each kind that differ between live and declared
    /// (at least one of each kind when above 0).
    pub changes_pct: f64,
    pub seed: u64,
}

/// One kind of difference between the live org and the manifests: `count` of the `of`
/// declared objects of that kind, each one change `action` on `kind` in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub what: &'static str,
    pub kind: Kind,
    pub action: Action,
    pub count: usize,
    pub of: usize,
}

/// A generated org repository and its live org.
#[derive(Debug, Clone)]
pub struct Synth {
    /// `orgform.yaml`: prunes every kind, deletions unlimited.
    pub config: String,
    /// `org/NAME` files and their documents.
    pub manifests: Vec<(String, Yaml)>,
    /// `sandbox.yaml`: the live org (manifest format, projects with hashes).
    pub state: Yaml,
    pub expected: Vec<Expected>,
}

pub const CONFIG: &str = "manifests: org/
policy:
  prune: { users: true, groups: true, memberships: true, project_tags: true, metadata_keys: true, folders: true }
  max_deletions: { default: 1000000 }
";

impl Synth {
    /// Writes `orgform.yaml`, `org/*.yaml` and `sandbox.yaml` into `dir` (created if
    /// needed); returns the manifests' size in bytes.
    pub fn write(&self, dir: &Path) -> std::io::Result<usize> {
        std::fs::create_dir_all(dir.join("org"))?;
        std::fs::write(dir.join("orgform.yaml"), &self.config)?;
        let mut bytes = 0;
        for (name, text) in self.manifest_texts() {
            bytes += text.len();
            std::fs::write(dir.join("org").join(name), text)?;
        }
        std::fs::write(dir.join("sandbox.yaml"), self.state.to_text())?;
        Ok(bytes)
    }

    /// The manifests as (file name, YAML text).
    pub fn manifest_texts(&self) -> Vec<(String, String)> {
        self.manifests
            .iter()
            .map(|(name, doc)| (name.clone(), doc.to_text()))
            .collect()
    }

    /// Every difference expected in a plan, by kind and action.
    pub fn expected_changes(&self) -> usize {
        self.expected.iter().map(|e| e.count).sum()
    }
}

#[derive(Debug, Clone)]
struct User {
    email: String,
    role: &'static str,
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    description: String,
    managers: Vec<String>,
    members: Vec<String>,
}

#[derive(Debug, Clone)]
struct Tag {
    name: String,
    description: String,
}

#[derive(Debug, Clone)]
struct Folder {
    name: String,
    description: String,
    children: Vec<Folder>,
}

#[derive(Debug, Clone, PartialEq)]
enum Principal {
    User(String),
    Group(String),
}

#[derive(Debug, Clone)]
struct Project {
    name: String,
    hash: String,
    tags: Vec<String>,
    access: Vec<(Principal, &'static str)>,
}

#[derive(Debug, Clone)]
struct Org {
    users: Vec<User>,
    groups: Vec<Group>,
    tags: Vec<Tag>,
    metadata: Vec<(String, Yaml)>,
    folders: Vec<Folder>,
    projects: Vec<Project>,
}

fn email(i: usize) -> String {
    format!("user{i:05}@acme.com")
}

/// The metadata types keys cycle through, and what a retyped one is live.
fn metadata_type(k: usize, retyped: bool) -> Yaml {
    let options = |o: &[&str]| Yaml::flow_map(vec![("enum", Yaml::flow_seq(o.iter().copied()))]);
    match (k % 5, retyped) {
        (0, false) => Yaml::str("varchar"),
        (0, true) | (4, true) => Yaml::str("text"),
        (1, false) => Yaml::str("number"),
        (1, true) => Yaml::str("varchar"),
        (2, false) => options(&["a", "b", "c"]),
        (2, true) => options(&["a", "b"]),
        (3, r) => Yaml::flow_map(vec![(
            "embedding",
            Yaml::Raw(if r { "256" } else { "512" }.into()),
        )]),
        _ => Yaml::str("datetime"),
    }
}

/// The declared org: the same for every seed.
fn declared(s: &Sizes) -> Org {
    let users = (0..s.users)
        .map(|i| User {
            email: email(i),
            role: if i == 0 {
                "admin"
            } else if i % 10 == 0 {
                "workforce_manager"
            } else {
                "member"
            },
        })
        .collect();
    let groups = (0..s.groups)
        .map(|g| {
            let mut seen = BTreeSet::new();
            let members = (0..s.members)
                .map(|m| (g * 37 + m * 11) % s.users)
                .filter(|u| seen.insert(*u))
                .map(email)
                .collect();
            Group {
                name: format!("group-{g:04}"),
                description: "team".into(),
                managers: vec![email((g * 13) % s.users)],
                members,
            }
        })
        .collect();
    let tags = (0..s.tags)
        .map(|t| Tag {
            name: format!("tag-{t:04}"),
            description: format!("tag {t}"),
        })
        .collect();
    let metadata = (0..s.metadata_keys)
        .map(|k| (format!("key.{k:04}"), metadata_type(k, false)))
        .collect();
    let folders = (0..(s.folders / 20).max(1))
        .map(|f| Folder {
            name: format!("area-{f:03}"),
            description: "area".into(),
            children: (0..19)
                .map(|c| Folder {
                    name: format!("sub-{c:02}"),
                    description: "sub".into(),
                    children: Vec::new(),
                })
                .collect(),
        })
        .collect();
    let projects = (0..s.projects)
        .map(|p| {
            let mut tags = vec![format!("tag-{:04}", p % s.tags)];
            let second = format!("tag-{:04}", (p * 7 + 1) % s.tags);
            if !tags.contains(&second) {
                tags.push(second);
            }
            let mut access = vec![(Principal::User(email(0)), "admin")];
            let groups = [p % s.groups, (p * 3 + 1) % s.groups];
            access.push((
                Principal::Group(format!("group-{:04}", groups[0])),
                "annotator",
            ));
            if groups[1] != groups[0] {
                access.push((
                    Principal::Group(format!("group-{:04}", groups[1])),
                    "viewer",
                ));
            }
            if s.users > 1 {
                access.push((
                    Principal::User(email((p * 17 + 5) % (s.users - 1) + 1)),
                    "team_manager",
                ));
            }
            Project {
                name: format!("Project {p:05}"),
                // UUID-shaped, as Encord's SDK expects.
                hash: format!("00000001-0000-4000-8000-{p:012}"),
                tags,
                access,
            }
        })
        .collect();
    Org {
        users,
        groups,
        tags,
        metadata,
        folders,
        projects,
    }
}

/// Records the differences made between the declared and the live org.
struct Differences {
    pct: f64,
    expected: Vec<Expected>,
}

impl Differences {
    /// How many of `n` objects differ.
    fn of(&self, n: usize) -> usize {
        if self.pct <= 0.0 || n == 0 {
            return 0;
        }
        ((n as f64 * self.pct / 100.0).round() as usize).clamp(1, n)
    }

    fn record(&mut self, what: &'static str, kind: Kind, action: Action, count: usize, of: usize) {
        if count > 0 {
            self.expected.push(Expected {
                what,
                kind,
                action,
                count,
                of,
            });
        }
    }
}

/// The declared org and the live org `o` describes.
pub fn generate(o: &Options) -> Synth {
    let s = &o.sizes;
    let mut rng = Rng::new(o.seed);
    let mut declared = declared(s);
    let mut live = declared.clone();
    let mut d = Differences {
        pct: o.changes_pct,
        expected: Vec::new(),
    };

    // Users: new hires (declared only) and leavers (live only), in no group.
    let k = d.of(s.users);
    let (hires, leavers) = (k.div_ceil(2), k / 2);
    for i in 0..hires {
        declared.users.push(User {
            email: format!("newhire{i:05}@acme.com"),
            role: "member",
        });
    }
    for i in 0..leavers {
        live.users.push(User {
            email: format!("leaver{i:05}@acme.com"),
            role: "member",
        });
    }
    d.record("new hires", Kind::User, Action::Create, hires, s.users);
    d.record("leavers", Kind::User, Action::Delete, leavers, s.users);

    // Org roles (never the admin's).
    let k = d.of(s.users - 1);
    for i in rng.pick(s.users - 1, k) {
        let user = &mut live.users[i + 1];
        user.role = if user.role == "member" {
            "collaborator"
        } else {
            "member"
        };
    }
    d.record("org roles", Kind::User, Action::Update, k, s.users);

    // Groups: new and removed ones are empty; the others' descriptions differ.
    let k = d.of(s.groups);
    let (mut created, mut deleted, mut described) = (0, 0, 0);
    let mut to_describe = rng.pick(s.groups, k).into_iter();
    for j in 0..k {
        let empty = |name: String| Group {
            name,
            description: "team".into(),
            managers: Vec::new(),
            members: Vec::new(),
        };
        match j % 3 {
            0 => {
                declared.groups.push(empty(format!("group-new-{j:04}")));
                created += 1;
            }
            1 => {
                live.groups.push(empty(format!("group-old-{j:04}")));
                deleted += 1;
            }
            _ => {
                if let Some(g) = to_describe.next() {
                    live.groups[g].description = "old".into();
                    described += 1;
                }
            }
        }
    }
    d.record("groups", Kind::Group, Action::Create, created, s.groups);
    d.record("groups", Kind::Group, Action::Delete, deleted, s.groups);
    d.record(
        "group descriptions",
        Kind::Group,
        Action::Update,
        described,
        s.groups,
    );

    // Members: some missing live, some live only (users not declared in that group).
    let slots: Vec<(usize, usize)> = declared.groups[..s.groups]
        .iter()
        .enumerate()
        .flat_map(|(g, group)| (0..group.members.len()).map(move |m| (g, m)))
        .collect();
    let k = d.of(slots.len());
    let (mut added, mut removed) = (0, 0);
    let mut missing: Vec<(usize, String)> = Vec::new();
    for (j, i) in rng.pick(slots.len(), k).into_iter().enumerate() {
        let (g, m) = slots[i];
        if j % 2 == 0 {
            missing.push((g, declared.groups[g].members[m].clone()));
            added += 1;
        } else if let Some(extra) = outsider(&mut rng, s.users, &live.groups[g].members) {
            live.groups[g].members.push(extra);
            removed += 1;
        }
    }
    for (g, member) in missing {
        live.groups[g].members.retain(|m| *m != member);
    }
    d.record(
        "group members",
        Kind::GroupMember,
        Action::Create,
        added,
        slots.len(),
    );
    d.record(
        "group members",
        Kind::GroupMember,
        Action::Delete,
        removed,
        slots.len(),
    );

    // Managers: one per group; some missing live, some extra live.
    let k = d.of(s.groups);
    let (mut added, mut removed) = (0, 0);
    for (j, g) in rng.pick(s.groups, k).into_iter().enumerate() {
        if j % 2 == 0 {
            live.groups[g].managers.clear();
            added += 1;
        } else if let Some(extra) = outsider(&mut rng, s.users, &live.groups[g].managers) {
            live.groups[g].managers.push(extra);
            removed += 1;
        }
    }
    d.record(
        "group managers",
        Kind::GroupManager,
        Action::Create,
        added,
        s.groups,
    );
    d.record(
        "group managers",
        Kind::GroupManager,
        Action::Delete,
        removed,
        s.groups,
    );

    // Tags: new and removed ones are on no project; the others' descriptions differ.
    let k = d.of(s.tags);
    let (mut created, mut deleted, mut described) = (0, 0, 0);
    let mut to_describe = rng.pick(s.tags, k).into_iter();
    for j in 0..k {
        match j % 3 {
            0 => {
                declared.tags.push(Tag {
                    name: format!("tag-new-{j:04}"),
                    description: "new".into(),
                });
                created += 1;
            }
            1 => {
                live.tags.push(Tag {
                    name: format!("tag-old-{j:04}"),
                    description: "old".into(),
                });
                deleted += 1;
            }
            _ => {
                if let Some(t) = to_describe.next() {
                    live.tags[t].description = "old".into();
                    described += 1;
                }
            }
        }
    }
    d.record(
        "project tags",
        Kind::ProjectTag,
        Action::Create,
        created,
        s.tags,
    );
    d.record(
        "project tags",
        Kind::ProjectTag,
        Action::Delete,
        deleted,
        s.tags,
    );
    d.record(
        "tag descriptions",
        Kind::ProjectTag,
        Action::Update,
        described,
        s.tags,
    );

    // Tag assignments: some missing live, some live only (another declared tag).
    let slots: Vec<(usize, usize)> = declared
        .projects
        .iter()
        .enumerate()
        .flat_map(|(p, project)| (0..project.tags.len()).map(move |t| (p, t)))
        .collect();
    let k = d.of(slots.len());
    let (mut added, mut removed) = (0, 0);
    let mut missing: Vec<(usize, String)> = Vec::new();
    for (j, i) in rng.pick(slots.len(), k).into_iter().enumerate() {
        let (p, t) = slots[i];
        if j % 2 == 0 {
            missing.push((p, declared.projects[p].tags[t].clone()));
            added += 1;
        } else {
            let have = &live.projects[p].tags;
            let start = rng.below(s.tags);
            let extra = (0..s.tags)
                .map(|i| format!("tag-{:04}", (start + i) % s.tags))
                .find(|name| !have.contains(name));
            if let Some(extra) = extra {
                live.projects[p].tags.push(extra);
                removed += 1;
            }
        }
    }
    for (p, tag) in missing {
        live.projects[p].tags.retain(|t| *t != tag);
    }
    d.record(
        "tag assignments",
        Kind::ProjectTagAssignment,
        Action::Create,
        added,
        slots.len(),
    );
    d.record(
        "tag assignments",
        Kind::ProjectTagAssignment,
        Action::Delete,
        removed,
        slots.len(),
    );

    // Metadata keys: new, removed, retyped.
    let k = d.of(s.metadata_keys);
    let (mut created, mut deleted, mut retyped) = (0, 0, 0);
    let mut to_retype = rng.pick(s.metadata_keys, k).into_iter();
    for j in 0..k {
        match j % 3 {
            0 => {
                declared
                    .metadata
                    .push((format!("key.new.{j:04}"), Yaml::str("varchar")));
                created += 1;
            }
            1 => {
                live.metadata
                    .push((format!("key.old.{j:04}"), Yaml::str("number")));
                deleted += 1;
            }
            _ => {
                if let Some(i) = to_retype.next() {
                    live.metadata[i].1 = metadata_type(i, true);
                    retyped += 1;
                }
            }
        }
    }
    d.record(
        "metadata keys",
        Kind::MetadataKey,
        Action::Create,
        created,
        s.metadata_keys,
    );
    d.record(
        "metadata keys",
        Kind::MetadataKey,
        Action::Delete,
        deleted,
        s.metadata_keys,
    );
    d.record(
        "metadata types",
        Kind::MetadataKey,
        Action::Update,
        retyped,
        s.metadata_keys,
    );

    // Folders: new and removed areas (top level, empty), other descriptions differ.
    let areas = declared.folders.len();
    let folders = areas * 20;
    let k = d.of(folders);
    let (mut created, mut deleted, mut described) = (0, 0, 0);
    let mut to_describe = rng.pick(folders, k).into_iter();
    for j in 0..k {
        let area = |name: String| Folder {
            name,
            description: "area".into(),
            children: Vec::new(),
        };
        match j % 3 {
            0 => {
                declared.folders.push(area(format!("area-new-{j:03}")));
                created += 1;
            }
            1 => {
                live.folders.push(area(format!("area-old-{j:03}")));
                deleted += 1;
            }
            _ => {
                if let Some(f) = to_describe.next() {
                    let area = &mut live.folders[f / 20];
                    let folder = match f % 20 {
                        0 => area,
                        c => &mut area.children[c - 1],
                    };
                    folder.description = "old".into();
                    described += 1;
                }
            }
        }
    }
    d.record("folders", Kind::Folder, Action::Create, created, folders);
    d.record("folders", Kind::Folder, Action::Delete, deleted, folders);
    d.record(
        "folder descriptions",
        Kind::Folder,
        Action::Update,
        described,
        folders,
    );

    // Access: missing live, another role live, or live only (a user as viewer). The
    // admin entry stays: a project keeps its admin.
    let entries: usize = declared.projects.iter().map(|p| p.access.len()).sum();
    let slots: Vec<(usize, usize)> = declared
        .projects
        .iter()
        .enumerate()
        .flat_map(|(p, project)| (1..project.access.len()).map(move |a| (p, a)))
        .collect();
    let k = d.of(entries).min(slots.len());
    let (mut added, mut changed, mut removed) = (0, 0, 0);
    let mut missing: Vec<(usize, Principal)> = Vec::new();
    for (j, i) in rng.pick(slots.len(), k).into_iter().enumerate() {
        let (p, a) = slots[i];
        match j % 3 {
            0 => {
                missing.push((p, declared.projects[p].access[a].0.clone()));
                added += 1;
            }
            1 => {
                let entry = &mut live.projects[p].access[a];
                entry.1 = if entry.1 == "reviewer" {
                    "annotator"
                } else {
                    "reviewer"
                };
                changed += 1;
            }
            _ => {
                let users: Vec<String> = live.projects[p]
                    .access
                    .iter()
                    .filter_map(|(who, _)| match who {
                        Principal::User(e) => Some(e.clone()),
                        Principal::Group(_) => None,
                    })
                    .collect();
                if let Some(extra) = outsider(&mut rng, s.users, &users) {
                    live.projects[p]
                        .access
                        .push((Principal::User(extra), "viewer"));
                    removed += 1;
                }
            }
        }
    }
    for (p, who) in missing {
        live.projects[p].access.retain(|(w, _)| *w != who);
    }
    d.record("access", Kind::Access, Action::Create, added, entries);
    d.record(
        "access roles",
        Kind::Access,
        Action::Update,
        changed,
        entries,
    );
    d.record("access", Kind::Access, Action::Delete, removed, entries);

    Synth {
        config: CONFIG.to_string(),
        manifests: manifests(&declared),
        state: state(&live),
        expected: d.expected,
    }
}

/// A declared user (not the admin) who is not among `taken`, if any.
fn outsider(rng: &mut Rng, users: usize, taken: &[String]) -> Option<String> {
    if users < 2 {
        return None;
    }
    let start = rng.below(users - 1);
    (0..users - 1)
        .map(|i| email((start + i) % (users - 1) + 1))
        .find(|e| !taken.contains(e))
}

fn users_yaml(org: &Org) -> Yaml {
    Yaml::block_seq(
        org.users
            .iter()
            .map(|u| {
                Yaml::flow_map(vec![
                    ("email", Yaml::str(&u.email)),
                    ("role", Yaml::str(u.role)),
                    ("type", Yaml::str("internal")),
                ])
            })
            .collect(),
    )
}

fn groups_yaml(org: &Org) -> Yaml {
    Yaml::block_seq(
        org.groups
            .iter()
            .map(|g| {
                Yaml::block_map(vec![
                    ("name", Yaml::str(&g.name)),
                    ("description", Yaml::str(&g.description)),
                    ("managers", Yaml::flow_seq(g.managers.iter().cloned())),
                    ("members", Yaml::flow_seq(g.members.iter().cloned())),
                ])
            })
            .collect(),
    )
}

fn tags_yaml(org: &Org) -> Yaml {
    Yaml::block_seq(
        org.tags
            .iter()
            .map(|t| {
                Yaml::flow_map(vec![
                    ("name", Yaml::str(&t.name)),
                    ("description", Yaml::str(&t.description)),
                ])
            })
            .collect(),
    )
}

fn metadata_yaml(org: &Org) -> Yaml {
    Yaml::Map {
        entries: org.metadata.clone(),
        flow: false,
    }
}

fn folders_yaml(folders: &[Folder]) -> Yaml {
    Yaml::block_seq(
        folders
            .iter()
            .map(|f| {
                let mut entries = vec![
                    ("name", Yaml::str(&f.name)),
                    ("description", Yaml::str(&f.description)),
                ];
                if f.children.is_empty() {
                    return Yaml::flow_map(entries);
                }
                entries.push(("folders", folders_yaml(&f.children)));
                Yaml::block_map(entries)
            })
            .collect(),
    )
}

fn projects_yaml(org: &Org, with_hash: bool) -> Yaml {
    Yaml::block_seq(
        org.projects
            .iter()
            .map(|p| {
                let mut entries = vec![("name", Yaml::str(&p.name))];
                if with_hash {
                    entries.push(("hash", Yaml::str(&p.hash)));
                }
                entries.push(("tags", Yaml::flow_seq(p.tags.iter().cloned())));
                let access = p
                    .access
                    .iter()
                    .map(|(who, role)| {
                        let principal = match who {
                            Principal::User(e) => ("user", Yaml::str(e)),
                            Principal::Group(g) => ("group", Yaml::str(g)),
                        };
                        Yaml::flow_map(vec![principal, ("role", Yaml::str(*role))])
                    })
                    .collect();
                entries.push(("access", Yaml::block_seq(access)));
                Yaml::block_map(entries)
            })
            .collect(),
    )
}

fn organization() -> Yaml {
    Yaml::flow_map(vec![("email_domains", Yaml::flow_seq(["acme.com"]))])
}

/// The declared org as manifest files, one section each (people with the
/// organization settings).
fn manifests(org: &Org) -> Vec<(String, Yaml)> {
    let file =
        |name: &str, entries: Vec<(&str, Yaml)>| (name.to_string(), Yaml::block_map(entries));
    vec![
        file(
            "people.yaml",
            vec![("organization", organization()), ("users", users_yaml(org))],
        ),
        file("groups.yaml", vec![("groups", groups_yaml(org))]),
        file("tags.yaml", vec![("project_tags", tags_yaml(org))]),
        file(
            "metadata.yaml",
            vec![("metadata_schema", metadata_yaml(org))],
        ),
        file(
            "folders.yaml",
            vec![("folders", folders_yaml(&org.folders))],
        ),
        file("access.yaml", vec![("projects", projects_yaml(org, false))]),
    ]
}

/// The live org as one sandbox state document (projects carry their hashes).
fn state(org: &Org) -> Yaml {
    Yaml::block_map(vec![
        ("organization", organization()),
        ("users", users_yaml(org)),
        ("groups", groups_yaml(org)),
        ("project_tags", tags_yaml(org)),
        ("metadata_schema", metadata_yaml(org)),
        ("folders", folders_yaml(&org.folders)),
        ("projects", projects_yaml(org, true)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_sizes_follow_the_spec() {
        let s = Sizes::named("s").expect("s");
        assert_eq!(
            (
                s.users,
                s.groups,
                s.tags,
                s.metadata_keys,
                s.folders,
                s.projects
            ),
            (200, 20, 10, 5, 20, 50)
        );
        assert_eq!(Sizes::named("xl"), Some(Sizes::XL));
        assert_eq!(Sizes::named("xxl"), None);
    }

    #[test]
    fn every_kind_differs_by_about_the_percentage_asked() {
        let synth = generate(&Options {
            sizes: Sizes::named("m").expect("m"),
            changes_pct: 10.0,
            seed: 3,
        });
        for kind in Kind::ALL {
            let of_kind: Vec<&Expected> =
                synth.expected.iter().filter(|e| e.kind == kind).collect();
            let count: usize = of_kind.iter().map(|e| e.count).sum();
            let of = of_kind.first().map(|e| e.of).unwrap_or_default();
            // Users count twice: joiners and leavers, then roles.
            let share = count as f64 / of as f64 * 100.0;
            let want = if kind == Kind::User { 20.0 } else { 10.0 };
            assert!(
                (share - want).abs() <= want * 0.05,
                "{kind}: {count} of {of} differ ({share:.1}%)"
            );
        }
    }
}
