//! Offline validation: named checks over the merged manifests and config.
//!
//! Each check looks at one concern and pushes every problem it finds; all checks run,
//! so one `validate` shows everything. No check needs the live org — what does
//! (admins missing from the manifests, unknown projects, ...) belongs to the planner.

mod folders;
mod groups;
mod metadata;
mod names;
mod resources;
mod tags;
mod unmanaged;
mod users;

use std::collections::{HashMap, HashSet};

pub use metadata::key_problem as metadata_key_problem;
pub use names::escape_controls;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Origin, Rule};
use crate::manifest::{ManifestFile, Salvaged};
use crate::model::email;

/// What is being validated: an org repository's manifests, or a sandbox state file
/// (which may also set invitation status and describe projects to create).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Manifests,
    SandboxState,
}

/// Names longer than this are refused (the web app's inputs are far shorter).
pub const MAX_NAME_CHARS: usize = 255;

/// The manifests, with lookups every check needs.
pub struct Context<'a> {
    pub manifests: &'a ManifestFile,
    pub config: &'a Config,
    pub mode: Mode,
    /// Declared users by normalized email → first declaration.
    pub users: HashMap<String, Origin>,
    /// Declared groups by name → first declaration.
    pub groups: HashMap<&'a str, Origin>,
    pub salvaged: &'a Salvaged,
    /// Checks not run because a file that could not be parsed may hold what they need.
    skipped: std::cell::Cell<usize>,
}

impl<'a> Context<'a> {
    pub fn new(
        manifests: &'a ManifestFile,
        config: &'a Config,
        mode: Mode,
        salvaged: &'a Salvaged,
    ) -> Self {
        let mut users = HashMap::new();
        // Entries that failed to load were reported already; their keys still count
        // as declared so that one typo does not cascade into "unknown user" errors.
        let nowhere = Origin {
            file: crate::diagnostic::FileId(u32::MAX),
            line: 0,
            column: 0,
        };
        for email_addr in &salvaged.users {
            users.insert(email::normalize(email_addr), nowhere);
        }
        for u in &manifests.users {
            users
                .entry(email::normalize(&u.email))
                .or_insert(u.email.origin);
        }
        let mut groups = HashMap::new();
        for name in &salvaged.groups {
            groups.insert(name.as_str(), nowhere);
        }
        for g in &manifests.groups {
            groups.entry(g.name.as_str()).or_insert(g.name.origin);
        }
        Context {
            manifests,
            config,
            mode,
            users,
            groups,
            salvaged,
            skipped: std::cell::Cell::new(0),
        }
    }

    /// Whether a check that needs every declaration must be skipped: a file that could
    /// not be parsed may declare what it looks for, and reporting it would bury the
    /// parse error under consequences of it. Counts the skipped checks.
    pub fn skip_reference_check(&self) -> bool {
        let skip = !self.salvaged.unparsed_files.is_empty();
        if skip {
            self.skipped.set(self.skipped.get() + 1);
        }
        skip
    }

    /// One note for every check skipped by [`Self::skip_reference_check`].
    fn skipped_note(&self) -> Option<Diagnostic> {
        let n = self.skipped.get();
        if n == 0 {
            return None;
        }
        let files = &self.salvaged.unparsed_files;
        let listed = files
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let what = format!("{listed} could not be parsed");
        Some(
            Diagnostic::note(
                Rule::ChecksSkipped,
                format!(
                    "{n} reference check{} skipped: {what}, so the users, groups, tags and email domains declared there are unknown",
                    if n == 1 { "" } else { "s" }
                ),
            )
            .help("fix the error above and validate again: the skipped checks then run"),
        )
    }

    /// Whether `email` is a declared user or left alone by `policy.unmanaged`.
    pub fn knows_user(&self, email_addr: &str) -> bool {
        self.users.contains_key(&email::normalize(email_addr))
            || self.config.policy.unmanaged.user(email_addr)
    }

    /// Reports a reference to a user that is not declared.
    pub fn check_user_ref(
        &self,
        what: &str,
        email_addr: &str,
        origin: Origin,
        out: &mut Vec<Diagnostic>,
    ) {
        if !email::is_valid(email_addr) {
            out.push(invalid_email(email_addr, origin));
        } else if !self.knows_user(email_addr) && !self.skip_reference_check() {
            let declared = self.manifests.users.iter().map(|u| u.email.as_str());
            let help = match crate::diagnostic::closest_spelling(email_addr, declared) {
                Some(near) => format!(
                    "did you mean `{near}`? Otherwise add the user to `users:`, or cover it with a `policy.unmanaged.users` pattern"
                ),
                None => "add the user to `users:`, fix the spelling, or cover it with a `policy.unmanaged.users` pattern".to_string(),
            };
            out.push(
                Diagnostic::error(
                    Rule::UserUnknown,
                    format!("{what} `{email_addr}` is not a declared user"),
                )
                .at(origin)
                .help(help),
            );
        }
    }
}

