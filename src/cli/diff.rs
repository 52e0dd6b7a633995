//! `orgform diff`: the declared org at two git commits, compared. Reads git only: no
//! provider, no credentials (safe on pull requests from forks).

use clap::ValueEnum;

use super::validate::check;
use super::{Exit, Globals};
use crate::diagnostic::{self, Severity};
use crate::diff::{self, Declared, Side};
use crate::manifest::{self, Repo};
use crate::model::Desired;
use crate::render;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The commit to compare against, e.g. the pull request's base (`origin/main`).
    #[arg(long, value_name = "REF")]
    pub base: String,
    /// The commit to compare. Defaults to HEAD, the commit checked out; uncommitted
    /// changes are not part of a diff.
    #[arg(long, value_name = "REF", default_value = "HEAD")]
    pub head: String,
    /// Output format: `text` for terminals, `markdown` for PR comments, `json` for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Exit 0 when both commits declare the same org, 2 when they differ, 1 on any error.
pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let Some((base, base_commit)) = load(globals, &args.base)? else {
        return Ok(Exit::Error);
    };
    let Some((head, head_commit)) = load(globals, &args.head)? else {
        return Ok(Exit::Error);
    };
    let (base_desired, head_desired) = (
        Desired::from_manifests(&base.manifests),
        Desired::from_manifests(&head.manifests),
    );
    let diff = diff::diff(
        Declared {
            desired: &base_desired,
            config: &base.config,
        },
        Declared {
            desired: &head_desired,
            config: &head.config,
        },
        (
            Side {
                reference: args.base.clone(),
                commit: base_commit,
            },
            Side {
                reference: args.head.clone(),
                commit: head_commit,
            },
        ),
    );
    match args.format {
        Format::Text => print!("{}", render::diff_text(&diff)),
        Format::Markdown => print!("{}", render::diff_markdown(&diff)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&diff)?),
    }
    Ok(if diff.is_empty() {
        Exit::Ok
    } else {
        Exit::Changes
    })
}

/// The repository at `reference`, validated; `None` (diagnostics printed) when its
/// manifests have errors: a diff of manifests orgform cannot read would mislead.
fn load(globals: &Globals, reference: &str) -> anyhow::Result<Option<(Repo, String)>> {
    let at = manifest::git::load_at_ref(&globals.dir, reference)?;
    let diagnostics = check(&at.repo);
    if diagnostics.iter().any(|d| d.is_error()) {
        for d in diagnostics.iter().filter(|d| d.severity == Severity::Error) {
            eprintln!(
                "{}",
                diagnostic::render_text(d, &at.repo.sources, globals.color)
            );
        }
        eprintln!(
            "The manifests at `{reference}` are invalid: fix them (`orgform validate --git-ref {reference}` lists the problems), then diff again."
        );
        return Ok(None);
    }
    Ok(Some((at.repo, at.commit)))
}
