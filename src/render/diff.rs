//! The declared-org diff as text (terminals, job logs) and markdown (PR comments, job
//! summaries). Long text values show word by word: `[-removed-]{+added+}` in text,
//! ~~removed~~ **added** in markdown.

use serde_json::Value;

use super::escape::{Place, markdown_code, markdown_text, printable};
use super::{MAX_MARKDOWN_BYTES, show};
use crate::diff::{Change, Diff, Entry, Field, WordOp};

/// Identifies orgform's diff in a comment or job summary.
const COMMENT_TAG: &str = "<!-- orgform-diff -->";

fn marker(change: Change) -> &'static str {
    match change {
        Change::Added => "+",
        Change::Removed => "-",
        Change::Changed => "~",
        Change::Renamed => ">",
    }
}

fn side(reference: &str, commit: &str) -> String {
    let short: String = commit.chars().take(12).collect();
    format!("{reference} ({short})")
}

fn summary_line(diff: &Diff) -> String {
    let s = &diff.summary;
    format!(
        "{} added, {} removed, {} changed, {} renamed",
        s.added, s.removed, s.changed, s.renamed
    )
}

/// Entries grouped by kind, in kind order.
fn by_kind(diff: &Diff) -> Vec<(crate::diff::Kind, Vec<&Entry>)> {
    let mut groups: Vec<(crate::diff::Kind, Vec<&Entry>)> = Vec::new();
    for e in &diff.changes {
        match groups.last_mut() {
            Some((kind, list)) if *kind == e.kind => list.push(e),
            _ => groups.push((e.kind, vec![e])),
        }
    }
    groups
}

/// A value as people read it; `""` for an empty string so it is seen.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        other => show(other),
    }
}

fn text_field(f: &Field) -> String {
    if let Some(words) = &f.words {
        let body: String = words
            .iter()
            .map(|w| match w.op {
                WordOp::Equal => w.text.clone(),
                WordOp::Delete => format!("[-{}-]", w.text),
                WordOp::Insert => format!("{{+{}+}}", w.text),
            })
            .collect();
        return format!("{}: {body}", f.field);
    }
    match (&f.before, &f.after) {
        (Value::Null, after) => format!("{}: {}", f.field, shown(after)),
        (before, Value::Null) => format!("{}: {}", f.field, shown(before)),
        (before, after) => format!("{}: {} → {}", f.field, shown(before), shown(after)),
    }
}

