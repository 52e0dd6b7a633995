//! Control characters in names and emails (`name-invalid-characters`).
//!
//! NUL breaks the store's unique indexes, ESC drives the reader's terminal, and a line
//! break makes one name look like two; no platform name needs any of them. Descriptions
//! are free text and are not checked here.

use super::Context;
use crate::diagnostic::{Diagnostic, Rule};
use crate::manifest::{AccessSpec, FolderSpec, MetadataTypeSpec};
use crate::yaml::Spanned;

/// A name or email with what it is, as the message calls it.
type Named<'a> = (&'static str, &'a Spanned<String>);

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut names: Vec<Named<'_>> = Vec::new();
    manifest_names(cx, &mut names);
    config_names(cx, &mut names);
    for (what, name) in names {
        if let Some(d) = control_characters(what, name) {
            out.push(d);
        }
    }
}

/// `s` with every control character written as `\u{..}`, safe to print anywhere.
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn control_characters(what: &str, name: &Spanned<String>) -> Option<Diagnostic> {
    // Each character once, in the order it appears.
    let mut found: Vec<char> = Vec::new();
    for c in name.chars().filter(|c| c.is_control()) {
        if !found.contains(&c) {
            found.push(c);
        }
    }
    if found.is_empty() {
        return None;
    }
    let listed: Vec<String> = found
        .iter()
        .map(|c| format!("`{}`", escape_controls(&c.to_string())))
        .collect();
    let (noun, them) = if found.len() == 1 {
        ("the control character", "it")
    } else {
        ("the control characters", "them")
    };
    Some(
        Diagnostic::error(
            Rule::NameInvalidCharacters,
            format!(
                "{what} `{}` contains {noun} {}",
                escape_controls(name),
                listed.join(", ")
            ),
        )
        .at(name.origin)
        .help(format!(
            "remove {them}: names and emails cannot hold control characters (NUL, ESC, tab, line breaks, DEL, ...)"
        )),
    )
}

fn manifest_names<'a>(cx: &Context<'a>, names: &mut Vec<Named<'a>>) {
    let m = cx.manifests;
    for user in &m.users {
        names.push(("user email", &user.email));
    }
    for group in &m.groups {
        names.push(("group name", &group.name));
        names.extend(group.renamed_from.iter().map(|n| ("former group name", n)));
        names.extend(group.members.iter().map(|n| ("group member", n)));
        names.extend(group.managers.iter().map(|n| ("group manager", n)));
    }
    for tag in &m.project_tags {
        names.push(("project tag name", &tag.name));
        names.extend(
            tag.renamed_from
                .iter()
                .map(|n| ("former project tag name", n)),
        );
    }
    for (key, ty) in &m.metadata_schema.0 {
        names.push(("metadata key", key));
        if let MetadataTypeSpec::Enum(options) = &ty.value {
            names.extend(options.iter().map(|o| ("enum option", o)));
        }
    }
    folder_names(&m.folders, names);
    for p in &m.projects {
        resource_names(
            ("project name", "project hash"),
            &p.name,
            &p.hash,
            p.access.as_deref().unwrap_or_default(),
            names,
        );
        names.extend(p.tags.iter().flatten().map(|t| ("project tag", t)));
    }
    for d in &m.datasets {
        resource_names(
            ("dataset name", "dataset hash"),
            &d.name,
            &d.hash,
            d.access.as_deref().unwrap_or_default(),
            names,
        );
    }
    for o in &m.ontologies {
        resource_names(
            ("ontology name", "ontology hash"),
            &o.name,
            &o.hash,
            o.access.as_deref().unwrap_or_default(),
            names,
        );
    }
    if let Some(org) = &m.organization {
        names.extend(org.email_domains.iter().map(|d| ("email domain", d)));
    }
}

fn folder_names<'a>(folders: &'a [Spanned<FolderSpec>], names: &mut Vec<Named<'a>>) {
    for folder in folders {
        names.push(("folder name", &folder.name));
        names.extend(
            folder
                .renamed_from
                .iter()
                .map(|n| ("former folder name", n)),
        );
        folder_names(&folder.folders, names);
    }
}

fn resource_names<'a, R>(
    (name_what, hash_what): (&'static str, &'static str),
    name: &'a Option<Spanned<String>>,
    hash: &'a Option<Spanned<String>>,
    access: &'a [Spanned<AccessSpec<R>>],
    names: &mut Vec<Named<'a>>,
) {
    names.extend(name.iter().map(|n| (name_what, n)));
    names.extend(hash.iter().map(|h| (hash_what, h)));
    for entry in access {
        names.extend(entry.user.iter().map(|u| ("access user", u)));
        names.extend(entry.group.iter().map(|g| ("access group", g)));
    }
}

fn config_names<'a>(cx: &Context<'a>, names: &mut Vec<Named<'a>>) {
    let policy = &cx.config.policy;
    names.extend(
        policy
            .offboarding
            .replacement
            .iter()
            .map(|r| ("offboarding replacement", r)),
    );
    names.extend(
        policy
            .unmanaged
            .users
            .iter()
            .map(|p| ("unmanaged user pattern", p)),
    );
    names.extend(
        policy
            .unmanaged
            .groups
            .iter()
            .map(|p| ("unmanaged group pattern", p)),
    );
}
