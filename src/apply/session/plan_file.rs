//! Reading a saved plan: its format version, its seal, and changes the planner could
//! have produced (see [`crate::plan::integrity`]).

use std::path::Path;

use crate::plan::{self, Plan};

/// The plan in `path`, or why it cannot be applied (a sentence naming the file).
pub fn read(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the saved plan {}: {e}", path.display()))?;
    let not_a_plan = |e: serde_json::Error| {
        format!(
            "{} is not an orgform plan (save one with `orgform plan --out FILE`): {e}",
            path.display()
        )
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(not_a_plan)?;
    let version = json
        .get("format_version")
        .and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(plan::FORMAT_VERSION)) {
        return Err(format!(
            "{} has plan format_version {}, but this orgform reads version {}",
            path.display(),
            version.map_or_else(|| "(none)".to_string(), |v| v.to_string()),
            plan::FORMAT_VERSION
        ));
    }
    let edited = |why: String| {
        format!(
            "{} was edited after it was made: {why}. Make a fresh plan with `orgform plan --out FILE`",
            path.display()
        )
    };
    plan::integrity::verify_seal(&json).map_err(edited)?;
    let plan: Plan = serde_json::from_value(json).map_err(not_a_plan)?;
    plan::integrity::check(&plan).map_err(edited)?;
    Ok(plan)
}
