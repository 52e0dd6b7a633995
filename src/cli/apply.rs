//! `orgform apply`: the only command that writes to the org.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::plan::prepare;
use super::{Exit, Globals};
use crate::apply::{
    self, Observer, Outcome, Report, audit, journal,
    lock::{self, ApplyLock},
    precondition,
};
use crate::config::Config;
use crate::plan::{self, Change, Danger, Plan};
use crate::render::{self, printable};
use crate::sandbox::store::Access;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved by `orgform plan --out FILE`: applied exactly, if the live org has
    /// not changed since. Without it, orgform plans now and asks for confirmation.
    pub plan: Option<PathBuf>,
    /// Apply without asking (required when there is no terminal, e.g. in CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Give up interrupted applies on this org instead of finishing them first: their
    /// unfinished changes will not be made.
    #[arg(long)]
    pub discard_interrupted: bool,
    /// Allow destructive changes (deleting objects, retyping keys, replacing users).
    /// `policy.max_deletions` still applies.
    #[arg(long)]
    pub allow_destroy: bool,
    #[command(flatten)]
    pub connection: super::provider::Connection,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let root = &globals.dir;
    let Some(mut prepared) = prepare(globals, Access::ReadWrite)? else {
        return Ok(Exit::Error);
    };
    let config = prepared.repo.config.clone();
    let against = prepared.against.clone();
    let audit_path = root.join(&config.audit.path);
    let checkout = prepared.git_commit();
    let record = |outcome: &str, reason: Option<String>, plan: &Plan, report: Option<&Report>| {
        let mut entry = audit_record(root, &against, outcome, reason, plan, report);
        // A plan file that could not be read records no commit: the checkout's, then.
        entry.git_commit = entry.git_commit.or_else(|| checkout.clone());
        audit::append(&audit_path, &entry)
            .with_context(|| format!("writing the audit log {}", audit_path.display()))
    };
    // Says why nothing is applied, on stderr and in the audit log.
    let refuse = |reason: String, plan: &Plan| -> anyhow::Result<Exit> {
        record("refused", Some(reason.clone()), plan, None)?;
        eprintln!("{reason}");
        Ok(Exit::Error)
    };
    let state = apply::state::dir(&prepared.provider.identity());
    let journal_dir = journal::dir(&state);

    let saved = match &args.plan {
        Some(file) => match read_plan(&root.join(file)) {
            Ok(saved) => Some(saved),
            Err(e) => {
                return refuse(
                    format!("Refusing to apply: {e:#}. Nothing was written."),
                    &Plan::default(),
                );
            }
        },
        None => None,
    };
    // Asked on a terminal: plan, show, ask — and read the org again under the lock,
    // since it may change while the question is open.
    let mut confirmed: Option<Plan> = None;
    if saved.is_none() && !args.auto_approve {
        let live = prepared.read_live()?;
        let fresh = prepared.plan_against(&live);
        print!("{}", render::text(&fresh, &against, globals.color_stdout));
        if fresh.changes.is_empty() {
            // Not under the lock yet: an unfinished journal may be a running apply's.
            return nothing_to_apply(root, &fresh, journal::pending(&state)?);
        }
        if let Some(refusal) = guard(&fresh, &config, args.allow_destroy) {
            return refuse(refusal, &fresh);
        }
        if !confirm(&fresh, &against)? {
            eprintln!("Apply cancelled: nothing was written.");
            return Ok(Exit::Error);
        }
        confirmed = Some(fresh);
    }

    let _lock = match ApplyLock::acquire(&lock::path(&state), "apply") {
        Ok(lock) => lock,
        Err(e) => {
            let plan = saved
                .as_ref()
                .or(confirmed.as_ref())
                .cloned()
                .unwrap_or_default();
            return refuse(
                format!("Refusing to apply: {e}. Nothing was written."),
                &plan,
            );
        }
    };
    // The one read of the live org that preconditions are checked against.
    let live = prepared.read_live()?;
    let plan = match (saved, confirmed) {
        (Some(plan), _) | (None, Some(plan)) => plan,
        (None, None) => {
            let plan = prepared.plan_against(&live);
            print!("{}", render::text(&plan, &against, globals.color_stdout));
            plan
        }
    };
    if plan.changes.is_empty() {
        let unfinished = journal::unfinished(&journal_dir)?;
        let pending = (!unfinished.is_empty()).then_some(journal::Pending::Interrupted(unfinished));
        return nothing_to_apply(root, &plan, pending);
    }
    if let Some(refusal) = guard(&plan, &config, args.allow_destroy) {
        return refuse(refusal, &plan);
    }
    let digest = apply::plan_digest(&plan);
    let pending = journal::unfinished(&journal_dir)?;
    let resumed = pending.iter().find(|p| p.digest == digest);
    let interrupted: Vec<journal::Progress> = pending
        .iter()
        .filter(|p| p.digest != digest)
        .cloned()
        .collect();
    if resumed.is_none() && !interrupted.is_empty() && !args.discard_interrupted {
        return refuse(interrupted_reason(root, &interrupted), &plan);
    }
    if resumed.is_none() {
        if plan::fingerprint(&live, &config.policy.unmanaged) != plan.actual_fingerprint {
            return refuse(stale_reason(&plan, &live, &config.policy.unmanaged), &plan);
        }
        if let Some(reason) = mismatch_reason(&plan, &prepared.plan_against(&live)) {
            return refuse(reason, &plan);
        }
    }

    let (mut journal, already) = match resumed {
        Some(progress) => {
            eprintln!(
                "Resuming an interrupted apply of this plan ({} of {} changes were done; journal {}).",
                progress.done.len(),
                plan.changes.len(),
                progress.path.display()
            );
            (
                journal::Journal::resume(&progress.path)?,
                progress.done.clone(),
            )
        }
        None => {
            // Only now, with the new plan accepted, are the interrupted ones given up.
            if !interrupted.is_empty() {
                journal::supersede(&interrupted)?;
                eprintln!(
                    "Discarded {} interrupted apply(s), as asked; their unfinished changes will not be made.",
                    interrupted.len()
                );
            }
            (
                journal::Journal::begin(&journal_dir, &plan, &digest)?,
                Default::default(),
            )
        }
    };
    let mut observer = ProgressObserver::new(plan.changes.len(), globals.color);
    let report = apply::execute(
        &plan,
        prepared.provider.as_mut(),
        &live,
        &mut journal,
        &already,
        &mut observer,
    );
    observer.finish();
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            // The journal could not be written: stop, and say so everywhere we can.
            let reason = format!(
                "the journal {} could not be written: {e}",
                journal.path.display()
            );
            let _ = record("error", Some(reason.clone()), &plan, None);
            anyhow::bail!("{reason}; run the same apply again once the disk is fixed");
        }
    };
    print_summary(&plan, &report, &journal.path);
    let ok = report.succeeded();
    // The summary comes first: if the audit log cannot be written, what happened is
    // still on screen.
    if let Err(e) = record(
        if ok { "applied" } else { "partial" },
        None,
        &plan,
        Some(&report),
    ) {
        eprintln!("error: {e:#}");
        return Ok(Exit::Error);
    }
    // Blocked items are part of what was asked for and is not done: not a success.
    Ok(if ok && plan.blocked.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

/// A plan with no changes: still not a success while blocked items, a running apply
/// or interrupted applies remain.
fn nothing_to_apply(
    root: &Path,
    plan: &Plan,
    pending: Option<journal::Pending>,
) -> anyhow::Result<Exit> {
    eprintln!("Nothing to apply: the plan has no changes.");
    match pending {
        Some(journal::Pending::Interrupted(interrupted)) => {
            eprintln!("{}", interrupted_reason(root, &interrupted));
            return Ok(Exit::Error);
        }
        Some(journal::Pending::Running(holder)) => {
            eprintln!(
                "{} is running against this org{}: wait for it to finish, then plan again.",
                lock::Holder::command(holder.as_ref()),
                lock::Holder::process(holder.as_ref())
            );
            return Ok(Exit::Error);
        }
        None => {}
    }
    if !plan.blocked.is_empty() {
        eprintln!(
            "{} blocked item(s) remain (see the plan): resolve them, then plan again.",
            plan.blocked.len()
        );
        return Ok(Exit::Error);
    }
    Ok(Exit::Ok)
}

fn audit_record(
    root: &Path,
    against: &str,
    outcome: &str,
    reason: Option<String>,
    plan: &Plan,
    report: Option<&Report>,
) -> audit::Record {
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
    audit::Record {
        time: journal::now(),
        actor: audit::actor(root),
        git_commit: plan.source.git_commit.clone(),
        provider: against.to_string(),
        plan_fingerprint: plan.actual_fingerprint.clone(),
        outcome: outcome.to_string(),
        reason,
        changes,
    }
}

/// Why a new apply must wait: an earlier one on this org did not finish.
fn interrupted_reason(root: &Path, interrupted: &[journal::Progress]) -> String {
    let list: Vec<String> = interrupted
        .iter()
        .map(|p| {
            let copy = journal::plan_copy(&p.path);
            let destroy = match read_plan(&copy) {
                Ok(plan) if plan.changes.iter().any(|c| c.danger == Danger::Destructive) => {
                    " --allow-destroy"
                }
                _ => "",
            };
            format!(
                "  {} of {} changes done; finish it with `orgform -C {} apply {}{destroy}`",
                p.done.len(),
                p.total,
                std::fs::canonicalize(root)
                    .unwrap_or_else(|_| root.to_path_buf())
                    .display(),
                copy.display()
            )
        })
        .collect();
    format!(
        "Refusing to apply: an earlier apply on this org was interrupted, and what it left undone may include changes no new plan can see (e.g. access to restore after re-adding a user):\n{}\nFinish it first, or pass --discard-interrupted to give it up. Nothing was written.",
        list.join("\n")
    )
}

/// Why a saved plan is not what the manifests plan now, if it is not.
fn mismatch_reason(saved: &Plan, now: &Plan) -> Option<String> {
    // Blocked items count too: a plan file with its blocked items removed would exit 0.
    let blocked = |p: &Plan| -> Vec<(crate::plan::Kind, String, crate::diagnostic::Rule)> {
        p.blocked
            .iter()
            .map(|b| (b.kind, b.key.clone(), b.rule))
            .collect()
    };
    if saved.changes == now.changes && blocked(saved) == blocked(now) {
        return None;
    }
    let show = |c: &Change| format!("{} {} {}", render::marker(c.action), c.kind, c.key);
    let extra: Vec<String> = saved
        .changes
        .iter()
        .filter(|c| !now.changes.contains(c))
        .map(|c| format!("  only in the plan file: {}", show(c)))
        .collect();
    let missing: Vec<String> = now
        .changes
        .iter()
        .filter(|c| !saved.changes.contains(c))
        .map(|c| format!("  only in a fresh plan:  {}", show(c)))
        .collect();
    let mut lines: Vec<String> = extra.into_iter().chain(missing).collect();
    if lines.is_empty() && saved.changes != now.changes {
        lines.push("  the same changes, in another order".to_string());
    }
    if blocked(saved) != blocked(now) {
        lines.push(format!(
            "  blocked items differ: {} in the plan file, {} in a fresh plan",
            saved.blocked.len(),
            now.blocked.len()
        ));
    }
    lines.truncate(20);
    Some(format!(
        "Refusing to apply: the plan file is not what the manifests here plan against the same org (it was made from other manifests, or edited):\n{}\nRun `orgform plan --out FILE` on this checkout and review it. Nothing was written.",
        lines.join("\n")
    ))
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the saved plan {}", path.display()))?;
    let not_a_plan = || {
        format!(
            "{} is not an orgform plan (save one with `orgform plan --out FILE`)",
            path.display()
        )
    };
    let json: serde_json::Value = serde_json::from_str(&text).with_context(not_a_plan)?;
    let version = json
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(plan::FORMAT_VERSION)) {
        bail!(
            "{} has plan format_version {}, but this orgform reads version {}",
            path.display(),
            version.map_or_else(|| "(none)".to_string(), |v| v.to_string()),
            plan::FORMAT_VERSION
        );
    }
    let edited = |why: String| {
        anyhow::anyhow!(
            "{} was edited after it was made: {why}. Make a fresh plan with `orgform plan --out FILE`",
            path.display()
        )
    };
    plan::integrity::verify_seal(&json).map_err(edited)?;
    let plan: Plan = serde_json::from_value(json).with_context(not_a_plan)?;
    plan::integrity::check(&plan).map_err(edited)?;
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
        let line = progress_line(index, self.total, change, outcome);
        match &self.bar {
            Some(bar) => {
                if matches!(outcome, Outcome::Failed(_) | Outcome::Skipped(_)) {
                    bar.println(&line);
                }
                bar.set_message(format!("{} {}", change.kind, printable(&change.key)));
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }
}

/// `[3/12] + user ada@acme.com … done`; names and error details are user data, so they
/// are printed with control characters escaped.
fn progress_line(index: usize, total: usize, change: &Change, outcome: &Outcome) -> String {
    format!(
        "[{}/{}] {} {} {} … {}{}",
        index + 1,
        total,
        render::marker(change.action),
        change.kind,
        printable(&change.key),
        outcome.label(),
        outcome
            .detail()
            .map(|d| format!(": {}", printable(d)))
            .unwrap_or_default()
    )
}

fn print_summary(plan: &Plan, report: &Report, journal: &Path) {
    for line in summary_lines(plan, report, journal) {
        eprintln!("{line}");
    }
}

/// What apply did, then each change that needs attention; user data escaped.
fn summary_lines(plan: &Plan, report: &Report, journal: &Path) -> Vec<String> {
    let n = |f: fn(&Outcome) -> bool| report.count(f);
    let manual = n(|o| *o == Outcome::Manual);
    let mut lines = vec![format!(
        "\nApply {}: {} done, {} already done, {} failed, {} skipped, {} manual, in {:.1}s.",
        match (report.succeeded(), manual) {
            (true, 0) => "complete",
            (true, _) => "complete but for manual steps",
            (false, _) => "incomplete",
        },
        n(|o| *o == Outcome::Done),
        n(|o| *o == Outcome::AlreadyDone),
        n(|o| matches!(o, Outcome::Failed(_))),
        n(|o| matches!(o, Outcome::Skipped(_))),
        n(|o| *o == Outcome::Manual),
        report.elapsed.as_secs_f64()
    )];
    for (c, o) in plan.changes.iter().zip(&report.outcomes) {
        let (label, detail) = match o {
            Outcome::Failed(e) => ("failed ", e.as_str()),
            Outcome::Skipped(e) => ("skipped", e.as_str()),
            Outcome::Manual => (
                "manual ",
                c.note.as_deref().unwrap_or("do it in the web app"),
            ),
            _ => continue,
        };
        lines.push(format!(
            "  {label} {} {}: {}",
            c.kind,
            printable(&c.key),
            printable(detail)
        ));
    }
    if manual > 0 {
        lines.push(
            "Do the manual steps above in the web app; changes waiting on them were skipped."
                .to_string(),
        );
    }
    if !report.succeeded() {
        lines.push(format!(
            "Once the cause is fixed, `orgform plan` shows what is left (the journal is {}).",
            printable(&journal.display().to_string())
        ));
    }
    if !plan.blocked.is_empty() {
        lines.push(format!(
            "{} blocked item(s) were not applied (see the plan): resolve them, then plan again.",
            plan.blocked.len()
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::{Action, Target};

    fn group_change(name: &str, action: Action) -> Change {
        Change::new(
            Target::Group {
                name: name.to_string(),
            },
            action,
            Danger::Safe,
        )
    }

    #[test]
    fn progress_lines_escape_names_and_errors() {
        let change = group_change("ops\x1b[2J\x1b]0;pwned\x07", Action::Create);
        let line = progress_line(
            0,
            2,
            &change,
            &Outcome::Failed("refused: `ops\x1b[2J` \r\n[2/2] faked".to_string()),
        );
        assert_eq!(
            line,
            "[1/2] + group ops\\u{1b}[2J\\u{1b}]0;pwned\\u{7} … failed: refused: `ops\\u{1b}[2J` \\u{d}\\u{a}[2/2] faked"
        );
    }

    #[test]
    fn summary_lines_escape_names_notes_and_errors() {
        let mut manual = group_change("tag\x1b[31m", Action::Manual);
        manual.note = Some("rename it in the web app: \x1b[8mhidden".to_string());
        let plan = Plan {
            changes: vec![
                group_change("a\x1b[1m", Action::Create),
                group_change("b\x07", Action::Delete),
                manual,
                group_change("fine", Action::Create),
            ],
            ..Plan::default()
        };
        let report = Report {
            outcomes: vec![
                Outcome::Failed("boom \x1b[0m".to_string()),
                Outcome::Skipped("needs `a\x1b[1m`".to_string()),
                Outcome::Manual,
                Outcome::Done,
            ],
            elapsed: Duration::from_millis(1500),
        };
        let lines = summary_lines(&plan, &report, Path::new("/tmp/j\x1b[0m"));
        assert!(
            lines
                .iter()
                .all(|l| !l.chars().any(|c| c.is_control() && c != '\n')),
            "{lines:#?}"
        );
        assert_eq!(
            &lines[1..4],
            [
                "  failed  group a\\u{1b}[1m: boom \\u{1b}[0m",
                "  skipped group b\\u{7}: needs `a\\u{1b}[1m`",
                "  manual  group tag\\u{1b}[31m: rename it in the web app: \\u{1b}[8mhidden",
            ]
        );
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("(the journal is /tmp/j\\u{1b}[0m).")),
            "{lines:#?}"
        );
    }
}
