//! `orgform apply` and `orgform export` on real sandbox files, as CI would run them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orgform::apply::journal::{self, Entry};
use orgform::model::Org;
use orgform::sandbox::store::Store;

use crate::util::{TempRepo, orgform, repo_root};

pub(crate) fn acme() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let status = Command::new("cp")
        .arg("-r")
        .arg(repo_root().join("examples/acme/."))
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(status.success());
    let _ = std::fs::remove_dir_all(dir.path().join(".orgform"));
    dir
}

pub(crate) fn live(dir: &Path) -> Org {
    Store::open(&dir.join(".orgform/sandbox.db"))
        .expect("sandbox")
        .read()
        .expect("read")
}

fn journal_entries(dir: &Path) -> Vec<Entry> {
    let jdir = dir.join(".orgform/sandbox.db.apply/journal");
    let mut all = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(jdir)
        .expect("journal dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    for p in paths {
        all.extend(journal::read(&p).expect("journal"));
    }
    all
}

fn audit_records(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join(".orgform/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect()
}

/// An acme apply finished every change; it exits 1 because the admin dropped from the
/// YAML stays blocked (admins are unremovable).
fn assert_applied_but_blocked(run: &crate::util::Run) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("Apply complete"), "{}", run.stderr);
    assert!(
        run.stderr.contains("1 blocked item(s) were not applied"),
        "{}",
        run.stderr
    );
}

/// The plan's text after applying: only the admin that can never be removed is left.
fn assert_converged(dir: &Path) {
    let json = orgform(dir, &["plan", "--format", "json"]).json();
    assert_eq!(
        json["changes"],
        serde_json::json!([]),
        "plan after apply: {json:#}"
    );
    assert_eq!(json["blocked"][0]["rule"], "admin-unremovable");
}

#[test]
fn applying_the_acme_plan_then_planning_shows_no_changes() {
    let dir = acme();
    let plan = orgform(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 1, "root@acme.com stays blocked");
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_applied_but_blocked(&run);
    assert!(
        run.stderr.contains("[30/30]"),
        "plain progress lines without a TTY:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Apply complete: 30 done"),
        "{}",
        run.stderr
    );
    assert_converged(dir.path());
    let org = live(dir.path());
    assert!(org.groups.contains_key("labelers-eu") && !org.groups.contains_key("eu-labelers"));
    assert!(!org.users.contains_key("olga@acme.com"));
    assert!(
        org.users.contains_key("root@acme.com"),
        "blocked items are never applied"
    );

    // Applying the same plan again is refused: the org is no longer what it was planned on.
    let again = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("changed since this plan was made"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_stale_plan_is_refused_and_nothing_is_written() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // Someone edits the org by hand after the plan was reviewed.
    let mut store = Store::open(&dir.path().join(".orgform/sandbox.db")).expect("sandbox");
    store
        .set_user_role("ken@acme.com", orgform::model::OrgRole::WorkforceManager)
        .expect("edit");
    drop(store);
    let before = live(dir.path());
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("Refusing to apply: the live org changed since this plan was made"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("user ken@acme.com changed since the plan"),
        "says what changed:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Run `orgform plan` again"),
        "{}",
        run.stderr
    );
    assert_eq!(live(dir.path()), before, "nothing written");
    let audit = audit_records(dir.path());
    assert_eq!(
        audit.last().map(|r| r["outcome"].clone()),
        Some("refused".into())
    );
}

#[test]
fn destructive_changes_need_allow_destroy() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let before = live(dir.path());
    let run = orgform(dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("4 destructive change(s)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--allow-destroy"), "{}", run.stderr);
    assert_eq!(live(dir.path()), before, "nothing written");
}

