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
    let run = orgform(
        &fixture("validate/embedding-size-out-of-range"),
        &["validate", "--format", "github"],
    );
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
