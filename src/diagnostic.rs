//! Diagnostics: what went wrong, where (file:line:column), and how to fix it.
//!
//! Every problem orgform reports — a YAML syntax error, an unknown field, a broken
//! platform rule — is a [`Diagnostic`] carrying a stable [`Rule`] code (SPEC §1) and,
//! whenever it concerns a manifest, the [`Origin`] of the offending node. The
//! [`Sources`] table keeps file texts so the text renderer can quote the line.

use std::fmt;

use serde::Serialize;

use crate::render::escape::{printable, push_printable};

/// Stable rule codes (SPEC §1). The string forms are part of the output contract.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    AdminUnremovable,
    AdminRoleLocked,
    AdminMustBeInternal,
    UserTypeChange,
    SoleResourceAdmin,
    TagNameDuplicate,
    TagUnknown,
    GroupNameDuplicate,
    UserDuplicate,
    FolderNameDuplicate,
    MetadataKeyDuplicate,
    UserUnknown,
    GroupManagerNotMember,
    MetadataKeyInvalid,
    MetadataTypeAlias,
    MetadataRetype,
    EmbeddingSizeOutOfRange,
    EnumOptionsInvalid,
    EmailInvalid,
    ResourceUnknown,
    DeletionLimitExceeded,
    RenameConflict,
    UnsupportedByProvider,
    YamlSyntax,
    UnknownField,
    InvalidValue,
    /// A Project or Dataset that has an admin would be left with none (SPEC §7.3).
    ResourceAdminRequired,
    /// A declaration or rename touches an object matching `policy.unmanaged`.
    UnmanagedDeclared,
    /// Control characters in a name or email.
    NameInvalidCharacters,
    /// A resource named by title matches several live resources.
    ResourceNameAmbiguous,
    /// `--target` matches nothing.
    TargetUnknown,
    /// A `*.yml` (or other non-`.yaml`) file in the manifests folder is not read.
    ManifestFileIgnored,
    /// The manifests folder holds no manifest file.
    NoManifests,
    /// An email's domain is one edit away from a declared `email_domains` entry.
    EmailDomainTypo,
    /// Checks not run because a manifest file could not be parsed.
    ChecksSkipped,
    /// The user the provider's key acts as is never removed, demoted or replaced.
    KeyUserProtected,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::AdminUnremovable => "admin-unremovable",
            Rule::AdminRoleLocked => "admin-role-locked",
            Rule::AdminMustBeInternal => "admin-must-be-internal",
            Rule::UserTypeChange => "user-type-change",
            Rule::SoleResourceAdmin => "sole-resource-admin",
            Rule::TagNameDuplicate => "tag-name-duplicate",
            Rule::TagUnknown => "tag-unknown",
            Rule::GroupNameDuplicate => "group-name-duplicate",
            Rule::UserDuplicate => "user-duplicate",
            Rule::FolderNameDuplicate => "folder-name-duplicate",
            Rule::MetadataKeyDuplicate => "metadata-key-duplicate",
            Rule::UserUnknown => "user-unknown",
            Rule::GroupManagerNotMember => "group-manager-not-member",
            Rule::MetadataKeyInvalid => "metadata-key-invalid",
            Rule::MetadataTypeAlias => "metadata-type-alias",
            Rule::MetadataRetype => "metadata-retype",
            Rule::EmbeddingSizeOutOfRange => "embedding-size-out-of-range",
            Rule::EnumOptionsInvalid => "enum-options-invalid",
            Rule::EmailInvalid => "email-invalid",
            Rule::ResourceUnknown => "resource-unknown",
            Rule::DeletionLimitExceeded => "deletion-limit-exceeded",
            Rule::RenameConflict => "rename-conflict",
            Rule::UnsupportedByProvider => "unsupported-by-provider",
            Rule::YamlSyntax => "yaml-syntax",
            Rule::UnknownField => "unknown-field",
            Rule::InvalidValue => "invalid-value",
            Rule::ResourceAdminRequired => "resource-admin-required",
            Rule::UnmanagedDeclared => "unmanaged-declared",
            Rule::NameInvalidCharacters => "name-invalid-characters",
            Rule::ResourceNameAmbiguous => "resource-name-ambiguous",
            Rule::TargetUnknown => "target-unknown",
            Rule::ManifestFileIgnored => "manifest-file-ignored",
            Rule::NoManifests => "no-manifests",
            Rule::EmailDomainTypo => "email-domain-typo",
            Rule::ChecksSkipped => "checks-skipped",
            Rule::KeyUserProtected => "key-user-protected",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// Index of a file in [`Sources`]. Kept small and `Copy` so every node can carry one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A place in a manifest: file, 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: FileId,
    pub line: u32,
    pub column: u32,
}

