//! The output contract of `validate`: summary, JSON shape (SPEC §3), GitHub annotations.

use crate::util::{fixture, orgform, repo_root};

#[test]
fn acme_example_is_valid_and_summarised() {
    let run = orgform(&repo_root().join("examples/acme"), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "Loaded 7 manifest files: 17 users, 4 groups, 5 project tags, 9 metadata keys, 8 folders, 3 projects, 2 datasets, 1 ontology"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("valid ("), "{}", run.stderr);
}

#[test]
fn json_output_has_the_documented_shape() {
    let json = orgform(
        &fixture("validate/tag-name-duplicate"),
        &["validate", "--format", "json"],
    )
    .json();
    let top: Vec<&String> = json
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(top, ["diagnostics", "ok"]);
    assert_eq!(json["ok"], false);
    let d = &json["diagnostics"][0];
    let mut keys: Vec<&String> = d
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        ["column", "file", "line", "message", "rule", "severity"]
    );
    assert_eq!(d["severity"], "error");
    assert_eq!(d["rule"], "tag-name-duplicate");
    assert_eq!(d["file"], "org/b.yaml");
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 11);
    let message = d["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("org/a.yaml:2:11"),
        "both locations: {message}"
    );
}

#[test]
fn github_format_prints_workflow_annotations() {
    // Outside any git repository: paths are from the org's folder. (Inside one they are
    // from the repository's root: tests/gitops.rs.)
    let fixture = fixture("validate/embedding-size-out-of-range");
    let repo = crate::util::TempRepo::new();
    repo.write(
        "orgform.yaml",
        std::fs::read(fixture.join("orgform.yaml")).expect("fixture config"),
    )
    .write(
        "org/metadata.yaml",
        std::fs::read(fixture.join("org/metadata.yaml")).expect("fixture manifest"),
    );
    let run = orgform(repo.path(), &["validate", "--format", "github"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("validate_github", run.stdout);
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("::error file=org/metadata.yaml,line=")
                || line.starts_with("::warning file=org/metadata.yaml,line="),
            "{line}"
        );
        assert!(line.contains(",col="), "{line}");
        assert!(
            line.contains(",title=embedding-size-out-of-range::"),
            "{line}"
        );
    }
}

#[test]
fn help_explains_the_commands_and_exit_codes() {
    let run = orgform(&repo_root(), &["--help"]);
    assert_eq!(run.code, 0);
    for needle in ["validate", "schema", "-C <DIR>", "Exit codes"] {
        assert!(
            run.stdout.contains(needle),
            "--help mentions {needle}:\n{}",
            run.stdout
        );
    }
}

/// A repository whose manifests folder is missing (`org/` was never created).
fn repo_without_manifests_folder(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("orgform.yaml"), config).expect("config");
    dir
}

/// Each diagnostic of a JSON report as (rule, file, whether it has no line).
fn whole_file_diagnostics(json: &serde_json::Value) -> Vec<(String, String, bool)> {
    json["diagnostics"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    (
                        d["rule"].as_str().unwrap_or_default().to_string(),
                        d["file"].as_str().unwrap_or_default().to_string(),
                        d["line"].is_null(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn json_report_is_printed_when_the_manifests_folder_is_missing() {
    let dir = repo_without_manifests_folder("manifests: people/\n");
    let run = orgform(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], false);
    assert_eq!(
        whole_file_diagnostics(&json),
        [("invalid-value".to_string(), "people/".to_string(), true)]
    );
    let message = json["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("manifests directory people/")
            && message.contains("does not exist: create it or fix the setting"),
        "{message}"
    );
}

#[test]
fn json_report_is_printed_when_orgform_yaml_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = orgform(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], false);
    assert_eq!(
        whole_file_diagnostics(&json),
        [(
            "invalid-value".to_string(),
            "orgform.yaml".to_string(),
            true
        )]
    );
    let message = json["diagnostics"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.starts_with("no orgform.yaml in "), "{message}");
}

#[test]
fn json_report_shows_an_unparsable_config_before_the_folder_it_hides() {
    // The broken config falls back to `manifests: org/`, which does not exist either.
    let dir = repo_without_manifests_folder("manifests: [people/\n");
    let run = orgform(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], false);
    assert_eq!(
        whole_file_diagnostics(&json),
        [
            ("yaml-syntax".to_string(), "orgform.yaml".to_string(), false),
            ("invalid-value".to_string(), "org/".to_string(), true),
        ]
    );
}

#[test]
fn github_annotations_are_printed_when_the_repository_cannot_be_loaded() {
    let dir = repo_without_manifests_folder("manifests: people/\n");
    let run = orgform(dir.path(), &["validate", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "::error file=people/,title=invalid-value::manifests directory people/ (set by `manifests:` in orgform.yaml) does not exist: create it or fix the setting\n"
    );

    let empty = tempfile::tempdir().expect("temp dir");
    let run = orgform(empty.path(), &["validate", "--format", "github"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("::error file=orgform.yaml,title=invalid-value::no orgform.yaml in "),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
}

#[test]
fn text_format_reports_a_repository_that_cannot_be_loaded_on_stderr() {
    let dir = repo_without_manifests_folder("manifests: people/\n");
    let run = orgform(dir.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: manifests directory people/ (set by `manifests:` in orgform.yaml) does not exist: create it or fix the setting\n"
    );
}
