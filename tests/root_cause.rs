//! Errors that point at the cause: parse errors first and alone, did-you-mean,
//! warnings for silent mistakes, notes summarised.

use crate::onboarding::copy_dir;
use crate::util::{TempRepo, orgform, repo_root};

fn acme() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo_root().join("examples/acme"), dir.path());
    dir
}

#[test]
fn a_syntax_error_is_one_error_not_a_cascade() {
    let dir = acme();
    // An unclosed flow mapping: none of the 17 users can be read.
    let people = dir.path().join("org/people.yaml");
    let text = std::fs::read_to_string(&people).expect("read");
    std::fs::write(
        &people,
        text.replacen(
            "  - email: ada@acme.com\n",
            "  - { email: ada@acme.com\n",
            1,
        ),
    )
    .expect("write");

    let run = orgform(dir.path(), &["validate"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("syntax_error_root_cause", run.stderr);
    assert!(
        run.stderr.starts_with("error[yaml-syntax]"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.matches("error[").count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid: 1 error, 0 warnings"),
        "{}",
        run.stderr
    );

    // JSON: the root cause first, then the note on what was skipped.
    let json = orgform(dir.path(), &["validate", "--format", "json"]).json();
    let rules: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(rules[..2], ["yaml-syntax", "checks-skipped"], "{json:#}");
    assert!(!rules.contains(&"user-unknown"), "{rules:?}");

    // plan stops with the same root cause.
    let plan = orgform(dir.path(), &["plan"]);
    assert_eq!(plan.code, 1);
    assert_eq!(plan.stderr.matches("error[").count(), 1, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("note[checks-skipped]"),
        "{}",
        plan.stderr
    );

    // Fixed, the skipped checks run again and find a real problem.
    std::fs::write(&people, text.replace("edsger@acme.com", "edsgr@acme.com")).expect("write");
    let run = orgform(dir.path(), &["validate"]);
    assert!(!run.stderr.contains("checks-skipped"), "{}", run.stderr);
    assert!(run.stderr.contains("error[user-unknown]"), "{}", run.stderr);
}

#[test]
fn unknown_users_groups_and_tags_come_with_a_did_you_mean() {
    let repo = TempRepo::new();
    repo.write(
        "org/main.yaml",
        "users:
  - { email: ada@acme.com, role: admin }
  - { email: edsger@acme.com, role: member }
  - { email: alan@acme.com, role: member }
groups:
  - name: ml-engineers
    members: [edsgr@acme.com, alan@acme.com, nobody@elsewhere.io]
project_tags:
  - name: medical
projects:
  - name: Lung CT
    tags: [medicl]
    access:
      - { group: ml-engineer, role: annotator }
organization:
  email_domains: [acme.com]
",
    );
    let run = orgform(repo.path(), &["validate"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("did_you_mean", run.stderr);
    for hint in [
        "did you mean `edsger@acme.com`?",
        "did you mean `ml-engineers`?",
        "did you mean `medical`?",
    ] {
        assert!(run.stderr.contains(hint), "{hint}\n{}", run.stderr);
    }
    // A user who is not close to anyone gets no guess.
    let nobody = run
        .stderr
        .split("\n\n")
        .find(|d| d.contains("`nobody@elsewhere.io` is not"))
        .expect("reported");
    assert!(!nobody.contains("did you mean"), "{nobody}");
}

#[test]
fn an_unknown_resource_name_suggests_the_live_title() {
    let repo = TempRepo::new();
    repo.write(
        "sandbox.yaml",
        "users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - { name: Lung CT }
  - { name: Brain MRI }
",
    )
    .write(
        "org/main.yaml",
        "users:
  - { email: ada@acme.com, role: admin, type: internal }
projects:
  - name: Lung CTT
    access: [ { user: ada@acme.com, role: admin } ]
",
    );
    let run = orgform(repo.path(), &["plan"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "orgform manages access to existing projects only; did you mean `Lung CT`? Otherwise create it in Encord first"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn silent_mistakes_are_warned_about() {
    let repo = TempRepo::new();
    repo.write(
        "org/main.yaml",
        "users:
  - { email: ada@acme.com, role: admin }
  - { email: zoe@acme.con, role: member }
  - { email: bob@acme.co.uk, role: member }
  - { email: eve@acme.cm, role: member, type: external }
organization:
  email_domains: [acme.com]
",
    )
    .write("org/groups.yml", "groups: []\n");
    let run = orgform(repo.path(), &["validate"]);
    assert_eq!(
        run.code, 0,
        "warnings do not fail validate:\n{}",
        run.stderr
    );
    insta::assert_snapshot!("silent_mistakes", run.stderr);
    assert_eq!(
        run.stderr.matches("warning[email-domain-typo]").count(),
        1,
        "only zoe: bob's domain is not one edit away, eve's type is explicit\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning[manifest-file-ignored]: org/groups.yml is not read")
    );

    let empty = TempRepo::new();
    empty.write("org/people.yml", "users: []\n");
    let run = orgform(empty.path(), &["validate"]);
    assert!(
        run.stderr.contains(
            "warning[no-manifests]: 0 manifest files loaded: org/ holds no `*.yaml` file"
        ),
        "{}",
        run.stderr
    );
    let github = orgform(empty.path(), &["validate", "--format", "github"]);
    assert!(
        github
            .stdout
            .contains("::warning title=no-manifests::0 manifest files loaded"),
        "{}",
        github.stdout
    );
}

#[test]
fn notes_are_summarised_unless_verbose() {
    let dir = repo_root().join("examples/acme");
    let run = orgform(&dir, &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let notes: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("note["))
        .collect();
    assert_eq!(
        notes,
        [
            "note[group-manager-not-member]: 3 notes, the first (org/groups.yaml:6:16): `carol@acme.com` manages group `labelers-eu` without being a member; managers do not inherit the group's resource roles; `validate --verbose` shows each"
        ]
    );
    assert!(run.stderr.contains("valid (0 warnings, 3 notes)"));

    let verbose = orgform(&dir, &["validate", "--verbose"]);
    assert_eq!(
        verbose
            .stderr
            .matches("note[group-manager-not-member]: `")
            .count(),
        3,
        "{}",
        verbose.stderr
    );
    assert!(verbose.stderr.contains(" --> org/groups.yaml:14:16"));
    // Tools get every note.
    let json = orgform(&dir, &["validate", "--format", "json"]).json();
    assert_eq!(json["diagnostics"].as_array().map(Vec::len), Some(3));
}
