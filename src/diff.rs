//! The declared org at two commits, compared: what a pull request changes, in the
//! platform's words (users added, a role changed, a member removed, a key retyped).
//!
//! Pure over two [`Desired`] models and their configs: no live org and no credentials,
//! so it is safe on pull requests from forks. Renames (`renamed_from`) are matched, so a
//! renamed group shows as one rename, not a removal and an addition.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::model::{Desired, DesiredResource, FolderPath, Principal, ResourceKind};

pub const FORMAT_VERSION: u32 = 1;

/// Text values longer than this get a word-level diff (descriptions).
const LONG_TEXT: usize = 40;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub format_version: u32,
    pub base: Side,
    pub head: Side,
    pub summary: Summary,
    /// Grouped by kind, in kind order; by key within a kind.
    pub changes: Vec<Entry>,
}

/// One side of the comparison: the ref as given and the commit it named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    #[serde(rename = "ref")]
    pub reference: String,
    pub commit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub renamed: usize,
}

/// What is compared. The plan's kinds, plus the declaration of an existing resource
/// (whether its access and tags are managed) and orgform.yaml's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    User,
    Group,
    GroupMember,
    GroupManager,
    ProjectTag,
    MetadataKey,
    Folder,
    Resource,
    ProjectTagAssignment,
    Access,
    Config,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::GroupMember => "group_member",
            Kind::GroupManager => "group_manager",
            Kind::ProjectTag => "project_tag",
            Kind::MetadataKey => "metadata_key",
            Kind::Folder => "folder",
            Kind::Resource => "resource",
            Kind::ProjectTagAssignment => "project_tag_assignment",
            Kind::Access => "access",
            Kind::Config => "config",
        }
    }

    /// Heading for grouped output.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::Group => "groups",
            Kind::GroupMember => "group members",
            Kind::GroupManager => "group managers",
            Kind::ProjectTag => "project tags",
            Kind::MetadataKey => "metadata keys",
            Kind::Folder => "folders",
            Kind::Resource => "declared projects, datasets and ontologies",
            Kind::ProjectTagAssignment => "project tag assignments",
            Kind::Access => "access",
            Kind::Config => "orgform.yaml",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
    Renamed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub kind: Kind,
    /// The object in the head (its base key when removed), as plans key it.
    pub key: String,
    pub change: Change,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub field: String,
    pub before: Value,
    pub after: Value,
    /// Word by word, for long text values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<Vec<Words>>,
}

/// A run of words kept, deleted or inserted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Words {
    pub op: WordOp,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WordOp {
    Equal,
    Delete,
    Insert,
}

/// One side's declared org: the model and the config it came with.
pub struct Declared<'a> {
    pub desired: &'a Desired,
    pub config: &'a Config,
}

/// Compares the declared org at `base` with the one at `head`.
pub fn diff(base: Declared<'_>, head: Declared<'_>, sides: (Side, Side)) -> Diff {
    let mut out = Vec::new();
    users(base.desired, head.desired, &mut out);
    let renamed = Renamed {
        groups: groups(base.desired, head.desired, &mut out),
        tags: tags(base.desired, head.desired, &mut out),
    };
    metadata(base.desired, head.desired, &mut out);
    folders(base.desired, head.desired, &mut out);
    resources(base.desired, head.desired, &renamed, &mut out);
    config(base.config, head.config, &mut out);
    out.sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    let mut summary = Summary::default();
    for e in &out {
        match e.change {
            Change::Added => summary.added += 1,
            Change::Removed => summary.removed += 1,
            Change::Changed => summary.changed += 1,
            Change::Renamed => summary.renamed += 1,
        }
    }
    Diff {
        format_version: FORMAT_VERSION,
        base: sides.0,
        head: sides.1,
        summary,
        changes: out,
    }
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// An empty text on one side and nothing on the other: an empty description added or
/// removed with its object, which says nothing to a reader.
pub fn only_empty(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) if s.is_empty())
}

fn entry(kind: Kind, key: impl Into<String>, change: Change, fields: Vec<Field>) -> Entry {
    Entry {
        kind,
        key: key.into(),
        change,
        fields,
    }
}

fn field(name: &str, before: Value, after: Value) -> Field {
    let words = match (&before, &after) {
        (Value::String(a), Value::String(b))
            if !a.is_empty() && !b.is_empty() && a.len().max(b.len()) > LONG_TEXT =>
        {
            Some(word_diff(a, b))
        }
        _ => None,
    };
    Field {
        field: name.to_string(),
        before,
        after,
        words,
    }
}

