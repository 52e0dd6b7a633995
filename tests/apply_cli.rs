//! `orgform apply` and `orgform export` on real sandbox files, as CI would run them.
//! What a user reads (refusals, progress, the summary) is pinned by snapshots taken
//! through `orgform_snapshot!`; the assertions check the org, the journal and the
//! audit log.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orgform::apply::journal::{self, Entry};
use orgform::model::Org;
use orgform::model::{OrgRole, Principal, ResourceKind};
use orgform::sandbox::store::Store;

use crate::util::{Run, TempRepo, orgform, orgform_snapshot, repo_root};

pub(crate) fn acme() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_into(&repo_root().join("examples/acme"), dir.path());
    let _ = std::fs::remove_dir_all(dir.path().join(".orgform"));
    dir
}

/// Copies the contents of `from` into `to` (`cp -r from/. to`).
fn copy_into(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from.join("."))
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

pub(crate) fn live(dir: &Path) -> Org {
    Store::open(&dir.join(".orgform/sandbox.db"))
        .expect("sandbox")
        .read()
        .expect("read")
}

fn store(dir: &Path) -> Store {
    Store::open(&dir.join(".orgform/sandbox.db")).expect("sandbox")
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

/// Each change's result in the last audit record.
fn last_results(dir: &Path) -> Vec<String> {
    let audit = audit_records(dir);
    let last = audit.last().expect("an audit record");
    last["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["result"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn count(results: &[String], result: &str) -> usize {
    results.iter().filter(|r| *r == result).count()
}

/// An acme apply finished every change it could; it exits 1 because the admin dropped
/// from the YAML stays blocked (admins are unremovable), as its last line says.
fn assert_applied_but_blocked(run: &Run) {
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("Applied ")
            && last.ends_with("; 1 blocked: user root@acme.com [admin-unremovable]."),
        "{}",
        run.stderr
    );
}

/// The plan after applying: only the admin that can never be removed is left.
fn assert_converged(dir: &Path) {
    let json = orgform(dir, &["plan", "--format", "json"]).json();
    assert_eq!(
        json["changes"],
        serde_json::json!([]),
        "plan after apply: {json:#}"
    );
    assert_eq!(json["blocked"][0]["rule"], "admin-unremovable");
}

/// The acme repository with its admin declared again: its plan has no blocked item.
fn acme_without_blocked_items() -> tempfile::TempDir {
    let dir = acme();
    let people = dir.path().join("org/people.yaml");
    let text = std::fs::read_to_string(&people).expect("people");
    std::fs::write(
        &people,
        text + "  - { email: root@acme.com, role: admin, type: internal }\n",
    )
    .expect("write");
    dir
}

/// Re-seals a saved plan after `edit`, as someone who knows the digest's recipe would.
fn edit_plan(dir: &Path, edit: impl FnOnce(&mut orgform::plan::Plan)) {
    let path = dir.join("plan.json");
    let text = std::fs::read_to_string(&path).expect("plan");
    let mut plan: orgform::plan::Plan = serde_json::from_str(&text).expect("plan");
    edit(&mut plan);
    orgform::plan::integrity::seal(&mut plan);
    std::fs::write(path, serde_json::to_string_pretty(&plan).expect("JSON")).expect("write");
}

#[test]
fn applying_the_acme_plan_then_planning_shows_no_changes() {
    let dir = acme();
    let plan = orgform(dir.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 1, "root@acme.com stays blocked");
    let run = orgform_snapshot!(
        "apply_saved_plan",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_applied_but_blocked(&run);
    assert_converged(dir.path());
    let org = live(dir.path());
    assert!(org.groups.contains_key("labelers-eu") && !org.groups.contains_key("eu-labelers"));
    assert!(!org.users.contains_key("olga@acme.com"));
    assert!(
        org.users.contains_key("root@acme.com"),
        "blocked items are never applied"
    );

    // Applying the same plan again finds it applied: nothing to do, nothing written
    // (still exit 1: the blocked item is not done).
    let audit_before = audit_records(dir.path()).len();
    let again = orgform_snapshot!(
        "apply_already_applied",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(again.code, 1);
    assert_eq!(live(dir.path()), org, "nothing written");
    assert_eq!(audit_records(dir.path()).len(), audit_before);
}

#[test]
fn a_plan_applied_before_is_nothing_to_do_and_exits_0() {
    let dir = acme_without_blocked_items();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let first = orgform_snapshot!(
        "apply_without_blocked_items",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let org = live(dir.path());
    // From the audit log: when and by whom.
    orgform_snapshot!(
        "apply_again_from_the_audit_log",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    // From the journal, when the audit log is gone.
    std::fs::remove_file(dir.path().join(".orgform/audit.jsonl")).expect("rm audit");
    orgform_snapshot!(
        "apply_again_from_the_journal",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    // From the live org alone, on a machine with neither.
    std::fs::remove_file(dir.path().join(".orgform/audit.jsonl")).ok();
    std::fs::remove_dir_all(dir.path().join(".orgform/sandbox.db.apply")).expect("rm state");
    let run = orgform_snapshot!(
        "apply_again_from_the_live_org",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 0);
    assert_eq!(live(dir.path()), org, "nothing written");
}

#[test]
fn a_saved_plan_applies_after_an_unrelated_hand_change() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // Someone adds a group by hand after the plan was reviewed: the org's fingerprint
    // changed, but nothing this plan touches.
    store(dir.path())
        .create_group("made-by-hand", "")
        .expect("edit");
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_applied_but_blocked(&run);
    assert!(
        run.stderr.contains("\nApplied 30 changes in "),
        "{}",
        run.stderr
    );
    let org = live(dir.path());
    assert!(org.groups.contains_key("made-by-hand"), "left alone");
    assert!(org.groups.contains_key("labelers-eu"));
    // The hand change shows in the next plan.
    let next = orgform(dir.path(), &["plan", "--format", "json"]).json();
    let keys: Vec<&str> = next["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    assert_eq!(keys, ["made-by-hand"]);
}

#[test]
fn a_conflicting_hand_change_refuses_that_change_by_name_and_the_rest_is_applied() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // The plan makes ada admin of legacy-scans (olga, its only admin, leaves). By hand,
    // ada gets the `user` role there instead: the grant conflicts, and removing olga
    // would now leave the dataset without an admin.
    store(dir.path())
        .set_access(
            ResourceKind::Dataset,
            "f9e8d7c6-b5a4-4392-8170-6f5e4d3c2b99",
            &Principal::User("ada@acme.com".into()),
            "user",
        )
        .expect("by hand");
    let run = orgform_snapshot!(
        "apply_with_conflicts",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
    let org = live(dir.path());
    assert!(org.users.contains_key("olga@acme.com"), "not removed");
    assert_eq!(
        org.datasets["f9e8d7c6-b5a4-4392-8170-6f5e4d3c2b99"].access
            [&Principal::User("ada@acme.com".into())]
            .to_string(),
        "user",
        "the hand change stands"
    );
    assert!(
        org.users.contains_key("margaret@acme.com"),
        "the rest applied"
    );
    assert!(org.groups.contains_key("labelers-eu"));
    let results = last_results(dir.path());
    assert_eq!(count(&results, "conflicting"), 2, "{results:?}");
    assert_eq!(count(&results, "done"), 28, "{results:?}");
    assert_eq!(
        audit_records(dir.path()).last().expect("record")["outcome"],
        "partial"
    );
}

#[test]
fn a_plan_from_another_orgform_version_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    edit_plan(dir.path(), |plan| plan.orgform_version = "0.0.1".into());
    let before = live(dir.path());
    let run = orgform_snapshot!(
        "refused_other_version",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
    assert_eq!(live(dir.path()), before, "nothing written");
    assert_eq!(
        audit_records(dir.path()).last().expect("record")["outcome"],
        "refused"
    );
}

#[test]
fn destructive_changes_need_allow_destroy() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let before = live(dir.path());
    let run = orgform_snapshot!("refused_destructive", dir.path(), &["apply", "plan.json"]);
    assert_eq!(run.code, 1);
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
    let run = orgform_snapshot!(
        "refused_deletion_limit",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
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
fn a_missing_plan_file_is_refused() {
    let dir = acme();
    let run = orgform_snapshot!(
        "refused_missing_plan_file",
        dir.path(),
        &["apply", "nowhere.json"]
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        audit_records(dir.path()).last().expect("record")["outcome"],
        "refused"
    );
}

#[test]
fn apply_without_a_plan_file_needs_auto_approve_without_a_terminal() {
    let dir = acme();
    let asked = orgform_snapshot!(
        "needs_confirmation",
        dir.path(),
        &["apply", "--allow-destroy"]
    );
    assert_eq!(asked.code, 1);
    let run = orgform_snapshot!(
        "apply_auto_approve",
        dir.path(),
        &["apply", "--allow-destroy", "--auto-approve"]
    );
    assert_applied_but_blocked(&run);
    assert_converged(dir.path());
    let nothing = orgform_snapshot!(
        "nothing_to_apply_but_blocked",
        dir.path(),
        &["apply", "--auto-approve"]
    );
    assert_eq!(nothing.code, 1, "the blocked admin remains");
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
    let run = orgform_snapshot!(
        "refused_locked",
        second.path(),
        &["apply", "--auto-approve", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
    std::fs::remove_file(&marker).expect("release the first apply");
    let out = child.wait_with_output().expect("first apply finishes");
    assert_eq!(out.status.code(), Some(1), "only the blocked admin is left");
    // Once it is done, the second checkout finds nothing left to do.
    orgform_snapshot!(
        "nothing_left_for_the_second_checkout",
        second.path(),
        &["apply", "--auto-approve", "--allow-destroy"]
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

/// A run of a child process started with [`apply_paused_after`].
fn finished(child: std::process::Child) -> Run {
    let out = child.wait_with_output().expect("apply finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_change_whose_object_went_missing_is_judged_again_and_the_rest_applies() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // Mid-apply, someone deletes the group the plan is about to rename (by hand, in the
    // web app): the platform answers "not found", the org is read again and the rename
    // judged conflicting; the member added under its new name is skipped, and
    // everything independent still goes ahead.
    let (child, marker) = apply_paused_after(dir.path(), "plan.json", 1);
    store(dir.path())
        .delete_group("eu-labelers")
        .expect("delete by hand");
    std::fs::remove_file(&marker).expect("release");
    let run = finished(child);
    orgform_snapshot!("apply_object_gone_midway", dir.path(), run = &run);
    assert_eq!(run.code, 1);
    let org = live(dir.path());
    assert!(org.users.contains_key("margaret@acme.com"));
    assert!(!org.users.contains_key("olga@acme.com"));

    let entries = journal_entries(dir.path());
    let conflicting = entries
        .iter()
        .filter(|e| matches!(e, Entry::Conflicting { .. }))
        .count();
    let skipped = entries
        .iter()
        .filter(|e| matches!(e, Entry::Skipped { .. }))
        .count();
    assert_eq!((conflicting, skipped), (1, 1));
    let results = last_results(dir.path());
    assert_eq!(
        audit_records(dir.path()).last().expect("record")["outcome"],
        "partial"
    );
    assert_eq!(count(&results, "conflicting"), 1);
    assert_eq!(count(&results, "skipped"), 1);
    assert_eq!(count(&results, "done"), 28);

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
    assert_eq!(out.status.code(), Some(1), "only the blocked admin is left");
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

#[test]
fn apply_format_json_prints_each_change_result_as_the_audit_record_does() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let run = orgform(
        dir.path(),
        &["apply", "plan.json", "--allow-destroy", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let printed = run.json();
    let recorded = audit_records(dir.path()).pop().expect("record");
    assert_eq!(printed, recorded, "the same data as the audit record");
    let changes = printed["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 30);
    assert!(changes.iter().all(|c| c["result"] == "done"), "{printed:#}");
    assert!(!run.stdout.contains("Plan for"), "no text on stdout");
    // A refusal is JSON too.
    let again = orgform(dir.path(), &["apply", "plan.json", "--format", "json"]);
    assert_eq!(again.code, 1);
    assert_eq!(again.json()["outcome"], "refused");
}

#[test]
fn quiet_apply_prints_only_what_explains_a_failure() {
    let clean = acme_without_blocked_items();
    orgform(clean.path(), &["plan", "--out", "plan.json"]);
    orgform_snapshot!(
        "quiet_apply_success",
        clean.path(),
        &["-q", "apply", "plan.json", "--allow-destroy"]
    );
    let blocked = acme();
    orgform(blocked.path(), &["plan", "--out", "plan.json"]);
    orgform_snapshot!(
        "quiet_apply_blocked",
        blocked.path(),
        &["apply", "--quiet", "plan.json", "--allow-destroy"]
    );
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

/// How often each change was started and recorded done in a journal, and how many
/// were found already done (written before, not repeated).
fn tally(entries: &[Entry]) -> (BTreeMap<usize, usize>, BTreeMap<usize, usize>, usize) {
    let mut started = BTreeMap::<usize, usize>::new();
    let mut done = BTreeMap::<usize, usize>::new();
    let mut found_already = 0;
    for e in entries {
        match e {
            Entry::Started { index, .. } => *started.entry(*index).or_default() += 1,
            Entry::Done { index, already } => {
                *done.entry(*index).or_default() += 1;
                found_already += usize::from(*already);
            }
            _ => {}
        }
    }
    (started, done, found_already)
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
    if k == 12 {
        orgform_snapshot!("resumed_after_a_crash", dir.path(), run = &run);
    }
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
    let (started, done, found_already) = tally(&journal_entries(dir.path()));
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
fn an_interrupted_apply_is_finished_from_a_copy_without_the_journal() {
    for k in [1, 9, 30] {
        let dir = acme();
        orgform(dir.path(), &["plan", "--out", "plan.json"]);
        let (mut child, _marker) = apply_paused_after(dir.path(), "plan.json", k);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        // Another machine: a copy of the repository (and of the org: the sandbox file
        // stands in for the remote org), without this machine's journal.
        let elsewhere = tempfile::tempdir().expect("temp dir");
        copy_into(dir.path(), elsewhere.path());
        std::fs::remove_dir_all(elsewhere.path().join(".orgform/sandbox.db.apply"))
            .expect("no journal there");
        let run = orgform(elsewhere.path(), &["apply", "plan.json", "--allow-destroy"]);
        if k == 9 {
            orgform_snapshot!("finished_elsewhere", elsewhere.path(), run = &run);
        }
        if k == 30 {
            // Every write happened before the crash: nothing is left to write.
            orgform_snapshot!(
                "finished_elsewhere_nothing_left",
                elsewhere.path(),
                run = &run
            );
            assert_eq!(run.code, 1, "the blocked admin remains");
            assert_eq!(&live(elsewhere.path()), applied_once());
            continue;
        }
        assert_applied_but_blocked(&run);
        assert!(!run.stderr.contains("Resuming"), "k={k}: {}", run.stderr);
        assert_converged(elsewhere.path());
        assert_eq!(
            &live(elsewhere.path()),
            applied_once(),
            "k={k}: finished elsewhere, the org is exactly the org of an uninterrupted apply"
        );
        // Nothing done twice: the k writes made before the crash were found done; only
        // the others were written.
        let (started, done, found_already) = tally(&journal_entries(elsewhere.path()));
        assert_eq!(found_already, k, "k={k}");
        assert_eq!(started.len(), 30 - k, "k={k}: {started:?}");
        assert!(started.values().all(|n| *n == 1), "k={k}");
        assert_eq!(done.len(), 30, "k={k}: every change done");
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
    // Re-sealed, as someone who knows the digest's recipe would: the changes are still
    // checked against what the planner can produce.
    edit_plan(dir.path(), |plan| {
        for c in &mut plan.changes {
            if c.danger == orgform::plan::Danger::Destructive {
                c.danger = orgform::plan::Danger::Safe;
            }
        }
    });
    let before = live(dir.path());
    let run = orgform_snapshot!(
        "refused_edited_to_look_safe",
        dir.path(),
        &["apply", "plan.json"]
    );
    assert_eq!(run.code, 1);
    assert_eq!(live(dir.path()), before, "nothing written");
}

#[test]
fn a_saved_plan_whose_fields_describe_no_operation_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    edit_plan(dir.path(), |plan| {
        let invite = plan
            .changes
            .iter_mut()
            .find(|c| {
                c.kind == orgform::plan::Kind::User && c.action == orgform::plan::Action::Create
            })
            .expect("the acme plan invites someone");
        let field = invite
            .fields
            .iter_mut()
            .find(|f| f.field == "type")
            .expect("an invite has a type");
        field.after = serde_json::json!("robot");
    });
    let before = live(dir.path());
    let run = orgform_snapshot!(
        "refused_no_operation",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(live(dir.path()), before, "nothing written");
}

/// The command a refusal tells people to run to finish an interrupted apply.
fn finish_hint(stderr: &str) -> String {
    stderr
        .split("finish it with `orgform ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("says how to finish it")
        .to_string()
}

#[test]
fn a_new_apply_waits_until_an_interrupted_one_is_finished_or_discarded() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "old.json"]);
    let (mut child, _marker) = apply_paused_after(dir.path(), "old.json", 5);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    // A new apply is refused and says how to finish the interrupted one (killed after
    // its 5th write, before journaling it: 4 are recorded as done).
    let run = orgform_snapshot!(
        "refused_interrupted",
        dir.path(),
        &["apply", "--auto-approve", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
    let hint = finish_hint(&run.stderr);
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
    let finish = Run {
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
fn discarding_an_interrupted_apply_is_explicit_and_its_plan_is_judged_again() {
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
        run.stderr
            .contains("Discarded 1 interrupted apply(s), as asked"),
        "{}",
        run.stderr
    );
    assert_applied_but_blocked(&run);
    // A CI retry of the old plan is not resumed: each of its changes is judged against
    // the org, and every one already holds.
    let org = live(dir.path());
    let retry = orgform_snapshot!(
        "retry_of_a_discarded_plan",
        dir.path(),
        &["apply", "old.json", "--allow-destroy"]
    );
    assert_eq!(retry.code, 1, "the blocked admin remains");
    assert_eq!(live(dir.path()), org, "nothing written");
}

#[test]
fn a_plan_file_from_other_manifests_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // The branch moved on after review: a user was added to the manifests, and ken's
    // new role is another one.
    let people = dir.path().join("org/people.yaml");
    let text = std::fs::read_to_string(&people).expect("people");
    let ken = "  - email: ken@acme.com\n    role: member\n";
    assert!(text.contains(ken), "{text}");
    std::fs::write(
        &people,
        text.replace(
            ken,
            "  - email: ken@acme.com\n    role: workforce_manager\n",
        ) + "  - { email: late@acme.com, role: member }\n",
    )
    .expect("write");
    let before = live(dir.path());
    let run = orgform_snapshot!(
        "refused_other_manifests",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
    assert_eq!(live(dir.path()), before, "nothing written");
}

#[test]
fn an_edited_comment_in_the_manifests_still_applies() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let people = dir.path().join("org/people.yaml");
    let text = std::fs::read_to_string(&people).expect("people");
    std::fs::write(&people, text + "# reviewed\n").expect("write");
    assert_applied_but_blocked(&orgform(
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"],
    ));
}

#[test]
fn an_invitee_answering_does_not_stop_a_plan() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let mut store = store(dir.path());
    store
        .set_invitation_status("eve@vendor.io", orgform::model::InvitationStatus::Joined)
        .expect("eve joins");
    store
        .add_user(
            "helpdesk@encord.com",
            OrgRole::Collaborator,
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
    assert!(text.contains("Applied 30 changes in "), "{text}");
    assert_converged(dir.path());
}

#[test]
fn a_plan_file_without_its_blocked_items_is_refused() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    // Re-sealed, so the comparison with a fresh plan is what refuses it.
    edit_plan(dir.path(), |plan| {
        plan.blocked.clear();
        plan.summary.blocked = 0;
    });
    let run = orgform_snapshot!(
        "refused_blocked_items_removed",
        dir.path(),
        &["apply", "plan.json", "--allow-destroy"]
    );
    assert_eq!(run.code, 1);
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

#[test]
fn with_nothing_to_apply_a_running_apply_is_named() {
    let dir = acme();
    assert_applied_but_blocked(&orgform(
        dir.path(),
        &["apply", "--auto-approve", "--allow-destroy"],
    ));
    // Another apply holds the org's lock (this test process, as `orgform apply` would).
    let _lock = orgform::apply::lock::ApplyLock::acquire(
        &dir.path().join(".orgform/sandbox.db.apply/apply.lock"),
        "apply",
    )
    .expect("lock");
    let run = orgform_snapshot!("refused_running", dir.path(), &["apply"]);
    assert_eq!(run.code, 1);
}
