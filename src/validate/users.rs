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
            // The domain may be declared in a file that could not be parsed.
            if user_type != UserType::Internal && (explicit || !cx.skip_reference_check()) {
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
    check_domain_typos(cx, &domains, out);
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

/// A user whose domain is one edit away from a declared one (`acme.con`) silently
/// defaults to external: almost always a typo.
fn check_domain_typos(cx: &Context<'_>, domains: &[&str], out: &mut Vec<Diagnostic>) {
    // An explicit `type:` is a decision, not a silent default.
    for user in cx.manifests.users.iter().filter(|u| u.user_type.is_none()) {
        if !email::is_valid(&user.email) {
            continue;
        }
        let domain = email::domain(&user.email);
        if domains.iter().any(|d| d.eq_ignore_ascii_case(&domain)) {
            continue;
        }
        let Some(near) = domains
            .iter()
            .find(|d| strsim::osa_distance(&domain, &d.to_lowercase()) == 1)
        else {
            continue;
        };
        out.push(
            Diagnostic::warning(
                Rule::EmailDomainTypo,
                format!(
                    "the domain of `{}` is `{domain}`, one edit away from `{near}` in `organization.email_domains`, so the user silently defaults to `type: external`",
                    user.email.value
                ),
            )
            .at(user.email.origin)
            .help(format!(
                "if it is a typo, write `@{near}`; if `{domain}` is right, add it to `organization.email_domains` or set `type:` to silence this"
            )),
        );
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