/// The fields that differ, of two objects serialized as JSON maps (absent: `null`).
fn fields_of(before: &Value, after: &Value) -> Vec<Field> {
    let empty = serde_json::Map::new();
    let a = before.as_object().unwrap_or(&empty);
    let b = after.as_object().unwrap_or(&empty);
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let x = a.get(name).cloned().unwrap_or(Value::Null);
            let y = b.get(name).cloned().unwrap_or(Value::Null);
            (x != y).then(|| field(name, x, y))
        })
        .collect()
}

fn word_diff(before: &str, after: &str) -> Vec<Words> {
    let diff = similar::TextDiff::from_words(before, after);
    let mut out: Vec<Words> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            similar::ChangeTag::Equal => WordOp::Equal,
            similar::ChangeTag::Delete => WordOp::Delete,
            similar::ChangeTag::Insert => WordOp::Insert,
        };
        match out.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => out.push(Words {
                op,
                text: change.value().to_string(),
            }),
        }
    }
    out
}

/// Keyed objects on both sides: added, removed and changed, with renames matched.
fn compare<T: Serialize>(
    kind: Kind,
    base: &BTreeMap<String, T>,
    head: &BTreeMap<String, T>,
    renames: &BTreeMap<String, Vec<String>>,
    out: &mut Vec<Entry>,
) -> BTreeMap<String, String> {
    let as_json = |v: &T| serde_json::to_value(v).unwrap_or(Value::Null);
    // Head name → the base name it was renamed from.
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for (new, former) in renames {
        if base.contains_key(new) || !head.contains_key(new) {
            continue;
        }
        if let Some(old) = former
            .iter()
            .find(|old| base.contains_key(*old) && !head.contains_key(*old))
        {
            renamed.insert(new.clone(), old.clone());
        }
    }
    let renamed_away: BTreeSet<&String> = renamed.values().collect();
    for (key, value) in head {
        if let Some(old) = renamed.get(key) {
            let mut fields = vec![field("name", json!(old), json!(key))];
            fields.extend(fields_of(&as_json(&base[old]), &as_json(value)));
            out.push(entry(kind, key, Change::Renamed, fields));
            continue;
        }
        match base.get(key) {
            None => out.push(entry(
                kind,
                key,
                Change::Added,
                fields_of(&Value::Null, &as_json(value)),
            )),
            Some(before) => {
                let fields = fields_of(&as_json(before), &as_json(value));
                if !fields.is_empty() {
                    out.push(entry(kind, key, Change::Changed, fields));
                }
            }
        }
    }
    for (key, value) in base {
        if !head.contains_key(key) && !renamed_away.contains(key) {
            out.push(entry(
                kind,
                key,
                Change::Removed,
                fields_of(&as_json(value), &Value::Null),
            ));
        }
    }
    renamed
}

fn users(base: &Desired, head: &Desired, out: &mut Vec<Entry>) {
    // Invitation status is live state, not declared: leave it out.
    let strip = |d: &Desired| -> BTreeMap<String, Value> {
        d.org
            .users
            .iter()
            .map(|(email, u)| {
                (
                    email.clone(),
                    json!({ "role": u.role, "type": u.user_type }),
                )
            })
            .collect()
    };
    compare(
        Kind::User,
        &strip(base),
        &strip(head),
        &BTreeMap::new(),
        out,
    );
}

/// Base name → head name of renamed groups and tags: their access and assignments are
/// compared under the new name, so a rename alone changes nothing else.
struct Renamed {
    groups: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
}

fn invert(head_to_base: BTreeMap<String, String>) -> BTreeMap<String, String> {
    head_to_base
        .into_iter()
        .map(|(new, old)| (old, new))
        .collect()
}