#[test]
fn max_deletions_is_enforced_even_with_allow_destroy() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // The policy tightens between review and apply: the saved plan is checked again.
    let config = std::fs::read_to_string(dir.path().join("orgform.yaml")).expect("config");
    std::fs::write(
        dir.path().join("orgform.yaml"),
        config.replace(
            "max_deletions: { default: 10, users: 5 }",
            "max_deletions: { default: 10, users: 0 }",
        ),
    )
    .expect("write config");
    let before = live(dir.path());
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("exceed `policy.max_deletions.users` = 0"),
        "{}",
        run.stderr
    );
    assert_eq!(live(dir.path()), before);
    // And `plan` itself blocks the deletions (never lifted by --allow-destroy).
    let plan = orgform(dir.path(), &["plan", "--format", "json"]).json();
    let rules: Vec<&str> = plan["blocked"]
        .as_array()
        .map(|b| b.iter().filter_map(|x| x["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(rules.contains(&"deletion-limit-exceeded"), "{rules:?}");
}

#[test]
fn apply_without_a_plan_file_needs_auto_approve_without_a_terminal() {
    let dir = acme();
    let before_run = orgform(dir.path(), &["apply", "--allow-destroy"]);
    assert_eq!(before_run.code, 1);
    assert!(
        before_run.stderr.contains("--auto-approve"),
        "{}",
        before_run.stderr
    );
    let run = orgform(dir.path(), &["apply", "--allow-destroy", "--auto-approve"]);
    assert_applied_but_blocked(&run);
    assert!(
        run.stdout.contains("Plan for org/"),
        "the plan is shown first"
    );
    assert_converged(dir.path());
    let nothing = orgform(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(nothing.code, 1, "the blocked admin remains");
    assert!(
        nothing.stderr.contains("1 blocked item(s) remain"),
        "{}",
        nothing.stderr
    );
    assert!(
        nothing.stderr.contains("Nothing to apply"),
        "{}",
        nothing.stderr
    );
}

#[test]
fn a_second_apply_on_the_same_org_is_told_to_wait() {
    // Two checkouts of the org repository, one sandbox org.
    let first = acme();
    let second = acme();
    orgform(first.path(), &["plan", "--out", "plan.json"]);
    let db = first.path().join(".orgform/sandbox.db");
    let config = std::fs::read_to_string(second.path().join("orgform.yaml")).expect("config");
    std::fs::write(
        second.path().join("orgform.yaml"),
        config.replace(
            "path: .orgform/sandbox.db",
            &format!("path: {}", db.display()),
        ),
    )
    .expect("point the second checkout at the same org");

    let (child, marker) = apply_paused_after(first.path(), "plan.json", 1);
    let run = orgform(
        second.path(),
        &["apply", "--auto-approve", "--allow-destroy"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("another `orgform apply` is running against this org"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(&marker).expect("release the first apply");
    let out = child.wait_with_output().expect("first apply finishes");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Apply complete"));
    // Once it is done, the second checkout finds nothing left to do.
    let again = orgform(
        second.path(),
        &["apply", "--auto-approve", "--allow-destroy"],
    );
    assert!(
        again.stderr.contains("Nothing to apply"),
        "{}",
        again.stderr
    );
}

/// Starts `apply FILE --allow-destroy` and returns once it has paused right after its
/// k-th write (before journaling it); remove the marker to let it go on, or kill it.
pub(crate) fn apply_paused_after(
    dir: &Path,
    file: &str,
    k: usize,
) -> (std::process::Child, std::path::PathBuf) {
    let marker = dir.join("paused");
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .arg("-C")
        .arg(dir)
        .args(["apply", file, "--allow-destroy"])
        .env("ORGFORM_FAULT_PAUSE_AFTER_WRITES", k.to_string())
        .env("ORGFORM_FAULT_MARKER", &marker)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "apply never reached write {k}");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "apply exited before write {k}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, marker)
}

#[test]
fn a_failed_change_skips_its_dependants_and_applies_the_rest() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // Mid-apply, someone deletes the group the plan is about to rename (by hand, in the
    // web app): its rename fails, the member added under its new name is skipped, and
    // everything independent still goes ahead.
    let (child, marker) = apply_paused_after(dir.path(), "plan.json", 1);
    let mut store = Store::open(&dir.path().join(".orgform/sandbox.db")).expect("sandbox");
    store.delete_group("eu-labelers").expect("delete by hand");
    drop(store);
    std::fs::remove_file(&marker).expect("release");
    let out = child.wait_with_output().expect("apply finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("failed  group labelers-eu: not found: group `eu-labelers`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "skipped group_member labelers-eu/mallory@vendor.io: depends on group:labelers-eu"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("28 done"),
        "independent changes applied: {stderr}"
    );
    let org = live(dir.path());
    assert!(org.users.contains_key("margaret@acme.com"));
    assert!(!org.users.contains_key("olga@acme.com"));

    let entries = journal_entries(dir.path());
    let failed: Vec<usize> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Failed { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    let skipped: Vec<usize> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Skipped { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!((failed.len(), skipped.len()), (1, 1));
    let audit = audit_records(dir.path());
    let last = audit.last().expect("audit record");
    assert_eq!(last["outcome"], "partial");
    let results: Vec<&str> = last["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["result"].as_str())
        .collect();
    assert_eq!(results.iter().filter(|r| **r == "failed").count(), 1);
    assert_eq!(results.iter().filter(|r| **r == "skipped").count(), 1);
    assert_eq!(results.iter().filter(|r| **r == "done").count(), 28);

    // A fresh plan and apply converge (the deleted group is re-created from the YAML).
    assert_applied_but_blocked(&orgform(
        dir.path(),
        &["apply", "--auto-approve", "--allow-destroy"],
    ));
    assert_converged(dir.path());
}

#[test]
fn audit_records_who_what_and_never_credentials() {
    let dir = acme();
    let head = crate::plan_source::committed(dir.path());
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let secret = "-----BEGIN OPENSSH PRIVATE KEY-----SECRETSECRET";
    let out = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .arg("-C")
        .arg(dir.path())
        .args(["apply", "plan.json", "--allow-destroy"])
        .env("ORGFORM_ACTOR", "release-bot")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("ENCORD_SSH_KEY", secret)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Apply complete"));
    let audit = audit_records(dir.path());
    let record = audit.last().expect("record");
    assert_eq!(record["actor"], "release-bot");
    // The commit is the checkout's HEAD, whatever the CI's variables say.
    assert_eq!(record["git_commit"], head.as_str());
    assert_eq!(record["outcome"], "applied");
    assert_eq!(record["changes"].as_array().map(Vec::len), Some(30));
    assert!(record["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    let mut everything =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    everything += &std::fs::read_to_string(dir.path().join(".orgform/audit.jsonl")).expect("audit");
    for entry in
        std::fs::read_dir(dir.path().join(".orgform/sandbox.db.apply/journal")).expect("journal")
    {
        everything += &std::fs::read_to_string(entry.expect("entry").path()).expect("journal text");
    }
    assert!(!everything.contains("SECRET"), "a credential leaked");
}

/// The org after one uninterrupted apply of the acme plan: what every resumed apply
/// must end with, exactly.
fn applied_once() -> &'static Org {
    static ONCE: std::sync::OnceLock<Org> = std::sync::OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = acme();
        orgform(dir.path(), &["plan", "--out", "plan.json"]);
        assert_applied_but_blocked(&orgform(
            dir.path(),
            &["apply", "plan.json", "--allow-destroy"],
        ));
        live(dir.path())
    })
}

/// Runs `apply plan.json` and kills it with SIGKILL right after its k-th write
/// (before that write is journaled), then applies the same plan again.
fn crash_after(k: usize) {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let (mut child, _marker) = apply_paused_after(dir.path(), "plan.json", k);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");

    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_applied_but_blocked(&run);
    assert!(
        run.stderr.contains("Resuming an interrupted apply"),
        "k={k}: {}",
        run.stderr
    );
    assert_converged(dir.path());
    assert_eq!(
        &live(dir.path()),
        applied_once(),
        "k={k}: the resumed org is exactly the org of an uninterrupted apply"
    );
    // Nothing done twice: each change was written at most once, and every change is done.
    let entries = journal_entries(dir.path());
    let mut started = std::collections::BTreeMap::<usize, usize>::new();
    let mut done = std::collections::BTreeMap::<usize, usize>::new();
    let mut found_already = 0;
    for e in &entries {
        match e {
            Entry::Started { index, .. } => *started.entry(*index).or_default() += 1,
            Entry::Done { index, already } => {
                *done.entry(*index).or_default() += 1;
                found_already += usize::from(*already);
            }
            _ => {}
        }
    }
    assert!(
        started.values().all(|n| *n == 1),
        "k={k}: a change was started twice: {started:?}"
    );
    assert_eq!(done.len(), 30, "k={k}: every change done");
    assert!(done.values().all(|n| *n == 1), "k={k}: a change done twice");
    assert_eq!(
        found_already, 1,
        "k={k}: the unjournaled write was found, not repeated"
    );
}

#[test]
fn an_apply_killed_mid_way_resumes_to_convergence() {
    for k in [1, 3, 7, 12, 19, 24, 30] {
        crash_after(k);
    }
}

#[test]
fn export_then_plan_shows_no_changes() {
    let dir = acme();
    orgform(dir.path(), &["plan"]);
    let run = orgform(dir.path(), &["export"]);
    assert_eq!(run.code, 1, "org/ already has files: refused");
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    std::fs::remove_dir_all(dir.path().join("org")).expect("rm org");
    let run = orgform(dir.path(), &["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in [
        "people.yaml",
        "groups.yaml",
        "tags.yaml",
        "metadata.yaml",
        "folders.yaml",
        "access.yaml",
    ] {
        assert!(dir.path().join("org").join(file).exists(), "{file}");
    }
    let people = std::fs::read_to_string(dir.path().join("org/people.yaml")).expect("people");
    assert!(
        !people.contains("support@encord.com"),
        "unmanaged users are not exported"
    );
    let validate = orgform(dir.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let plan = orgform(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
}

#[test]
fn export_needs_a_repository() {
    let repo = TempRepo::new();
    std::fs::remove_file(repo.path().join("orgform.yaml")).expect("rm");
    let run = orgform(repo.path(), &["export"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no orgform.yaml"), "{}", run.stderr);
}

#[test]
fn a_saved_plan_edited_to_look_safe_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let text = std::fs::read_to_string(dir.path().join("plan.json")).expect("plan");
    let edited = text.replace("\"danger\": \"destructive\"", "\"danger\": \"safe\"");
    assert_ne!(edited, text);
    // Re-sealed, as someone who knows the digest's recipe would: the changes are still
    // checked against what the planner can produce.
    let mut edited: orgform::plan::Plan = serde_json::from_str(&edited).expect("plan");
    orgform::plan::integrity::seal(&mut edited);
    let edited = serde_json::to_string_pretty(&edited).expect("JSON");
    std::fs::write(dir.path().join("plan.json"), edited).expect("write");
    let before = live(dir.path());
    let run = orgform(dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("was edited after it was made"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("is marked `safe` but is at least `destructive`"),
        "{}",
        run.stderr
    );
    assert_eq!(live(dir.path()), before, "nothing written");
}

#[test]
fn a_saved_plan_whose_fields_describe_no_operation_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let text = std::fs::read_to_string(dir.path().join("plan.json")).expect("plan");
    let mut edited: orgform::plan::Plan = serde_json::from_str(&text).expect("plan");
    let invite = edited
        .changes
        .iter_mut()
        .find(|c| c.kind == orgform::plan::Kind::User && c.action == orgform::plan::Action::Create)
        .expect("the acme plan invites someone");
    let key = invite.key.clone();
    let field = invite
        .fields
        .iter_mut()
        .find(|f| f.field == "type")
        .expect("an invite has a type");
    field.after = serde_json::json!("robot");
    orgform::plan::integrity::seal(&mut edited);
    let edited = serde_json::to_string_pretty(&edited).expect("JSON");
    std::fs::write(dir.path().join("plan.json"), edited).expect("write");
    let before = live(dir.path());
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("was edited after it was made")
            && run.stderr.contains(&format!(
                "(user {key}): the new value of field `type` is missing or unreadable in the plan"
            )),
        "{}",
        run.stderr
    );
    assert_eq!(live(dir.path()), before, "nothing written");
}

#[test]
fn a_new_apply_waits_until_an_interrupted_one_is_finished_or_discarded() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "old.json"]);
    let (mut child, _marker) = apply_paused_after(dir.path(), "old.json", 5);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    // A new apply is refused and says how to finish the interrupted one...
    let run = orgform(dir.path(), &["apply", "--auto-approve", "--allow-destroy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("an earlier apply on this org was interrupted"),
        "{}",
        run.stderr
    );
    // Killed after its 5th write, before journaling it: 4 are recorded as done.
    assert!(
        run.stderr.contains("4 of 30 changes done"),
        "{}",
        run.stderr
    );
    let hint = run
        .stderr
        .split("finish it with `orgform ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("says how to finish it")
        .to_string();
    assert!(
        hint.ends_with(" --allow-destroy"),
        "the hint is complete: {hint}"
    );
    // ...and the hint works as printed, from anywhere, without the original plan file.
    std::fs::remove_file(dir.path().join("old.json")).expect("rm");
    let out = Command::new(env!("CARGO_BIN_EXE_orgform"))
        .args(hint.split(' '))
        .current_dir("/")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the hint");
    let finish = crate::util::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        finish.stderr.contains("Resuming an interrupted apply"),
        "{}",
        finish.stderr
    );
    assert_applied_but_blocked(&finish);
    assert_converged(dir.path());
}

#[test]
fn discarding_an_interrupted_apply_is_explicit_and_its_plan_goes_stale() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "old.json"]);
    let (mut child, _marker) = apply_paused_after(dir.path(), "old.json", 5);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let run = orgform(
        dir.path(),
        &[
            "apply",
            "--auto-approve",
            "--allow-destroy",
            "--discard-interrupted",
        ],
    );
    assert!(
        run.stderr.contains("Discarded 1 interrupted apply"),
        "{}",
        run.stderr
    );
    assert_applied_but_blocked(&run);
    // A CI retry of the old plan is not resumed (it would undo newer changes): stale.
    let retry = orgform(dir.path(), &["apply", "old.json", "--allow-destroy"]);
    assert_eq!(retry.code, 1);
    assert!(!retry.stderr.contains("Resuming"), "{}", retry.stderr);
    assert!(
        retry.stderr.contains("changed since this plan was made"),
        "{}",
        retry.stderr
    );
}

#[test]
fn a_plan_file_from_other_manifests_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // The branch moved on after review: a user was added to the manifests.
    let people = dir.path().join("org/people.yaml");
    let text = std::fs::read_to_string(&people).expect("people");
    std::fs::write(
        &people,
        text + "  - { email: late@acme.com, role: member }\n",
    )
    .expect("write");
    let before = live(dir.path());
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("the plan file is not what the manifests here plan"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("only in a fresh plan:  + user late@acme.com"),
        "{}",
        run.stderr
    );
    assert_eq!(live(dir.path()), before, "nothing written");
}

#[test]
fn an_invitee_answering_does_not_make_a_plan_stale() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let mut store = Store::open(&dir.path().join(".orgform/sandbox.db")).expect("sandbox");
    store
        .set_invitation_status("eve@vendor.io", orgform::model::InvitationStatus::Joined)
        .expect("eve joins");
    store
        .add_user(
            "helpdesk@encord.com",
            orgform::model::OrgRole::Collaborator,
            orgform::model::UserType::External,
            orgform::model::InvitationStatus::Joined,
        )
        .expect("an unmanaged user appears");
    drop(store);
    assert_applied_but_blocked(&orgform(
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"],
    ));
}

/// Runs orgform under a real pseudo-terminal (util-linux `script`), typing `answer`.
fn on_a_terminal(dir: &Path, args: &str, answer: &str) -> (i32, String) {
    use std::io::Write;
    let command = format!(
        "{} -C {} {args}",
        env!("CARGO_BIN_EXE_orgform"),
        dir.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer.as_bytes())
        .expect("type the answer");
    let out = child.wait_with_output().expect("script finishes");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn on_a_terminal_apply_asks_first_and_shows_a_progress_bar() {
    let dir = acme();
    orgform(dir.path(), &["plan"]);
    let before = live(dir.path());
    let (code, text) = on_a_terminal(dir.path(), "apply --allow-destroy", "no\n");
    assert_eq!(code, 1);
    assert!(text.contains("Only `yes` is accepted"), "{text}");
    assert!(
        text.contains("Apply cancelled: nothing was written."),
        "{text}"
    );
    assert_eq!(live(dir.path()), before);

    let (code, text) = on_a_terminal(dir.path(), "apply --allow-destroy", "yes\n");
    assert_eq!(code, 1, "blocked admin remains: {text}");
    assert!(text.contains("\u{1b}["), "colour on a terminal: {text}");
    assert!(
        text.contains("/30"),
        "a progress bar counts the changes: {text}"
    );
    assert!(
        !text.contains("[1/30]"),
        "no log lines on a terminal: {text}"
    );
    assert!(text.contains("Apply complete: 30 done"), "{text}");
    assert_converged(dir.path());
}

#[test]
fn a_plan_file_without_its_blocked_items_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).expect("plan"))
            .expect("json");
    plan["blocked"] = serde_json::json!([]);
    plan["summary"]["blocked"] = 0.into();
    // Re-sealed, so the comparison with a fresh plan is what refuses it.
    let mut plan: orgform::plan::Plan = serde_json::from_value(plan).expect("plan");
    orgform::plan::integrity::seal(&mut plan);
    std::fs::write(
        dir.path().join("plan.json"),
        serde_json::to_string(&plan).expect("JSON"),
    )
    .expect("write");
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("blocked items differ: 0 in the plan file, 1 in a fresh plan"),
        "{}",
        run.stderr
    );
    let audit = audit_records(dir.path());
    assert_eq!(
        audit.last().map(|r| r["outcome"].clone()),
        Some("refused".into())
    );
}

#[test]
fn pending_interrupted_applies_are_reported_even_with_nothing_to_do() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let (mut child, _marker) = apply_paused_after(dir.path(), "plan.json", 3);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let plan = orgform(dir.path(), &["plan"]);
    assert!(
        plan.stderr
            .contains("warning: 1 interrupted apply(s) on this org are unfinished"),
        "{}",
        plan.stderr
    );
    // A journal torn mid-character by a full disk does not wedge the org.
    let jdir = dir.path().join(".orgform/sandbox.db.apply/journal");
    let journal = std::fs::read_dir(&jdir)
        .expect("journal dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .expect("a journal");
    let mut bytes = std::fs::read(&journal).expect("read");
    bytes.extend_from_slice(
        "{\"event\":\"done\",\"key\":\"é"
            .as_bytes()
            .split_last()
            .expect("bytes")
            .1,
    );
    std::fs::write(&journal, bytes).expect("tear");
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert!(
        run.stderr.contains("Resuming an interrupted apply"),
        "{}",
        run.stderr
    );
    assert_applied_but_blocked(&run);
}