/// The texts of every file read in this run, for quoting lines in diagnostics.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

#[derive(Debug, Clone)]
struct SourceFile {
    /// Path as shown to the user (relative to the repository root when possible).
    display: String,
    text: String,
}

impl Sources {
    pub fn add(&mut self, display: impl Into<String>, text: String) -> FileId {
        self.files.push(SourceFile {
            display: display.into(),
            text,
        });
        FileId((self.files.len() - 1) as u32)
    }

    pub fn set_text(&mut self, file: FileId, text: String) {
        self.files[file.0 as usize].text = text;
    }

    /// Drops the file texts (quoting lines is no longer possible); paths stay.
    pub fn forget_texts(&mut self) {
        for f in &mut self.files {
            f.text = String::new();
        }
    }

    /// Every file read, in reading order: (path as shown, text).
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .map(|f| (f.display.as_str(), f.text.as_str()))
    }

    pub fn path(&self, file: FileId) -> &str {
        &self.files[file.0 as usize].display
    }

    pub fn text(&self, file: FileId) -> &str {
        &self.files[file.0 as usize].text
    }

    /// `file:line:column` for messages.
    pub fn locate(&self, origin: Origin) -> String {
        format!(
            "{}:{}:{}",
            self.path(origin.file),
            origin.line,
            origin.column
        )
    }

    fn line(&self, origin: Origin) -> Option<&str> {
        self.text(origin.file)
            .lines()
            .nth(origin.line.checked_sub(1)? as usize)
    }
}

/// One problem (or remark) found while loading, validating or planning.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub rule: Rule,
    pub message: String,
    pub origin: Option<Origin>,
    /// Other places involved (e.g. the first declaration of a duplicate).
    pub related: Vec<(Origin, String)>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, rule: Rule, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            rule,
            message: message.into(),
            origin: None,
            related: Vec::new(),
            help: None,
        }
    }

    pub fn error(rule: Rule, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, rule, message)
    }

    pub fn warning(rule: Rule, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, rule, message)
    }

    pub fn note(rule: Rule, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, rule, message)
    }

    pub fn at(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    pub fn at_opt(mut self, origin: Option<Origin>) -> Self {
        self.origin = origin;
        self
    }

    pub fn related(mut self, origin: Origin, label: impl Into<String>) -> Self {
        self.related.push((origin, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The message with related places spelled out, for one-line formats (JSON, GitHub).
    pub fn full_message(&self, sources: &Sources) -> String {
        let mut out = self.message.clone();
        for (origin, label) in &self.related {
            out.push_str(&format!("; {label} at {}", sources.locate(*origin)));
        }
        if let Some(help) = &self.help {
            out.push_str(&format!(" (help: {help})"));
        }
        out
    }
}

/// Orders diagnostics by place, so output is stable and reads top to bottom.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.origin, a.severity, a.rule, &a.message).cmp(&(b.origin, b.severity, b.rule, &b.message))
    });
}

/// Compiler-style rendering: header, `--> file:line:col`, the quoted line with a caret.
pub fn render_text(diagnostic: &Diagnostic, sources: &Sources, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let sev_color = match diagnostic.severity {
        Severity::Error => "1;31",
        Severity::Warning => "1;33",
        Severity::Note => "1;36",
    };
    let mut out = format!(
        "{}: {}\n",
        paint(
            sev_color,
            &format!("{}[{}]", diagnostic.severity, diagnostic.rule)
        ),
        paint("1", &printable(&diagnostic.message))
    );
    let gutter = diagnostic
        .origin
        .map_or(String::new(), |o| " ".repeat(o.line.to_string().len()));
    if let Some(origin) = diagnostic.origin {
        let line_no = origin.line.to_string();
        out.push_str(&format!(
            "{gutter}{} {}\n",
            paint("1;34", "-->"),
            printable(&sources.locate(origin))
        ));
        if let Some(line) = sources.line(origin) {
            let bar = paint("1;34", "|");
            let (shown, caret_column) = quoted_line(line, origin.column);
            let caret_pad = " ".repeat(caret_column);
            out.push_str(&format!("{gutter} {bar}\n"));
            out.push_str(&format!("{} {bar} {}\n", paint("1;34", &line_no), shown));
            out.push_str(&format!(
                "{gutter} {bar} {caret_pad}{}\n",
                paint(sev_color, "^")
            ));
        }
    }
    for (origin, label) in &diagnostic.related {
        out.push_str(&format!(
            "{gutter} = note: {} at {}\n",
            printable(label),
            printable(&sources.locate(*origin))
        ));
    }
    if let Some(help) = &diagnostic.help {
        out.push_str(&format!("{gutter} = help: {}\n", printable(help)));
    }
    out
}

