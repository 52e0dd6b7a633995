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

/// Items of an impact list shown in text and markdown; the JSON plan keeps more
/// (`plan::impact::IMPACT_CAP`) and every list's total.
pub(crate) const IMPACT_SHOWN: usize = 5;

/// One list of a change's impact, as people read it: "members", the first few items,
/// and how many there are in all.
pub(crate) struct ImpactPart {
    pub label: &'static str,
    pub items: Vec<String>,
    pub total: usize,
}

impl ImpactPart {
    /// "label (N): a, b and 3 more", each item passed through `escape`.
    pub fn show(&self, escape: impl Fn(&str) -> String) -> String {
        let shown: Vec<String> = self.items.iter().map(|i| escape(i)).collect();
        let more = self.total.saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!(
            "{} ({}): {}{tail}",
            self.label,
            self.total,
            shown.join(", ")
        )
    }
}

/// The lists of a change's impact, for people.
pub(crate) fn impact_parts(c: &Change) -> Vec<ImpactPart> {
    let Some(impact) = &c.impact else {
        return Vec::new();
    };
    fn part<T>(
        label: &'static str,
        list: &crate::plan::impact::Capped<T>,
        show: impl Fn(&T) -> String,
    ) -> Option<ImpactPart> {
        (!list.is_empty()).then(|| ImpactPart {
            label,
            items: list.items.iter().take(IMPACT_SHOWN).map(show).collect(),
            total: list.total,
        })
    }
    let access_label = if c.kind == crate::plan::Kind::Group {
        "revokes access"
    } else {
        "loses access"
    };
    [
        part("members", &impact.members, String::clone),
        part("managers", &impact.managers, String::clone),
        part("leaves groups", &impact.groups, String::clone),
        part(access_label, &impact.access, |a| {
            format!("{} on {} {}", a.role, a.resource_kind, a.title)
        }),
        part("removed from projects", &impact.projects, |p| {
            p.title.clone()
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub(crate) fn summary_line(s: &crate::plan::Summary) -> String {
    format!(
        "{} to create, {} to update, {} to delete, {} to rename, {} to replace, {} manual; {} blocked",
        s.create, s.update, s.delete, s.rename, s.replace, s.manual, s.blocked
    )
}
