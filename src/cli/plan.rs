//! `orgform plan`: desired (manifests) × live (provider) → the plan.

use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;

use super::{Exit, Globals, provider, validate::check};
use crate::diagnostic::{self, Severity};
use crate::manifest::{self, Repo};
use crate::model::Desired;
use crate::plan::{self, Plan, Source, Warning};
use crate::render;
use crate::sandbox::store::Access;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: `text` for terminals, `markdown` for PR comments, `json` for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also save the plan as JSON to FILE, for `orgform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0 none, 1 error or blocked items).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Only plan changes of KIND (e.g. `user`, `group`), or of one object (`user/bob@vendor.io`).
    #[arg(long, value_name = "KIND[/KEY]")]
    pub target: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Everything needed to plan, short of the live org: the validated manifests as the
/// desired model, and the open provider.
pub struct Prepared {
    pub desired: Desired,
    pub repo: Repo,
    /// Validation warnings, carried into every plan.
    pub warnings: Vec<Warning>,
    /// The provider, described for people.
    pub against: String,
    pub provider: Box<dyn crate::provider::Provider>,
    git_commit: Option<String>,
}

impl Prepared {
    /// Plans against a snapshot of the live org. Pure.
    pub fn plan_against(&self, live: &crate::model::Org) -> Plan {
        let source = Source {
            manifests: self.repo.config.manifests.clone(),
            git_commit: self.git_commit.clone(),
        };
        let mut plan = plan::plan(
            &self.desired,
            live,
            &self.repo.config.policy,
            self.provider.capabilities(),
            source,
            &self.repo.sources,
        );
        plan.warnings.splice(0..0, self.warnings.iter().cloned());
        plan
    }

    /// Reads the whole live org (once per call: callers decide when).
    pub fn read_live(&mut self) -> anyhow::Result<crate::model::Org> {
        self.provider.read().context("reading the live org")
    }
}

/// Loads and validates the manifests (stopping on errors) and opens the provider
/// (`ReadOnly` unless the caller writes). `None` when validation failed (diagnostics
/// already printed).
pub fn prepare(globals: &Globals, access: Access) -> anyhow::Result<Option<Prepared>> {
    let mut repo = manifest::load_repo(&globals.dir)?;
    let diagnostics = check(&repo);
    if diagnostics.iter().any(|d| d.is_error()) {
        for d in diagnostics.iter().filter(|d| d.severity != Severity::Note) {
            eprintln!(
                "{}",
                diagnostic::render_text(d, &repo.sources, globals.color)
            );
        }
        eprintln!(
            "The manifests are invalid: nothing was planned and nothing was sent to the org."
        );
        return Ok(None);
    }
    let desired = Desired::from_manifests(&repo.manifests);
    let warnings: Vec<Warning> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| Warning {
            rule: d.rule,
            message: d.message.clone(),
            origin: d.origin.map(|o| repo.sources.locate(o)),
        })
        .collect();
    // The desired model and the warnings hold all that is needed from here on: let the
    // spanned manifests and file texts go before the live org is read (large orgs).
    repo.manifests = Default::default();
    repo.sources.forget_texts();
    let provider = provider::open(&globals.dir, &repo.config, access, globals.color)?;
    let against = provider.describe();
    // An apply that was interrupted may hold changes no new plan can see.
    if let Ok(Some(pending)) = crate::apply::journal::pending(&provider.state_dir()) {
        eprintln!("{}", pending.warning());
    }
    Ok(Some(Prepared {
        desired,
        repo,
        warnings,
        against,
        provider,
        git_commit: crate::apply::audit::git_commit(&globals.dir),
    }))
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    if !args.target.is_empty() && args.out.is_some() {
        anyhow::bail!(
            "a --target plan cannot be saved with --out: it can leave out changes its own changes need (a replaced user's memberships, a renamed tag's assignments). Save a whole plan instead"
        );
    }
    let Some(mut prepared) = prepare(globals, Access::ReadOnly)? else {
        return Ok(Exit::Error);
    };
    let live = prepared.read_live()?;
    let mut plan = prepared.plan_against(&live);
    if !args.target.is_empty() {
        let selected = |kind: &str, key: &str| {
            args.target.iter().any(|t| match t.split_once('/') {
                Some((k, rest)) => k == kind && key == rest,
                None => t == kind,
            })
        };
        plan.changes.retain(|c| selected(c.kind.as_str(), &c.key));
        plan.blocked.retain(|b| selected(b.kind.as_str(), &b.key));
        plan.summary = Plan::summarize(&plan.changes, plan.blocked.len());
    }
    let plan = &plan;

    match args.format {
        Format::Text => print!(
            "{}",
            render::text(plan, &prepared.against, globals.color_stdout)
        ),
        Format::Markdown => print!(
            "{}",
            render::markdown(plan, &prepared.against, render::MAX_MARKDOWN_BYTES)
        ),
        Format::Json => println!("{}", serde_json::to_string_pretty(plan)?),
    }
    if let Some(out) = &args.out {
        let path = globals.dir.join(out);
        let json = serde_json::to_string_pretty(plan)? + "\n";
        std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "Saved the plan to {}: apply it with `orgform apply {}`.",
            out.display(),
            out.display()
        );
    }
    Ok(exit_code(plan, args.detailed_exitcode))
}

pub fn exit_code(plan: &Plan, detailed: bool) -> Exit {
    if !plan.blocked.is_empty() {
        Exit::Error
    } else if detailed && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Ok
    }
}
