//! `orgform drift`: the live org against the manifests, from the live side. Opens the
//! provider read-only, like `plan`: it never writes.

use clap::ValueEnum;

use super::plan::prepare_from;
use super::{Exit, Globals};
use crate::drift;
use crate::plan;
use crate::render;
use crate::sandbox::store::Access;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format: `text` for logs, `markdown` for an issue body, `json` for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Compare with orgform.yaml and the manifests of this git commit (branch, tag, SHA)
    /// instead of the files here.
    #[arg(long, value_name = "REF")]
    pub git_ref: Option<String>,
    #[command(flatten)]
    pub connection: super::provider::Connection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// SPEC §7.11: 0 converged (warnings allowed), 2 any change, manual or blocked item,
/// 1 on any error.
pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let Some(mut prepared) = prepare_from(globals, Access::ReadOnly, args.git_ref.as_deref())?
    else {
        return Ok(Exit::Error);
    };
    let live = prepared.read_live()?;
    let plan = prepared.plan_against(&live);
    // What pruning everything would also delete is kept by the policy: counted, not drift.
    let pruned = plan::plan(
        &prepared.workspace.desired,
        &live,
        &drift::prune_everything(&prepared.workspace.repo.config.policy),
        prepared.provider.capabilities(),
        plan.source.clone(),
        &prepared.workspace.repo.sources,
    );
    let report = drift::report(
        &plan,
        &live,
        &prepared.against,
        drift::kept_unpruned(&plan, &pruned),
    );
    match args.format {
        Format::Text => print!("{}", render::drift_text(&report)),
        Format::Markdown => print!("{}", render::drift_markdown(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.drifted {
        Exit::Changes
    } else {
        Exit::Ok
    })
}
