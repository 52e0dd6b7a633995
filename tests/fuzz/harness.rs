//! The fuzz harness: generated orgs (`orgform::synth`, small), mutated with knowledge
//! of their structure — duplicate keys, wrong types, deep nesting, huge values,
//! unknown fields, control characters, dangling references, renames onto each other,
//! names taken twice — and then byte by byte, or replaced by arbitrary bytes. Each
//! input goes through load → validate → plan in process, as `orgform plan` does:
//!
//! - nothing panics;
//! - every diagnostic is located: file:line:column inside the file it names (the few
//!   rules about the repository as a whole excepted);
//! - when the manifests validate and the state loads, the plan terminates and the store,
//!   which enforces the platform's rules, accepts every change through the apply engine.
//!
//! Shared by the bounded run in the tests (`tests/fuzz/mod.rs`) and the long run
//! (`ORGFORM_FUZZ_SECONDS=600 cargo run --release --example fuzz`).

use std::time::{Duration, Instant};

use orgform::apply::session::workspace::{self, Loaded, Workspace};
use orgform::diagnostic::{Diagnostic, Rule, Sources};
use orgform::manifest::{self, ManifestFile, Salvaged};
use orgform::plan::{Capabilities, Plan};
use orgform::provider::sandbox::SandboxProvider;
use orgform::sandbox::{self, store::Store};
use orgform::synth::{self, Options, Sizes, Yaml};
use orgform::validate::{self, Mode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRng, TestRunner};

/// One fuzz input: the repository's files and the live org's state file.
#[derive(Clone, Debug)]
pub struct Input {
    pub config: Vec<u8>,
    /// `org/NAME` and bytes.
    pub files: Vec<(String, Vec<u8>)>,
    pub state: Vec<u8>,
}

impl Input {
    /// The input as text, for a failure report.
    pub fn show(&self) -> String {
        let mut out = format!(
            "--- orgform.yaml\n{}",
            String::from_utf8_lossy(&self.config)
        );
        for (name, bytes) in &self.files {
            let text = String::from_utf8_lossy(bytes);
            // Huge values are cut: the report must stay readable.
            let shown: String = text.chars().take(4000).collect();
            out.push_str(&format!("--- {name} ({} bytes)\n{shown}\n", bytes.len()));
        }
        let state = String::from_utf8_lossy(&self.state);
        let shown: String = state.chars().take(4000).collect();
        out.push_str(&format!(
            "--- sandbox.yaml ({} bytes)\n{shown}\n",
            self.state.len()
        ));
        out
    }

    /// Writes the input as an org repository (`orgform -C DIR plan` replays it).
    pub fn write(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("org"))?;
        std::fs::write(dir.join("orgform.yaml"), &self.config)?;
        for (name, bytes) in &self.files {
            std::fs::write(dir.join(name), bytes)?;
        }
        std::fs::write(dir.join("sandbox.yaml"), &self.state)
    }
}

/// Which document a mutation changes.
#[derive(Clone, Debug)]
enum Doc {
    Manifest(Index),
    State,
    Config,
}

/// A change to a YAML tree. Indexes choose among the nodes that fit.
#[derive(Clone, Debug)]
enum Mutation {
    /// A mapping gets one of its entries twice (a duplicate key).
    DuplicateKey(Index),
    /// A node becomes a value of another type.
    WrongType(Index, Yaml),
    /// A node is wrapped in `depth` lists or mappings.
    DeepNest(Index, usize, bool),
    /// A scalar becomes very long, or a list very long.
    Huge(Index, usize, bool),
    /// A mapping gets a field of that name (unknown, or known in another place).
    SetField(Index, String, Yaml),
    /// Characters inserted into a scalar (control, bidi, line separators, emoji).
    Characters(Index, String, Index),
    /// A reference (member, manager, principal, tag, former name) names something else.
    Reference(Index, Spelling),
    /// Entry A takes entry B's name (`upper`: differing only by case).
    SameName(Index, Index, bool),
    /// Entry A is declared renamed from B (and B from A when `mutual`).
    RenameOnto(Index, Index, bool),
    /// A node is removed from its mapping or list.
    Remove(Index),
    /// A list item is copied into another list (a user among groups, a folder deeper).
    Transplant(Index, Index),
    /// A scalar is replaced by YAML text as is (anchors, aliases, tags, odd scalars).
    Raw(Index, String),
}

#[derive(Clone, Debug)]
enum Spelling {
    Unknown,
    Upper,
    NearMiss,
    Padded,
    Empty,
}

/// A change to the bytes of a printed file.
#[derive(Clone, Debug)]
enum ByteEdit {
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Truncate(Index),
}

