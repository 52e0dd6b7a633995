//! `orgform validate`: load and check the manifests offline.

use clap::ValueEnum;

use super::{Exit, Globals};
use crate::diagnostic::{self, Diagnostic, JsonDiagnostic, Rule, Severity};
use crate::manifest::{self, ManifestFile, Repo};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: `text` for terminals, `json` for tools, `github` for workflow annotations.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Show every note in full (text format); by default each rule's notes are
    /// summarised in one line with their count.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Validate orgform.yaml and the manifests as they are in this git commit (branch,
    /// tag, SHA) instead of the files here; the work tree is not touched.
    #[arg(long, value_name = "REF")]
    pub git_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let repo = match &args.git_ref {
        Some(reference) => match manifest::git::load_at_ref(&globals.dir, reference) {
            Ok(at) => at.repo,
            Err(error) => {
                let failure = Failure {
                    file: error.file(),
                    annotated: error.path().map(str::to_string),
                    message: error.to_string(),
                    config: Repo::default(),
                };
                return report_load_failure(globals, args.format, failure, error.into());
            }
        },
        None => match manifest::load_repo(&globals.dir) {
            Ok(repo) => repo,
            Err(error) => {
                // An unparsable orgform.yaml falls back to `manifests: org/`, so a missing
                // folder may only be a consequence: show the config's own problems first.
                let failure = Failure {
                    file: error.file(&globals.dir),
                    annotated: Some(annotation_path(globals, None)(&error.file(&globals.dir))),
                    message: error.to_string(),
                    config: manifest::load_config_only(&globals.dir).unwrap_or_default(),
                };
                return report_load_failure(globals, args.format, failure, error.into());
            }
        },
    };
    let diagnostics = check(&repo);
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    match args.format {
        Format::Text => {
            eprint!(
                "{}",
                render_text(&diagnostics, &repo.sources, globals, args.verbose)
            );
            if !globals.quiet {
                eprintln!("{}", loaded_summary(&repo.files, &repo.manifests));
                eprintln!("{}", verdict(&diagnostics));
            }
        }
        Format::Json => {
            let report = diagnostic::json_report(&diagnostics, &repo.sources);
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Github => {
            let path = annotation_path(globals, args.git_ref.as_deref());
            for d in &diagnostics {
                println!(
                    "{}",
                    diagnostic::render_github_with(d, &repo.sources, &path)
                );
            }
        }
    }
    Ok(if ok { Exit::Ok } else { Exit::Error })
}

/// GitHub places an annotation by its path from the repository's root: files read from
/// a ref drop their `REF:`, and files here get the org's folder in front when the org
/// lives below the root (`-C orgs/acme`).
fn annotation_path(globals: &Globals, git_ref: Option<&str>) -> impl Fn(&str) -> String {
    let strip = git_ref.map(|r| format!("{r}:"));
    let prefix = match strip {
        Some(_) => String::new(),
        None => manifest::git::org_prefix(&globals.dir).unwrap_or_default(),
    };
    move |shown: &str| {
        if let Some(path) = strip.as_deref().and_then(|s| shown.strip_prefix(s)) {
            return path.to_string();
        }
        if prefix.is_empty() {
            shown.to_string()
        } else {
            format!("{prefix}/{shown}")
        }
    }
}

/// What could not be loaded, and the config's own problems when there are some.
struct Failure {
    file: String,
    /// The path from the repository's root, when the problem is about a file.
    annotated: Option<String>,
    message: String,
    config: Repo,
}