fn text_fields(e: &Entry) -> String {
    e.fields
        .iter()
        // An added or removed empty description says nothing.
        .filter(|f| !crate::diff::only_empty(&f.before, &f.after))
        .map(text_field)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn diff_text(diff: &Diff) -> String {
    let mut out = format!(
        "Declared org: {} → {}\n",
        printable(&side(&diff.base.reference, &diff.base.commit)),
        printable(&side(&diff.head.reference, &diff.head.commit))
    );
    if diff.is_empty() {
        out.push_str("\nNo differences: both commits declare the same org.\n");
        return out;
    }
    let width = diff
        .changes
        .iter()
        .map(|e| printable(&e.key).chars().count())
        .max()
        .unwrap_or(0)
        .min(48);
    for (kind, entries) in by_kind(diff) {
        out.push_str(&format!("\n{}\n", kind.plural()));
        for e in entries {
            let line = format!(
                "  {} {:<width$}  {}",
                marker(e.change),
                printable(&e.key),
                printable(&text_fields(e))
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.push_str(&format!("\nDiff: {}.\n", summary_line(diff)));
    out
}

fn markdown_field(f: &Field) -> String {
    let name = markdown_text(&f.field);
    if let Some(words) = &f.words {
        let body: String = words
            .iter()
            .map(|w| {
                let text = markdown_text(w.text.trim());
                // Emphasis markers must hug the words; the spaces stay outside.
                let (lead, trail) = spaces(&w.text);
                match w.op {
                    _ if text.is_empty() => w.text.clone(),
                    WordOp::Equal => format!("{lead}{text}{trail}"),
                    WordOp::Delete => format!("{lead}~~{text}~~{trail}"),
                    WordOp::Insert => format!("{lead}**{text}**{trail}"),
                }
            })
            .collect();
        return format!("{name}: {body}");
    }
    let code = |v: &Value| markdown_code(&shown(v), Place::Line);
    match (&f.before, &f.after) {
        (Value::Null, after) => format!("{name}: {}", code(after)),
        (before, Value::Null) => format!("{name}: {}", code(before)),
        (before, after) => format!("{name}: {} → {}", code(before), code(after)),
    }
}

fn spaces(s: &str) -> (&str, &str) {
    let lead = &s[..s.len() - s.trim_start().len()];
    let trail = &s[s.trim_end().len()..];
    (lead, trail)
}

/// Kept free for the note on what was left out.
const FOOTER_ROOM: usize = 400;

fn markdown_entry(e: &Entry) -> String {
    let fields: Vec<String> = e
        .fields
        .iter()
        .filter(|f| !crate::diff::only_empty(&f.before, &f.after))
        .map(markdown_field)
        .collect();
    let fields = if fields.is_empty() {
        String::new()
    } else {
        format!(" — {}", fields.join(", "))
    };
    format!(
        "- `{}` {}{fields}\n",
        marker(e.change),
        markdown_code(&e.key, Place::Line)
    )
}

/// The diff for a PR comment or a job summary (it carries its own hidden marker), at
/// most [`MAX_MARKDOWN_BYTES`].
pub fn diff_markdown(diff: &Diff) -> String {
    let s = &diff.summary;
    let mut out = format!(
        "{COMMENT_TAG}\n### orgform diff\n\nDeclared org {} → {}\n\n",
        markdown_code(&side(&diff.base.reference, &diff.base.commit), Place::Line),
        markdown_code(&side(&diff.head.reference, &diff.head.commit), Place::Line),
    );
    if diff.is_empty() {
        out.push_str("✅ **No differences**: both commits declare the same org.\n");
        return out;
    }
    out.push_str("| added | removed | changed | renamed |\n|---:|---:|---:|---:|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} |\n",
        s.added, s.removed, s.changed, s.renamed
    ));
    // Comments are capped (65,536 characters): entries that do not fit are counted.
    let mut left_out = 0;
    for (kind, entries) in by_kind(diff) {
        let heading = format!("\n**{}**\n\n", kind.plural());
        let mut shown_heading = false;
        for e in entries {
            let item = markdown_entry(e);
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
            "\n_…and {left_out} more change(s) not shown here: run `orgform diff` for the full diff._\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Kind, Side, Summary};

    #[test]
    fn a_huge_diff_fits_a_comment_and_says_what_it_left_out() {
        let changes: Vec<Entry> = (0..5_000)
            .map(|n| Entry {
                kind: Kind::User,
                key: format!("user{n}@acme.com"),
                change: Change::Added,
                fields: Vec::new(),
            })
            .collect();
        let side = |r: &str| Side {
            reference: r.to_string(),
            commit: "0".repeat(40),
        };
        let diff = Diff {
            format_version: 1,
            base: side("main"),
            head: side("HEAD"),
            summary: Summary {
                added: changes.len(),
                ..Summary::default()
            },
            changes,
        };
        let md = diff_markdown(&diff);
        assert!(md.len() <= MAX_MARKDOWN_BYTES, "{}", md.len());
        let shown = md.matches("- `+` `user").count();
        assert!(shown > 1_000, "{shown}");
        assert!(
            md.ends_with(&format!(
                "_…and {} more change(s) not shown here: run `orgform diff` for the full diff._\n",
                5_000 - shown
            )),
            "{}",
            &md[md.len() - 200..]
        );
    }
}