/// What happens to one document's bytes after it is printed.
#[derive(Clone, Debug)]
enum Bytes {
    Edited(Vec<ByteEdit>),
    Replaced(Vec<u8>),
}

/// The recipe for one input (shrinks towards the plain generated org).
#[derive(Clone, Debug)]
pub struct Recipe {
    seed: u64,
    changes_pct: f64,
    policy: Policy,
    mutations: Vec<(Doc, Mutation)>,
    bytes: Vec<(Doc, Bytes)>,
}

#[derive(Clone, Debug)]
struct Policy {
    prune: [bool; 6],
    max_deletions: u32,
    unmanaged_users: Vec<&'static str>,
    unmanaged_groups: Vec<&'static str>,
    replacement: Option<usize>,
}

const WRONG_VALUES: &[&str] = &[
    "~",
    "true",
    "-12",
    "1e400",
    "0x1F",
    ".nan",
    "''",
    "[]",
    "{}",
    "[a, [b]]",
    "{ a: { b: c } }",
    "!!binary aGVsbG8=",
    "*nowhere",
    "&anchor value",
    "!custom tag",
    "2001-12-14t21:59:43.10-05:00",
    "99999999999999999999999999",
    "|\n  literal",
    "\"\\uD800\"",
    "? complex\n: key",
];

const FIELDS: &[(&str, &str)] = &[
    ("status", "invited"),
    ("status", "declined"),
    ("status", "left"),
    ("type", "external"),
    ("type", "workforce"),
    ("role", "admin"),
    ("role", "owner"),
    ("role", "viewer"),
    ("role", "team_manager"),
    ("hash", "00000001-0000-4000-8000-000000000000"),
    ("hash", "00000001-0000-4000-8000-000000000001"),
    ("hash", "p-00001"),
    ("hash", "''"),
    ("items", "5"),
    ("items", "-1"),
    ("renamed_from", "[]"),
    ("renamed_from", "[group-0000]"),
    ("renamed_from", "[tag-0001, TAG-0001]"),
    ("renamed_from", "[area-000/sub-01]"),
    ("description", "''"),
    ("members", "[user00001@acme.com, user00001@ACME.com]"),
    ("managers", "[nobody@acme.com]"),
    ("access", "[]"),
    ("access", "[{ group: group-0000, role: admin }]"),
    ("access", "[{ user: user00001@acme.com, role: admin }]"),
    ("tags", "[]"),
    ("folders", "[{ name: deep, folders: [{ name: deeper }] }]"),
    ("email", "user00001@acme.com"),
    ("name", "group-0001"),
    ("name", "tag-0000"),
    ("name", "area-000"),
    ("datasets", "[{ name: D }]"),
    (
        "ontologies",
        "[{ name: O, access: [{ user: user00001@acme.com, role: user }] }]",
    ),
    ("email_domains", "[acme.com, ACME.COM, '']"),
    ("unknown_field", "1"),
    ("embedding", "4097"),
    ("enum", "[a, a]"),
    ("$schema", "x"),
];

const CHARACTERS: &[&str] = &[
    "\u{0}",
    "\u{7}",
    "\t",
    "\n",
    "\r",
    "\u{1b}[31m",
    "\u{202e}",
    "\u{2028}",
    "\u{feff}",
    "\u{200b}",
    "é",
    "e\u{301}",
    "😀",
    "İ",
    "ß",
    "\u{10ffff}",
    "\\",
    "\"",
    "'",
    "#",
    ": ",
    "- ",
    "{",
    "]",
    "*",
    "&",
    "!",
    "%",
    "@",
    "`",
    "|",
    ">",
];

/// Patterns that match live-only objects (declaring an unmanaged one is an error).
const UNMANAGED_USERS: &[&str] = &["*@vendor.io", "leaver*"];
const UNMANAGED_GROUPS: &[&str] = &["group-old-*", "group-x*"];

/// Small orgs: every kind present, a few of each.
const SIZES: Sizes = Sizes {
    users: 12,
    groups: 3,
    members: 4,
    tags: 4,
    metadata_keys: 5,
    folders: 20,
    projects: 4,
};

fn doc() -> impl Strategy<Value = Doc> {
    prop_oneof![
        6 => any::<Index>().prop_map(Doc::Manifest),
        3 => Just(Doc::State),
        1 => Just(Doc::Config),
    ]
}

fn wrong_value() -> impl Strategy<Value = Yaml> {
    prop_oneof![
        proptest::sample::select(WRONG_VALUES).prop_map(|v| Yaml::Raw(v.to_string())),
        Just(Yaml::block_seq(vec![Yaml::str("x")])),
        Just(Yaml::block_map(vec![("x", Yaml::str("y"))])),
        Just(Yaml::str("")),
    ]
}

