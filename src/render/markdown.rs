//! The pull-request comment: summary table first, then callouts for everything a
//! reviewer must see (destructive and disruptive changes, admin grants, blocked items),
//! then per-kind details collapsed, under a hard size cap.
//!
//! The cap cuts details first; callouts survive it. If even the callouts overflow, each
//! keeps as many items as fit (shared out round-robin, so a flood of one kind cannot
//! crowd out the others) and says how many it left out.
//!
//! Every piece of user data goes through [`super::escape`]: names and descriptions cannot
//! close `<details>`, inject HTML or images, ping people, or break the tables.

use serde_json::Value;

use super::escape::{Place, markdown_code, markdown_message, markdown_text};
use super::{describe_fields, impact_parts, marker};
use crate::plan::{Action, Change, Danger, Kind, Plan};

/// GitHub rejects comments over 65,536 characters; stay well below.
pub const MAX_MARKDOWN_BYTES: usize = 60_000;

/// Identifies orgform's comment so CI can update it in place (one sticky comment).
const COMMENT_TAG: &str = "<!-- orgform-plan -->";

/// Kept free for the closing note that says what the cap left out.
const FOOTER_ROOM: usize = 400;
/// Kept free in each callout for its "…and N more not shown" line.
const MORE_ROOM: usize = 160;
const DETAILS_CLOSE: &str = "\n</details>\n\n";

/// Where people find what a truncated comment leaves out.
const FULL_PLAN: &str = "`orgform plan` in the job log, or the JSON plan saved with `--out`";

