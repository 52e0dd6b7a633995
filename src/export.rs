//! Export: a live org → manifest files in the split-by-kind layout of examples/acme,
//! so an existing org is onboarded in one command. Planning the export against the
//! same org shows no changes.

use std::fmt::Write;

use crate::config::Config;
use crate::model::{FolderPath, Org, Principal, ResourceKind};

/// (file name, YAML text) for each non-empty kind, in a stable order.
pub fn render(org: &Org, config: &Config, header: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut add = |name: &str, body: String| {
        if !body.is_empty() {
            files.push((name.to_string(), format!("# {header}\n{body}")));
        }
    };

    let mut users = String::new();
    let unmanaged = &config.policy.unmanaged;
    for (email, u) in org.users.iter().filter(|(e, _)| !unmanaged.user(e)) {
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
    write_folders(&mut folders, org, None, 1);
    add("folders.yaml", section("folders", folders));

    let mut access = String::new();
    for (hash, p) in &org.projects {
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
    for (title, kind, map) in [
        ("datasets", ResourceKind::Dataset, &org.datasets),
        ("ontologies", ResourceKind::Ontology, &org.ontologies),
    ] {
        let mut body = String::new();
        for (hash, r) in map {
            write_resource_name(&mut body, org, kind, hash, &r.name);
            write_access(&mut body, r.access.iter().map(|(w, r)| (w, r.to_string())));
        }
        others.push_str(&section(title, body));
    }
    add("access.yaml", access + &others);
    files
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

fn write_folders(out: &mut String, org: &Org, parent: Option<&FolderPath>, depth: usize) {
    // Entries at `depth` start at 2·depth spaces; their fields two further in.
    let dash = "  ".repeat(depth);
    let indent = format!("{dash}  ");
    for (path, f) in org
        .folders
        .iter()
        .filter(|(p, _)| p.depth() == depth && p.parent().as_ref() == parent)
    {
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
            write_folders(out, org, Some(path), depth + 1);
        }
    }
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
