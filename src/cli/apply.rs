//! `orgform apply`: the only command that writes to the org.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::plan::{Planned, compute};
use super::{Exit, Globals, provider};
use crate::apply::{
    self, Observer, Outcome, Report, audit, journal, lock::ApplyLock, precondition,
};
use crate::config::Config;
use crate::manifest;
use crate::plan::{self, Change, Danger, Plan};
use crate::render;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved by `orgform plan --out FILE`: applied exactly, if the live org has
    /// not changed since. Without it, orgform plans now and asks for confirmation.
    pub plan: Option<PathBuf>,
    /// Apply without asking (required when there is no terminal, e.g. in CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow destructive changes (deleting objects, retyping keys, replacing users).
    /// `policy.max_deletions` still applies.
    #[arg(long)]
    pub allow_destroy: bool,
}

/// Where journals and the apply lock live, inside the repository.
const STATE_DIR: &str = ".orgform";

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let root = &globals.dir;
    let (plan, mut provider, config, against) = match &args.plan {
        Some(file) => {
            let repo = manifest::load_repo(root)?;
            let errors: Vec<_> = super::validate::check(&repo)
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            if !errors.is_empty() {
                for d in &errors {
                    eprintln!(
                        "{}",
                        crate::diagnostic::render_text(d, &repo.sources, globals.color)
                    );
                }
                bail!("the repository's manifests are invalid: nothing was applied");
            }
            let plan = read_plan(&root.join(file))?;
            let provider = provider::open(root, &repo.config, globals.color)?;
            let against = provider.describe();
            (plan, provider, repo.config, against)
        }
        None => {
            let Some(Planned {
                plan,
                repo,
                against,
                provider,
            }) = compute(globals, &[])?
            else {
                return Ok(Exit::Error);
            };
            print!("{}", render::text(&plan, &against, globals.color_stdout));
            (plan, provider, repo.config, against)
        }
    };
    if plan.changes.is_empty() {
        eprintln!("Nothing to apply: the plan has no changes.");
        if !plan.blocked.is_empty() {
            eprintln!(
                "{} blocked item(s) remain (see the plan): resolve them, then plan again.",
                plan.blocked.len()
            );
            return Ok(Exit::Error);
        }
        return Ok(Exit::Ok);
    }

    let _lock = ApplyLock::acquire(&root.join(STATE_DIR).join("apply.lock"))?;
    let audit_path = root.join(&config.audit.path);
    let record = |outcome: &str, reason: Option<String>, plan: &Plan, report: Option<&Report>| {
        let changes = plan
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let outcome = report.and_then(|r| r.outcomes.get(i));
                audit::ChangeResult {
                    kind: c.kind.to_string(),
                    key: c.key.clone(),
                    action: format!("{:?}", c.action).to_lowercase(),
                    danger: format!("{:?}", c.danger).to_lowercase(),
                    result: outcome.map_or("not-applied", Outcome::label).to_string(),
                    error: outcome.and_then(|o| o.detail()).map(str::to_string),
                }
            })
            .collect();
        let entry = audit::Record {
            time: journal::now(),
            actor: audit::actor(root),
            git_commit: plan
                .source
                .git_commit
                .clone()
                .or_else(|| audit::git_commit(root)),
            provider: against.clone(),
            plan_fingerprint: plan.actual_fingerprint.clone(),
            outcome: outcome.to_string(),
            reason,
            changes,
        };
        audit::append(&audit_path, &entry)
            .with_context(|| format!("writing the audit log {}", audit_path.display()))
    };

    if let Some(refusal) = guard(&plan, &config, args.allow_destroy) {
        record("refused", Some(refusal.clone()), &plan, None)?;
        eprintln!("{refusal}");
        return Ok(Exit::Error);
    }

    let live = provider.read().context("reading the live org")?;
    let digest = apply::plan_digest(&plan);
    let journal_dir = root.join(STATE_DIR).join("journal");
    let unfinished = journal::find_unfinished(&journal_dir, &digest)?;
    if unfinished.is_none()
        && plan::fingerprint(&live, &config.policy.unmanaged) != plan.actual_fingerprint
    {
        let reason = stale_reason(&plan, &live, &config.policy.unmanaged);
        record("refused", Some(reason.clone()), &plan, None)?;
        eprintln!("{reason}");
        return Ok(Exit::Error);
    }

    if args.plan.is_none() && !args.auto_approve && !confirm(&plan, &against)? {
        eprintln!("Apply cancelled: nothing was written.");
        return Ok(Exit::Error);
    }

    let (mut journal, already) = match unfinished {
        Some(progress) => {
            eprintln!(
                "Resuming an interrupted apply of this plan ({} of {} changes were done; journal {}).",
                progress.done.len(),
                plan.changes.len(),
                progress.path.display()
            );
            (journal::Journal::resume(&progress.path)?, progress.done)
        }
        None => {
            // A new apply makes older interrupted ones obsolete: their plans are stale.
            journal::supersede_unfinished(&journal_dir)?;
            (
                journal::Journal::begin(
                    &journal_dir,
                    &digest,
                    &plan.actual_fingerprint,
                    plan.changes.len(),
                )?,
                Default::default(),
            )
        }
    };
    let mut observer = ProgressObserver::new(plan.changes.len(), globals.color);
    let report = apply::execute(
        &plan,
        provider.as_mut(),
        &live,
        &mut journal,
        &already,
        &mut observer,
    )?;
    observer.finish();

    let ok = report.succeeded();
    record(
        if ok { "applied" } else { "partial" },
        None,
        &plan,
        Some(&report),
    )?;
    print_summary(&plan, &report);
    // Blocked items are part of what was asked for and is not done: not a success.
    Ok(if ok && plan.blocked.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the saved plan {}", path.display()))?;
    let plan: Plan = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an orgform plan (save one with `orgform plan --out FILE`)",
            path.display()
        )
    })?;
    if plan.format_version != plan::FORMAT_VERSION {
        bail!(
            "{} has plan format_version {}, but this orgform reads version {}",
            path.display(),
            plan.format_version,
            plan::FORMAT_VERSION
        );
    }
    if let Err(why) = plan::integrity::check(&plan) {
        bail!(
            "{} was edited after it was made: {why}. Make a fresh plan with `orgform plan --out FILE`",
            path.display()
        );
    }
    Ok(plan)
}

