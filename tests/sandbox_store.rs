//! The sandbox file and its lifecycle: only `sandbox init` (and the first run from
//! `sandbox.yaml`) creates a store; plan and export open it read-only; a file that is
//! not this orgform's sandbox is refused and left untouched; replacing an org waits for
//! a running apply and clears the old org's journals; export never writes beside other
//! manifests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::apply_cli::{acme, apply_paused_after};
use crate::util::{TempRepo, orgform};

const ADMIN_ONLY: &str = "users:\n  - { email: admin@example.com, role: admin, type: internal }\n";

/// A repository whose `provider.path` is `db`, with manifests matching a fresh sandbox.
fn repo_at(db: &str) -> TempRepo {
    let repo = TempRepo::new();
    repo.write(
        "orgform.yaml",
        format!("manifests: org/\nprovider: {{ kind: sandbox, path: {db} }}\n"),
    );
    repo.write("org/people.yaml", ADMIN_ONLY);
    repo
}

/// Every file under `dir` with its bytes: nothing may appear, vanish or change.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                out.insert(path, bytes);
            }
        }
    }
    out
}

fn sql(db: &Path, statements: &str) {
    Connection::open(db)
        .expect("open with rusqlite")
        .execute_batch(statements)
        .expect("sql");
}

fn tables(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).expect("open with rusqlite");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

/// The commands that read the store, with the exit code each must give when the store
/// is refused. `validate` never opens it (exit 0, SPEC §7.17).
const COMMANDS: &[(&[&str], i32)] = &[
    (&["plan"], 1),
    (&["plan", "--format", "json"], 1),
    (&["export", "--out", "exported"], 1),
    (&["export", "--force"], 1),
    (&["apply", "--auto-approve", "--allow-destroy"], 1),
    (&["validate"], 0),
];

/// Runs every command against the repository's store: each gives its exit code and
/// no file in the repository appears, vanishes or changes. Returns plan's stderr.
fn refused_untouched(repo: &TempRepo, what: &str) -> String {
    let before = files_under(repo.path());
    let mut plan_stderr = String::new();
    for (args, code) in COMMANDS {
        let run = orgform(repo.path(), args);
        assert_eq!(run.code, *code, "{what}: {args:?}\n{}", run.stderr);
        if *code == 1 {
            assert!(
                !run.stderr.contains("Created the sandbox"),
                "{what}: {args:?}\n{}",
                run.stderr
            );
        }
        if args == &["plan"] {
            plan_stderr = run
                .stderr
                .replace(&repo.path().display().to_string(), "[REPO]");
        }
        assert_eq!(
            files_under(repo.path()),
            before,
            "{what}: `{}` changed the repository",
            args.join(" ")
        );
    }
    plan_stderr
}

/// Writes a file at the given path.
type MakeFile = fn(&Path);

#[test]
fn a_file_that_is_not_an_orgform_sandbox_is_refused_by_every_command_and_left_untouched() {
    let mut messages = String::new();
    let cases: [(&str, MakeFile); 4] = [
        ("another application's tables", |db| {
            sql(
                db,
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
                 INSERT INTO notes (body) VALUES ('keep me');",
            )
        }),
        ("another application's id", |db| {
            sql(
                db,
                "PRAGMA application_id = 4660; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
            )
        }),
        ("orgform's tables added to another database", |db| {
            // What an earlier orgform did to such a file: its tables beside the others.
            drop(orgform::sandbox::store::Store::create(db).expect("create"));
            sql(
                db,
                "PRAGMA application_id = 0; PRAGMA user_version = 0;
                 CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);",
            )
        }),
        ("not a database", |db| {
            std::fs::write(db, "id,body\n1,keep me\n").expect("write")
        }),
    ];
    for (what, make) in cases {
        let repo = repo_at("data/notes.db");
        // A sandbox.yaml must not tempt orgform into creating anything either.
        repo.write("sandbox.yaml", ADMIN_ONLY);
        let db = repo.path().join("data/notes.db");
        std::fs::create_dir_all(db.parent().expect("parent")).expect("mkdir");
        make(&db);
        let stderr = refused_untouched(&repo, what);
        assert!(
            stderr.contains("data/notes.db is not an orgform sandbox"),
            "{what}: {stderr}"
        );
        // Nor does `sandbox init --force` replace another application's data.
        let before = files_under(repo.path());
        let init = orgform(repo.path(), &["sandbox", "init", "--force"]);
        assert_eq!(init.code, 1, "{what}: {}", init.stderr);
        assert!(
            init.stderr.contains("replaces only orgform sandboxes"),
            "{}",
            init.stderr
        );
        assert_eq!(
            files_under(repo.path()),
            before,
            "{what}: init --force wrote"
        );
        messages.push_str(&format!("--- {what}\n{stderr}"));
    }
    insta::assert_snapshot!("not_an_orgform_sandbox", messages);
}