/// The repository could not be loaded: still answer in the requested format, so a CI
/// job reading stdout learns why instead of finding nothing there.
fn report_load_failure(
    globals: &Globals,
    format: Format,
    failure: Failure,
    error: anyhow::Error,
) -> anyhow::Result<Exit> {
    let Failure {
        file,
        annotated,
        message,
        config,
    } = failure;
    match format {
        Format::Text => {
            for d in &config.diagnostics {
                eprintln!(
                    "{}",
                    diagnostic::render_text(d, &config.sources, globals.color)
                );
            }
            return Err(error);
        }
        Format::Json => {
            let mut report = diagnostic::json_report(&config.diagnostics, &config.sources);
            report.ok = false;
            report.diagnostics.push(JsonDiagnostic {
                severity: Severity::Error,
                rule: LOAD_FAILURE,
                message,
                file: Some(file),
                line: None,
                column: None,
            });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Github => {
            for d in &config.diagnostics {
                println!("{}", diagnostic::render_github(d, &config.sources));
            }
            let place = annotated.map_or_else(String::new, |f| {
                format!("file={},", diagnostic::escape_property(&f))
            });
            println!(
                "::error {place}title={}::{}",
                diagnostic::escape_property(LOAD_FAILURE.code()),
                diagnostic::escape_data(&message)
            );
        }
    }
    Ok(Exit::Error)
}

/// A missing config or manifests folder is a wrong value of the repository's layout.
const LOAD_FAILURE: Rule = Rule::InvalidValue;

/// Loader diagnostics plus every validation check, in file order.
pub use crate::apply::session::workspace::check;

/// Diagnostics for a terminal: errors and warnings in full (errors only when quiet);
/// notes in full when `verbose`, else one line per rule with its count (a large org
/// has thousands). A rule with a single note shows it in full.
pub fn render_text(
    diagnostics: &[Diagnostic],
    sources: &diagnostic::Sources,
    globals: &Globals,
    verbose: bool,
) -> String {
    let mut out = String::new();
    let mut notes: Vec<(Rule, Vec<&Diagnostic>)> = Vec::new();
    for d in diagnostics {
        if globals.quiet && !d.is_error() {
            continue;
        }
        if d.severity == Severity::Note && !verbose {
            match notes.iter_mut().find(|(r, _)| *r == d.rule) {
                Some((_, list)) => list.push(d),
                None => notes.push((d.rule, vec![d])),
            }
            continue;
        }
        out.push_str(&diagnostic::render_text(d, sources, globals.color));
        out.push('\n');
    }
    for (rule, list) in notes {
        if let [only] = list.as_slice() {
            out.push_str(&diagnostic::render_text(only, sources, globals.color));
            out.push('\n');
            continue;
        }
        let head = format!("note[{rule}]");
        let head = if globals.color {
            format!("\x1b[1;36m{head}\x1b[0m")
        } else {
            head
        };
        let first = list[0];
        let at = first
            .origin
            .map(|o| format!(" ({})", crate::render::printable(&sources.locate(o))))
            .unwrap_or_default();
        out.push_str(&format!(
            "{head}: {} notes, the first{at}: {}; `validate --verbose` shows each\n\n",
            list.len(),
            crate::render::printable(&first.message)
        ));
    }
    out
}

/// "Loaded 6 files: 17 users, 4 groups, ..." — what validate saw, so a missing file shows.
pub fn loaded_summary(files: &[String], m: &ManifestFile) -> String {
    fn count_folders(f: &[crate::yaml::Spanned<manifest::FolderSpec>]) -> usize {
        f.iter().map(|x| 1 + count_folders(&x.folders)).sum()
    }
    let counts = [
        (m.users.len(), "user", "users"),
        (m.groups.len(), "group", "groups"),
        (m.project_tags.len(), "project tag", "project tags"),
        (m.metadata_schema.0.len(), "metadata key", "metadata keys"),
        (count_folders(&m.folders), "folder", "folders"),
        (m.projects.len(), "project", "projects"),
        (m.datasets.len(), "dataset", "datasets"),
        (m.ontologies.len(), "ontology", "ontologies"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .map(|(n, one, many)| plural(*n, one, many))
        .collect();
    format!(
        "Loaded {}: {}",
        plural(files.len(), "manifest file", "manifest files"),
        parts.join(", ")
    )
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn verdict(diagnostics: &[Diagnostic]) -> String {
    let count = |s: Severity| diagnostics.iter().filter(|d| d.severity == s).count();
    let (errors, warnings, notes) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
    );
    let tail = format!(
        "{}, {}",
        plural(warnings, "warning", "warnings"),
        plural(notes, "note", "notes")
    );
    if errors == 0 {
        format!("valid ({tail})")
    } else {
        format!(
            "invalid: {}, {tail}; nothing was sent to the org",
            plural(errors, "error", "errors")
        )
    }
}
