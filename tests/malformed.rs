//! Malformed input of every kind gets an error diagnostic with a location — never a panic,
//! never a silent pass.

use crate::util::{TempRepo, orgform};

fn deep_nesting() -> String {
    format!("users: {}{}\n", "[".repeat(500), "]".repeat(500))
}

fn alias_bomb() -> String {
    let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        s.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
    }
    s
}

/// (what it is, file name, bytes, rule expected on the first error)
fn cases() -> Vec<(&'static str, &'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "bad indentation",
            "a.yaml",
            b"users:\n  - email: a@b.co\n   role: admin\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "unclosed flow list",
            "a.yaml",
            b"users: [\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "unclosed quote",
            "a.yaml",
            b"users:\n  - email: \"a@b.co\n    role: admin\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "tab indentation",
            "a.yaml",
            b"users:\n\t- email: a@b.co\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "non-UTF-8 bytes",
            "a.yaml",
            b"users:\n  - email: caf\xe9@b.co\n".to_vec(),
            "yaml-syntax",
        ),
        ("empty file", "a.yaml", Vec::new(), "invalid-value"),
        (
            "comments only",
            "a.yaml",
            b"# nothing here yet\n".to_vec(),
            "invalid-value",
        ),
        (
            "top-level list",
            "a.yaml",
            b"- users\n- groups\n".to_vec(),
            "invalid-value",
        ),
        (
            "top-level scalar",
            "a.yaml",
            b"hello\n".to_vec(),
            "invalid-value",
        ),
        (
            "section of wrong type",
            "a.yaml",
            b"users:\n  email: a@b.co\n".to_vec(),
            "invalid-value",
        ),
        (
            "field of wrong type",
            "a.yaml",
            b"users:\n  - email: a@b.co\n    role: [admin]\n".to_vec(),
            "invalid-value",
        ),
        (
            "null where a string is required",
            "a.yaml",
            b"users:\n  - email: ~\n    role: member\n".to_vec(),
            "invalid-value",
        ),
        (
            "unknown field",
            "a.yaml",
            b"users:\n  - email: a@b.co\n    role: member\n    team: x\n".to_vec(),
            "unknown-field",
        ),
        (
            "unknown section",
            "a.yaml",
            b"userz: []\n".to_vec(),
            "unknown-field",
        ),
        (
            "duplicate keys in one mapping",
            "a.yaml",
            b"users:\n  - email: a@b.co\n    email: c@d.co\n    role: member\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "huge string value",
            "a.yaml",
            format!("groups:\n  - name: {}\n", "g".repeat(1_000_000)).into_bytes(),
            "invalid-value",
        ),
        (
            "huge number",
            "a.yaml",
            b"metadata_schema:\n  e: { embedding: 99999999999999999999999999 }\n".to_vec(),
            "invalid-value",
        ),
        (
            "negative number",
            "a.yaml",
            b"metadata_schema:\n  e: { embedding: -5 }\n".to_vec(),
            "invalid-value",
        ),
        (
            "deep nesting",
            "a.yaml",
            deep_nesting().into_bytes(),
            "yaml-syntax",
        ),
        (
            "alias bomb",
            "a.yaml",
            alias_bomb().into_bytes(),
            "yaml-syntax",
        ),
        (
            "two documents",
            "a.yaml",
            b"users: []\n---\ngroups: []\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "custom YAML tag",
            "a.yaml",
            b"users:\n  - email: !!python/object a@b.co\n    role: member\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "non-string mapping key",
            "a.yaml",
            b"? [a, b]\n: c\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "alias to an unknown anchor",
            "a.yaml",
            b"users: *nope\n".to_vec(),
            "yaml-syntax",
        ),
        (
            "mapping where a string is expected",
            "a.yaml",
            b"groups:\n  - name: g\n    description: { a: 1 }\n".to_vec(),
            "invalid-value",
        ),
        (
            "unknown metadata type",
            "a.yaml",
            b"metadata_schema:\n  k: colour\n".to_vec(),
            "invalid-value",
        ),
        (
            "quoted number where a number is expected",
            "a.yaml",
            b"metadata_schema:\n  e: { embedding: \"512\" }\n".to_vec(),
            "invalid-value",
        ),
        (
            "broken orgform.yaml",
            "../orgform.yaml",
            b"manifests: org/\npolicy:\n  max_deletions: lots\n".to_vec(),
            "invalid-value",
        ),
    ]
}

#[test]
fn every_kind_of_malformed_input_gets_a_located_error() {
    let cases = cases();
    assert!(cases.len() >= 20);
    for (what, name, bytes, rule) in cases {
        let repo = TempRepo::new();
        if name.starts_with("../") {
            repo.write("org/ok.yaml", "users: []\n");
        }
        repo.write(&format!("org/{name}"), &bytes);
        let run = orgform(repo.path(), &["validate", "--format", "json"]);
        assert_eq!(run.code, 1, "{what}: exit code\n{}", run.stdout);
        let json = run.json();
        let first_error = json["diagnostics"]
            .as_array()
            .and_then(|ds| ds.iter().find(|d| d["severity"] == "error"))
            .unwrap_or_else(|| panic!("{what}: no error diagnostic in {json}"));
        assert_eq!(first_error["rule"], rule, "{what}: {first_error}");
        let file = first_error["file"].as_str().unwrap_or_default();
        assert!(
            file.ends_with(name.trim_start_matches("../")),
            "{what}: file {file}"
        );
        assert!(
            first_error["line"].as_u64().unwrap_or(0) >= 1,
            "{what}: {first_error}"
        );
        assert!(
            first_error["column"].as_u64().unwrap_or(0) >= 1,
            "{what}: {first_error}"
        );
        assert!(
            first_error["message"].as_str().unwrap_or_default().len() < 2_000,
            "{what}: messages stay readable even for huge values"
        );
    }
}

#[test]
fn non_utf8_error_points_at_the_bad_byte() {
    let repo = TempRepo::new();
    repo.write("org/a.yaml", b"users:\n  - email: caf\xe9@b.co\n");
    let json = orgform(repo.path(), &["validate", "--format", "json"]).json();
    let d = &json["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(15))
    );
}

#[test]
fn one_broken_entry_does_not_hide_problems_in_other_entries() {
    let repo = TempRepo::new();
    repo.write(
        "org/a.yaml",
        "users:\n  - email: a@b.co\n    role: boss\n  - email: not-an-email\n    role: member\n",
    );
    let json = orgform(repo.path(), &["validate", "--format", "json"]).json();
    let rules: Vec<&str> = json["diagnostics"]
        .as_array()
        .map(|ds| ds.iter().filter_map(|d| d["rule"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(rules, ["invalid-value", "email-invalid"]);
}

#[test]
fn missing_config_and_missing_manifests_dir_are_clear_errors() {
    let empty = tempfile::tempdir().expect("temp dir");
    let run = orgform(empty.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no orgform.yaml in"), "{}", run.stderr);
    assert!(run.stderr.contains("-C DIR"), "{}", run.stderr);

    let repo = TempRepo::new();
    repo.write("orgform.yaml", "manifests: people/\n");
    let run = orgform(repo.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("manifests directory people/"),
        "{}",
        run.stderr
    );
}