fn spelling() -> impl Strategy<Value = Spelling> {
    prop_oneof![
        Just(Spelling::Unknown),
        Just(Spelling::Upper),
        Just(Spelling::NearMiss),
        Just(Spelling::Padded),
        Just(Spelling::Empty),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<Index>;
    prop_oneof![
        2 => index().prop_map(Mutation::DuplicateKey),
        2 => (index(), wrong_value()).prop_map(|(i, v)| Mutation::WrongType(i, v)),
        1 => (index(), prop_oneof![1..20usize, 20..2000usize], any::<bool>())
            .prop_map(|(i, d, s)| Mutation::DeepNest(i, d, s)),
        1 => (index(), prop_oneof![4 => 100..1000usize, 1 => 10_000..300_000usize], any::<bool>())
            .prop_map(|(i, n, s)| Mutation::Huge(i, n, s)),
        4 => (index(), proptest::sample::select(FIELDS)).prop_map(|(i, (k, v))| Mutation::SetField(
            i,
            k.to_string(),
            Yaml::Raw(v.to_string())
        )),
        2 => (
            index(),
            proptest::collection::vec(proptest::sample::select(CHARACTERS), 1..4),
            index()
        )
            .prop_map(|(i, cs, at)| Mutation::Characters(i, cs.concat(), at)),
        3 => (index(), spelling()).prop_map(|(i, s)| Mutation::Reference(i, s)),
        3 => (index(), index(), any::<bool>()).prop_map(|(a, b, u)| Mutation::SameName(a, b, u)),
        3 => (index(), index(), any::<bool>()).prop_map(|(a, b, m)| Mutation::RenameOnto(a, b, m)),
        4 => index().prop_map(Mutation::Remove),
        2 => (index(), index()).prop_map(|(a, b)| Mutation::Transplant(a, b)),
        1 => (index(), proptest::sample::select(WRONG_VALUES))
            .prop_map(|(i, v)| Mutation::Raw(i, v.to_string())),
    ]
}

/// Bytes that change a YAML file's structure, or break its UTF-8.
const SEPARATORS: &[&[u8]] = &[b"\n", b"  ", b"\t", b"- ", b": ", b"\xff", b"\xc3"];

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteEdit::Flip(i, b)),
        (
            any::<Index>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 1..8),
                proptest::sample::select(SEPARATORS).prop_map(|b| b.to_vec()),
            ]
        )
            .prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        (any::<Index>(), 1..64usize).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
        any::<Index>().prop_map(ByteEdit::Truncate),
    ]
}

fn bytes() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        2 => proptest::collection::vec(byte_edit(), 1..4).prop_map(Bytes::Edited),
        1 => proptest::collection::vec(any::<u8>(), 0..400).prop_map(Bytes::Replaced),
        1 => proptest::string::string_regex("[a-z:\\-\\[\\]{}, \\n&*!|>'\"#@%`0-9]{0,200}")
            .expect("regex")
            .prop_map(|s| Bytes::Replaced(s.into_bytes())),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        proptest::array::uniform6(any::<bool>()),
        prop_oneof![Just(1_000_000u32), 0..4u32],
        proptest::collection::vec(proptest::sample::select(UNMANAGED_USERS), 0..2),
        proptest::collection::vec(proptest::sample::select(UNMANAGED_GROUPS), 0..2),
        proptest::option::of(0..SIZES.users + 2),
    )
        .prop_map(
            |(prune, max_deletions, unmanaged_users, unmanaged_groups, replacement)| Policy {
                prune,
                max_deletions,
                unmanaged_users,
                unmanaged_groups,
                replacement,
            },
        )
}

/// Generated orgs, mutated: mostly in structure, sometimes in bytes too.
pub fn recipe() -> impl Strategy<Value = Recipe> {
    (
        any::<u64>(),
        proptest::sample::select(&[0.0, 10.0, 30.0, 100.0][..]),
        policy(),
        // Few mutations keep many inputs valid, so the planner and the store see them.
        prop_oneof![
            3 => proptest::collection::vec((doc(), mutation()), 0..2),
            1 => proptest::collection::vec((doc(), mutation()), 2..6),
        ],
        prop_oneof![
            4 => Just(Vec::new()),
            1 => proptest::collection::vec((doc(), bytes()), 1..3),
        ],
    )
        .prop_map(|(seed, changes_pct, policy, mutations, bytes)| Recipe {
            seed,
            changes_pct,
            policy,
            mutations,
            bytes,
        })
}