pub fn markdown(plan: &Plan, against: &str, max_bytes: usize) -> String {
    let mut out = header(plan, against);
    // What happens next always ends the comment: the cap applies to what comes before.
    let next = next_steps(plan);
    let max_bytes = max_bytes.saturating_sub(next.len() + 1);

    let callouts = callouts(plan);
    let callouts_left_out = place_sections(&mut out, &callouts, max_bytes);
    let warnings = warnings(plan);
    let warnings_left_out = place_sections(&mut out, &warnings, max_bytes);
    // Details come only after everything above is shown in full.
    let changes_left_out = if callouts_left_out + warnings_left_out == 0 {
        place_details(&mut out, plan, max_bytes)
    } else {
        plan.changes.len()
    };

    if changes_left_out + callouts_left_out + warnings_left_out > 0 {
        let mut parts = Vec::new();
        if callouts_left_out > 0 {
            parts.push(format!("{callouts_left_out} called-out item(s)"));
        }
        if warnings_left_out > 0 {
            parts.push(format!("{warnings_left_out} warning(s)"));
        }
        if changes_left_out > 0 {
            parts.push(format!("{changes_left_out} change(s) in the details"));
        }
        out.push_str(&format!(
            "_Plan truncated to fit a comment: {} not shown. The full plan: {FULL_PLAN}._\n",
            parts.join(", ")
        ));
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(&next);
    out
}

/// The closing paragraph: how this plan gets applied, and what it will not do.
fn next_steps(plan: &Plan) -> String {
    if plan.changes.is_empty() && plan.blocked.is_empty() {
        return "**What happens next:** nothing; there is nothing to apply.\n".to_string();
    }
    let mut out = String::from("**What happens next:** nothing has changed yet. ");
    if plan.changes.is_empty() {
        out.push_str("There is nothing to apply. ");
    } else {
        let destructive = plan
            .changes
            .iter()
            .filter(|c| c.danger == Danger::Destructive)
            .count();
        let command = if destructive > 0 {
            format!(
                "`orgform apply plan.json --allow-destroy` (its {destructive} destructive change(s) need the flag)"
            )
        } else {
            "`orgform apply plan.json`".to_string()
        };
        out.push_str(&format!(
            "To apply exactly this plan, save it with `orgform plan --out plan.json` and run {command}; apply refuses if the live org or the manifests changed since the plan was made, and `policy.max_deletions` is never lifted. "
        ));
    }
    if plan.summary.manual > 0 {
        out.push_str(&format!(
            "{} manual item(s) are steps to take in the web app; apply lists them. ",
            plan.summary.manual
        ));
    }
    if !plan.blocked.is_empty() {
        out.push_str(&format!(
            "The {} blocked item(s) are never applied: resolve them in the manifests and plan again.",
            plan.blocked.len()
        ));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// The sticky-comment marker, the title, where the plan comes from, and the counts.
fn header(plan: &Plan, against: &str) -> String {
    let s = &plan.summary;
    let mut out = format!("{COMMENT_TAG}\n### orgform plan\n\n");
    let commit = plan
        .source
        .git_commit
        .as_deref()
        .map(|c| {
            let sha = c.strip_suffix("-dirty").unwrap_or(c);
            let short: String = sha.chars().take(12).collect();
            let dirty = if plan.source.dirty || sha.len() < c.len() {
                " with uncommitted changes to the manifests (`-dirty`)"
            } else {
                ""
            };
            format!(" at {}{dirty}", markdown_code(&short, Place::Line))
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "{} against {}{commit}\n\n",
        markdown_code(&plan.source.manifests, Place::Line),
        markdown_text(against),
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
    out
}

/// A block of listed items under a heading; items may be left out to fit the cap.
struct Section {
    head: String,
    items: Vec<String>,
    /// The line that replaces the items left out.
    more: fn(usize) -> String,
}

fn callouts(plan: &Plan) -> Vec<Section> {
    let with_danger = |danger: Danger| -> Vec<String> {
        plan.changes
            .iter()
            .filter(|c| c.danger == danger)
            .map(change_item)
            .collect()
    };
    let callout_more =
        |n: usize| format!("> - _…and {n} more not shown here. The full plan: {FULL_PLAN}._\n");
    let mut sections = Vec::new();
    let destructive = with_danger(Danger::Destructive);
    if !destructive.is_empty() {
        sections.push(Section {
            head: format!(
                "> [!CAUTION]\n> **{} destructive change(s)** — applying needs `--allow-destroy`:\n",
                destructive.len()
            ),
            items: destructive,
            more: callout_more,
        });
    }
    let disruptive = with_danger(Danger::Disruptive);
    if !disruptive.is_empty() {
        sections.push(Section {
            head: format!(
                "> [!WARNING]\n> **{} disruptive change(s)** — access, membership or a role is taken away:\n",
                disruptive.len()
            ),
            items: disruptive,
            more: callout_more,
        });
    }
    let grants: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| is_admin_grant(c))
        .map(change_item)
        .collect();
    if !grants.is_empty() {
        sections.push(Section {
            head: format!(
                "> [!IMPORTANT]\n> **{} admin grant(s)** — new org admins, or new admins of a project, dataset or ontology:\n",
                grants.len()
            ),
            items: grants,
            more: callout_more,
        });
    }
    if !plan.blocked.is_empty() {
        sections.push(Section {
            head: format!(
                "> [!WARNING]\n> **{} blocked item(s)** — never applied; `plan` fails until they are resolved:\n",
                plan.blocked.len()
            ),
            items: plan
                .blocked
                .iter()
                .map(|b| {
                    format!(
                        "> - `{}` **{}** — `{}`: {}\n",
                        b.kind,
                        markdown_text(&b.key),
                        b.rule,
                        markdown_message(&b.message, Place::Line)
                    )
                })
                .collect(),
            more: callout_more,
        });
    }
    sections
}

fn warnings(plan: &Plan) -> Vec<Section> {
    if plan.warnings.is_empty() {
        return Vec::new();
    }
    let items = plan
        .warnings
        .iter()
        .map(|w| {
            let at = w
                .origin
                .as_deref()
                .map(|o| format!(" ({})", markdown_code(o, Place::Line)))
                .unwrap_or_default();
            format!(
                "- `{}`: {}{at}\n",
                w.rule,
                markdown_message(&w.message, Place::Line)
            )
        })
        .collect();
    vec![Section {
        head: "**Warnings**\n".to_string(),
        items,
        more: |n| format!("- _…and {n} more warning(s) not shown. The full plan: {FULL_PLAN}._\n"),
    }]
}

/// A created or promoted admin: of the org (user role) or of a project, dataset or
/// ontology (access role). Reviewers must see these however large the plan.
fn is_admin_grant(c: &Change) -> bool {
    let admin = |v: Option<&Value>| v.and_then(Value::as_str) == Some("admin");
    matches!(c.kind, Kind::User | Kind::Access)
        && matches!(c.action, Action::Create | Action::Update | Action::Replace)
        && admin(c.after("role"))
        && !admin(c.before("role"))
}

/// One callout line: marker, kind, key, action, what changes and the note.
fn change_item(c: &Change) -> String {
    let mut what = Vec::new();
    // A deletion's fields only repeat what goes, except the role an access entry had.
    if c.action != Action::Delete || c.kind == Kind::Access {
        let fields = describe_fields(c);
        if !fields.is_empty() {
            what.push(markdown_text(&fields));
        }
    }
    if let Some(note) = &c.note {
        what.push(markdown_message(note, Place::Line));
    }
    for part in impact_parts(c) {
        what.push(part.show(markdown_text));
    }
    let what = if what.is_empty() {
        String::new()
    } else {
        format!(": {}", what.join("; "))
    };
    format!(
        "> - `{}` `{}` **{}** — {}{what}\n",
        marker(c.action),
        c.kind,
        markdown_text(&c.key),
        format!("{:?}", c.action).to_lowercase(),
    )
}

/// Writes the sections with as many items as keep `out` within `max_bytes` (the footer's
/// room kept free); returns how many items were left out. Items are taken round-robin
/// across sections, so every section shows some before any shows all.
fn place_sections(out: &mut String, sections: &[Section], max_bytes: usize) -> usize {
    let fixed: usize = sections.iter().map(|s| s.head.len() + MORE_ROOM + 1).sum();
    let mut room = max_bytes.saturating_sub(out.len() + FOOTER_ROOM + fixed);
    let mut shown = vec![0usize; sections.len()];
    let mut full = vec![false; sections.len()];
    while full.iter().any(|f| !f) {
        for (i, section) in sections.iter().enumerate() {
            if full[i] {
                continue;
            }
            match section.items.get(shown[i]) {
                Some(item) if item.len() <= room => {
                    room -= item.len();
                    shown[i] += 1;
                }
                // Out of items, or the next one does not fit: keep the order, stop here.
                _ => full[i] = true,
            }
        }
    }
    let mut left_out = 0;
    for (section, shown) in sections.iter().zip(shown) {
        out.push_str(&section.head);
        for item in &section.items[..shown] {
            out.push_str(item);
        }
        let rest = section.items.len() - shown;
        if rest > 0 {
            out.push_str(&(section.more)(rest));
        }
        out.push('\n');
        left_out += rest;
    }
    left_out
}

/// Per-kind tables in collapsed `<details>`, filled while they fit; returns how many
/// changes were left out.
fn place_details(out: &mut String, plan: &Plan, max_bytes: usize) -> usize {
    let mut left_out = 0usize;
    for (kind, changes) in plan.by_kind() {
        let mut section = format!(
            "<details><summary><b>{}</b> ({})</summary>\n\n| | key | change | danger |\n|---|---|---|---|\n",
            kind.plural(),
            changes.len()
        );
        let mut shown = 0;
        for c in &changes {
            let row = detail_row(c);
            if out.len() + section.len() + row.len() + DETAILS_CLOSE.len() + FOOTER_ROOM > max_bytes
            {
                break;
            }
            section.push_str(&row);
            shown += 1;
        }
        left_out += changes.len() - shown;
        if shown > 0 {
            section.push_str(DETAILS_CLOSE);
            out.push_str(&section);
        }
    }
    left_out
}

fn detail_row(c: &Change) -> String {
    let fields = markdown_text(&describe_fields(c));
    let mut parts: Vec<String> = Vec::new();
    if !fields.is_empty() {
        parts.push(fields);
    }
    if let Some(note) = &c.note {
        parts.push(markdown_message(note, Place::TableCell));
    }
    for part in impact_parts(c) {
        parts.push(part.show(|i| markdown_code(i, Place::TableCell)));
    }
    let what = parts.join(" — ");
    let danger = match c.danger {
        Danger::Safe => "safe",
        Danger::Disruptive => "⚠️ disruptive",
        Danger::Destructive => "🛑 destructive",
    };
    format!(
        "| `{}` | {} | {what} | {danger} |\n",
        marker(c.action),
        markdown_code(&c.key, Place::TableCell),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diagnostic::Rule;
    use crate::model::{Principal, ResourceKind};
    use crate::plan::{Blocked, Target};

    fn access(project: &str, email: &str, action: Action, danger: Danger) -> Change {
        Change::new(
            Target::Access {
                resource_kind: ResourceKind::Project,
                resource: format!("hash-{project}"),
                title: project.to_string(),
                principal: Principal::User(email.to_string()),
            },
            action,
            danger,
        )
    }

    fn user(email: &str, action: Action, danger: Danger) -> Change {
        Change::new(
            Target::User {
                email: email.to_string(),
            },
            action,
            danger,
        )
    }

    /// Thousands of access removals (disruptive) and a few of everything else.
    fn flooded_plan(removals: usize) -> Plan {
        let mut changes: Vec<Change> = (0..removals)
            .map(|i| {
                access(
                    "Bulk",
                    &format!("labeler{i:05}@vendor.io"),
                    Action::Delete,
                    Danger::Disruptive,
                )
                .field("role", json!("annotator"), None)
            })
            .collect();
        changes.push(
            access(
                "Sensitive",
                "mallory@acme.com",
                Action::Create,
                Danger::Safe,
            )
            .field("role", None, json!("admin")),
        );
        changes.push(user("eve@acme.com", Action::Update, Danger::Safe).field(
            "role",
            json!("member"),
            json!("admin"),
        ));
        changes.push(user("olga@acme.com", Action::Delete, Danger::Destructive));
        let blocked = vec![Blocked {
            kind: Kind::User,
            key: "root@acme.com".to_string(),
            rule: Rule::AdminUnremovable,
            message: "admin `root@acme.com` cannot be removed".to_string(),
        }];
        Plan {
            summary: Plan::summarize(&changes, blocked.len()),
            changes,
            blocked,
            ..Plan::default()
        }
    }

    /// The lines of the callout whose heading contains `head`.
    fn callout<'a>(md: &'a str, head: &str) -> Vec<&'a str> {
        md.split("\n\n")
            .find(|block| block.lines().nth(1).is_some_and(|l| l.contains(head)))
            .map(|block| block.lines().skip(2).collect())
            .unwrap_or_default()
    }

    #[test]
    fn overflowing_callouts_keep_what_fits_and_count_the_rest() {
        let plan = flooded_plan(2_000);
        let md = markdown(&plan, "sandbox", 20_000);
        assert!(md.len() <= 20_000, "{} bytes", md.len());
        assert!(md.starts_with("<!-- orgform-plan -->\n"));
        assert!(md.contains("> **2000 disruptive change(s)**"), "{md}");

        let disruptive = callout(&md, "disruptive change(s)");
        let shown = disruptive.iter().filter(|l| l.contains("`access`")).count();
        assert!(shown > 10, "as many as fit are kept: {shown}");
        assert!(shown < 2_000);
        assert_eq!(
            disruptive.last().copied(),
            Some(
                format!(
                    "> - _…and {} more not shown here. The full plan: {FULL_PLAN}._",
                    2_000 - shown
                )
                .as_str()
            ),
        );
        // The flood does not crowd out the rest: every other callout is complete.
        assert_eq!(
            callout(&md, "admin grant(s)"),
            [
                "> - `+` `access` **project:Sensitive/user:mallory@acme.com** — create: role: admin",
                "> - `~` `user` **eve@acme.com** — update: role: member → admin",
            ]
        );
        assert_eq!(
            callout(&md, "destructive change(s)"),
            ["> - `-` `user` **olga@acme.com** — delete"]
        );
        assert_eq!(callout(&md, "blocked item(s)").len(), 1);
        // Details were cut first, entirely.
        assert!(!md.contains("<details>"), "{md}");
        assert!(md.contains(&format!(
            "_Plan truncated to fit a comment: {} called-out item(s), 2003 change(s) in the details not shown. The full plan: {FULL_PLAN}._\n\n",
            2_000 - shown
        )));
        // What happens next survives the cap, last.
        assert!(
            md.ends_with(
                "need the flag); apply refuses if the live org or the manifests changed since the plan was made, and `policy.max_deletions` is never lifted. The 1 blocked item(s) are never applied: resolve them in the manifests and plan again.\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn a_cap_too_small_for_any_item_still_gives_every_count() {
        let plan = flooded_plan(50);
        let md = markdown(&plan, "sandbox", 1_500);
        for line in [
            "> **1 destructive change(s)**",
            "> **50 disruptive change(s)**",
            "> **2 admin grant(s)**",
            "> **1 blocked item(s)**",
            "> - _…and 50 more not shown here.",
            "> - _…and 2 more not shown here.",
        ] {
            assert!(md.contains(line), "missing {line:?} in:\n{md}");
        }
    }

    #[test]
    fn the_cap_holds_at_every_size() {
        let plan = flooded_plan(600);
        for cap in (2_000..=70_000).step_by(1_700) {
            let md = markdown(&plan, "sandbox", cap);
            assert!(md.len() <= cap, "{} bytes for a cap of {cap}", md.len());
            assert_eq!(
                md.matches("<details>").count(),
                md.matches("</details>").count()
            );
        }
        let whole = markdown(&plan, "sandbox", usize::MAX);
        assert!(!whole.contains("truncated"), "nothing is cut without a cap");
        assert_eq!(callout(&whole, "disruptive change(s)").len(), 600);
    }

    #[test]
    fn admin_grants_are_new_admins_only() {
        let grant = |c: Change| is_admin_grant(&c);
        let role = |c: Change, before: Option<&str>, after: Option<&str>| {
            c.field("role", before.map(|r| json!(r)), after.map(|r| json!(r)))
        };
        let safe = Danger::Safe;
        assert!(grant(role(
            user("a@x.io", Action::Create, safe),
            None,
            Some("admin")
        )));
        assert!(grant(role(
            user("a@x.io", Action::Update, safe),
            Some("member"),
            Some("admin")
        )));
        assert!(grant(role(
            user("a@x.io", Action::Replace, Danger::Destructive),
            Some("member"),
            Some("admin")
        )));
        assert!(grant(role(
            access("P", "a@x.io", Action::Create, safe),
            None,
            Some("admin")
        )));
        assert!(grant(role(
            access("P", "a@x.io", Action::Update, safe),
            Some("viewer"),
            Some("admin")
        )));
        // Not grants: keeping admin through a type change, losing it, other roles.
        assert!(!grant(role(
            user("a@x.io", Action::Replace, Danger::Destructive),
            Some("admin"),
            Some("admin")
        )));
        assert!(!grant(role(
            access("P", "a@x.io", Action::Delete, Danger::Disruptive),
            Some("admin"),
            None
        )));
        assert!(!grant(role(
            access("P", "a@x.io", Action::Update, Danger::Disruptive),
            Some("admin"),
            Some("viewer")
        )));
        assert!(!grant(role(
            access("P", "a@x.io", Action::Create, safe),
            None,
            Some("annotator")
        )));
    }
}
