//! What a saved plan says about itself: a digest that refuses any edit of its content,
//! and the git commit its manifests were read from (`-dirty` when they differ from it).

use std::path::Path;

use crate::util::{TempRepo, orgform};

const STATE: &str = "users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: ann@example.com, role: admin, type: internal }
  - { email: carl@example.com, role: member, type: internal }
";

/// A plan with a change of every sort that matters here: a create, a deletion with a
/// note, and a blocked item (ann is an admin, and admins are unremovable).
const MANIFESTS: &str = "users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: bob@example.com, role: member }
";

fn saved_plan() -> TempRepo {
    let repo = TempRepo::new();
    repo.write("state.yaml", STATE);
    repo.write("org/people.yaml", MANIFESTS);
    let init = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let plan = orgform(repo.path(), &["plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 1, "blocked: {}", plan.stdout);
    repo
}

fn sandbox_bytes(repo: &TempRepo) -> Vec<u8> {
    std::fs::read(repo.path().join(".orgform/sandbox.db")).expect("sandbox")
}

fn journals(repo: &TempRepo) -> usize {
    std::fs::read_dir(repo.path().join(".orgform/sandbox.db.apply/journal"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn the_saved_plan_carries_a_digest_of_its_content() {
    let repo = saved_plan();
    let text = std::fs::read_to_string(repo.path().join("plan.json")).expect("plan");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let digest = json["digest"].as_str().expect("a digest");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    // Reformatting keeps the content: the plan still applies.
    let compact = serde_json::to_string(&json).expect("JSON");
    std::fs::write(repo.path().join("plan.json"), compact).expect("write");
    let run = orgform(repo.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert!(run.stderr.contains("\nApplied "), "{}", run.stderr);
}

#[test]
fn any_edit_of_a_saved_plan_is_refused() {
    let repo = saved_plan();
    let original = std::fs::read_to_string(repo.path().join("plan.json")).expect("plan");
    // Each edit keeps the file's layout and changes one value.
    let edits: &[(&str, &str, &str)] = &[
        ("the summary", "\"create\": 1,", "\"create\": 0,"),
        (
            "a blocked item's message",
            "admins cannot be removed by orgform",
            "this one may be removed later",
        ),
        (
            "source.manifests",
            "\"manifests\": \"org/\"",
            "\"manifests\": \"other/\"",
        ),
        (
            "a change's note",
            "has no group memberships",
            "has no group membership",
        ),
        (
            "a field's value",
            "\"after\": \"member\"",
            "\"after\": \"admin\"",
        ),
        (
            "the fingerprint",
            "\"actual_fingerprint\": \"sha256:",
            "\"actual_fingerprint\": \"sha256:0",
        ),
        (
            "an added member",
            "\"format_version\": 1,",
            "\"format_version\": 1, \"note\": \"ok\",",
        ),
        (
            "the digest itself",
            "\"digest\": \"sha256:",
            "\"digest\": \"sha256:0",
        ),
    ];
    let sandbox = sandbox_bytes(&repo);
    for (what, from, to) in edits {
        assert!(
            original.contains(from),
            "{what}: `{from}` not in the plan:\n{original}"
        );
        let edited = original.replacen(from, to, 1);
        std::fs::write(repo.path().join("plan.json"), &edited).expect("write");
        let run = orgform(repo.path(), &["apply", "plan.json", "--allow-destroy"]);
        assert_eq!(run.code, 1, "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "plan.json was edited after it was made: its content does not match its `digest`"
            ),
            "{what}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("Make a fresh plan with `orgform plan --out FILE`")
                && run.stderr.contains("Nothing was written."),
            "{what}: {}",
            run.stderr
        );
        assert_eq!(sandbox_bytes(&repo), sandbox, "{what}: the org was written");
        assert_eq!(journals(&repo), 0, "{what}: an apply began");
    }
    // Without its digest a plan cannot be checked: refused too.
    let mut json: serde_json::Value = serde_json::from_str(&original).expect("JSON");
    json.as_object_mut().expect("object").remove("digest");
    std::fs::write(
        repo.path().join("plan.json"),
        serde_json::to_string_pretty(&json).expect("JSON"),
    )
    .expect("write");
    let run = orgform(repo.path(), &["apply", "plan.json", "--allow-destroy"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("it has no `digest`"), "{}", run.stderr);
    assert_eq!(sandbox_bytes(&repo), sandbox, "the org was written");
}

/// Makes `dir` a git repository holding the org, with everything committed and the
/// sandbox ignored; returns HEAD.
pub fn committed(dir: &Path) -> String {
    let repository = git2::Repository::init(dir).expect("git init");
    std::fs::write(dir.join(".gitignore"), ".orgform/\n").expect("gitignore");
    std::fs::write(dir.join("README.md"), "# the org\n").expect("readme");
    commit_all(&repository).to_string()
}

fn repository(dir: &Path) -> git2::Repository {
    git2::Repository::open(dir).expect("a git repository")
}

fn commit_all(repository: &git2::Repository) -> git2::Oid {
    let mut index = repository.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.update_all(["*"], None).expect("stage deletions");
    index.write().expect("write index");
    let tree = repository
        .find_tree(index.write_tree().expect("tree"))
        .expect("find tree");
    let who = git2::Signature::now("Test", "test@example.com").expect("signature");
    let parent = repository.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repository
        .commit(Some("HEAD"), &who, &who, "org", &tree, &parents)
        .expect("commit")
}

fn source(dir: &Path) -> serde_json::Value {
    let run = orgform(dir, &["plan", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()["source"].clone()
}

fn sandbox_repo() -> TempRepo {
    let repo = TempRepo::new();
    repo.write(
        "org/people.yaml",
        "users:\n  - { email: admin@example.com, role: admin, type: internal }\n",
    );
    repo.write("org/more.yaml", "groups: []\n");
    let init = orgform(repo.path(), &["sandbox", "init"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    repo
}

#[test]
fn the_plan_records_the_commit_and_marks_uncommitted_manifests_dirty() {
    let repo = sandbox_repo();
    let head = committed(repo.path());
    let clean = serde_json::json!({ "manifests": "org/", "git_commit": head });
    assert_eq!(source(repo.path()), clean, "clean checkout");

    let dirty = serde_json::json!({
        "manifests": "org/", "git_commit": format!("{head}-dirty"), "dirty": true
    });
    let people = repo.path().join("org/people.yaml");
    let committed_people = std::fs::read_to_string(&people).expect("people");
    // Changes outside the manifests and orgform.yaml do not matter.
    repo.write("README.md", "# edited\n");
    repo.write("notes/todo.txt", "untracked\n");
    repo.write(".orgform/scratch", "ignored\n");
    assert_eq!(source(repo.path()), clean, "a change outside the manifests");

    repo.write("org/people.yaml", format!("{committed_people}# edited\n"));
    assert_eq!(source(repo.path()), dirty, "an edited manifest");
    // The PR comment says so too.
    let markdown = orgform(repo.path(), &["plan", "--format", "markdown"]);
    assert!(
        markdown
            .stdout
            .contains("with uncommitted changes to the manifests"),
        "{}",
        markdown.stdout
    );
    repo.write("org/people.yaml", &committed_people);
    assert_eq!(source(repo.path()), clean, "edit undone");

    repo.write("org/extra.yaml", "project_tags: []\n");
    assert_eq!(source(repo.path()), dirty, "an untracked new manifest");
    std::fs::remove_file(repo.path().join("org/extra.yaml")).expect("rm");

    std::fs::remove_file(repo.path().join("org/more.yaml")).expect("rm");
    assert_eq!(source(repo.path()), dirty, "a deleted manifest");
    repo.write("org/more.yaml", "groups: []\n");
    assert_eq!(source(repo.path()), clean, "restored");

    repo.write("orgform.yaml", "manifests: org/\n# edited\n");
    assert_eq!(source(repo.path()), dirty, "an edited orgform.yaml");

    // Committing makes it clean again, at the new commit; and apply's audit record
    // carries the commit the plan was made at.
    let new_head = commit_all(&repository(repo.path())).to_string();
    assert_eq!(source(repo.path())["git_commit"], new_head.as_str());
    repo.write(
        "org/people.yaml",
        format!("{committed_people}  - {{ email: bob@example.com, role: member }}\n"),
    );
    let apply = orgform(repo.path(), &["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let audit = std::fs::read_to_string(repo.path().join(".orgform/audit.jsonl")).expect("audit");
    let last: serde_json::Value =
        serde_json::from_str(audit.lines().last().expect("a record")).expect("JSON");
    assert_eq!(last["git_commit"], format!("{new_head}-dirty").as_str());
}

#[test]
fn in_a_repository_of_several_orgs_only_this_orgs_files_count() {
    let top = tempfile::tempdir().expect("temp dir");
    let org = |name: &str| {
        let dir = top.path().join(name);
        std::fs::create_dir_all(dir.join("org")).expect("mkdir");
        std::fs::write(dir.join("orgform.yaml"), "manifests: org/\n").expect("config");
        std::fs::write(
            dir.join("org/people.yaml"),
            "users:\n  - { email: admin@example.com, role: admin, type: internal }\n",
        )
        .expect("people");
        let init = orgform(&dir, &["sandbox", "init"]);
        assert_eq!(init.code, 0, "{}", init.stderr);
        dir
    };
    let (acme, other) = (org("acme"), org("other"));
    let head = committed(top.path());
    std::fs::write(
        other.join("org/people.yaml"),
        "users: []
",
    )
    .expect("edit other");
    assert_eq!(
        source(&acme)["git_commit"],
        head.as_str(),
        "another org's edit"
    );
    assert_eq!(source(&acme).get("dirty"), None);
    std::fs::write(acme.join("org/new.yaml"), "groups: []\n").expect("new manifest");
    assert_eq!(source(&acme)["dirty"], true);
}

#[test]
fn outside_a_repository_no_commit_is_recorded() {
    let repo = sandbox_repo();
    let source = source(repo.path());
    assert_eq!(source["git_commit"], serde_json::Value::Null);
    assert_eq!(source.get("dirty"), None);
}
