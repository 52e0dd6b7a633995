//! `orgform plan`: desired (manifests) × live (provider) → the plan.

use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;

use super::{Exit, Globals, provider};
use crate::apply::session::{self, Loaded, Workspace};
use crate::diagnostic::{Diagnostic, Rule, Severity};
use crate::manifest::{self, Repo};
use crate::plan::target::{self, Selector};
use crate::plan::{self, Plan};
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
    /// Exit 0 only when the plan is empty (no change, manual item or blocked item),
    /// 2 when it is not, 1 on any error. Without it, plan exits 1 on blocked items.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Only plan changes of KIND (e.g. `user`, `group`), or of one object
    /// (`user/bob@vendor.io`; emails and tag names ignore case). Repeatable. A target
    /// naming an object that is neither declared nor live is an error.
    #[arg(long, value_name = "KIND[/KEY]", value_parser = Selector::parse)]
    pub target: Vec<Selector>,
    /// Read orgform.yaml and the manifests from this git commit (branch, tag, SHA)
    /// instead of the files here; the work tree is not touched.
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

/// Everything needed to plan, short of the live org: the validated manifests and the
/// open provider.
pub struct Prepared {
    pub workspace: Workspace,
    /// The provider, described for people.
    pub against: String,
    pub provider: Box<dyn crate::provider::Provider>,
    /// The provider reads only what the manifests declare (see [`Prepared::read_live`]).
    partial: bool,
}

impl Prepared {
    /// Plans against a snapshot of the live org, sealed against edits. Pure.
    pub fn plan_against(&self, live: &crate::model::Org) -> Plan {
        self.workspace
            .plan_against(live, self.provider.capabilities())
    }

    /// Reads the live org (once per call: callers decide when): what the manifests
    /// declare, and the rest of the org too when the plan needs it (SPEC §7.2).
    pub fn read_live(&mut self) -> anyhow::Result<crate::model::Org> {
        let live = self.provider.read().context("reading the live org")?;
        if !self.partial || !plan::needs_whole_org(&self.plan_against(&live)) {
            return Ok(live);
        }
        self.partial = false;
        self.provider
            .read_rest(live)
            .context("reading the access of every resource")
    }
}

/// Loads and validates the manifests (stopping on errors) and opens the provider
/// (`ReadOnly` unless the caller writes). `None` when validation failed (diagnostics
/// already printed).
pub fn prepare(globals: &Globals, access: Access) -> anyhow::Result<Option<Prepared>> {
    prepare_from(globals, access, None)
}

/// As [`prepare`], with the manifests read from the commit `git_ref` names when given.
pub fn prepare_from(
    globals: &Globals,
    access: Access,
    git_ref: Option<&str>,
) -> anyhow::Result<Option<Prepared>> {
    let (repo, commit) = load(globals, git_ref)?;
    let workspace = match Workspace::from_repo_at(&globals.dir, repo, commit) {
        Loaded::Valid(workspace) => *workspace,
        Loaded::Invalid { repo, diagnostics } => {
            // Notes are for `validate`, except the one saying which checks did not run.
            let shown: Vec<Diagnostic> = diagnostics
                .iter()
                .filter(|d| d.severity != Severity::Note || d.rule == Rule::ChecksSkipped)
                .cloned()
                .collect();
            eprint!(
                "{}",
                super::validate::render_text(&shown, &repo.sources, globals, true)
            );
            eprintln!(
                "The manifests are invalid: nothing was planned and nothing was sent to the org."
            );
            return Ok(None);
        }
    };
    let mut provider = provider::open(&globals.dir, &workspace.repo.config, access, globals)?;
    let partial = provider.set_read_scope(crate::provider::ReadScope::of(&workspace.desired));
    let against = provider.describe();
    // An apply that was interrupted may hold changes no new plan can see.
    if let Some(pending) = session::pending(provider.as_ref()) {
        eprintln!("{}", pending.warning());
    }
    Ok(Some(Prepared {
        workspace,
        against,
        provider,
        partial,
    }))
}

