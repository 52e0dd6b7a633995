//! Plan renderings: text for terminals, markdown for PR comments, JSON for tools.

mod diff;
mod drift;
pub mod escape;
mod markdown;
mod text;

pub use diff::{diff_markdown, diff_text};
pub use drift::{drift_markdown, drift_text};
pub use escape::printable;
pub use markdown::{MAX_MARKDOWN_BYTES, markdown};
pub use text::text;

use serde_json::Value;

use crate::plan::{Action, Change};

/// A JSON value as people read it: strings bare, the rest compact JSON.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(map) if map.len() == 1 => {
            // Metadata types: {"enum": [...]} → enum [a, b]; {"embedding": 512} → embedding 512
            let Some((k, inner)) = map.iter().next() else {
                return v.to_string();
            };
            match inner {
                Value::Array(items) => format!(
                    "{k} [{}]",
                    items.iter().map(show).collect::<Vec<_>>().join(", ")
                ),
                other => format!("{k} {}", show(other)),
            }
        }
        other => other.to_string(),
    }
}

/// `role: member → admin`, `role: admin` (create), `description: "" → "x"`.
pub(crate) fn describe_fields(c: &Change) -> String {
    let shown = |v: &Value| match v {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        other => show(other),
    };
    c.fields
        .iter()
        // Unchanged fields (kept in the plan for apply) and empty descriptions say nothing.
        .filter(|f| f.before != f.after)
        .filter(|f| !(f.field == "description" && f.before.is_null() && f.after == ""))
        .filter(|f| !(f.field == "description" && f.after.is_null() && f.before == ""))
        .map(|f| match (&f.before, &f.after) {
            (Value::Null, after) => format!("{}: {}", f.field, shown(after)),
            (before, Value::Null) => format!("{}: {}", f.field, shown(before)),
            (before, after) => format!("{}: {} → {}", f.field, shown(before), shown(after)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn marker(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::Rename => ">",
        Action::Replace => "-/+",
        Action::Manual => "?",
    }
}

pub(crate) fn summary_line(s: &crate::plan::Summary) -> String {
    format!(
        "{} to create, {} to update, {} to delete, {} to rename, {} to replace, {} manual; {} blocked",
        s.create, s.update, s.delete, s.rename, s.replace, s.manual, s.blocked
    )
}
