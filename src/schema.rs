//! JSON Schemas generated from the Rust types, committed under `schemas/`.

use crate::config::Config;
use crate::manifest::ManifestFile;

/// (file name, schema) for every committed schema.
pub fn all() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("manifest.schema.json", manifest()),
        ("config.schema.json", config()),
        ("plan.schema.json", crate::plan::schema()),
    ]
}

pub fn manifest() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ManifestFile)).unwrap_or_default()
}

pub fn config() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
}

/// The text written to `schemas/NAME`: pretty JSON with a trailing newline.
pub fn to_file_text(schema: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).unwrap_or_default();
    s.push('\n');
    s
}