/// Why the plan must not be applied as it is, if it must not.
fn guard(plan: &Plan, config: &Config, allow_destroy: bool) -> Option<String> {
    let destructive: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.danger == Danger::Destructive)
        .collect();
    if !destructive.is_empty() && !allow_destroy {
        let list: Vec<String> = destructive
            .iter()
            .map(|c| format!("  {} {} {}", render::marker(c.action), c.kind, c.key))
            .collect();
        return Some(format!(
            "Refusing to apply: the plan has {} destructive change(s):\n{}\nRe-run with --allow-destroy to apply them. Nothing was written.",
            destructive.len(),
            list.join("\n")
        ));
    }
    // The policy may have tightened since the plan was saved: check its limits again.
    let mut changes = plan.changes.clone();
    let mut blocked = Vec::new();
    plan::enforce_deletion_limits(&mut changes, &mut blocked, &config.policy.max_deletions);
    if let Some(b) = blocked.first() {
        return Some(format!(
            "Refusing to apply: {}. Nothing was written.",
            b.message
        ));
    }
    None
}

/// Says what changed since the plan: the changes whose objects moved, if any.
fn stale_reason(
    plan: &Plan,
    live: &crate::model::Org,
    unmanaged: &crate::config::Unmanaged,
) -> String {
    let conflicts: Vec<String> = plan
        .changes
        .iter()
        .filter_map(|c| match precondition::check(live, c) {
            precondition::Precondition::Ready => None,
            precondition::Precondition::Done => Some(format!(
                "  {} {}: already done by someone else",
                c.kind, c.key
            )),
            precondition::Precondition::Conflict(why) => Some(format!("  {why}")),
        })
        .collect();
    let detail = if conflicts.is_empty() {
        "Objects this plan does not touch changed.".to_string()
    } else {
        format!("Changed since the plan:\n{}", conflicts.join("\n"))
    };
    format!(
        "Refusing to apply: the live org changed since this plan was made (fingerprint {} → {}).\n{detail}\nRun `orgform plan` again and review the new plan. Nothing was written.",
        short(&plan.actual_fingerprint),
        short(&plan::fingerprint(live, unmanaged))
    )
}

fn short(fingerprint: &str) -> &str {
    let hex = fingerprint.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

fn confirm(plan: &Plan, against: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "apply needs confirmation, and there is no terminal to ask on: pass --auto-approve (as in CI), or apply a reviewed plan file"
        );
    }
    eprint!(
        "\nApply {} change(s) to {against}? Only `yes` is accepted: ",
        plan.changes.len()
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

/// A progress bar on a terminal, one line per change otherwise (CI logs).
struct ProgressObserver {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
}

impl ProgressObserver {
    fn new(total: usize, color: bool) -> Self {
        let bar = (std::io::stderr().is_terminal() && color).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} {wide_msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        ProgressObserver { bar, total }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for ProgressObserver {
    fn step(&mut self, index: usize, change: &Change, outcome: &Outcome) {
        let line = format!(
            "[{}/{}] {} {} {} … {}{}",
            index + 1,
            self.total,
            render::marker(change.action),
            change.kind,
            change.key,
            outcome.label(),
            outcome
                .detail()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
        match &self.bar {
            Some(bar) => {
                if matches!(outcome, Outcome::Failed(_) | Outcome::Skipped(_)) {
                    bar.println(&line);
                }
                bar.set_message(format!("{} {}", change.kind, change.key));
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }
}

fn print_summary(plan: &Plan, report: &Report) {
    let n = |f: fn(&Outcome) -> bool| report.count(f);
    eprintln!(
        "\nApply {}: {} done, {} already done, {} failed, {} skipped, {} manual, in {:.1}s.",
        if report.succeeded() {
            "complete"
        } else {
            "incomplete"
        },
        n(|o| *o == Outcome::Done),
        n(|o| *o == Outcome::AlreadyDone),
        n(|o| matches!(o, Outcome::Failed(_))),
        n(|o| matches!(o, Outcome::Skipped(_))),
        n(|o| *o == Outcome::Manual),
        report.elapsed.as_secs_f64()
    );
    for (c, o) in plan.changes.iter().zip(&report.outcomes) {
        match o {
            Outcome::Failed(e) => eprintln!("  failed  {} {}: {e}", c.kind, c.key),
            Outcome::Skipped(e) => eprintln!("  skipped {} {}: {e}", c.kind, c.key),
            Outcome::Manual => eprintln!(
                "  manual  {} {}: {}",
                c.kind,
                c.key,
                c.note.as_deref().unwrap_or("do it in the web app")
            ),
            _ => {}
        }
    }
    if !report.succeeded() {
        eprintln!("Run `orgform plan` to see what is left; `orgform apply` again converges.");
    }
    if !plan.blocked.is_empty() {
        eprintln!(
            "{} blocked item(s) were not applied (see the plan): resolve them, then plan again.",
            plan.blocked.len()
        );
    }
}