/// A source line as quoted under a diagnostic, and the caret's offset in it (for a
/// 1-based character `column`). Tabs become single spaces and control characters are
/// escaped, so the offset counts what is shown, not what is in the file.
fn quoted_line(line: &str, column: u32) -> (String, usize) {
    let before = column.saturating_sub(1) as usize;
    let mut shown = String::with_capacity(line.len());
    let mut caret = None;
    for (i, c) in line.chars().enumerate() {
        if i == before {
            caret = Some(shown.chars().count());
        }
        match c {
            '\t' => shown.push(' '),
            c => push_printable(&mut shown, c),
        }
    }
    let width = shown.chars().count();
    // A column past the end (e.g. "missing value" at end of line) points just after it.
    let caret = caret.unwrap_or(width + before.saturating_sub(line.chars().count()));
    (shown, caret)
}

/// The `validate --format json` document (SPEC §3).
#[derive(Debug, Serialize)]
pub struct JsonReport {
    pub ok: bool,
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub severity: Severity,
    pub rule: Rule,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

pub fn json_report(diagnostics: &[Diagnostic], sources: &Sources) -> JsonReport {
    JsonReport {
        ok: !diagnostics.iter().any(Diagnostic::is_error),
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                severity: d.severity,
                rule: d.rule,
                message: d.full_message(sources),
                file: d.origin.map(|o| sources.path(o.file).to_string()),
                line: d.origin.map(|o| o.line),
                column: d.origin.map(|o| o.column),
            })
            .collect(),
    }
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`.
pub fn render_github(diagnostic: &Diagnostic, sources: &Sources) -> String {
    render_github_with(diagnostic, sources, &|shown| shown.to_string())
}

/// As [`render_github`], with each file's path as `path` maps it (GitHub wants paths
/// from the repository's root).
pub fn render_github_with(
    diagnostic: &Diagnostic,
    sources: &Sources,
    path: &dyn Fn(&str) -> String,
) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut props = Vec::new();
    if let Some(o) = diagnostic.origin {
        props.push(format!(
            "file={}",
            escape_property(&printable(&path(sources.path(o.file))))
        ));
        props.push(format!("line={}", o.line));
        props.push(format!("col={}", o.column));
    }
    props.push(format!("title={}", escape_property(diagnostic.rule.code())));
    format!(
        "::{command} {}::{}",
        props.join(","),
        escape_data(&printable(&diagnostic.full_message(sources)))
    )
}

// Escaping rules of GitHub workflow commands (actions/toolkit `command.ts`). Control
// characters are already shown as escapes by `printable` (the log renders ANSI codes);
// `%`, and `:` `,` in properties, remain.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// "expected one of a, b, c", with a did-you-mean when one is close to what was given.
pub fn one_of(given: &str, expected: &[&str]) -> String {
    let listed = expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match closest(given, expected) {
        Some(e) => format!("did you mean `{e}`? expected one of {listed}"),
        None => format!("expected one of {listed}"),
    }
}

/// The candidate spelled most like `given` (case-insensitively), if it is a few edits
/// away: for names and emails that share long common parts, where a similarity score
/// would match every `…@acme.com`. `None` when two candidates are equally close.
pub fn closest_spelling<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_lowercase();
    let budget = (given.chars().count() / 4).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for c in candidates {
        let d = strsim::osa_distance(&given, &c.to_lowercase());
        if d == 0 || d > budget {
            continue;
        }
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, c));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, c)| c)
}

/// The candidate most like `given`, if any is close enough to be a likely typo.
pub fn closest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(given, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
