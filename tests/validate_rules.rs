//! One fixture per rule validate can detect (tests/fixtures/validate/<rule>/): each test
//! asserts the exact rule codes, files, lines and columns, and snapshots the text a user reads.

use crate::util::{TempRepo, fixture, orgform};

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

#[test]
fn unmanaged_declared_users_groups_and_renames_but_references_are_allowed() {
    // Wildcard prefix, wildcard in the middle, exact pattern matched case-insensitively,
    // exact group pattern, and `renamed_from` naming an unmanaged group. The unmanaged
    // user as member and principal and the undeclared unmanaged group in `access` pass.
    check(
        "unmanaged-declared",
        &[
            ("error", "unmanaged-declared", "org/people.yaml", 3, 14),
            ("error", "unmanaged-declared", "org/people.yaml", 4, 14),
            ("error", "unmanaged-declared", "org/people.yaml", 5, 14),
            ("error", "unmanaged-declared", "org/people.yaml", 8, 11),
            ("error", "unmanaged-declared", "org/people.yaml", 9, 20),
            ("error", "unmanaged-declared", "org/people.yaml", 12, 34),
            ("error", "unmanaged-declared", "org/people.yaml", 14, 11),
        ],
    );
}

#[test]
fn unmanaged_declared_names_the_pattern_and_where_it_is() {
    let dir = fixture("validate/unmanaged-declared");
    let json = orgform(&dir, &["validate", "--format", "json"]).json();
    let messages: Vec<&str> = json["diagnostics"]
        .as_array()
        .map(|ds| ds.iter().filter_map(|d| d["message"].as_str()).collect())
        .unwrap_or_default();
    let wanted = [
        (
            "`support@encord.com`",
            "`*@encord.com`",
            "orgform.yaml:4:13",
        ),
        ("`bot-7@acme.com`", "`bot-*@acme.com`", "orgform.yaml:4:29"),
        ("`OPS@Acme.com`", "`ops@acme.com`", "orgform.yaml:4:47"),
        ("renamed from `xg`", "`x*`", "orgform.yaml:5:14"),
        ("group `Contractors`", "`Contractors`", "orgform.yaml:5:20"),
    ];
    for (object, pattern, place) in wanted {
        let found = messages.iter().any(|m| {
            m.contains(object)
                && m.contains(&format!("unmanaged pattern {pattern}"))
                && m.contains(&format!("pattern {pattern} at {place}"))
                && m.contains("narrow `policy.unmanaged.")
        });
        assert!(found, "{object} / {pattern} at {place} in {messages:#?}");
    }
}

#[test]
fn unmanaged_patterns_do_not_apply_to_sandbox_state_files() {
    // A state file describes the live org, unmanaged objects included.
    let repo = TempRepo::new();
    repo.write(
        "orgform.yaml",
        "manifests: org/\npolicy:\n  unmanaged:\n    users: [\"*@encord.com\"]\n    groups: [\"x*\"]\n",
    );
    repo.write(
        "org/people.yaml",
        "users:\n  - { email: admin@acme.com, role: admin, type: internal }\n",
    );
    repo.write(
        "state.yaml",
        "users:\n  - { email: admin@acme.com, role: admin, type: internal }\n  - { email: support@encord.com, role: member }\ngroups:\n  - { name: xg, members: [support@encord.com] }\n",
    );
    let run = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("unmanaged-declared"), "{}", run.stderr);
}