fn config(p: &Policy) -> Yaml {
    let names = [
        "users",
        "groups",
        "memberships",
        "project_tags",
        "metadata_keys",
        "folders",
    ];
    let prune = names
        .iter()
        .zip(p.prune)
        .map(|(n, on)| (*n, Yaml::Raw(on.to_string())))
        .collect();
    let mut policy = vec![
        ("prune", Yaml::flow_map(prune)),
        (
            "max_deletions",
            Yaml::flow_map(vec![("default", Yaml::Raw(p.max_deletions.to_string()))]),
        ),
        (
            "unmanaged",
            Yaml::flow_map(vec![
                ("users", Yaml::flow_seq(p.unmanaged_users.iter().copied())),
                ("groups", Yaml::flow_seq(p.unmanaged_groups.iter().copied())),
            ]),
        ),
    ];
    if let Some(r) = p.replacement {
        let email = if r >= SIZES.users {
            format!("newhire{:05}@acme.com", r - SIZES.users)
        } else {
            format!("user{r:05}@acme.com")
        };
        policy.push((
            "offboarding",
            Yaml::flow_map(vec![("replacement", Yaml::str(email))]),
        ));
    }
    Yaml::block_map(vec![
        ("manifests", Yaml::str("org/")),
        ("policy", Yaml::block_map(policy)),
    ])
}

/// The files a recipe describes.
pub fn build(recipe: &Recipe) -> Input {
    let synth = synth::generate(&Options {
        sizes: SIZES,
        changes_pct: recipe.changes_pct,
        seed: recipe.seed,
    });
    let mut config_doc = config(&recipe.policy);
    let mut manifests = synth.manifests;
    let mut state = synth.state;
    let files = manifests.len();
    for (doc, mutation) in &recipe.mutations {
        let tree = match doc {
            Doc::Manifest(i) => &mut manifests[i.index(files)].1,
            Doc::State => &mut state,
            Doc::Config => &mut config_doc,
        };
        mutate(tree, mutation);
    }
    let mut input = Input {
        config: config_doc.to_text().into_bytes(),
        files: manifests
            .iter()
            .map(|(name, doc)| (format!("org/{name}"), doc.to_text().into_bytes()))
            .collect(),
        state: state.to_text().into_bytes(),
    };
    for (doc, edit) in &recipe.bytes {
        let len = input.files.len();
        let bytes = match doc {
            Doc::Manifest(i) => &mut input.files[i.index(len)].1,
            Doc::State => &mut input.state,
            Doc::Config => &mut input.config,
        };
        match edit {
            Bytes::Replaced(b) => *bytes = b.clone(),
            Bytes::Edited(edits) => {
                for e in edits {
                    edit_bytes(bytes, e);
                }
            }
        }
    }
    input
}

fn edit_bytes(bytes: &mut Vec<u8>, edit: &ByteEdit) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
    match edit {
        ByteEdit::Flip(i, b) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] ^= b | 1;
        }
        ByteEdit::Flip(..) => {}
        ByteEdit::Insert(i, b) => {
            let at = at(i, bytes.len());
            bytes.splice(at..at, b.iter().copied());
        }
        ByteEdit::Delete(i, n) => {
            let at = at(i, bytes.len()).min(bytes.len());
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
        ByteEdit::Truncate(i) => {
            let at = at(i, bytes.len()).min(bytes.len());
            bytes.truncate(at);
        }
    }
}

/// A step from a node to one of its children.
type Path = Vec<usize>;

/// Every node's path, in document order, with the mapping key it sits under.
fn nodes(tree: &Yaml) -> Vec<(Path, Option<String>)> {
    fn walk(
        node: &Yaml,
        path: &mut Path,
        key: Option<&str>,
        out: &mut Vec<(Path, Option<String>)>,
    ) {
        out.push((path.clone(), key.map(str::to_string)));
        match node {
            Yaml::Seq { items, .. } => {
                for (i, item) in items.iter().enumerate() {
                    path.push(i);
                    walk(item, path, key, out);
                    path.pop();
                }
            }
            Yaml::Map { entries, .. } => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    path.push(i);
                    walk(v, path, Some(k), out);
                    path.pop();
                }
            }
            Yaml::Str(_) | Yaml::Raw(_) => {}
        }
    }
    let mut out = Vec::new();
    walk(tree, &mut Vec::new(), None, &mut out);
    out
}

