//! `orgform validate`: load and check the manifests offline.

use clap::ValueEnum;

use super::{Exit, Globals};
use crate::diagnostic::{self, Diagnostic, JsonDiagnostic, Rule, Severity};
use crate::manifest::{self, LoadError, ManifestFile};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: `text` for terminals, `json` for tools, `github` for workflow annotations.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let repo = match manifest::load_repo(&globals.dir) {
        Ok(repo) => repo,
        Err(error) => return report_load_failure(globals, args.format, error),
    };
    let diagnostics = check(&repo);
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    match args.format {
        Format::Text => {
            for d in &diagnostics {
                eprintln!(
                    "{}",
                    diagnostic::render_text(d, &repo.sources, globals.color)
                );
            }
            eprintln!("{}", loaded_summary(&repo.files, &repo.manifests));
            eprintln!("{}", verdict(&diagnostics));
        }
        Format::Json => {
            let report = diagnostic::json_report(&diagnostics, &repo.sources);
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Format::Github => {
            for d in &diagnostics {
                println!("{}", diagnostic::render_github(d, &repo.sources));
            }
        }
    }
    Ok(if ok { Exit::Ok } else { Exit::Error })
}

/// The repository could not be loaded: still answer in the requested format, so a CI
/// job reading stdout learns why instead of finding nothing there.
fn report_load_failure(
    globals: &Globals,
    format: Format,
    error: LoadError,
) -> anyhow::Result<Exit> {
    // An unparsable orgform.yaml falls back to `manifests: org/`, so a missing folder
    // may only be a consequence: show the config's own problems first.
    let config = manifest::load_config_only(&globals.dir).unwrap_or_default();
    let file = error.file(&globals.dir);
    let message = error.to_string();
    match format {
        Format::Text => {
            for d in &config.diagnostics {
                eprintln!(
                    "{}",
                    diagnostic::render_text(d, &config.sources, globals.color)
                );
            }
            return Err(error.into());
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
            println!(
                "::error file={},title={}::{}",
                diagnostic::escape_property(&file),
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