/// The manifests and the commit they come from: the work tree (its HEAD, `-dirty` when
/// the manifests differ from it) or the commit a git ref names.
fn load(
    globals: &Globals,
    git_ref: Option<&str>,
) -> anyhow::Result<(Repo, Option<crate::apply::audit::Commit>)> {
    Ok(match git_ref {
        Some(reference) => {
            let at = manifest::git::load_at_ref(&globals.dir, reference)?;
            let commit = crate::apply::audit::Commit {
                id: at.commit,
                dirty: false,
            };
            (at.repo, Some(commit))
        }
        None => {
            let repo = manifest::load_repo(&globals.dir)?;
            let commit = crate::apply::audit::git_commit(&globals.dir, &repo.config.manifests);
            (repo, commit)
        }
    })
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    if !args.target.is_empty() && args.out.is_some() {
        anyhow::bail!(
            "a --target plan cannot be saved with --out: it can leave out changes its own changes need (a replaced user's memberships, a renamed tag's assignments). Save a whole plan instead"
        );
    }
    let Some(mut prepared) = prepare_from(globals, Access::ReadOnly, args.git_ref.as_deref())?
    else {
        return Ok(Exit::Error);
    };
    let live = prepared.read_live()?;
    let mut plan = prepared
        .workspace
        .plan_unsealed(&live, prepared.provider.capabilities());
    if !args.target.is_empty() {
        let objects = target::objects(&prepared.workspace.desired, &live);
        if let Some(why) = args
            .target
            .iter()
            .find_map(|t| target::unknown(t, &objects))
        {
            eprintln!("error[{}]: {why}", Rule::TargetUnknown);
            return Ok(Exit::Error);
        }
        plan.changes
            .retain(|c| args.target.iter().any(|t| t.selects_change(c)));
        plan.blocked
            .retain(|b| args.target.iter().any(|t| t.selects_blocked(b)));
        plan.summary = Plan::summarize(&plan.changes, plan.blocked.len());
    }
    // The live org is not needed any more: freed before the largest moment, sealing.
    drop(live);
    plan::integrity::seal(&mut plan);
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
        if !globals.quiet {
            eprintln!(
                "Saved the plan to {}: apply it with `orgform apply {}`.",
                out.display(),
                out.display()
            );
        }
    }
    Ok(exit_code(plan, args.detailed_exitcode))
}

/// SPEC §3 and §7.11: with `--detailed-exitcode`, anything in the plan (a change, a
/// manual item, a blocked item) is 2, so a drift job sees it; without, blocked items
/// are an error.
pub fn exit_code(plan: &Plan, detailed: bool) -> Exit {
    let anything = plan.has_changes() || !plan.blocked.is_empty();
    match (detailed, anything) {
        (true, true) => Exit::Changes,
        (false, _) if !plan.blocked.is_empty() => Exit::Error,
        _ => Exit::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Blocked, Change, Danger, Kind, Target};

    fn plan(changes: Vec<Change>, blocked: Vec<Blocked>) -> Plan {
        Plan {
            summary: Plan::summarize(&changes, blocked.len()),
            changes,
            blocked,
            ..Plan::default()
        }
    }

    #[test]
    fn detailed_exit_codes_count_manual_and_blocked_items_as_drift() {
        let manual = Change::new(
            Target::ProjectTag {
                name: "gold".to_string(),
            },
            Action::Manual,
            Danger::Safe,
        );
        let blocked = Blocked {
            kind: Kind::User,
            key: "ada@acme.com".to_string(),
            rule: Rule::AdminUnremovable,
            message: "admins cannot be removed".to_string(),
        };
        let cases = [
            (plan(vec![], vec![]), Exit::Ok, Exit::Ok),
            (plan(vec![manual.clone()], vec![]), Exit::Changes, Exit::Ok),
            (
                plan(vec![], vec![blocked.clone()]),
                Exit::Changes,
                Exit::Error,
            ),
            (
                plan(vec![manual], vec![blocked]),
                Exit::Changes,
                Exit::Error,
            ),
        ];
        for (plan, detailed, plain) in cases {
            assert_eq!(exit_code(&plan, true), detailed, "{plan:?}");
            assert_eq!(exit_code(&plan, false), plain, "{plan:?}");
        }
    }
}