fn get_mut<'a>(tree: &'a mut Yaml, path: &[usize]) -> Option<&'a mut Yaml> {
    let Some((first, rest)) = path.split_first() else {
        return Some(tree);
    };
    let child = match tree {
        Yaml::Seq { items, .. } => items.get_mut(*first)?,
        Yaml::Map { entries, .. } => &mut entries.get_mut(*first)?.1,
        _ => return None,
    };
    get_mut(child, rest)
}

fn get<'a>(tree: &'a Yaml, path: &[usize]) -> Option<&'a Yaml> {
    let Some((first, rest)) = path.split_first() else {
        return Some(tree);
    };
    let child = match tree {
        Yaml::Seq { items, .. } => items.get(*first)?,
        Yaml::Map { entries, .. } => &entries.get(*first)?.1,
        _ => return None,
    };
    get(child, rest)
}

/// The paths of nodes that satisfy `fits`, one chosen by `i`.
fn choose(tree: &Yaml, i: &Index, fits: impl Fn(&Yaml, Option<&str>) -> bool) -> Option<Path> {
    let all: Vec<Path> = nodes(tree)
        .into_iter()
        .filter(|(p, key)| get(tree, p).is_some_and(|n| fits(n, key.as_deref())))
        .map(|(p, _)| p)
        .collect();
    (!all.is_empty()).then(|| all[i.index(all.len())].clone())
}

const REFERENCES: &[&str] = &[
    "members",
    "managers",
    "user",
    "group",
    "tags",
    "renamed_from",
    "replacement",
    "email",
    "name",
];

fn is_scalar(n: &Yaml) -> bool {
    matches!(n, Yaml::Str(_) | Yaml::Raw(_))
}

/// A mapping's name-like field (`name`, or `email` for users).
fn name_of(n: &Yaml) -> Option<(usize, String)> {
    let Yaml::Map { entries, .. } = n else {
        return None;
    };
    entries
        .iter()
        .enumerate()
        .find_map(|(i, (k, v))| match (k.as_str(), v) {
            ("name" | "email", Yaml::Str(s)) => Some((i, s.clone())),
            _ => None,
        })
}

fn set_field(n: &mut Yaml, key: &str, value: Yaml) {
    if let Yaml::Map { entries, .. } = n {
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key.to_string(), value)),
        }
    }
}

