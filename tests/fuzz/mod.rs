//! The fuzz harness's bounded run (`harness.rs` says what it checks), and the inputs
//! its long runs found, kept as regression tests.

pub mod harness;

use std::time::Duration;

/// A few seconds of generated and mutated orgs: nothing panics, every diagnostic is
/// located, every plan of valid input is accepted by the store.
#[test]
fn mutated_orgs_load_validate_and_plan_without_surprises() {
    // A fixed seed: the same inputs on every run (the long run varies it).
    match harness::run(Duration::from_secs(3), 64, 13) {
        Ok(tally) => {
            // The run reaches the planner and the store, not only the parser.
            assert!(tally.planned * 5 >= tally.cases, "{tally}");
            assert!(tally.changes_applied > 0, "{tally}");
            assert!(
                tally.invalid_manifests > 0 && tally.invalid_state > 0,
                "{tally}"
            );
        }
        Err(found) => {
            let (reason, input, tally) = (found.reason, found.input, found.tally);
            // Kept for `orgform -C DIR plan`.
            let kept = tempfile::Builder::new()
                .prefix("orgform-fuzz-")
                .tempdir()
                .map(|d| d.keep());
            let place = match kept.map(|dir| input.write(&dir).map(|()| dir)) {
                Ok(Ok(dir)) => format!("the input is in {}", dir.display()),
                _ => "the input could not be saved".to_string(),
            };
            panic!("after {tally}: {reason}\n{place}\n{}", input.show())
        }
    }
}

/// `orgform validate --format json` on one manifest file: its first diagnostic's
/// (rule, line, column), and the file's text for messages.
fn first_diagnostic(file: &[u8]) -> (String, u64, u64) {
    let repo = crate::util::TempRepo::new();
    repo.write("org/a.yaml", file);
    let json = crate::util::orgform(repo.path(), &["validate", "--format", "json"]).json();
    let d = &json["diagnostics"][0];
    (
        d["rule"].as_str().unwrap_or_default().to_string(),
        d["line"].as_u64().unwrap_or_default(),
        d["column"].as_u64().unwrap_or_default(),
    )
}

/// Found by the fuzz run: a syntax error at the end of a file without a final newline
/// was placed on the line after the last (2:1 in a one-line file).
#[test]
fn a_syntax_error_at_the_end_of_a_file_without_newline_points_inside_it() {
    assert_eq!(
        first_diagnostic(b"organization: {"),
        ("yaml-syntax".to_string(), 1, 16)
    );
}

/// Found by the fuzz run: a `policy.unmanaged` pattern like `*@vendor.io` against an
/// email holding a character of several bytes panicked (a string cut inside it).
#[test]
fn unmanaged_patterns_read_emails_with_any_characters() {
    let repo = crate::util::TempRepo::new();
    repo.write(
        "orgform.yaml",
        "manifests: org/\npolicy:\n  unmanaged: { users: [\"*@vendor.io\"] }\n",
    );
    repo.write(
        "org/people.yaml",
        "users:\n  - { email: admin@acme.com, role: admin, type: internal }\n  - { email: \"newhire😀@acme.com\", role: member, type: internal }\n",
    );
    // `orgform` fails the test on a panic; the email is judged, not crashed on.
    let run = crate::util::orgform(repo.path(), &["validate", "--format", "json"]);
    let json = run.json();
    let rules: Vec<&str> = json["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(run.code, 1, "{rules:?}");
    assert!(rules.contains(&"email-invalid"), "{rules:?}");
}

/// Found by the fuzz run: an email that lower-cases into a combining character (`İ`)
/// validated, then the store refused it at apply time. Validate now says so first.
#[test]
fn an_email_that_changes_when_lower_cased_is_refused_by_validate() {
    assert_eq!(
        first_diagnostic(
            "users:\n  - { email: admin@acme.com, role: admin, type: internal }\n  - { email: \"İuser@acme.com\", role: member, type: internal }\n"
                .as_bytes()
        ),
        ("email-invalid".to_string(), 3, 14)
    );
}

/// Found by the fuzz run: YAML reads a lone carriage return as a line break, the
/// diagnostics' line numbers did not, so every problem after one was a line off.
#[test]
fn a_lone_carriage_return_is_a_line_break_for_diagnostics_too() {
    assert_eq!(
        first_diagnostic(b"users:\r  - { email: a@acme.com, role: member, role: admin }\n"),
        ("yaml-syntax".to_string(), 2, 40)
    );
}
