//! Declarations that touch an object `policy.unmanaged` leaves alone (SPEC §7.4).
//!
//! Declaring an unmanaged user or group, or renaming an unmanaged group, would have
//! orgform change what it promised never to touch. Referencing one (as a member, a
//! manager or an access principal) stays allowed: that entry belongs to a managed object.

use super::{Context, Mode};
use crate::diagnostic::{Diagnostic, Rule};
use crate::yaml::Spanned;

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // A sandbox state file describes the live org itself; it has no policy.
    if cx.mode == Mode::SandboxState {
        return;
    }
    let unmanaged = &cx.config.policy.unmanaged;
    for user in &cx.manifests.users {
        if let Some(pattern) = matching(&unmanaged.users, &user.email) {
            out.push(declared("user", &user.email, pattern, "users"));
        }
    }
    for group in &cx.manifests.groups {
        if let Some(pattern) = matching(&unmanaged.groups, &group.name) {
            out.push(declared("group", &group.name, pattern, "groups"));
        }
        for old in &group.renamed_from {
            if let Some(pattern) = matching(&unmanaged.groups, old) {
                out.push(renamed(&group.name, old, pattern));
            }
        }
    }
}

fn matching<'p>(patterns: &'p [Spanned<String>], name: &str) -> Option<&'p Spanned<String>> {
    patterns
        .iter()
        .find(|p| crate::config::pattern_matches(p, name))
}

fn declared(
    kind: &str,
    name: &Spanned<String>,
    pattern: &Spanned<String>,
    list: &str,
) -> Diagnostic {
    Diagnostic::error(
        Rule::UnmanagedDeclared,
        format!(
            "{kind} `{}` is declared, but it matches the unmanaged pattern `{}`: orgform never creates, changes or deletes an unmanaged {kind}",
            name.value, pattern.value
        ),
    )
    .at(name.origin)
    .related(pattern.origin, format!("pattern `{}`", pattern.value))
    .help(format!(
        "remove the {kind} from the manifests, or narrow `policy.unmanaged.{list}` so the pattern no longer matches it"
    ))
}

fn renamed(
    group: &Spanned<String>,
    old: &Spanned<String>,
    pattern: &Spanned<String>,
) -> Diagnostic {
    Diagnostic::error(
        Rule::UnmanagedDeclared,
        format!(
            "group `{}` is renamed from `{}`, which matches the unmanaged pattern `{}`: orgform never renames an unmanaged group",
            group.value, old.value, pattern.value
        ),
    )
    .at(old.origin)
    .related(pattern.origin, format!("pattern `{}`", pattern.value))
    .help(format!(
        "remove `{}` from `renamed_from`, or narrow `policy.unmanaged.groups` so the pattern no longer matches it",
        old.value
    ))
}
