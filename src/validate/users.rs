//! Users: unique emails, valid syntax, admins internal; and policy references.

use super::{Context, Mode, invalid_email, report_duplicates};
use crate::diagnostic::{Diagnostic, Rule};
use crate::model::{OrgRole, UserType, default_user_type, email};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let users = &cx.manifests.users;
    report_duplicates(
        users
            .iter()
            .map(|u| (email::normalize(&u.email), u.email.as_str(), u.email.origin)),
        Rule::UserDuplicate,
        "user",
        " (emails are compared case-insensitively)",
        out,
    );
    let domains: Vec<&str> = email_domains(cx);
    for user in users {
        if !email::is_valid(&user.email) {
            out.push(invalid_email(&user.email, user.email.origin));
            continue;
        }
        if *user.role == OrgRole::Admin {
            let (user_type, origin, explicit) = match &user.user_type {
                Some(t) => (t.value, t.origin, true),
                None => (
                    default_user_type(&user.email, domains.iter().copied()),
                    user.role.origin,
                    false,
                ),
            };
            if user_type != UserType::Internal {
                let why = if explicit {
                    format!("`{}` is declared `type: {user_type}`", user.email.value)
                } else {
                    format!(
                        "`{}` defaults to `{user_type}` because its domain is not in `organization.email_domains`",
                        user.email.value
                    )
                };
                out.push(
                    Diagnostic::error(
                        Rule::AdminMustBeInternal,
                        format!("only internal users can be admins, but {why}"),
                    )
                    .at(origin)
                    .help(if explicit {
                        "make the user `type: internal` or give it a non-admin role"
                    } else {
                        "add the domain to `organization.email_domains`, set `type: internal`, or give it a non-admin role"
                    }),
                );
            }
        }
        if let Some(status) = &user.status
            && cx.mode == Mode::Manifests
        {
            out.push(
                Diagnostic::error(
                    Rule::InvalidValue,
                    format!(
                        "`status: {}` is read-only: the platform sets it when the user answers the invitation",
                        status.value
                    ),
                )
                .at(status.origin)
                .help("remove `status:` (it is only meaningful in a sandbox state file)"),
            );
        }
    }
    if let Some(org) = &cx.manifests.organization {
        for domain in &org.email_domains {
            if !email::is_valid(&format!("x@{}", domain.value)) {
                out.push(
                    Diagnostic::error(
                        Rule::InvalidValue,
                        format!("`{}` is not a valid email domain", domain.value),
                    )
                    .at(domain.origin)
                    .help("write the domain alone, e.g. `acme.com`"),
                );
            }
        }
    }
}

pub fn email_domains<'a>(cx: &Context<'a>) -> Vec<&'a str> {
    cx.manifests
        .organization
        .iter()
        .flat_map(|o| o.email_domains.iter().map(|d| d.as_str()))
        .collect()
}

/// Policy settings that name users must name declared ones.
pub fn check_policy(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if let Some(replacement) = &cx.config.policy.offboarding.replacement {
        cx.check_user_ref(
            "offboarding replacement",
            replacement,
            replacement.origin,
            out,
        );
    }
}
