//! Groups: unique names, known members and managers; renames across kinds.

use std::collections::HashMap;

use super::{Context, check_name, report_duplicates};
use crate::diagnostic::{Diagnostic, Origin, Rule};
use crate::manifest::FolderSpec;
use crate::model::email;
use crate::yaml::Spanned;

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let groups = &cx.manifests.groups;
    report_duplicates(
        groups
            .iter()
            .map(|g| (g.name.value.clone(), g.name.as_str(), g.name.origin)),
        Rule::GroupNameDuplicate,
        "group",
        "",
        out,
    );
    for group in groups {
        check_name("group", &group.name, group.name.origin, out);
        for (list, what) in [(&group.members, "member"), (&group.managers, "manager")] {
            report_duplicates(
                list.iter()
                    .map(|m| (email::normalize(m), m.as_str(), m.origin)),
                Rule::InvalidValue,
                &format!("{what} of group `{}`", group.name.value),
                "",
                out,
            );
            for m in list {
                cx.check_user_ref(&format!("group {what}"), m, m.origin, out);
            }
        }
        for manager in &group.managers {
            let is_member = group
                .members
                .iter()
                .any(|m| email::normalize(m) == email::normalize(manager));
            if !is_member {
                out.push(
                    Diagnostic::note(
                        Rule::GroupManagerNotMember,
                        format!(
                            "`{}` manages group `{}` without being a member; managers do not inherit the group's resource roles",
                            manager.value, group.name.value
                        ),
                    )
                    .at(manager.origin),
                );
            }
        }
    }
}

/// `renamed_from`: an old name may be claimed once per kind, and must not be a
/// name that is itself declared (that object would be both kept and renamed).
pub fn check_renames(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let m = cx.manifests;
    check_kind(
        "group",
        m.groups.iter().map(|g| (&g.name, &g.renamed_from)),
        |s| s.to_string(),
        out,
    );
    check_kind(
        "project tag",
        m.project_tags.iter().map(|t| (&t.name, &t.renamed_from)),
        |s| s.to_lowercase(),
        out,
    );
    folder_renames(&m.folders, out);
}

fn folder_renames(siblings: &[Spanned<FolderSpec>], out: &mut Vec<Diagnostic>) {
    check_kind(
        "folder",
        siblings.iter().map(|f| (&f.name, &f.renamed_from)),
        |s| s.to_string(),
        out,
    );
    for f in siblings {
        folder_renames(&f.folders, out);
    }
}

fn check_kind<'a>(
    kind: &str,
    objects: impl Iterator<Item = (&'a Spanned<String>, &'a Vec<Spanned<String>>)> + Clone,
    key: impl Fn(&str) -> String,
    out: &mut Vec<Diagnostic>,
) {
    let declared: HashMap<String, Origin> = objects
        .clone()
        .map(|(name, _)| (key(name), name.origin))
        .collect();
    let mut claimed: HashMap<String, (&str, Origin)> = HashMap::new();
    for (name, old_names) in objects {
        for old in old_names {
            if let Some(other) = declared.get(&key(old)) {
                out.push(
                    Diagnostic::error(
                        Rule::RenameConflict,
                        format!(
                            "{kind} `{}` is renamed from `{}`, but `{}` is itself declared",
                            name.value, old.value, old.value
                        ),
                    )
                    .at(old.origin)
                    .related(*other, "declared")
                    .help(format!(
                        "remove `{}` from `renamed_from` or remove the other {kind}",
                        old.value
                    )),
                );
            }
            if let Some((first, origin)) = claimed.get(&key(old)) {
                out.push(
                    Diagnostic::error(
                        Rule::RenameConflict,
                        format!(
                            "{kind} `{}` and {kind} `{first}` both claim the old name `{}`",
                            name.value, old.value
                        ),
                    )
                    .at(old.origin)
                    .related(*origin, "first claimed")
                    .help("only one object can be renamed from a given name"),
                );
            } else {
                claimed.insert(key(old), (name.as_str(), old.origin));
            }
        }
    }
}
