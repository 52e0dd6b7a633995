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

/// Where an org repository keeps the schemas its `$schema` lines point at.
pub const REPO_SCHEMAS_DIR: &str = "schemas";

/// The schemas an org repository's files refer to for editor completion.
pub fn for_editors() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("manifest.schema.json", manifest()),
        ("config.schema.json", config()),
    ]
}

/// The first line of a YAML file at `file_dir` that points editors at `schema` (a path
/// relative to that directory, so it holds in every checkout).
pub fn editor_line(file_dir: &std::path::Path, schema: &std::path::Path) -> String {
    let rel = relative(file_dir, schema);
    format!(
        "yaml-language-server: $schema={}",
        rel.to_string_lossy().replace('\\', "/")
    )
}

/// `to` as seen from the directory `from`; both absolute (or both relative to the same
/// place) and free of `.`/`..` after [`normalize`].
pub fn relative(from: &std::path::Path, to: &std::path::Path) -> std::path::PathBuf {
    let (from, to) = (normalize(from), normalize(to));
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Drops `.` and resolves `..` lexically (the paths may not exist yet).
pub fn normalize(path: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::relative;

    #[test]
    fn relative_paths_between_directories() {
        let cases = [
            ("/r/org", "/r/schemas/m.json", "../schemas/m.json"),
            ("/r/./org/", "/r/schemas/m.json", "../schemas/m.json"),
            ("/r", "/r/schemas/m.json", "schemas/m.json"),
            ("/r/a/b", "/r/schemas/m.json", "../../schemas/m.json"),
            ("/r/a/../org", "/r/schemas/m.json", "../schemas/m.json"),
            (
                "/elsewhere/out",
                "/r/schemas/m.json",
                "../../r/schemas/m.json",
            ),
        ];
        for (from, to, want) in cases {
            assert_eq!(relative(Path::new(from), Path::new(to)), Path::new(want));
        }
    }
}