fn groups(base: &Desired, head: &Desired, out: &mut Vec<Entry>) -> BTreeMap<String, String> {
    let describe = |d: &Desired| -> BTreeMap<String, Value> {
        d.org
            .groups
            .iter()
            .map(|(name, g)| (name.clone(), json!({ "description": g.description })))
            .collect()
    };
    let renamed = compare(
        Kind::Group,
        &describe(base),
        &describe(head),
        &head.group_renames,
        out,
    );
    // Members and managers of a renamed group are compared with its former self.
    let mut seen_base = BTreeSet::new();
    for (name, group) in &head.org.groups {
        let former = renamed.get(name).unwrap_or(name);
        let old = base.org.groups.get(former);
        if old.is_some() {
            seen_base.insert(former.clone());
        }
        for (kind, now, before) in [
            (Kind::GroupMember, &group.members, old.map(|g| &g.members)),
            (
                Kind::GroupManager,
                &group.managers,
                old.map(|g| &g.managers),
            ),
        ] {
            let empty = BTreeSet::new();
            let before = before.unwrap_or(&empty);
            for email in now.difference(before) {
                out.push(entry(
                    kind,
                    format!("{name}/{email}"),
                    Change::Added,
                    vec![],
                ));
            }
            for email in before.difference(now) {
                out.push(entry(
                    kind,
                    format!("{name}/{email}"),
                    Change::Removed,
                    vec![],
                ));
            }
        }
    }
    for (name, group) in &base.org.groups {
        if seen_base.contains(name) {
            continue;
        }
        for (kind, set) in [
            (Kind::GroupMember, &group.members),
            (Kind::GroupManager, &group.managers),
        ] {
            for email in set {
                out.push(entry(
                    kind,
                    format!("{name}/{email}"),
                    Change::Removed,
                    vec![],
                ));
            }
        }
    }
    invert(renamed)
}

fn tags(base: &Desired, head: &Desired, out: &mut Vec<Entry>) -> BTreeMap<String, String> {
    invert(compare(
        Kind::ProjectTag,
        &base.org.project_tags,
        &head.org.project_tags,
        &head.tag_renames,
        out,
    ))
}

fn metadata(base: &Desired, head: &Desired, out: &mut Vec<Entry>) {
    let types = |d: &Desired| -> BTreeMap<String, Value> {
        d.org
            .metadata_schema
            .iter()
            .map(|(k, t)| (k.clone(), json!({ "type": t.to_string() })))
            .collect()
    };
    compare(
        Kind::MetadataKey,
        &types(base),
        &types(head),
        &BTreeMap::new(),
        out,
    );
}

fn folders(base: &Desired, head: &Desired, out: &mut Vec<Entry>) {
    let by_path = |d: &Desired| -> BTreeMap<String, Value> {
        d.org
            .folders
            .iter()
            .map(|(p, f)| (p.to_string(), json!({ "description": f.description })))
            .collect()
    };
    // `renamed_from` names a sibling: the former path is the same parent's child.
    let renames: BTreeMap<String, Vec<String>> = head
        .folder_renames
        .iter()
        .map(|(path, former)| {
            let parent = path.parent().unwrap_or(FolderPath(Vec::new()));
            let olds = former.iter().map(|n| parent.child(n).to_string()).collect();
            (path.to_string(), olds)
        })
        .collect();
    compare(Kind::Folder, &by_path(base), &by_path(head), &renames, out);
}

/// How a declaration is keyed in the diff: `project:Lung CT`, `dataset:hash d0c1…`.
fn resource_key(r: &DesiredResource) -> String {
    format!("{}:{}", r.kind, r.by)
}

/// A declared resource's managed parts: access (principal → role) and project tags;
/// `None` where the declaration leaves them unmanaged.
struct Managed {
    access: Option<BTreeMap<String, String>>,
    tags: Option<BTreeSet<String>>,
}

/// `renamed` maps former group and tag names to the names they now have (the base's
/// declarations are read under the head's names; empty for the head).
fn managed(r: &DesiredResource, renamed: &Renamed) -> Managed {
    let access = match r.kind {
        ResourceKind::Project => r.project_access.as_ref().map(|m| roles(m, renamed)),
        _ => r.resource_access.as_ref().map(|m| roles(m, renamed)),
    };
    let tags = r.tags.as_ref().map(|tags| {
        tags.iter()
            .map(|t| renamed.tags.get(t).unwrap_or(t).clone())
            .collect()
    });
    Managed { access, tags }
}

/// Access as principal → role names, groups under their new names.
fn roles<R: ToString>(m: &BTreeMap<Principal, R>, renamed: &Renamed) -> BTreeMap<String, String> {
    m.iter()
        .map(|(who, role)| {
            let who = match who {
                Principal::Group(g) => Principal::Group(renamed.groups.get(g).unwrap_or(g).clone()),
                user => user.clone(),
            };
            (who.to_string(), role.to_string())
        })
        .collect()
}