fn mutate(tree: &mut Yaml, m: &Mutation) {
    let is_map = |n: &Yaml, _: Option<&str>| matches!(n, Yaml::Map { .. });
    let any = |_: &Yaml, _: Option<&str>| true;
    match m {
        Mutation::DuplicateKey(i) => {
            let Some(p) = choose(
                tree,
                i,
                |n, _| matches!(n, Yaml::Map { entries, .. } if !entries.is_empty()),
            ) else {
                return;
            };
            if let Some(Yaml::Map { entries, .. }) = get_mut(tree, &p) {
                let entry = entries[p.len() % entries.len()].clone();
                entries.push(entry);
            }
        }
        Mutation::WrongType(i, v) => {
            if let Some(p) = choose(tree, i, any)
                && let Some(n) = get_mut(tree, &p)
            {
                *n = v.clone();
            }
        }
        Mutation::DeepNest(i, depth, seq) => {
            if let Some(p) = choose(tree, i, any)
                && let Some(n) = get_mut(tree, &p)
            {
                let mut v = n.clone();
                for _ in 0..*depth {
                    v = if *seq {
                        Yaml::Seq {
                            items: vec![v],
                            flow: true,
                        }
                    } else {
                        Yaml::flow_map(vec![("a", v)])
                    };
                }
                *n = v;
            }
        }
        Mutation::Huge(i, size, text) => {
            if *text {
                if let Some(p) = choose(tree, i, |n, _| is_scalar(n))
                    && let Some(n) = get_mut(tree, &p)
                {
                    *n = Yaml::str("x".repeat(*size));
                }
            } else if let Some(p) = choose(
                tree,
                i,
                |n, _| matches!(n, Yaml::Seq { items, .. } if !items.is_empty()),
            ) && let Some(Yaml::Seq { items, .. }) = get_mut(tree, &p)
            {
                let first = items[0].clone();
                let n = (*size / 100).max(1);
                items.extend(std::iter::repeat_n(first, n));
            }
        }
        Mutation::SetField(i, key, value) => {
            if let Some(p) = choose(tree, i, is_map)
                && let Some(n) = get_mut(tree, &p)
            {
                set_field(n, key, value.clone());
            }
        }
        Mutation::Characters(i, chars, at) => {
            if let Some(p) = choose(tree, i, |n, _| matches!(n, Yaml::Str(_)))
                && let Some(Yaml::Str(s)) = get_mut(tree, &p)
            {
                let cut: Vec<usize> = s.char_indices().map(|(b, _)| b).chain([s.len()]).collect();
                let at = cut[at.index(cut.len())];
                s.insert_str(at, chars);
            }
        }
        Mutation::Reference(i, spelling) => {
            if let Some(p) = choose(tree, i, |n, key| {
                matches!(n, Yaml::Str(_)) && key.is_some_and(|k| REFERENCES.contains(&k))
            }) && let Some(Yaml::Str(s)) = get_mut(tree, &p)
            {
                *s = match spelling {
                    Spelling::Unknown => {
                        if s.contains('@') {
                            "nobody@acme.com".into()
                        } else {
                            format!("ghost-{s}")
                        }
                    }
                    Spelling::Upper => s.to_uppercase(),
                    Spelling::NearMiss => {
                        let mut t = s.clone();
                        t.pop();
                        t
                    }
                    Spelling::Padded => format!(" {s} "),
                    Spelling::Empty => String::new(),
                };
            }
        }
        Mutation::SameName(a, b, upper) => {
            let named = |n: &Yaml, _: Option<&str>| name_of(n).is_some();
            let (Some(pa), Some(pb)) = (choose(tree, a, named), choose(tree, b, named)) else {
                return;
            };
            let Some((_, name)) = get(tree, &pb).and_then(name_of) else {
                return;
            };
            let name = if *upper { name.to_uppercase() } else { name };
            if let Some(n) = get_mut(tree, &pa)
                && let Some((field, _)) = name_of(n)
                && let Yaml::Map { entries, .. } = n
            {
                entries[field].1 = Yaml::Str(name);
            }
        }
        Mutation::RenameOnto(a, b, mutual) => {
            let named = |n: &Yaml, _: Option<&str>| name_of(n).is_some();
            let (Some(pa), Some(pb)) = (choose(tree, a, named), choose(tree, b, named)) else {
                return;
            };
            let (Some((_, na)), Some((_, nb))) = (
                get(tree, &pa).and_then(name_of),
                get(tree, &pb).and_then(name_of),
            ) else {
                return;
            };
            if let Some(n) = get_mut(tree, &pa) {
                set_field(n, "renamed_from", Yaml::flow_seq([nb]));
            }
            if *mutual && let Some(n) = get_mut(tree, &pb) {
                set_field(n, "renamed_from", Yaml::flow_seq([na]));
            }
        }
        Mutation::Remove(i) => {
            let Some(p) = choose(tree, i, any) else {
                return;
            };
            let Some((last, parent)) = p.split_last() else {
                return;
            };
            match get_mut(tree, parent) {
                Some(Yaml::Seq { items, .. }) => {
                    items.remove(*last);
                }
                Some(Yaml::Map { entries, .. }) => {
                    entries.remove(*last);
                }
                _ => {}
            }
        }
        Mutation::Transplant(a, b) => {
            let is_seq = |n: &Yaml, _: Option<&str>| matches!(n, Yaml::Seq { items, .. } if !items.is_empty());
            let (Some(from), Some(to)) = (choose(tree, a, is_seq), choose(tree, b, is_seq)) else {
                return;
            };
            let Some(Yaml::Seq { items, .. }) = get(tree, &from) else {
                return;
            };
            let item = items[a.index(items.len())].clone();
            if let Some(Yaml::Seq { items, .. }) = get_mut(tree, &to) {
                items.push(item);
            }
        }
        Mutation::Raw(i, text) => {
            if let Some(p) = choose(tree, i, |n, _| is_scalar(n))
                && let Some(n) = get_mut(tree, &p)
            {
                *n = Yaml::Raw(text.clone());
            }
        }
    }
}

/// Diagnostics about the repository as a whole, which no line in a file is about.
const UNLOCATED: &[Rule] = &[
    Rule::NoManifests,
    Rule::ManifestFileIgnored,
    Rule::ChecksSkipped,
];

/// Lines as YAML counts them: a carriage return without a line feed breaks a line too.
fn lone_returns_as_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let lone = c == '\r' && chars.peek() != Some(&'\n');
        out.push(if lone { '\n' } else { c });
    }
    out
}

