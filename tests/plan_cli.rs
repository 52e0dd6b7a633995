//! `orgform plan` and `orgform sandbox` as a user runs them, on a copy of examples/acme.

use std::path::Path;

use crate::util::{TempRepo, orgform, repo_root};

/// A copy of examples/acme in a temp dir (the sandbox file is created there).
fn acme() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo_root().join("examples/acme"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == ".orgform" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

#[test]
fn acme_plan_shows_a_rich_plan_against_the_auto_created_sandbox() {
    let dir = acme();
    let run = orgform(dir.path(), &["plan"]);
    assert!(
        run.stderr
            .contains("Created the sandbox org .orgform/sandbox.db from sandbox.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.code, 1,
        "blocked items make plan exit 1:\n{}",
        run.stdout
    );
    for needle in [
        "    + margaret@acme.com",
        "    ~ carol@acme.com",
        "    > labelers-eu                                    name: eu-labelers → labelers-eu",
        "  -/+ frances@acme-health.com",
        "[destructive]",
        "✗ user root@acme.com [admin-unremovable]",
        "Plan: ",
    ] {
        assert!(
            run.stdout.contains(needle),
            "missing {needle:?} in:\n{}",
            run.stdout
        );
    }
    insta::assert_snapshot!("acme_plan_text", run.stdout);
    assert!(
        !run.stdout.contains("support@encord.com"),
        "unmanaged users are never reported"
    );
}

#[test]
fn acme_markdown_plan_reads_well_on_github() {
    let dir = acme();
    let run = orgform(dir.path(), &["plan", "--format", "markdown"]);
    assert_eq!(run.code, 1);
    let md = &run.stdout;
    assert!(
        md.starts_with("<!-- orgform-plan -->\n### orgform plan"),
        "{md}"
    );
    assert!(md.contains("| create | update | delete | rename | replace | manual | blocked |"));
    assert!(md.contains("> [!CAUTION]"));
    assert!(md.contains("> [!WARNING]"));
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    insta::assert_snapshot!("acme_plan_markdown", md);
}

#[test]
fn markdown_is_capped_with_a_note() {
    let dir = acme();
    let run = orgform(dir.path(), &["plan", "--format", "json"]);
    let plan: orgform::plan::Plan = serde_json::from_str(&run.stdout).expect("plan JSON");
    let md = orgform::render::markdown(&plan, "sandbox", 2_500);
    assert!(md.len() <= 2_500, "{} bytes", md.len());
    assert!(md.contains("_Plan truncated to fit a comment:"), "{md}");
}

#[test]
fn saved_plan_matches_the_plan_schema_and_stdout() {
    let dir = acme();
    let run = orgform(
        dir.path(),
        &["plan", "--format", "json", "--out", "plan.json"],
    );
    assert_eq!(run.code, 1);
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).expect("plan.json written");
    let saved: serde_json::Value = serde_json::from_str(&saved).expect("JSON");
    assert_eq!(saved, run.json(), "--out saves what --format json prints");
    assert_eq!(saved["format_version"], 1);
    assert!(
        saved["actual_fingerprint"]
            .as_str()
            .is_some_and(|f| f.starts_with("sha256:") && f.len() == 71)
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("schemas/plan.schema.json"))
            .expect("plan schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&saved)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let summary = &saved["summary"];
    for key in [
        "create", "update", "delete", "rename", "replace", "manual", "blocked",
    ] {
        assert!(summary[key].is_u64(), "summary.{key}");
    }
    assert_eq!(summary["blocked"], 1);
}

#[test]
fn plan_never_writes_to_the_org() {
    let dir = acme();
    orgform(dir.path(), &["plan"]);
    let db = dir.path().join(".orgform/sandbox.db");
    let before = std::fs::read(&db).expect("sandbox created");
    for format in ["text", "json", "markdown"] {
        orgform(dir.path(), &["plan", "--format", format]);
    }
    assert_eq!(
        std::fs::read(&db).expect("sandbox"),
        before,
        "plan changed the sandbox"
    );
}

#[test]
fn detailed_exitcode_and_target() {
    let repo = TempRepo::new();
    repo.write(
        "org/people.yaml",
        "users:\n  - { email: admin@example.com, role: admin, type: internal }\n",
    );
    let run = orgform(repo.path(), &["sandbox", "init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = orgform(repo.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "no changes: {}", run.stdout);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);

    repo.write(
        "org/people.yaml",
        "users:\n  - { email: admin@example.com, role: admin, type: internal }\n  - { email: bob@example.com, role: member }\ngroups:\n  - { name: g }\n",
    );
    assert_eq!(
        orgform(repo.path(), &["plan"]).code,
        0,
        "changes without --detailed-exitcode"
    );
    assert_eq!(
        orgform(repo.path(), &["plan", "--detailed-exitcode"]).code,
        2
    );
    let only_groups = orgform(
        repo.path(),
        &["plan", "--format", "json", "--target", "group"],
    )
    .json();
    let kinds: Vec<&str> = only_groups["changes"]
        .as_array()
        .map(|cs| cs.iter().filter_map(|c| c["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["group"]);
    let one = orgform(
        repo.path(),
        &[
            "plan",
            "--format",
            "json",
            "--target",
            "user/bob@example.com",
        ],
    )
    .json();
    assert_eq!(one["summary"]["create"], 1);
}

#[test]
fn invalid_manifests_stop_plan_before_reading_the_org() {
    let repo = TempRepo::new();
    repo.write(
        "org/people.yaml",
        "users:\n  - { email: nope, role: member }\n",
    );
    let run = orgform(repo.path(), &["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error[email-invalid]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was sent to the org"),
        "{}",
        run.stderr
    );
    assert!(
        !repo.path().join(".orgform").exists(),
        "the sandbox was not even opened"
    );
}

#[test]
fn sandbox_init_default_force_and_from() {
    let repo = TempRepo::new();
    repo.write(
        "org/people.yaml",
        "users:\n  - { email: admin@example.com, role: admin, type: internal }\n",
    );
    assert_eq!(orgform(repo.path(), &["sandbox", "init"]).code, 0);
    let again = orgform(repo.path(), &["sandbox", "init"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);

    repo.write(
        "state.yaml",
        "users:\n  - { email: admin@example.com, role: admin, type: internal }\n  - { email: old@example.com, role: member, type: internal, status: declined }\nprojects:\n  - name: P\n    access: [ { user: old@example.com, role: viewer } ]\n",
    );
    let run = orgform(
        repo.path(),
        &["sandbox", "init", "--from", "state.yaml", "--force"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = orgform(repo.path(), &["plan", "--format", "json"]).json();
    assert_eq!(plan["changes"][0]["key"], "old@example.com");
    assert_eq!(plan["changes"][0]["action"], "delete");

    repo.write(
        "bad.yaml",
        "users:\n  - { email: vic@vendor.io, role: admin, type: workforce }\n",
    );
    let run = orgform(
        repo.path(),
        &["sandbox", "init", "--from", "bad.yaml", "--force"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("admin-must-be-internal"),
        "{}",
        run.stderr
    );
    assert!(
        repo.path().join(".orgform/sandbox.db").exists(),
        "the old sandbox is kept"
    );
}

#[test]
fn missing_sandbox_says_how_to_create_one() {
    let repo = TempRepo::new();
    repo.write("org/people.yaml", "users: []\n");
    let run = orgform(repo.path(), &["plan"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("orgform sandbox init"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_targeted_plan_cannot_be_saved() {
    let dir = acme();
    let run = orgform(
        dir.path(),
        &["plan", "--target", "user", "--out", "plan.json"],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot be saved"), "{}", run.stderr);
    assert!(!dir.path().join("plan.json").exists());
}
