//! Export: a live org → manifest files in the split-by-kind layout of examples/acme,
//! so an existing org is onboarded in one command. Planning the export against the
//! same org shows no changes.
//!
//! What is written is meant to be committed as is: no timestamp (it would churn every
//! export), `organization.email_domains` inferred so new users default as the live ones
//! do, counts of what was written, and a note of what was left out and why.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::config::Config;
use crate::model::{FolderPath, Org, Principal, ResourceKind, UserType};

/// An export: the files, what they hold, and what was deliberately left out.
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// (file name, YAML text) for each non-empty kind, in a stable order.
    pub files: Vec<(String, String)>,
    pub counts: Counts,
    /// `organization.email_domains` as written.
    pub email_domains: Vec<String>,
    /// One sentence per thing left out, saying why.
    pub left_out: Vec<String>,
}

/// How many objects of each kind the files declare.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub users: usize,
    pub groups: usize,
    pub project_tags: usize,
    pub metadata_keys: usize,
    pub folders: usize,
    pub projects: usize,
    pub datasets: usize,
    pub ontologies: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = [
            (self.users, "user", "users"),
            (self.groups, "group", "groups"),
            (self.project_tags, "project tag", "project tags"),
            (self.metadata_keys, "metadata key", "metadata keys"),
            (self.folders, "folder", "folders"),
            (self.projects, "project", "projects"),
            (self.datasets, "dataset", "datasets"),
            (self.ontologies, "ontology", "ontologies"),
        ];
        let shown: Vec<String> = parts
            .iter()
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect();
        f.write_str(&shown.join(", "))
    }
}

/// At most this many names are listed in a "left out" sentence.
const LEFT_OUT_NAMES: usize = 5;

/// (file name, YAML text) for each non-empty kind, each file starting with `header`
/// (one comment line).
pub fn render(org: &Org, config: &Config, header: &str) -> Vec<(String, String)> {
    export(org, config, &[header.to_string()]).files
}

