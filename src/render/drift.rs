//! The drift report as text (job logs) and markdown (an issue body). Markers read from
//! the live side: `+` in the org only, `-` missing from it, `~` different.

use super::escape::{Place, markdown_code, markdown_message, markdown_text, printable};
use super::{MAX_MARKDOWN_BYTES, show};
use crate::drift::{Field, Item, Report, State};

/// Identifies orgform's drift issue, so a scheduled job updates one issue in place.
const ISSUE_TAG: &str = "<!-- orgform-drift -->";

fn marker(state: State) -> &'static str {
    match state {
        State::NotDeclared => "+",
        State::Missing => "-",
        State::Changed => "~",
        State::Renamed => ">",
        State::Manual => "?",
        State::Blocked => "✗",
    }
}

fn label(state: State) -> &'static str {
    match state {
        State::NotDeclared => "in the org, not declared",
        State::Missing => "declared, missing from the org",
        State::Changed => "changed in the org",
        State::Renamed => "the org has the former name",
        State::Manual => "different; the API cannot change it",
        State::Blocked => "different; orgform will not change it",
    }
}

fn fields_line(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| match (&f.live, &f.declared) {
            (serde_json::Value::Null, d) => format!("{}: {} declared", f.field, show(d)),
            (l, serde_json::Value::Null) => format!("{}: {}", f.field, show(l)),
            (l, d) => format!("{}: {} in the org, {} declared", f.field, show(l), show(d)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_line(r: &Report) -> String {
    let s = &r.summary;
    format!(
        "{} not declared, {} missing, {} changed, {} renamed, {} manual; {} blocked",
        s.not_declared, s.missing, s.changed, s.renamed, s.manual, s.blocked
    )
}

fn kept_line(r: &Report) -> Option<String> {
    (r.kept_unpruned > 0).then(|| {
        format!(
            "{} live object(s) not in the manifests are kept because pruning is off for their kind (policy.prune): not drift.",
            r.kept_unpruned
        )
    })
}

fn commit(r: &Report) -> String {
    r.source
        .git_commit
        .as_deref()
        .map(|c| format!(" at {}", c.chars().take(12).collect::<String>()))
        .unwrap_or_default()
}

/// Items grouped by kind, in the plan's order.
fn by_kind(r: &Report) -> Vec<(crate::plan::Kind, Vec<&Item>)> {
    let mut groups: Vec<(crate::plan::Kind, Vec<&Item>)> = Vec::new();
    for kind in crate::plan::Kind::ALL {
        let items: Vec<&Item> = r.items.iter().filter(|i| i.kind == kind).collect();
        if !items.is_empty() {
            groups.push((kind, items));
        }
    }
    groups
}

pub fn drift_text(r: &Report) -> String {
    let mut out = format!(
        "Drift of {} from {}{}\n",
        printable(&r.against),
        printable(&r.source.manifests),
        printable(&commit(r))
    );
    if !r.drifted {
        out.push_str("\nNo drift: the live org matches the manifests.\n");
    }
    for (kind, items) in by_kind(r) {
        out.push_str(&format!("\n{}\n", kind.plural()));
        for i in items {
            let mut line = format!(
                "  {:>1} {}  ({})",
                marker(i.state),
                printable(&i.key),
                label(i.state)
            );
            let fields = fields_line(&i.fields);
            if !fields.is_empty() {
                line.push_str(&format!("  {}", printable(&fields)));
            }
            if let Some(rule) = i.rule {
                line.push_str(&format!(" [{rule}]"));
            }
            out.push_str(&line);
            out.push('\n');
            if !i.affected.is_empty() {
                out.push_str(&format!(
                    "      affects: {}\n",
                    printable(&i.affected.join(", "))
                ));
            }
            if let Some(note) = i.note.as_deref().filter(|n| *n != i.adopt) {
                out.push_str(&format!("      note: {}\n", printable(note)));
            }
            out.push_str(&format!("      adopt: {}\n", printable(&i.adopt)));
        }
    }
    if r.drifted {
        out.push_str(&format!(
            "\nRevert: {} (blocked items stay).\n",
            printable(&r.revert)
        ));
    }
    if !r.warnings.is_empty() {
        out.push_str("\nWarnings\n");
        for w in &r.warnings {
            out.push_str(&format!("  ! [{}] {}\n", w.rule, printable(&w.message)));
        }
    }
    if let Some(kept) = kept_line(r) {
        out.push_str(&format!("\n{kept}\n"));
    }
    out.push_str(&format!("\nDrift: {}.\n", summary_line(r)));
    out
}

/// Kept free for the revert line, the kept count and the note on what was left out.
const FOOTER_ROOM: usize = 1_000;

/// One item, with who it affects and how to adopt it.
fn markdown_item(i: &Item) -> String {
    let fields = fields_line(&i.fields);
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!(" — {}", markdown_text(&fields))
    };
    let rule = i.rule.map(|r| format!(" `{r}`")).unwrap_or_default();
    let mut out = format!(
        "- `{}` {} _{}_{fields}{rule}\n",
        marker(i.state),
        markdown_code(&i.key, Place::Line),
        label(i.state),
    );
    if !i.affected.is_empty() {
        let who: Vec<String> = i
            .affected
            .iter()
            .map(|e| markdown_code(e, Place::Line))
            .collect();
        out.push_str(&format!("  - affects: {}\n", who.join(", ")));
    }
    if let Some(note) = i.note.as_deref().filter(|n| *n != i.adopt) {
        out.push_str(&format!(
            "  - note: {}\n",
            markdown_message(note, Place::Line)
        ));
    }
    out.push_str(&format!(
        "  - adopt: {}\n",
        markdown_message(&i.adopt, Place::Line)
    ));
    out
}

/// The report as an issue body (it carries its own hidden marker), at most
/// [`MAX_MARKDOWN_BYTES`].
pub fn drift_markdown(r: &Report) -> String {
    let s = &r.summary;
    let mut out = format!(
        "{ISSUE_TAG}\n### orgform drift\n\n{} compared with {}{}\n\n",
        markdown_text(&r.against),
        markdown_code(&r.source.manifests, Place::Line),
        markdown_text(&commit(r)),
    );
    if !r.drifted {
        out.push_str("✅ **No drift**: the live org matches the manifests.\n");
    } else {
        out.push_str("| not declared | missing | changed | renamed | manual | blocked |\n");
        out.push_str("|---:|---:|---:|---:|---:|---:|\n");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            s.not_declared, s.missing, s.changed, s.renamed, s.manual, s.blocked
        ));
    }
    // Issue bodies are capped (65,536 characters): items that do not fit are counted.
    let mut left_out = 0;
    for (kind, items) in by_kind(r) {
        let heading = format!("\n**{}**\n\n", kind.plural());
        let mut shown_heading = false;
        for i in items {
            let item = markdown_item(i);
            if out.len() + heading.len() + item.len() + FOOTER_ROOM > MAX_MARKDOWN_BYTES {
                left_out += 1;
                continue;
            }
            if !shown_heading {
                out.push_str(&heading);
                shown_heading = true;
            }
            out.push_str(&item);
        }
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\n_…and {left_out} more item(s) not shown here: run `orgform drift` for the full report._\n"
        ));
    }
    if r.drifted {
        out.push_str(&format!(
            "\n**Revert** (blocked items stay): {}\n",
            markdown_message(&r.revert, Place::Line)
        ));
    }
    if let Some(kept) = kept_line(r) {
        out.push_str(&format!("\n_{}_\n", markdown_text(&kept)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::Summary;
    use crate::plan::{Kind, Source};

    #[test]
    fn a_huge_drift_fits_an_issue_and_says_what_it_left_out() {
        let items: Vec<Item> = (0..5_000)
            .map(|n| Item {
                kind: Kind::User,
                key: format!("user{n}@acme.com"),
                state: State::NotDeclared,
                fields: Vec::new(),
                affected: vec![format!("user{n}@acme.com")],
                adopt: format!("declare `user{n}@acme.com` in `users:`"),
                rule: None,
                note: None,
            })
            .collect();
        let report = Report {
            format_version: 1,
            source: Source::default(),
            against: "sandbox x.db".to_string(),
            drifted: true,
            summary: Summary {
                not_declared: items.len(),
                ..Summary::default()
            },
            items,
            kept_unpruned: 3,
            revert: crate::drift::REVERT.to_string(),
            warnings: Vec::new(),
        };
        let md = drift_markdown(&report);
        assert!(md.len() <= MAX_MARKDOWN_BYTES, "{}", md.len());
        let shown = md.matches("- `+` `user").count();
        assert!(shown > 100, "{shown}");
        assert!(
            md.contains(&format!(
                "_…and {} more item(s) not shown here: run `orgform drift` for the full report._",
                5_000 - shown
            )),
            "{md}"
        );
        // The way on and the kept count survive the cap.
        assert!(md.contains("**Revert**"));
        assert!(md.contains("3 live object(s)"));
    }
}
