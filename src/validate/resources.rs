//! Projects, Datasets and Ontologies: how they are named, and who may access them.

use super::{Context, Mode, report_duplicates};
use crate::diagnostic::{Diagnostic, Origin, Rule};
use crate::manifest::AccessSpec;
use crate::model::email;
use crate::yaml::Spanned;

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let m = cx.manifests;
    check_kind(
        cx,
        "project",
        m.projects
            .iter()
            .map(|p| (p.origin, &p.name, &p.hash, &p.access)),
        out,
    );
    check_kind(
        cx,
        "dataset",
        m.datasets
            .iter()
            .map(|d| (d.origin, &d.name, &d.hash, &d.access)),
        out,
    );
    check_kind(
        cx,
        "ontology",
        m.ontologies
            .iter()
            .map(|o| (o.origin, &o.name, &o.hash, &o.access)),
        out,
    );
}

type Entry<'a, R> = (
    Origin,
    &'a Option<Spanned<String>>,
    &'a Option<Spanned<String>>,
    &'a Option<Vec<Spanned<AccessSpec<R>>>>,
);

fn check_kind<'a, R: 'a>(
    cx: &Context<'_>,
    kind: &str,
    entries: impl Iterator<Item = Entry<'a, R>> + Clone,
    out: &mut Vec<Diagnostic>,
) {
    for (origin, name, hash, access) in entries.clone() {
        match (name, hash, cx.mode) {
            (None, _, Mode::SandboxState) => out.push(
                Diagnostic::error(
                    Rule::InvalidValue,
                    format!("a {kind} in a sandbox state file needs a `name`"),
                )
                .at(origin),
            ),
            (None, None, _) => out.push(
                Diagnostic::error(
                    Rule::InvalidValue,
                    format!("this {kind} has neither `name` nor `hash`"),
                )
                .at(origin)
                .help(format!(
                    "name the existing {kind}: `name: ...` or `hash: ...`"
                )),
            ),
            _ => {}
        }
        check_not_blank(kind, name, hash, out);
        if let Some(access) = access {
            check_access(cx, kind, name.as_ref().or(hash.as_ref()), access, out);
        }
    }
    // A title may be shared by several live resources: entries that give the hash are
    // told apart by it; entries by title alone must not repeat.
    for field in [0, 1] {
        report_duplicates(
            entries.clone().filter_map(|(_, name, hash, _)| {
                let v = if field == 0 {
                    name.as_ref().filter(|_| hash.is_none())
                } else {
                    hash.as_ref()
                }?;
                // Blank ones are reported as empty, not again as duplicates.
                if v.trim().is_empty() {
                    return None;
                }
                Some((v.value.clone(), v.as_str(), v.origin))
            }),
            Rule::InvalidValue,
            kind,
            "",
            out,
        );
    }
}

/// `name: ""` or `hash: ""` names no resource; the planner would silently match nothing.
fn check_not_blank(
    kind: &str,
    name: &Option<Spanned<String>>,
    hash: &Option<Spanned<String>>,
    out: &mut Vec<Diagnostic>,
) {
    for (field, value) in [("name", name), ("hash", hash)] {
        let Some(value) = value.as_ref().filter(|v| v.trim().is_empty()) else {
            continue;
        };
        out.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!("the `{field}` of this {kind} is empty"),
            )
            .at(value.origin)
            .help(if field == "name" {
                format!("write the {kind}'s title as the web app shows it, or name it by `hash:`")
            } else {
                format!("write the {kind}'s hash (from its URL), or name it by `name:`")
            }),
        );
    }
}

fn check_access<R>(
    cx: &Context<'_>,
    kind: &str,
    resource: Option<&Spanned<String>>,
    access: &[Spanned<AccessSpec<R>>],
    out: &mut Vec<Diagnostic>,
) {
    let resource = resource.map_or(String::new(), |r| format!(" of {kind} `{}`", r.value));
    let mut principals = Vec::new();
    for entry in access {
        match (&entry.user, &entry.group) {
            (Some(user), None) => {
                cx.check_user_ref("access user", user, user.origin, out);
                principals.push((format!("user:{}", email::normalize(user)), user));
            }
            (None, Some(group)) => {
                if !cx.groups.contains_key(group.as_str())
                    && !cx.config.policy.unmanaged.group(group)
                    && !cx.skip_reference_check()
                {
                    let declared = cx.manifests.groups.iter().map(|g| g.name.as_str());
                    let help = match crate::diagnostic::closest_spelling(group, declared) {
                        Some(near) => {
                            format!("did you mean `{near}`? Otherwise declare it under `groups:`")
                        }
                        None => "declare it under `groups:` or fix the spelling".to_string(),
                    };
                    out.push(
                        Diagnostic::error(
                            Rule::UserUnknown,
                            format!("group `{}` is not declared", group.value),
                        )
                        .at(group.origin)
                        .help(help),
                    );
                }
                principals.push((format!("group:{}", group.value), group));
            }
            _ => out.push(
                Diagnostic::error(
                    Rule::InvalidValue,
                    "an access entry needs exactly one of `user` or `group`",
                )
                .at(entry.origin)
                .help("write `{ user: a@b.com, role: ... }` or `{ group: name, role: ... }`"),
            ),
        }
    }
    report_duplicates(
        principals
            .iter()
            .map(|(key, p)| (key.clone(), p.as_str(), p.origin)),
        Rule::InvalidValue,
        "access principal",
        &format!(" in the access list{resource}"),
        out,
    );
}
