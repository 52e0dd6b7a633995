//! `orgform apply`: the only command that writes to the org. The decisions live in
//! the library ([`crate::apply::session`]); this module parses the arguments, asks,
//! shows progress and the result, and picks the exit code.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::bail;
use clap::ValueEnum;

use super::plan::{Prepared, prepare};
use super::{Exit, Globals};
use crate::apply::session::{self, Applied, Input, Options, Preview, Refused, Session, Status};
use crate::apply::{Observer, Outcome};
use crate::plan::{Change, Plan};
use crate::render::{self, printable};
use crate::sandbox::store::Access;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A plan saved by `orgform plan --out FILE`: applied exactly, each change judged
    /// against the live org as it is now. Without it, orgform plans now and asks for
    /// confirmation.
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
    /// Output format: `text` (the plan on stdout when made now), or `json`: the result
    /// of each change on stdout (the audit record), for CI.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub connection: super::provider::Connection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let Some(prepared) = prepare(globals, Access::ReadWrite)? else {
        return Ok(Exit::Error);
    };
    let Prepared {
        workspace,
        provider,
        against,
        ..
    } = prepared;
    let options = Options {
        allow_destroy: args.allow_destroy,
        discard_interrupted: args.discard_interrupted,
    };
    let mut session = Session::new(workspace, provider, options);
    let mut view = View::new(globals, args.format, against);
    let input = match &args.plan {
        Some(file) => Input::Saved(globals.dir.join(file)),
        None if args.auto_approve => Input::Fresh,
        // Asked on a terminal: plan, show, ask — the session reads the org again under
        // the lock, since it may change while the question is open.
        None => match session.preview(&mut view) {
            Err(refused) => return Ok(view.refused(&refused)),
            Ok(Preview::Nothing(applied)) => return view.finish(&applied),
            Ok(Preview::Confirm(plan)) => {
                if !confirm(&plan, &view.against)? {
                    eprintln!("Apply cancelled: nothing was written.");
                    return Ok(Exit::Error);
                }
                Input::Confirmed(plan)
            }
        },
    };
    let ready = match session.open(input, &mut view) {
        Ok(ready) => ready,
        Err(refused) => return Ok(view.refused(&refused)),
    };
    view.start(ready.plan().changes.len());
    let applied = ready.run(&mut view);
    view.stop();
    view.finish(&applied?)
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

/// What a person (or a CI log) sees: the plan when it is made now, progress (a bar on
/// a terminal, one line per change otherwise), notes, and the result. `--quiet` keeps
/// only what explains a failure.
struct View {
    format: Format,
    quiet: bool,
    color: bool,
    color_stdout: bool,
    against: String,
    bar: Option<indicatif::ProgressBar>,
    total: usize,
}

impl View {
    fn new(globals: &Globals, format: Format, against: String) -> Self {
        View {
            format,
            quiet: globals.quiet,
            color: globals.color,
            color_stdout: globals.color_stdout,
            against,
            bar: None,
            total: 0,
        }
    }

    fn start(&mut self, total: usize) {
        self.total = total;
        if self.quiet || !(std::io::stderr().is_terminal() && self.color) {
            return;
        }
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        self.bar = Some(bar);
    }

    fn stop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn refused(&self, refused: &Refused) -> Exit {
        eprintln!("{refused}");
        if let Some(e) = &refused.audit_error {
            eprintln!("error: {e}");
        }
        self.print_record(&refused.record);
        Exit::Error
    }

    fn finish(&self, applied: &Applied) -> anyhow::Result<Exit> {
        let ok = applied.succeeded();
        if !self.quiet || !ok {
            for line in summary_lines(applied) {
                // Quiet: no spacing, only what explains the failure.
                if !(self.quiet && line.is_empty()) {
                    eprintln!("{line}");
                }
            }
        }
        // After the summary: if the audit log cannot be written, what happened is
        // still on screen.
        if let Some(e) = &applied.audit_error {
            eprintln!("error: {e}");
        }
        self.print_record(&applied.record);
        Ok(if ok { Exit::Ok } else { Exit::Error })
    }

    fn print_record(&self, record: &crate::apply::audit::Record) {
        if self.format == Format::Json {
            match serde_json::to_string_pretty(record) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: the result could not be written as JSON: {e}"),
            }
        }
    }
}