#[test]
fn a_sandbox_changed_outside_orgform_is_refused_never_repaired() {
    let damages = [
        ("DROP TABLE access;", "table `access` is missing"),
        (
            "ALTER TABLE users ADD COLUMN note TEXT;",
            "table `users` has another definition",
        ),
        ("CREATE TABLE notes (x);", "table `notes` is not orgform's"),
    ];
    let mut messages = String::new();
    for (damage, said) in damages {
        let repo = repo_at(".orgform/sandbox.db");
        assert_eq!(orgform(repo.path(), &["sandbox", "init"]).code, 0);
        let db = repo.path().join(".orgform/sandbox.db");
        sql(&db, damage);
        let tables_before = tables(&db);
        let stderr = refused_untouched(&repo, damage);
        assert!(stderr.contains(said), "{damage}: {stderr}");
        assert!(
            stderr.contains("orgform sandbox init --force"),
            "says how to recover: {stderr}"
        );
        assert_eq!(tables(&db), tables_before, "{damage}: no table re-created");
        messages.push_str(&format!("--- {damage}\n{stderr}"));
        // Recreating it is the way out, and then the org plans again.
        let init = orgform(repo.path(), &["sandbox", "init", "--force"]);
        assert_eq!(init.code, 0, "{}", init.stderr);
        let plan = orgform(repo.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    }
    insta::assert_snapshot!("sandbox_changed_outside_orgform", messages);
}

#[test]
fn a_sandbox_of_another_layout_version_is_refused_and_can_be_recreated() {
    let versions = [
        (
            "PRAGMA user_version = 3;",
            "made by another orgform version (sandbox layout 3; this orgform reads layout 2)",
        ),
        (
            "PRAGMA application_id = 0; PRAGMA user_version = 0;",
            "made by an earlier orgform, before sandboxes had a layout version",
        ),
    ];
    for (stamp, said) in versions {
        let repo = repo_at(".orgform/sandbox.db");
        assert_eq!(orgform(repo.path(), &["sandbox", "init"]).code, 0);
        let db = repo.path().join(".orgform/sandbox.db");
        sql(&db, stamp);
        let stderr = refused_untouched(&repo, stamp);
        assert!(stderr.contains(said), "{stamp}: {stderr}");
        assert!(
            stderr.contains("recreate it with `orgform sandbox init --force`"),
            "{stderr}"
        );
        let init = orgform(repo.path(), &["sandbox", "init", "--force"]);
        assert_eq!(init.code, 0, "{}", init.stderr);
        let plan = orgform(repo.path(), &["plan", "--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    }
}

#[test]
fn plan_and_export_leave_a_sandbox_byte_identical() {
    let dir = acme();
    // The first plan creates the sandbox from sandbox.yaml: the one write plan may do.
    let first = orgform(dir.path(), &["plan"]);
    assert!(
        first.stderr.contains("Created the sandbox org"),
        "{}",
        first.stderr
    );
    let state = dir.path().join(".orgform");
    let before = files_under(&state);
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "--format", "markdown"],
        &["plan", "--target", "user"],
        &["export", "--out", "exported"],
        &["validate"],
    ] {
        let run = orgform(dir.path(), args);
        assert!(!run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
        assert_eq!(
            files_under(&state),
            before,
            "`{}` wrote to the sandbox or beside it",
            args.join(" ")
        );
    }
    assert!(dir.path().join("exported/people.yaml").is_file());
}

#[test]
fn validate_never_opens_or_creates_a_sandbox() {
    let dir = acme();
    let run = orgform(dir.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !dir.path().join(".orgform").exists(),
        "validate created the sandbox from sandbox.yaml"
    );
}

#[test]
fn sandbox_init_force_is_refused_while_an_apply_runs_and_plan_says_it_runs() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let db = dir.path().join(".orgform/sandbox.db");
    let (child, marker) = apply_paused_after(dir.path(), "plan.json", 1);
    let pid = child.id();
    let running = format!("`orgform apply` is running against this org (pid {pid}, since ");
    let before = std::fs::read(&db).expect("sandbox");

    for args in [
        &["sandbox", "init", "--force"][..],
        &["sandbox", "init", "--force", "--from", "sandbox.yaml"],
    ] {
        let init = orgform(dir.path(), args);
        assert_eq!(init.code, 1, "{}", init.stderr);
        assert!(
            init.stderr.contains("refusing to replace the sandbox org"),
            "{}",
            init.stderr
        );
        assert!(
            init.stderr.contains(&format!(
                "`orgform apply` is running against it (pid {pid}, since "
            )),
            "names the apply: {}",
            init.stderr
        );
        assert!(
            init.stderr.contains("Nothing was changed"),
            "{}",
            init.stderr
        );
        assert_eq!(
            std::fs::read(&db).expect("sandbox"),
            before,
            "database replaced"
        );
    }

    // A concurrent plan is told the apply is running, not that it was interrupted.
    let plan = orgform(dir.path(), &["plan"]);
    assert!(
        plan.stderr.contains(&format!("note: {running}")),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("is running against this org"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("interrupted"), "{}", plan.stderr);
    // So is a second apply.
    let second = orgform(dir.path(), &["apply", "--auto-approve", "--allow-destroy"]);
    assert_eq!(second.code, 1);
    assert!(second.stderr.contains(&running), "{}", second.stderr);
    assert!(!second.stderr.contains("interrupted"), "{}", second.stderr);

    std::fs::remove_file(&marker).expect("release the apply");
    let out = child.wait_with_output().expect("apply finishes");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\nApplied 30 changes in "),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Once it has finished, the org can be replaced; its finished journal goes with it.
    let journals = dir.path().join(".orgform/sandbox.db.apply/journal");
    assert!(journals.is_dir());
    let init = orgform(
        dir.path(),
        &["sandbox", "init", "--force", "--from", "sandbox.yaml"],
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(
        init.stderr
            .contains("Cleared 1 apply journal(s) of the replaced org"),
        "{}",
        init.stderr
    );
    assert!(!journals.exists(), "journals and plan copies cleared");
    let plan = orgform(dir.path(), &["plan"]);
    assert!(!plan.stderr.contains("running"), "{}", plan.stderr);
}

#[test]
fn sandbox_init_force_clears_an_interrupted_apply_so_it_neither_blocks_nor_replays() {
    let dir = acme();
    orgform(dir.path(), &["plan", "--out", "plan.json"]);
    let (mut child, _marker) = apply_paused_after(dir.path(), "plan.json", 5);
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let plan = orgform(dir.path(), &["plan"]);
    assert!(
        plan.stderr
            .contains("warning: 1 interrupted apply(s) on this org are unfinished"),
        "nobody holds the lock: interrupted\n{}",
        plan.stderr
    );

    let init = orgform(
        dir.path(),
        &["sandbox", "init", "--force", "--from", "sandbox.yaml"],
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(
        init.stderr
            .contains("Cleared 1 apply journal(s) of the replaced org"),
        "{}",
        init.stderr
    );
    let plan = orgform(dir.path(), &["plan"]);
    assert!(!plan.stderr.contains("interrupted"), "{}", plan.stderr);

    // The same plan on the new org is a new apply: nothing resumed from the old
    // journal (4 changes were recorded done there), all 30 changes made.
    let run = orgform(dir.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert!(!run.stderr.contains("Resuming"), "{}", run.stderr);
    assert!(!run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(
        run.stderr.contains("\nApplied 30 changes in "),
        "{}",
        run.stderr
    );
}

#[test]
fn export_refuses_a_folder_that_holds_other_manifests() {
    let repo = repo_at(".orgform/sandbox.db");
    assert_eq!(orgform(repo.path(), &["sandbox", "init"]).code, 0);
    repo.write("org/extra.yaml", "groups:\n  - { name: g }\n");
    let before = files_under(repo.path());
    let mut messages = String::new();
    for args in [&["export"][..], &["export", "--force"]] {
        let run = orgform(repo.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("(extra.yaml)"), "{}", run.stderr);
        assert_eq!(
            files_under(repo.path()),
            before,
            "`{}` wrote something",
            args.join(" ")
        );
        messages.push_str(&format!(
            "--- {}\n{}",
            args.join(" "),
            run.stderr
                .replace(&repo.path().display().to_string(), "[REPO]")
        ));
    }
    insta::assert_snapshot!("export_beside_other_manifests", messages);

    // Into another folder holding a manifest: refused just the same.
    repo.write("elsewhere/b.yaml", ADMIN_ONLY);
    repo.write("elsewhere/a.yaml", ADMIN_ONLY);
    let run = orgform(repo.path(), &["export", "--out", "elsewhere", "--force"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("(a.yaml, b.yaml)"), "{}", run.stderr);
    assert!(!repo.path().join("elsewhere/people.yaml").exists());

    // Files the manifest loader does not read are no reason to refuse; export's own
    // files are overwritten with --force.
    repo.write("fresh/README.md", "notes\n");
    repo.write("fresh/old.yml", "not read by orgform\n");
    let run = orgform(repo.path(), &["export", "--out", "fresh"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = orgform(repo.path(), &["export", "--out", "fresh", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(repo.path().join("fresh/people.yaml").is_file());
}