/// Every diagnostic points inside the file it names (or is about the whole repository).
/// `raw` holds each file's bytes: a file that is not UTF-8 keeps no text, its
/// diagnostic's column counts the characters before the bad byte.
fn located(
    diags: &[Diagnostic],
    sources: &Sources,
    raw: &[(&str, &[u8])],
) -> Result<(), TestCaseError> {
    let texts: Vec<(String, String)> = sources
        .files()
        .map(|(path, text)| {
            let bytes = raw.iter().find(|(p, _)| *p == path).map(|(_, b)| *b);
            let text = match bytes {
                Some(b) if text.is_empty() => lone_returns_as_newlines(&String::from_utf8_lossy(b)),
                _ => text.to_string(),
            };
            (path.to_string(), text)
        })
        .collect();
    let files: Vec<(&str, &str)> = texts
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    for d in diags {
        let Some(o) = d.origin else {
            prop_assert!(
                UNLOCATED.contains(&d.rule),
                "diagnostic without a place: [{}] {}",
                d.rule.code(),
                d.message
            );
            continue;
        };
        let Some((path, text)) = files.get(o.file.0 as usize) else {
            return Err(TestCaseError::fail(format!(
                "diagnostic in an unknown file: {}",
                d.message
            )));
        };
        let lines: Vec<&str> = text.split('\n').collect();
        prop_assert!(
            o.line >= 1 && (o.line as usize) <= lines.len().max(1),
            "{path}:{}:{}: line outside the file ({} lines): [{}] {}",
            o.line,
            o.column,
            lines.len(),
            d.rule.code(),
            d.message
        );
        let line = lines.get(o.line as usize - 1).copied().unwrap_or("");
        prop_assert!(
            o.column >= 1 && (o.column as usize) <= line.chars().count() + 1,
            "{path}:{}:{}: column outside the line ({} characters): [{}] {}",
            o.line,
            o.column,
            line.chars().count(),
            d.rule.code(),
            d.message
        );
        for (related, _) in &d.related {
            prop_assert!(
                (related.file.0 as usize) < files.len() && related.line >= 1 && related.column >= 1,
                "related place outside the files: [{}] {}",
                d.rule.code(),
                d.message
            );
        }
    }
    Ok(())
}

struct Quiet;

impl orgform::apply::Observer for Quiet {
    fn step(&mut self, _: usize, _: &orgform::plan::Change, _: &orgform::apply::Outcome) {}
}

/// What became of one input, for the long run's tally.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reached {
    pub invalid_manifests: bool,
    pub invalid_state: bool,
    pub state_refused: bool,
    pub planned: bool,
    pub changes_applied: usize,
    pub blocked: usize,
}

