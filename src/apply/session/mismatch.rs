//! What a saved plan does differently from a fresh plan of the checkout: the changes
//! only one of them has, and, for a change both have, the differing fields side by
//! side (`role: admin` in the plan file, `role: workforce_manager` in a fresh plan).

use std::collections::BTreeMap;

use crate::diagnostic::Rule;
use crate::plan::{Change, Kind, Plan};
use crate::render::{self, printable};

/// At most this many lines; the rest is counted.
const MAX_LINES: usize = 20;

/// The differences, one indented line each; `None` when the plans agree on every
/// change (in order) and every blocked item.
pub fn differences(saved: &Plan, fresh: &Plan) -> Option<Vec<String>> {
    // Blocked items count too: a plan file with its blocked items removed would exit 0.
    let blocked = |p: &Plan| -> Vec<(Kind, String, Rule)> {
        p.blocked
            .iter()
            .map(|b| (b.kind, b.key.clone(), b.rule))
            .collect()
    };
    if saved.changes == fresh.changes && blocked(saved) == blocked(fresh) {
        return None;
    }
    let (in_saved, in_fresh) = (by_key(saved), by_key(fresh));
    let mut lines = Vec::new();
    for c in &saved.changes {
        match in_fresh.get(&(c.kind, c.key.clone())) {
            None => lines.push(format!("  only in the plan file: {}", show(c))),
            Some(f) if *f != c => lines.push(side_by_side(c, f)),
            Some(_) => {}
        }
    }
    for c in &fresh.changes {
        if !in_saved.contains_key(&(c.kind, c.key.clone())) {
            lines.push(format!("  only in a fresh plan:  {}", show(c)));
        }
    }
    if lines.is_empty() && saved.changes != fresh.changes {
        lines.push("  the same changes, in another order".to_string());
    }
    if blocked(saved) != blocked(fresh) {
        lines.push(format!(
            "  blocked items differ: {} in the plan file, {} in a fresh plan",
            saved.blocked.len(),
            fresh.blocked.len()
        ));
    }
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("  … and {more} more"));
    }
    Some(lines)
}

/// Each change by kind and key (the first, should a key repeat).
fn by_key(plan: &Plan) -> BTreeMap<(Kind, String), &Change> {
    let mut map = BTreeMap::new();
    for c in &plan.changes {
        map.entry((c.kind, c.key.clone())).or_insert(c);
    }
    map
}

/// `+ user late@acme.com`.
fn show(c: &Change) -> String {
    format!(
        "{} {} {}",
        render::marker(c.action),
        c.kind,
        printable(&c.key)
    )
}

/// `~ user ken@acme.com    plan file: role: admin    fresh plan: role: workforce_manager`:
/// only what differs, each side as it would be applied.
fn side_by_side(saved: &Change, fresh: &Change) -> String {
    let mut names: Vec<&str> = saved.fields.iter().map(|f| f.field.as_str()).collect();
    for f in &fresh.fields {
        if !names.contains(&f.field.as_str()) {
            names.push(&f.field);
        }
    }
    let value = |c: &Change, name: &str| {
        c.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| (f.before.clone(), f.after.clone()))
    };
    let mut sides = (Vec::new(), Vec::new());
    for name in names {
        let (a, b) = (value(saved, name), value(fresh, name));
        if a == b {
            continue;
        }
        // The old value only when the two plans disagree about it too.
        let with_before = a.as_ref().map(|v| &v.0) != b.as_ref().map(|v| &v.0);
        sides.0.push(field(name, a.as_ref(), with_before));
        sides.1.push(field(name, b.as_ref(), with_before));
    }
    let describe = |c: &Change, fields: Vec<String>| {
        let mut parts = Vec::new();
        if saved.action != fresh.action {
            parts.push(format!("{:?}", c.action).to_lowercase());
        }
        if saved.danger != fresh.danger {
            parts.push(format!("{:?}", c.danger).to_lowercase());
        }
        if saved.note != fresh.note {
            parts.push(format!(
                "note: {}",
                printable(c.note.as_deref().unwrap_or("none"))
            ));
        }
        parts.extend(fields);
        if parts.is_empty() {
            "(the same)".to_string()
        } else {
            parts.join(", ")
        }
    };
    format!(
        "  {} {} {}    plan file: {}    fresh plan: {}",
        render::marker(fresh.action),
        fresh.kind,
        printable(&fresh.key),
        describe(saved, sides.0),
        describe(fresh, sides.1)
    )
}

/// `role: admin`, `role: member → admin`, or `role: none`.
fn field(
    name: &str,
    value: Option<&(serde_json::Value, serde_json::Value)>,
    with_before: bool,
) -> String {
    match value {
        None => format!("{name}: none"),
        Some((before, after)) if with_before && !before.is_null() => {
            format!("{name}: {} → {}", text(before), text(after))
        }
        Some((_, after)) => format!("{name}: {}", text(after)),
    }
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "none".to_string(),
        serde_json::Value::String(s) => printable(s).into_owned(),
        other => printable(&other.to_string()).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrgRole, UserType};
    use crate::plan::{Danger, Op};

    fn plan(ops: Vec<Op>) -> Plan {
        Plan {
            changes: ops
                .into_iter()
                .map(|op| Change::from_op(op, Danger::Safe))
                .collect(),
            ..Plan::default()
        }
    }

    fn role(email: &str, to: OrgRole) -> Op {
        Op::SetOrgRole {
            email: email.into(),
            from: OrgRole::Member,
            to,
        }
    }

    #[test]
    fn the_differing_fields_are_shown_side_by_side() {
        let saved = plan(vec![
            role("ken@acme.com", OrgRole::Collaborator),
            Op::InviteUser {
                email: "old@acme.com".into(),
                role: OrgRole::Member,
                user_type: UserType::Internal,
            },
        ]);
        let fresh = plan(vec![
            role("ken@acme.com", OrgRole::WorkforceManager),
            Op::InviteUser {
                email: "late@acme.com".into(),
                role: OrgRole::Member,
                user_type: UserType::Internal,
            },
        ]);
        assert_eq!(
            differences(&saved, &fresh).unwrap_or_default(),
            [
                "  ~ user ken@acme.com    plan file: role: collaborator    fresh plan: role: workforce_manager",
                "  only in the plan file: + user old@acme.com",
                "  only in a fresh plan:  + user late@acme.com",
            ]
        );
        assert_eq!(differences(&saved, &saved.clone()), None);
    }
}
