//! The pull-request comment: summary table first, destructive changes and blocked items
//! called out, per-kind details collapsed, and a hard size cap.

use super::{describe_fields, marker};
use crate::plan::{Danger, Plan};

/// GitHub rejects comments over 65,536 characters; stay well below.
pub const MAX_MARKDOWN_BYTES: usize = 60_000;

/// Identifies orgform's comment so CI can update it in place (one sticky comment).
const COMMENT_TAG: &str = "<!-- orgform-plan -->";

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(plan: &Plan, against: &str, max_bytes: usize) -> String {
    let s = &plan.summary;
    let mut out = format!("{COMMENT_TAG}\n### orgform plan\n\n");
    out.push_str(&format!(
        "`{}` against {}{}\n\n",
        plan.source.manifests,
        against,
        plan.source
            .git_commit
            .as_deref()
            .map(|c| format!(" at `{}`", &c[..c.len().min(12)]))
            .unwrap_or_default()
    ));
    out.push_str("| create | update | delete | rename | replace | manual | blocked |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} |\n\n",
        s.create, s.update, s.delete, s.rename, s.replace, s.manual, s.blocked
    ));
    if plan.changes.is_empty() && plan.blocked.is_empty() {
        out.push_str("✅ **No changes**: the live org matches the manifests.\n");
    }
    let destructive: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.danger == Danger::Destructive)
        .collect();
    if !destructive.is_empty() {
        out.push_str(&format!(
            "> [!CAUTION]\n> **{} destructive change(s)** — applying needs `--allow-destroy`:\n",
            destructive.len()
        ));
        for c in destructive {
            out.push_str(&format!(
                "> - `{}` `{}` **{}** — {}{}\n",
                marker(c.action),
                c.kind,
                cell(&c.key),
                format!("{:?}", c.action).to_lowercase(),
                c.note
                    .as_deref()
                    .map(|n| format!(": {}", cell(n)))
                    .unwrap_or_default()
            ));
        }
        out.push('\n');
    }
    if !plan.blocked.is_empty() {
        out.push_str(&format!(
            "> [!WARNING]\n> **{} blocked item(s)** — never applied; `plan` fails until they are resolved:\n",
            plan.blocked.len()
        ));
        for b in &plan.blocked {
            out.push_str(&format!(
                "> - `{}` **{}** — `{}`: {}\n",
                b.kind,
                cell(&b.key),
                b.rule,
                cell(&b.message)
            ));
        }
        out.push('\n');
    }
    if !plan.warnings.is_empty() {
        out.push_str("**Warnings**\n");
        for w in &plan.warnings {
            let at = w
                .origin
                .as_deref()
                .map(|o| format!(" (`{o}`)"))
                .unwrap_or_default();
            out.push_str(&format!("- `{}`: {}{at}\n", w.rule, cell(&w.message)));
        }
        out.push('\n');
    }
    let footer_room = 400;
    let mut omitted = 0usize;
    for (kind, changes) in plan.by_kind() {
        let mut section = format!(
            "<details><summary><b>{}</b> ({})</summary>\n\n| | key | change | danger |\n|---|---|---|---|\n",
            kind.plural(),
            changes.len()
        );
        let mut shown = 0;
        for c in &changes {
            let mut what = describe_fields(c);
            if let Some(note) = &c.note {
                what = if what.is_empty() {
                    note.clone()
                } else {
                    format!("{what} — {note}")
                };
            }
            let danger = match c.danger {
                Danger::Safe => "safe",
                Danger::Disruptive => "⚠️ disruptive",
                Danger::Destructive => "🛑 destructive",
            };
            let row = format!(
                "| `{}` | `{}` | {} | {} |\n",
                marker(c.action),
                cell(&c.key),
                cell(&what),
                danger
            );
            if out.len() + section.len() + row.len() + footer_room > max_bytes {
                break;
            }
            section.push_str(&row);
            shown += 1;
        }
        omitted += changes.len() - shown;
        if shown > 0 {
            section.push_str("\n</details>\n\n");
            out.push_str(&section);
        }
    }
    if omitted > 0 {
        out.push_str(&format!(
            "_Plan truncated to fit a comment: {omitted} change(s) not shown. The full plan is in the job log (`orgform plan --format json`)._\n"
        ));
    }
    out
}
