//! The terminal rendering: grouped by kind, `+ ~ - >` markers, dangers called out.
//!
//! Names, descriptions and messages go through [`printable`]: only orgform's own colour
//! codes reach the terminal.

use super::escape::printable;
use super::{describe_fields, impact_parts, marker, summary_line};
use crate::plan::{Action, Danger, Plan};

pub fn text(plan: &Plan, against: &str, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = format!(
        "Plan for {} against {}\n",
        printable(&plan.source.manifests),
        printable(against)
    );
    if plan.changes.is_empty() && plan.blocked.is_empty() {
        out.push_str("\nNo changes: the live org matches the manifests.\n");
    }
    let key_width = plan
        .changes
        .iter()
        .map(|c| printable(&c.key).chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for (kind, changes) in plan.by_kind() {
        out.push_str(&format!("\n{}\n", paint("1", kind.plural())));
        for c in changes {
            let code = match c.action {
                Action::Create => "32",
                Action::Update => "33",
                Action::Delete => "31",
                Action::Rename => "36",
                Action::Replace => "35",
                Action::Manual => "34",
            };
            let mut line = format!(
                "  {} {:<key_width$}  {}",
                paint(code, &format!("{:>3}", marker(c.action))),
                printable(&c.key),
                printable(&describe_fields(c))
            );
            match c.danger {
                Danger::Destructive => {
                    line.push_str(&format!("  {}", paint("1;31", "[destructive]")))
                }
                Danger::Disruptive => line.push_str(&format!("  {}", paint("33", "[disruptive]"))),
                Danger::Safe => {}
            }
            if let Some(rule) = c.rule {
                line.push_str(&format!(" ({rule})"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if let Some(note) = &c.note {
                out.push_str(&format!("        {}\n", paint("2", &printable(note))));
            }
            for part in impact_parts(c) {
                let line = part.show(|i| printable(i).into_owned());
                out.push_str(&format!("        {}\n", paint("2", &line)));
            }
        }
    }
    if !plan.blocked.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint("1;31", "Blocked (will not be applied)")
        ));
        for b in &plan.blocked {
            out.push_str(&format!(
                "  {} {} {} [{}]\n        {}\n",
                paint("1;31", "✗"),
                b.kind,
                printable(&b.key),
                b.rule,
                printable(&b.message)
            ));
        }
    }
    if !plan.warnings.is_empty() {
        out.push_str(&format!("\n{}\n", paint("1;33", "Warnings")));
        for w in &plan.warnings {
            let at = w
                .origin
                .as_deref()
                .map(|o| format!(" ({})", printable(o)))
                .unwrap_or_default();
            out.push_str(&format!("  ! [{}] {}{at}\n", w.rule, printable(&w.message)));
        }
    }
    out.push_str(&format!("\nPlan: {}.\n", summary_line(&plan.summary)));
    out
}