impl Observer for View {
    fn step(&mut self, index: usize, change: &Change, outcome: &Outcome) {
        if self.quiet {
            return;
        }
        let line = progress_line(index, self.total, change, outcome);
        match &self.bar {
            Some(bar) => {
                if matches!(
                    outcome,
                    Outcome::Failed(_) | Outcome::Skipped(_) | Outcome::Conflicting(_)
                ) {
                    bar.println(&line);
                }
                bar.set_message(format!("{} {}", change.kind, printable(&change.key)));
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    fn planned(&mut self, plan: &Plan) {
        if self.format == Format::Text && !self.quiet {
            print!("{}", render::text(plan, &self.against, self.color_stdout));
        }
    }

    fn note(&mut self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
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
            .map(|d| format!(": {}", printable(without_name(change, d))))
            .unwrap_or_default()
    )
}

/// A detail that starts with the change's own name (`group g: the object to rename is
/// gone`) without it, since the line names the change already.
fn without_name<'a>(change: &Change, detail: &'a str) -> &'a str {
    let name = format!("{} {}", change.kind, change.key);
    detail
        .strip_prefix(&name)
        .map(|rest| rest.trim_start_matches(':').trim_start())
        .filter(|rest| !rest.is_empty())
        .unwrap_or(detail)
}

/// Each change that needs attention, what to do about it, and last one line saying
/// what happened and why the exit code is what it is; user data escaped.
fn summary_lines(applied: &Applied) -> Vec<String> {
    let (plan, report) = (&applied.plan, &applied.report);
    let mut lines = Vec::new();
    if let Status::Ran { .. } = applied.status {
        lines.push(String::new());
    }
    for (c, o) in plan.changes.iter().zip(&report.outcomes) {
        let (label, detail) = match o {
            Outcome::Failed(e) => ("failed     ", e.as_str()),
            Outcome::Conflicting(e) => ("conflicting", e.as_str()),
            Outcome::Skipped(e) => ("skipped    ", e.as_str()),
            Outcome::Manual => (
                "manual     ",
                c.note.as_deref().unwrap_or("do it in the web app"),
            ),
            _ => continue,
        };
        lines.push(format!(
            "  {label} {}: {}",
            session::name(c),
            printable(without_name(c, detail))
        ));
    }
    let count = |f: fn(&Outcome) -> bool| report.count(f);
    if count(|o| *o == Outcome::Manual) > 0 {
        lines.push(
            "Do the manual steps above in the web app; changes waiting on them were skipped."
                .to_string(),
        );
    }
    if count(|o| matches!(o, Outcome::Conflicting(_))) > 0 {
        lines.push(
            "Conflicting changes were refused: the live org changed since the plan was made. Make a new plan (`orgform plan --out FILE`), review it, and apply that plan."
                .to_string(),
        );
    }
    if let Status::Ran { journal, .. } = &applied.status
        && count(|o| matches!(o, Outcome::Failed(_) | Outcome::Skipped(_))) > 0
    {
        lines.push(format!(
            "Once the cause is fixed, `orgform plan` shows what is left (the journal is {}).",
            printable(&journal.display().to_string())
        ));
    }
    lines.push(last_line(applied));
    lines
}

/// `Applied 30 changes in 0.4s; 1 blocked: user root@acme.com [admin-unremovable].`
fn last_line(applied: &Applied) -> String {
    let (plan, report) = (&applied.plan, &applied.report);
    let changes = |n: usize| format!("{n} change{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![match &applied.status {
        Status::Ran { .. } => {
            let already = report.count(|o| *o == Outcome::AlreadyDone);
            format!(
                "Applied {}{} in {:.1}s",
                changes(report.count(|o| *o == Outcome::Done)),
                if already > 0 {
                    format!(" ({already} already done)")
                } else {
                    String::new()
                },
                report.elapsed.as_secs_f64()
            )
        }
        Status::NoChanges => "Nothing to apply: the plan has no changes".to_string(),
        Status::AlreadyApplied { at, by } => format!(
            "This plan was already applied at {at}{}; nothing to do",
            by.as_ref()
                .map(|b| format!(" by {}", printable(b)))
                .unwrap_or_default()
        ),
        Status::AlreadyHolds => format!(
            "Nothing to do: every change of this plan ({}) already holds in the live org",
            changes(plan.changes.len())
        ),
    }];
    let named = |f: fn(&Outcome) -> bool, what: &str| {
        let names: Vec<String> = plan
            .changes
            .iter()
            .zip(&report.outcomes)
            .filter(|(_, o)| f(o))
            .map(|(c, _)| session::name(c))
            .collect();
        (!names.is_empty()).then(|| format!("{} {what}: {}", names.len(), list(&names)))
    };
    parts.extend(named(|o| matches!(o, Outcome::Failed(_)), "failed"));
    parts.extend(named(
        |o| matches!(o, Outcome::Conflicting(_)),
        "conflicting",
    ));
    parts.extend(named(|o| matches!(o, Outcome::Skipped(_)), "skipped"));
    parts.extend(named(|o| *o == Outcome::Manual, "manual"));
    let blocked = session::blocked_names(plan);
    if !blocked.is_empty() {
        parts.push(format!("{} blocked: {}", blocked.len(), list(&blocked)));
    }
    format!("{}.", parts.join("; "))
}

/// The first three names, then how many more.
fn list(names: &[String]) -> String {
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{}, and {} more", names[..3].join(", "), n - 3),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::apply::Report;
    use crate::plan::{Action, Danger, Target};

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
        let applied = Applied {
            plan,
            report,
            status: Status::Ran {
                journal: PathBuf::from("/tmp/j\x1b[0m"),
                resumed: false,
            },
            record: crate::apply::audit::Record {
                time: String::new(),
                actor: String::new(),
                git_commit: None,
                provider: String::new(),
                plan_fingerprint: String::new(),
                plan_digest: String::new(),
                outcome: String::new(),
                reason: None,
                changes: Vec::new(),
            },
            audit_error: None,
        };
        let lines = summary_lines(&applied);
        assert!(
            lines
                .iter()
                .all(|l| !l.chars().any(|c| c.is_control() && c != '\n')),
            "{lines:#?}"
        );
        assert_eq!(
            &lines[1..4],
            [
                "  failed      group a\\u{1b}[1m: boom \\u{1b}[0m",
                "  skipped     group b\\u{7}: needs `a\\u{1b}[1m`",
                "  manual      group tag\\u{1b}[31m: rename it in the web app: \\u{1b}[8mhidden",
            ]
        );
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("(the journal is /tmp/j\\u{1b}[0m).")),
            "{lines:#?}"
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some(
                "Applied 1 change in 1.5s; 1 failed: group a\\u{1b}[1m; 1 skipped: group b\\u{7}; 1 manual: group tag\\u{1b}[31m."
            )
        );
    }
}