pub fn invalid_email(email_addr: &str, origin: Origin) -> Diagnostic {
    Diagnostic::error(
        Rule::EmailInvalid,
        format!("`{email_addr}` is not a valid email address"),
    )
    .at(origin)
    .help("write it as name@domain.tld")
}

/// Reports an empty or overlong name.
pub fn check_name(what: &str, name: &str, origin: Origin, out: &mut Vec<Diagnostic>) {
    if name.trim().is_empty() {
        out.push(
            Diagnostic::error(Rule::InvalidValue, format!("{what} name must not be empty"))
                .at(origin),
        );
    } else if name.chars().count() > MAX_NAME_CHARS {
        out.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!(
                    "{what} name is {} characters long; at most {MAX_NAME_CHARS} are allowed",
                    name.chars().count()
                ),
            )
            .at(origin),
        );
    } else if name != name.trim() {
        out.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!("{what} name `{name}` starts or ends with white space"),
            )
            .at(origin)
            .help("remove the surrounding spaces"),
        );
    }
}

/// Reports every declaration after the first of the same key, naming all places.
pub fn report_duplicates<'k>(
    items: impl IntoIterator<Item = (String, &'k str, Origin)>,
    rule: Rule,
    what: &str,
    note: &str,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<String, Vec<(&'k str, Origin)>> = HashMap::new();
    let mut order = Vec::new();
    for (key, shown, origin) in items {
        let places = seen.entry(key.clone()).or_default();
        if places.is_empty() {
            order.push(key);
        }
        places.push((shown, origin));
    }
    for key in order {
        let places = &seen[&key];
        if places.len() < 2 {
            continue;
        }
        let (first_name, first) = places[0];
        for (name, origin) in &places[1..] {
            let mut d = Diagnostic::error(
                rule,
                if *name == first_name {
                    format!("{what} `{name}` is declared more than once{note}")
                } else {
                    format!("{what} `{name}` clashes with `{first_name}`{note}")
                },
            )
            .at(*origin)
            .related(first, "first declared");
            for (_, other) in places[1..].iter().filter(|(_, o)| o != origin) {
                d = d.related(*other, "also declared");
            }
            out.push(d.help("keep one declaration and remove or rename the others"));
        }
    }
}

type Check = fn(&Context<'_>, &mut Vec<Diagnostic>);

/// Every check, by name. They are independent and all of them run.
const CHECKS: &[(&str, Check)] = &[
    ("users", users::check),
    ("groups", groups::check),
    ("project-tags", tags::check),
    ("metadata-schema", metadata::check),
    ("folders", folders::check),
    ("resources", resources::check),
    ("renames", groups::check_renames),
    ("policy", users::check_policy),
    ("unmanaged", unmanaged::check),
    ("names", names::check),
];

/// Runs every check and returns the diagnostics in file order.
pub fn validate(
    manifests: &ManifestFile,
    config: &Config,
    mode: Mode,
    salvaged: &Salvaged,
) -> Vec<Diagnostic> {
    let cx = Context::new(manifests, config, mode, salvaged);
    let mut out = Vec::new();
    for (_, check) in CHECKS {
        check(&cx, &mut out);
    }
    out.extend(cx.skipped_note());
    one_diagnostic_per_bad_name(&mut out);
    escape_messages(&mut out);
    out
}

/// Names and keys reach messages verbatim; an ESC in one must not drive the terminal.
pub fn escape_messages(diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        d.message = escape_controls(&d.message);
        d.help = d.help.as_deref().map(escape_controls);
    }
}

/// A name with control characters also fails the other checks of its node (not an
/// email, not declared, ...); only `name-invalid-characters` says what to fix.
fn one_diagnostic_per_bad_name(out: &mut Vec<Diagnostic>) {
    let bad: HashSet<Origin> = out
        .iter()
        .filter(|d| d.rule == Rule::NameInvalidCharacters)
        .filter_map(|d| d.origin)
        .collect();
    out.retain(|d| {
        d.rule == Rule::NameInvalidCharacters || d.origin.is_none_or(|o| !bad.contains(&o))
    });
}