/// Load → validate → plan → apply, as `orgform plan` and `orgform apply` do, in process.
pub fn check(input: &Input) -> Result<Reached, TestCaseError> {
    let mut reached = Reached::default();
    let repo = manifest::load_repo_files(input.config.clone(), input.files.clone());
    let diagnostics = workspace::check(&repo);
    let mut raw: Vec<(&str, &[u8])> = vec![("orgform.yaml", &input.config)];
    raw.extend(input.files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    raw.push(("sandbox.yaml", &input.state));
    located(&diagnostics, &repo.sources, &raw)?;

    // The live org, as `sandbox init --from` reads it.
    let mut sources = Sources::default();
    let mut state = ManifestFile::default();
    let mut state_diags = Vec::new();
    let mut salvaged = Salvaged::default();
    manifest::load_manifest_text(
        "sandbox.yaml",
        input.state.clone(),
        &mut sources,
        &mut state,
        &mut state_diags,
        &mut salvaged,
    );
    state_diags.extend(validate::validate(
        &state,
        &orgform::config::Config::default(),
        Mode::SandboxState,
        &salvaged,
    ));
    located(&state_diags, &sources, &raw)?;
    let workspace = match Workspace::from_repo_at(std::path::Path::new("."), repo, None) {
        Loaded::Valid(w) => Some(w),
        Loaded::Invalid { .. } => None,
    };
    reached.invalid_manifests = workspace.is_none();
    reached.invalid_state = state_diags.iter().any(Diagnostic::is_error);
    let (Some(workspace), false) = (workspace, reached.invalid_state) else {
        return Ok(reached);
    };
    let mut store = Store::in_memory().map_err(|e| TestCaseError::fail(e.to_string()))?;
    if let Err(e) = sandbox::load_state(&mut store, &state) {
        // Refused by a platform rule: the message names the object.
        prop_assert!(
            !e.to_string().is_empty(),
            "a store refusal without a message"
        );
        reached.state_refused = true;
        return Ok(reached);
    }
    let live = store
        .read()
        .map_err(|e| TestCaseError::fail(format!("reading the store back: {e}")))?;
    let plan = workspace.plan_against(&live, Capabilities::ALL);
    reached.planned = true;
    reached.blocked = plan.blocked.len();
    // What a user reads is made without panicking.
    let _ = orgform::render::text(&plan, "sandbox", false);
    let _ = orgform::render::markdown(&plan, "sandbox", orgform::render::MAX_MARKDOWN_BYTES);
    let _ = serde_json::to_string(&plan).map_err(|e| TestCaseError::fail(e.to_string()))?;
    reached.changes_applied = apply(&plan, store, &live, input)?;
    Ok(reached)
}

/// Applies `plan` to `store` through the apply engine; every change must be done.
fn apply(
    plan: &Plan,
    store: Store,
    live: &orgform::model::Org,
    input: &Input,
) -> Result<usize, TestCaseError> {
    let mut provider = SandboxProvider::from_store(store);
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut journal = orgform::apply::journal::Journal::begin(dir.path(), plan, "sha256:fuzz")
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let report = orgform::apply::execute(
        plan,
        &mut provider,
        live,
        &mut journal,
        &Default::default(),
        &mut Quiet,
    )
    .map_err(|e| TestCaseError::fail(format!("apply: {e}")))?;
    for (change, outcome) in plan.changes.iter().zip(&report.outcomes) {
        prop_assert_eq!(
            outcome,
            &orgform::apply::Outcome::Done,
            "the store refused {} {} ({:?})\n{}",
            change.kind,
            change.key,
            change.action,
            input.show()
        );
    }
    Ok(plan.changes.len())
}

/// A failing input, shrunk, and how far the run had come.
pub struct Found {
    pub reason: String,
    pub input: Input,
    pub tally: Tally,
}

/// Runs recipes for `duration` (at least `min_cases`), from `seed`. On a failure,
/// the shrunk input and the reason.
pub fn run(duration: Duration, min_cases: u32, seed: u64) -> Result<Tally, Box<Found>> {
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut round = 0u64;
    while tally.cases < u64::from(min_cases) || start.elapsed() < duration {
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
        seed_bytes[8..16].copy_from_slice(&round.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases: 32,
                failure_persistence: None,
                // A mutated org is rejected by validation far more often than not: that
                // is the point, so no case is discarded.
                max_shrink_iters: 2048,
                ..Config::default()
            },
            TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &seed_bytes),
        );
        let counts = std::cell::RefCell::new(Tally::default());
        let result = runner.run(&recipe(), |r| {
            let reached = check(&build(&r))?;
            counts.borrow_mut().add(&reached);
            Ok(())
        });
        tally.merge(&counts.borrow());
        round += 1;
        let failure = match result {
            Ok(()) => None,
            Err(TestError::Fail(reason, recipe)) => Some((reason.to_string(), build(&recipe))),
            Err(TestError::Abort(reason)) => Some((reason.to_string(), build(&Recipe::plain()))),
        };
        if let Some((reason, input)) = failure {
            tally.elapsed = start.elapsed();
            return Err(Box::new(Found {
                reason,
                input,
                tally,
            }));
        }
    }
    tally.elapsed = start.elapsed();
    Ok(tally)
}

impl Recipe {
    fn plain() -> Recipe {
        Recipe {
            seed: 0,
            changes_pct: 0.0,
            policy: Policy {
                prune: [true; 6],
                max_deletions: 10,
                unmanaged_users: Vec::new(),
                unmanaged_groups: Vec::new(),
                replacement: None,
            },
            mutations: Vec::new(),
            bytes: Vec::new(),
        }
    }
}

/// How far the inputs of a run went.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub cases: u64,
    pub invalid_manifests: u64,
    pub invalid_state: u64,
    pub state_refused: u64,
    pub planned: u64,
    pub with_blocked: u64,
    pub changes_applied: u64,
    pub elapsed: Duration,
}

impl Tally {
    fn add(&mut self, r: &Reached) {
        self.cases += 1;
        self.invalid_manifests += u64::from(r.invalid_manifests);
        self.invalid_state += u64::from(r.invalid_state);
        self.state_refused += u64::from(r.state_refused);
        self.planned += u64::from(r.planned);
        self.with_blocked += u64::from(r.blocked > 0);
        self.changes_applied += r.changes_applied as u64;
    }

    fn merge(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.invalid_manifests += other.invalid_manifests;
        self.invalid_state += other.invalid_state;
        self.state_refused += other.state_refused;
        self.planned += other.planned;
        self.with_blocked += other.with_blocked;
        self.changes_applied += other.changes_applied;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} inputs in {:.1}s: {} with invalid manifests, {} with an invalid state, {} states refused by the store, {} planned ({} with blocked items), {} changes applied",
            self.cases,
            self.elapsed.as_secs_f64(),
            self.invalid_manifests,
            self.invalid_state,
            self.state_refused,
            self.planned,
            self.with_blocked,
            self.changes_applied
        )
    }
}
