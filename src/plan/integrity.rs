//! Checks a saved plan read from a file. Every plan carries a digest of its own content
//! ([`seal`]), so any edit of a value (a summary, a blocked message, the source) is
//! refused ([`verify_seal`]); and its changes must be ones the planner could have
//! produced ([`check`]), so a plan edited *and* re-sealed to look safer than it is (a
//! deletion marked `safe`, a change filed under another kind) is refused too, and
//! `--allow-destroy` and `policy.max_deletions` cannot be sidestepped.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Danger, Op, Plan};

/// The member of a saved plan that holds its digest (left out of what is digested).
const DIGEST: &str = "digest";

/// Sets the plan's digest over everything else in it. Call last, once the plan is final.
pub fn seal(plan: &mut Plan) {
    plan.digest.clear();
    plan.digest = serde_json::to_value(&*plan)
        .map(|v| content_digest(&v))
        .unwrap_or_default();
}

/// Why a plan file's JSON does not match the digest it carries, if it does not.
/// Reformatting (whitespace, key order) keeps the content and is accepted; any other
/// edit is refused.
pub fn verify_seal(plan: &Value) -> Result<(), String> {
    let Some(recorded) = plan.get(DIGEST).and_then(Value::as_str) else {
        return Err(format!(
            "it has no `{DIGEST}`, so edits to it cannot be detected"
        ));
    };
    let actual = content_digest(plan);
    if recorded != actual {
        return Err(format!(
            "its content does not match its `{DIGEST}` (recorded {}, content {})",
            short(recorded),
            short(&actual)
        ));
    }
    Ok(())
}

fn short(digest: &str) -> &str {
    let hex = digest.trim_start_matches("sha256:");
    hex.get(..12).unwrap_or(hex)
}

/// `sha256:` over the canonical JSON of the plan without its digest member.
fn content_digest(plan: &Value) -> String {
    let mut plan = plan.clone();
    if let Some(members) = plan.as_object_mut() {
        members.remove(DIGEST);
    }
    let mut text = String::new();
    canonical_json(&plan, &mut text);
    let hex: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// Compact JSON with object keys sorted: one text per value, however it was formatted.
fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                canonical_json(&members[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The least danger a change can carry, from what it does.
pub fn minimum_danger(op: &Op) -> Danger {
    use Op::*;
    match op {
        RemoveUser { .. }
        | ReplaceUser { .. }
        | DeleteGroup { .. }
        | DeleteTag { .. }
        | DeleteMetadataKey { .. }
        | DeleteFolder { .. } => Danger::Destructive,
        RemoveGroupMember { .. }
        | RemoveGroupManager { .. }
        | UnassignTag { .. }
        | RemoveAccess { .. }
        | ReplaceAccess { .. } => Danger::Disruptive,
        RetypeMetadataKey { from, to, .. } if from.retype_breaks_data(to) => Danger::Destructive,
        SetOrgRole { from, to, .. } if to.rank() < from.rank() => Danger::Disruptive,
        SetAccessRole { from, to, .. } if to.rank() < from.rank() => Danger::Disruptive,
        _ => Danger::Safe,
    }
}

/// Why a plan read from a file cannot be trusted, if it cannot.
pub fn check(plan: &Plan) -> Result<(), String> {
    for (i, c) in plan.changes.iter().enumerate() {
        let what = format!("change {} ({} {})", i + 1, c.kind, c.key);
        if c.kind != c.target.kind() {
            return Err(format!(
                "{what} is filed as `{}` but acts on a {}",
                c.kind,
                c.target.kind()
            ));
        }
        let op = c.op().map_err(|e| format!("{what}: {}", e.problem))?;
        let least = minimum_danger(&op);
        if c.danger < least {
            return Err(format!(
                "{what} is marked `{:?}` but is at least `{:?}`",
                c.danger, least
            )
            .to_lowercase());
        }
        if let Some(why) = c.op_mismatch(&op) {
            return Err(format!("{what}: {why}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrgRole, UserType};
    use crate::plan::Change;

    fn sealed() -> Value {
        let mut plan = Plan {
            format_version: 1,
            ..Plan::default()
        };
        plan.source.manifests = "org/".to_string();
        seal(&mut plan);
        serde_json::to_value(&plan).unwrap_or_default()
    }

    #[test]
    fn a_sealed_plan_verifies_however_it_is_formatted() {
        let plan = sealed();
        assert_eq!(verify_seal(&plan), Ok(()));
        // Pretty or compact, the content is the same.
        let reformatted: Value =
            serde_json::from_str(&serde_json::to_string(&plan).unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(verify_seal(&reformatted), Ok(()));
    }

    fn invite() -> Plan {
        let op = Op::InviteUser {
            email: "bob@acme.com".into(),
            role: OrgRole::Member,
            user_type: UserType::External,
        };
        Plan {
            changes: vec![Change::from_op(op, Danger::Safe)],
            ..Plan::default()
        }
    }

    #[test]
    fn a_change_that_is_not_one_operation_is_refused() {
        assert_eq!(check(&invite()), Ok(()));
        let mut unreadable = invite();
        unreadable.changes[0].fields[1].after = Value::from("robot");
        assert!(
            check(&unreadable).is_err_and(|why| why.starts_with(
                "change 1 (user bob@acme.com): the new value of field `type` is missing or unreadable"
            )),
            "{:?}",
            check(&unreadable)
        );
        let mut extra = invite();
        extra.changes[0] = extra.changes[0]
            .clone()
            .field("note", None, Value::from("x"));
        assert!(
            check(&extra).is_err_and(|why| why.contains("its fields (role, type, note)")),
            "{:?}",
            check(&extra)
        );
        let mut renamed = invite();
        renamed.changes[0].key = "eve@acme.com".into();
        assert!(
            check(&renamed).is_err_and(|why| why.contains("its key should be `bob@acme.com`")),
            "{:?}",
            check(&renamed)
        );
    }

    #[test]
    fn any_edit_or_a_missing_digest_is_refused() {
        let mut edited = sealed();
        edited["source"]["manifests"] = Value::from("other/");
        assert!(verify_seal(&edited).is_err());
        let mut added = sealed();
        added["extra"] = Value::from(1);
        assert!(verify_seal(&added).is_err());
        let mut bare = sealed();
        if let Some(members) = bare.as_object_mut() {
            members.remove(DIGEST);
        }
        assert!(verify_seal(&bare).is_err_and(|why| why.contains("no `digest`")));
    }
}
