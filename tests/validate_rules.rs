//! One fixture per rule validate can detect (tests/fixtures/validate/<rule>/): each test
//! asserts the exact rule codes, files, lines and columns, and snapshots the text a user reads.

use crate::util::{fixture, orgform};

/// (severity, rule, file, line, column)
type Expected = &'static [(&'static str, &'static str, &'static str, u64, u64)];

fn check(case: &str, expected: Expected) {
    let dir = fixture(&format!("validate/{case}"));
    let json = orgform(&dir, &["validate", "--format", "json"]).json();
    let got: Vec<(String, String, String, u64, u64)> = json["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap_or_default().to_string(),
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, u64, u64)> = expected
        .iter()
        .map(|(s, r, f, l, c)| (s.to_string(), r.to_string(), f.to_string(), *l, *c))
        .collect();
    assert_eq!(got, want, "diagnostics of fixture {case}");
    let has_error = expected.iter().any(|(s, ..)| *s == "error");
    assert_eq!(json["ok"], !has_error);

    let text = orgform(&dir, &["validate"]);
    assert_eq!(text.code, if has_error { 1 } else { 0 }, "{}", text.stderr);
    insta::assert_snapshot!(format!("validate_{}", case.replace('-', "_")), text.stderr);
}

#[test]
fn admin_must_be_internal() {
    check(
        "admin-must-be-internal",
        &[
            ("error", "admin-must-be-internal", "org/people.yaml", 6, 11),
            ("error", "admin-must-be-internal", "org/people.yaml", 8, 11),
        ],
    );
}

#[test]
fn tag_name_duplicate_is_case_insensitive_and_names_both_files() {
    check(
        "tag-name-duplicate",
        &[("error", "tag-name-duplicate", "org/b.yaml", 3, 11)],
    );
}

#[test]
fn tag_unknown_suggests_the_declared_spelling() {
    check(
        "tag-unknown",
        &[
            ("error", "tag-unknown", "org/projects.yaml", 3, 21),
            ("error", "tag-unknown", "org/projects.yaml", 3, 30),
        ],
    );
}

#[test]
fn group_name_duplicate_across_files() {
    check(
        "group-name-duplicate",
        &[("error", "group-name-duplicate", "org/b.yaml", 3, 11)],
    );
}

#[test]
fn user_duplicate_compares_emails_case_insensitively() {
    check(
        "user-duplicate",
        &[("error", "user-duplicate", "org/b.yaml", 5, 12)],
    );
}

#[test]
fn folder_name_duplicate_among_siblings_at_every_depth() {
    check(
        "folder-name-duplicate",
        &[
            ("error", "folder-name-duplicate", "org/folders.yaml", 6, 15),
            ("error", "folder-name-duplicate", "org/folders.yaml", 8, 11),
        ],
    );
}

#[test]
fn metadata_key_duplicate_across_files() {
    check(
        "metadata-key-duplicate",
        &[("error", "metadata-key-duplicate", "org/b.yaml", 3, 3)],
    );
}

#[test]
fn user_unknown_in_groups_access_and_policy() {
    check(
        "user-unknown",
        &[
            ("error", "user-unknown", "orgform.yaml", 6, 18),
            ("error", "user-unknown", "org/people.yaml", 6, 29),
            ("error", "user-unknown", "org/people.yaml", 10, 17),
            ("error", "user-unknown", "org/people.yaml", 11, 18),
        ],
    );
}

#[test]
fn group_manager_not_member_is_a_note() {
    check(
        "group-manager-not-member",
        &[("note", "group-manager-not-member", "org/people.yaml", 6, 16)],
    );
}

#[test]
fn metadata_key_invalid() {
    check(
        "metadata-key-invalid",
        &[
            ("error", "metadata-key-invalid", "org/metadata.yaml", 3, 3),
            ("error", "metadata-key-invalid", "org/metadata.yaml", 4, 3),
            ("error", "metadata-key-invalid", "org/metadata.yaml", 5, 3),
            ("error", "metadata-key-invalid", "org/metadata.yaml", 6, 3),
        ],
    );
}

#[test]
fn metadata_type_alias_is_a_warning() {
    check(
        "metadata-type-alias",
        &[
            ("warning", "metadata-type-alias", "org/metadata.yaml", 2, 12),
            ("warning", "metadata-type-alias", "org/metadata.yaml", 3, 15),
        ],
    );
}

#[test]
fn embedding_size_out_of_range() {
    check(
        "embedding-size-out-of-range",
        &[
            (
                "error",
                "embedding-size-out-of-range",
                "org/metadata.yaml",
                2,
                22,
            ),
            (
                "error",
                "embedding-size-out-of-range",
                "org/metadata.yaml",
                3,
                22,
            ),
            (
                "warning",
                "embedding-size-out-of-range",
                "org/metadata.yaml",
                4,
                21,
            ),
        ],
    );
}

#[test]
fn enum_options_invalid() {
    check(
        "enum-options-invalid",
        &[
            ("error", "enum-options-invalid", "org/metadata.yaml", 2, 10),
            ("error", "enum-options-invalid", "org/metadata.yaml", 3, 35),
        ],
    );
}

#[test]
fn email_invalid() {
    check(
        "email-invalid",
        &[
            ("error", "email-invalid", "org/people.yaml", 3, 14),
            ("error", "email-invalid", "org/people.yaml", 4, 14),
            ("error", "email-invalid", "org/people.yaml", 7, 29),
        ],
    );
}

#[test]
fn rename_conflict() {
    check(
        "rename-conflict",
        &[
            ("error", "rename-conflict", "org/groups.yaml", 5, 20),
            ("error", "rename-conflict", "org/groups.yaml", 7, 20),
        ],
    );
}

#[test]
fn yaml_syntax() {
    check(
        "yaml-syntax",
        &[("error", "yaml-syntax", "org/broken.yaml", 4, 4)],
    );
}

#[test]
fn unknown_field_and_unknown_section() {
    check(
        "unknown-field",
        &[
            ("error", "unknown-field", "org/people.yaml", 4, 5),
            ("error", "unknown-field", "org/people.yaml", 5, 1),
        ],
    );
}

#[test]
fn invalid_value() {
    check(
        "invalid-value",
        &[
            ("error", "invalid-value", "org/people.yaml", 3, 11),
            ("error", "invalid-value", "org/people.yaml", 4, 5),
            // `name` and `hash` together are fine (SPEC §7.6): line 10 is not an error.
            ("error", "invalid-value", "org/people.yaml", 12, 9),
            ("error", "invalid-value", "org/people.yaml", 15, 37),
            ("error", "invalid-value", "org/people.yaml", 17, 5),
        ],
    );
}

#[test]
fn a_valid_repository_has_no_diagnostics() {
    check("valid-minimal", &[]);
}