#[test]
fn name_invalid_characters_everywhere_a_name_or_email_is_written() {
    // ESC, NUL, newline, DEL, tab, C1 and other C0 characters: one diagnostic per node
    // (no `email-invalid` or `user-unknown` on top), never the raw character.
    check(
        "name-invalid-characters",
        &[
            ("error", "name-invalid-characters", "orgform.yaml", 4, 18),
            ("error", "name-invalid-characters", "org/a.yaml", 3, 14),
            ("error", "name-invalid-characters", "org/a.yaml", 4, 14),
            ("error", "name-invalid-characters", "org/a.yaml", 6, 11),
            ("error", "name-invalid-characters", "org/a.yaml", 7, 20),
            ("error", "name-invalid-characters", "org/a.yaml", 8, 29),
            ("error", "name-invalid-characters", "org/a.yaml", 9, 16),
            ("error", "name-invalid-characters", "org/a.yaml", 11, 11),
            ("error", "name-invalid-characters", "org/a.yaml", 13, 3),
            ("error", "name-invalid-characters", "org/a.yaml", 14, 28),
            ("error", "name-invalid-characters", "org/a.yaml", 18, 15),
            ("error", "name-invalid-characters", "org/a.yaml", 21, 11),
            ("error", "name-invalid-characters", "org/a.yaml", 22, 12),
            ("error", "name-invalid-characters", "org/a.yaml", 25, 17),
            ("error", "name-invalid-characters", "org/a.yaml", 26, 18),
            ("error", "name-invalid-characters", "org/a.yaml", 28, 11),
            ("error", "name-invalid-characters", "org/a.yaml", 30, 19),
        ],
    );
}

#[test]
fn name_invalid_characters_are_shown_escaped_in_every_format() {
    let dir = fixture("validate/name-invalid-characters");
    let runs = [
        orgform(&dir, &["validate"]),
        orgform(&dir, &["validate", "--format", "json"]),
        orgform(&dir, &["validate", "--format", "github"]),
    ];
    for run in &runs {
        let out = format!("{}{}", run.stdout, run.stderr);
        for raw in ['\u{1b}', '\0', '\u{7f}', '\u{85}', '\u{1}', '\t'] {
            assert!(!out.contains(raw), "raw {raw:?} in:\n{out}");
        }
    }
    let text = &runs[0].stderr;
    for escaped in [
        "`eve\\u{1b}[31m@acme.com` contains the control character `\\u{1b}`",
        "`nul\\u{0}@acme.com`",
        "`ops\\u{a}team`",
        "`old\\u{7f}`",
        "`ada\\u{85}@acme.com`",
        "the control characters `\\u{1b}`, `\\u{a}`",
    ] {
        assert!(text.contains(escaped), "{escaped} in:\n{text}");
    }
}

#[test]
fn name_invalid_characters_in_a_sandbox_state_file() {
    // A NUL would otherwise reach the store's unique index.
    let repo = TempRepo::new();
    repo.write(
        "state.yaml",
        "users:\n  - { email: admin@acme.com, role: admin, type: internal }\ngroups:\n  - { name: \"ops\\0\" }\n",
    );
    let run = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error[name-invalid-characters]: group name `ops\\u{0}`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("state.yaml:4:13"), "{}", run.stderr);
    assert!(!repo.path().join(".orgform/sandbox.db").exists());
}

#[test]
fn empty_resource_names_and_hashes_are_invalid() {
    // Blank names are reported once each, not also as duplicates of one another.
    check(
        "invalid-value-empty-resource",
        &[
            ("error", "invalid-value", "org/resources.yaml", 4, 11),
            ("error", "invalid-value", "org/resources.yaml", 7, 11),
            ("error", "invalid-value", "org/resources.yaml", 9, 11),
            ("error", "invalid-value", "org/resources.yaml", 10, 11),
            ("error", "invalid-value", "org/resources.yaml", 12, 11),
        ],
    );
}

#[test]
fn loader_messages_show_control_characters_escaped() {
    // An unknown key is quoted in the message; its ESC must not reach the terminal.
    let repo = TempRepo::new();
    repo.write(
        "org/a.yaml",
        "users:\n  - { email: a@acme.com, role: member, \"ro\\e[2Jle\": x }\n",
    );
    let run = orgform(repo.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error[unknown-field]: unknown field `ro\\u{1b}[2Jle`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
}