fn resources(base: &Desired, head: &Desired, renamed: &Renamed, out: &mut Vec<Entry>) {
    let none = Renamed {
        groups: BTreeMap::new(),
        tags: BTreeMap::new(),
    };
    let index = |d: &Desired, renamed: &Renamed| -> BTreeMap<String, Managed> {
        d.resources
            .iter()
            .map(|r| (resource_key(r), managed(r, renamed)))
            .collect()
    };
    let (before, after) = (index(base, renamed), index(head, &none));
    let state = |m: Option<&Managed>| {
        let shown = |managed: bool| json!(if managed { "managed" } else { "unmanaged" });
        match m {
            None => json!({}),
            Some(m) => json!({
                "access": shown(m.access.is_some()),
                "tags": shown(m.tags.is_some()),
            }),
        }
    };
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (b, a) = (before.get(key), after.get(key));
        let change = match (b, a) {
            (None, Some(_)) => Some(Change::Added),
            (Some(_), None) => Some(Change::Removed),
            _ => None,
        };
        let fields = fields_of(&state(b), &state(a));
        match change {
            Some(change) => out.push(entry(Kind::Resource, key, change, fields)),
            None if !fields.is_empty() => {
                out.push(entry(Kind::Resource, key, Change::Changed, fields))
            }
            None => {}
        }
        let empty_access = BTreeMap::new();
        let access_of = |m: Option<&Managed>| {
            m.and_then(|m| m.access.clone())
                .unwrap_or_else(|| empty_access.clone())
        };
        let role = |r: Option<&String>| r.map_or(Value::Null, |r| json!(r));
        let (was, now) = (access_of(b), access_of(a));
        let principals: BTreeSet<&String> = was.keys().chain(now.keys()).collect();
        for who in principals {
            let (x, y) = (was.get(who), now.get(who));
            let change = match (x, y) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (Some(x), Some(y)) if x != y => Change::Changed,
                _ => continue,
            };
            out.push(entry(
                Kind::Access,
                format!("{key}/{who}"),
                change,
                vec![field("role", role(x), role(y))],
            ));
        }
        let tags_of = |m: Option<&Managed>| m.and_then(|m| m.tags.clone()).unwrap_or_default();
        let (was, now) = (tags_of(b), tags_of(a));
        let name = key.split_once(':').map_or(key.as_str(), |(_, n)| n);
        for tag in now.difference(&was) {
            out.push(entry(
                Kind::ProjectTagAssignment,
                format!("{name}/{tag}"),
                Change::Added,
                vec![],
            ));
        }
        for tag in was.difference(&now) {
            out.push(entry(
                Kind::ProjectTagAssignment,
                format!("{name}/{tag}"),
                Change::Removed,
                vec![],
            ));
        }
    }
}

/// orgform.yaml's settings, compared leaf by leaf (`policy.prune.users: true → false`).
fn config(base: &Config, head: &Config, out: &mut Vec<Entry>) {
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    leaves(
        "",
        &serde_json::to_value(base).unwrap_or_default(),
        &mut before,
    );
    leaves(
        "",
        &serde_json::to_value(head).unwrap_or_default(),
        &mut after,
    );
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let x = before.get(key).cloned().unwrap_or(Value::Null);
        let y = after.get(key).cloned().unwrap_or(Value::Null);
        if x != y {
            out.push(entry(
                Kind::Config,
                key.clone(),
                Change::Changed,
                vec![field("value", x, y)],
            ));
        }
    }
}

fn leaves(path: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(&p, v, out);
            }
        }
        other => {
            out.insert(path.to_string(), other.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_get_a_word_diff_and_short_ones_do_not() {
        let long = field(
            "description",
            json!("Partner radiologists who review CT and MRI labels"),
            json!("Partner radiologists who review CT, MRI and X-ray labels"),
        );
        let words = long.words.expect("a word diff");
        let deleted: String = words
            .iter()
            .filter(|w| w.op == WordOp::Delete)
            .map(|w| w.text.as_str())
            .collect();
        let inserted: String = words
            .iter()
            .filter(|w| w.op == WordOp::Insert)
            .map(|w| w.text.as_str())
            .collect();
        assert!(deleted.contains("CT"), "{words:?}");
        assert!(inserted.contains("X-ray"), "{words:?}");
        assert!(
            words
                .iter()
                .any(|w| w.op == WordOp::Equal && w.text.contains("Partner radiologists")),
            "{words:?}"
        );
        assert!(
            field("description", json!("MRI"), json!("Magnetic"))
                .words
                .is_none()
        );
    }
}