/// Exports `org`; every file starts with the `header` lines, each as a comment.
pub fn export(org: &Org, config: &Config, header: &[String]) -> Export {
    let header: String = header.iter().map(|l| format!("# {l}\n")).collect();
    let mut files = Vec::new();
    let mut add = |name: &str, body: String| {
        if !body.is_empty() {
            files.push((name.to_string(), format!("{header}{body}")));
        }
    };
    let mut counts = Counts::default();

    let mut users = String::new();
    let unmanaged = &config.policy.unmanaged;
    for (email, u) in org.users.iter().filter(|(e, _)| !unmanaged.user(e)) {
        counts.users += 1;
        let _ = writeln!(
            users,
            "  - {{ email: {}, role: {}, type: {} }}",
            scalar(email),
            u.role,
            u.user_type
        );
    }
    add("people.yaml", section("users", users));

    let mut groups = String::new();
    for (name, g) in org.groups.iter().filter(|(n, _)| !unmanaged.group(n)) {
        counts.groups += 1;
        let _ = writeln!(groups, "  - name: {}", scalar(name));
        if !g.description.is_empty() {
            let _ = writeln!(groups, "    description: {}", scalar(&g.description));
        }
        if !g.managers.is_empty() {
            let _ = writeln!(groups, "    managers: {}", list(g.managers.iter()));
        }
        if !g.members.is_empty() {
            let _ = writeln!(groups, "    members: {}", list(g.members.iter()));
        }
    }
    add("groups.yaml", section("groups", groups));

    let mut tags = String::new();
    for (name, t) in &org.project_tags {
        counts.project_tags += 1;
        match t.description.as_str() {
            "" => {
                let _ = writeln!(tags, "  - name: {}", scalar(name));
            }
            d => {
                let _ = writeln!(
                    tags,
                    "  - {{ name: {}, description: {} }}",
                    scalar(name),
                    scalar(d)
                );
            }
        }
    }
    add("tags.yaml", section("project_tags", tags));

    let mut schema = String::new();
    for (key, ty) in &org.metadata_schema {
        counts.metadata_keys += 1;
        let shown = match ty {
            crate::model::MetadataType::Enum(options) => {
                format!("{{ enum: {} }}", list(options.iter()))
            }
            crate::model::MetadataType::Embedding(size) => format!("{{ embedding: {size} }}"),
            other => other.name().to_string(),
        };
        let _ = writeln!(schema, "  {}: {shown}", scalar(key));
    }
    add("metadata.yaml", section("metadata_schema", schema));

    let mut folders = String::new();
    counts.folders = write_folders(&mut folders, org, None, 1);
    add("folders.yaml", section("folders", folders));

    let mut access = String::new();
    for (hash, p) in &org.projects {
        counts.projects += 1;
        write_resource_name(&mut access, org, ResourceKind::Project, hash, &p.name);
        // Always written: without `tags:` (or `access:`) a resource's tags (or access)
        // are unmanaged, and hand-made changes to them would never show as drift.
        let _ = writeln!(access, "    tags: {}", list(p.tags.iter()));
        write_access(
            &mut access,
            p.access.iter().map(|(w, r)| (w, r.to_string())),
        );
    }
    let access = section("projects", access);
    let mut others = String::new();
    for (title, kind, map, count) in [
        (
            "datasets",
            ResourceKind::Dataset,
            &org.datasets,
            &mut counts.datasets,
        ),
        (
            "ontologies",
            ResourceKind::Ontology,
            &org.ontologies,
            &mut counts.ontologies,
        ),
    ] {
        let mut body = String::new();
        for (hash, r) in map {
            *count += 1;
            write_resource_name(&mut body, org, kind, hash, &r.name);
            write_access(&mut body, r.access.iter().map(|(w, r)| (w, r.to_string())));
        }
        others.push_str(&section(title, body));
    }
    add("access.yaml", access + &others);

    let domains = email_domains(org, config);
    if !domains.written.is_empty() {
        add(
            "organization.yaml",
            format!(
                "organization:\n  email_domains: [{}]\n",
                domains
                    .written
                    .iter()
                    .map(|d| scalar(d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let mut left_out = left_out(org, config);
    left_out.extend(domains.why_not);
    Export {
        files,
        counts,
        email_domains: domains.written,
        left_out,
    }
}

/// The domains written to `organization.email_domains`, and why others were not.
struct Domains {
    written: Vec<String>,
    why_not: Vec<String>,
}

/// The domains of the internal users, so a user declared later without `type:`
/// defaults as the live ones do. A domain that also has users of another type is left
/// out (its users' types are written one by one anyway), so a shared domain such as a
/// webmail provider does not make every future user internal.
fn email_domains(org: &Org, config: &Config) -> Domains {
    let mut by_domain: BTreeMap<String, BTreeSet<UserType>> = BTreeMap::new();
    for (email, u) in &org.users {
        if config.policy.unmanaged.user(email) {
            continue;
        }
        by_domain
            .entry(crate::model::email::domain(email).to_lowercase())
            .or_default()
            .insert(u.user_type);
    }
    let mut written = Vec::new();
    let mut mixed = Vec::new();
    for (domain, types) in by_domain {
        if !types.contains(&UserType::Internal) {
            continue;
        }
        if types.len() == 1 {
            written.push(domain);
        } else {
            mixed.push(domain);
        }
    }
    let why_not = if mixed.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{} not in `organization.email_domains`: {} internal and other users (each user's `type:` is written); add {} yourself if new users there should default to internal",
            names(&mixed, "domain", "domains"),
            if mixed.len() == 1 {
                "it has"
            } else {
                "they have"
            },
            if mixed.len() == 1 { "it" } else { "them" },
        )]
    };
    Domains { written, why_not }
}

/// What the export deliberately does not write, and why.
fn left_out(org: &Org, config: &Config) -> Vec<String> {
    let unmanaged = &config.policy.unmanaged;
    let mut out = Vec::new();
    let users: Vec<String> = org
        .users
        .keys()
        .filter(|e| unmanaged.user(e))
        .cloned()
        .collect();
    if !users.is_empty() {
        out.push(format!(
            "{} matching `policy.unmanaged.users`: orgform never manages them (they stay listed where they are members or have access)",
            names(&users, "user", "users")
        ));
    }
    let groups: Vec<String> = org
        .groups
        .keys()
        .filter(|g| unmanaged.group(g))
        .cloned()
        .collect();
    if !groups.is_empty() {
        out.push(format!(
            "{} matching `policy.unmanaged.groups`: orgform never manages them (they stay listed where they have access)",
            names(&groups, "group", "groups")
        ));
    }
    out
}

/// "2 users (a@x.io, b@x.io)", listing at most a few names.
fn names(items: &[String], one: &str, many: &str) -> String {
    let shown: Vec<&str> = items
        .iter()
        .take(LEFT_OUT_NAMES)
        .map(String::as_str)
        .collect();
    let more = items.len().saturating_sub(LEFT_OUT_NAMES);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} {} ({}{tail})",
        items.len(),
        if items.len() == 1 { one } else { many },
        shown.join(", ")
    )
}

/// A resource entry's first lines: its title, and its hash too when another resource
/// of its kind has the same title (a title alone would be ambiguous).
fn write_resource_name(out: &mut String, org: &Org, kind: ResourceKind, hash: &str, title: &str) {
    let _ = writeln!(out, "  - name: {}", scalar(title));
    let shared = org
        .resources_of(kind)
        .iter()
        .filter(|(_, t)| *t == title)
        .count()
        > 1;
    if shared {
        let _ = writeln!(out, "    hash: {}", scalar(hash));
    }
}

fn section(title: &str, body: String) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!("{title}:\n{body}")
    }
}

fn write_access<'a>(out: &mut String, entries: impl Iterator<Item = (&'a Principal, String)>) {
    let entries: Vec<_> = entries.collect();
    if entries.is_empty() {
        out.push_str("    access: []\n");
        return;
    }
    out.push_str("    access:\n");
    for (who, role) in entries {
        let (field, value) = match who {
            Principal::User(e) => ("user", e),
            Principal::Group(g) => ("group", g),
        };
        let _ = writeln!(
            out,
            "      - {{ {field}: {}, role: {role} }}",
            scalar(value)
        );
    }
}

/// Writes the folders under `parent` and their descendants; returns how many.
fn write_folders(out: &mut String, org: &Org, parent: Option<&FolderPath>, depth: usize) -> usize {
    // Every level is indented like the top one: a child list starts two spaces inside
    // its `folders:` key, as the other sections' lists do.
    let dash = " ".repeat(2 + 4 * (depth - 1));
    let indent = format!("{dash}  ");
    let mut written = 0;
    for (path, f) in org
        .folders
        .iter()
        .filter(|(p, _)| p.depth() == depth && p.parent().as_ref() == parent)
    {
        written += 1;
        let _ = writeln!(out, "{dash}- name: {}", scalar(path.name()));
        if !f.description.is_empty() {
            let _ = writeln!(out, "{indent}description: {}", scalar(&f.description));
        }
        let has_children = org
            .folders
            .keys()
            .any(|p| p.parent().as_ref() == Some(path));
        if has_children {
            let _ = writeln!(out, "{indent}folders:");
            written += write_folders(out, org, Some(path), depth + 1);
        }
    }
    written
}

fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    format!(
        "[{}]",
        items.map(|s| scalar(s)).collect::<Vec<_>>().join(", ")
    )
}

/// A YAML scalar: plain when that reads back as the same string, else double-quoted
/// (a JSON string is a valid YAML double-quoted scalar).
pub fn scalar(s: &str) -> String {
    let safe_char = |c: char| c.is_alphanumeric() || " _./@+()-".contains(c);
    let plain = !s.is_empty()
        && s.trim() == s
        && s.chars().all(safe_char)
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '/')
        && !crate::yaml::is_null_text(s)
        && crate::yaml::parse_bool(s).is_none()
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_lowercase().as_str(),
            "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        return s.to_string();
    }
    // JSON escapes control characters below U+0020 but not DEL or the C1 range, which
    // YAML does not allow unescaped; `\u` escapes mean the same in both.
    serde_json::to_string(s)
        .unwrap_or_default()
        .chars()
        .map(|c| match c {
            '\u{7f}'..='\u{9f}' | '\u{feff}' => format!("\\u{:04x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::scalar;
    use crate::diagnostic::Sources;
    use crate::yaml;

    /// Every string comes back as itself when read as a YAML value in a flow list.
    #[test]
    fn scalars_round_trip_through_the_yaml_reader() {
        let odd = [
            "plain",
            "2026",
            "true",
            "null",
            "~",
            "yes",
            "-lead",
            "a: b",
            "a #b",
            "#x",
            "[x]",
            "{x}",
            "a,b",
            "'q'",
            "\"dq\"",
            " pad ",
            "",
            "tab\there",
            "new\nline",
            "del\u{7f}",
            "c1\u{85}x",
            "bom\u{feff}",
            "Ärzte",
            "emoji 🚀",
            "x@y.io",
            "Project 00001",
            "*star",
            "&amp",
            "!bang",
            "%pct",
            "@at",
            "`tick`",
            "|pipe",
            ">gt",
            "?q",
            "0x1F",
            "1e3",
            ".5",
        ];
        for s in odd {
            let text = format!("k: [{}]\n", scalar(s));
            let mut sources = Sources::default();
            let file = sources.add("t.yaml", text.clone());
            let node = yaml::parse(&text, file)
                .unwrap_or_else(|d| panic!("{s:?} → {text:?}: {}", d.message))
                .expect("document");
            let value: std::collections::BTreeMap<String, Vec<String>> =
                yaml::from_node(&node).unwrap_or_else(|e| panic!("{s:?} → {text:?}: {e}"));
            assert_eq!(value["k"], [s.to_string()], "{text:?}");
        }
    }
}
