//! GitOps: manifests read from git refs, `diff` between commits, `drift` of the live
//! org, on real git repositories (git2) holding the acme example and a real sandbox.

use std::path::{Path, PathBuf};

use orgform::model::{InvitationStatus, OrgRole, Principal, ResourceKind, UserType};
use orgform::sandbox::store::{Access, Store};
use serde_json::{Value, json};

use crate::util::{orgform, repo_root};

/// A git repository in a temp dir, committed to by a fixed author.
struct GitRepo {
    dir: tempfile::TempDir,
    repo: git2::Repository,
}

impl GitRepo {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut options = git2::RepositoryInitOptions::new();
        options.initial_head("main");
        let repo = git2::Repository::init_opts(dir.path(), &options).expect("git init");
        GitRepo { dir, repo }
    }

    /// The acme example with the admin it leaves out declared (so a full apply
    /// converges), the sandbox file ignored, committed on `main`.
    fn acme() -> Self {
        let git = GitRepo::new();
        copy_dir(&repo_root().join("examples/acme"), git.path());
        git.write(".gitignore", ".orgform/\n");
        git.append(
            "org/people.yaml",
            "  - email: root@acme.com\n    role: admin\n",
        );
        git.commit("acme, as code");
        git
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn append(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        let mut old = std::fs::read_to_string(&path).expect("read");
        old.push_str(text);
        std::fs::write(path, old).expect("write");
    }

    fn replace(&self, rel: &str, from: &str, to: &str) {
        let path = self.path().join(rel);
        let old = std::fs::read_to_string(&path).expect("read");
        assert!(old.contains(from), "{rel} holds {from:?}");
        std::fs::write(path, old.replace(from, to)).expect("write");
    }

    /// A fixed author and time: commit ids, and the outputs that show them, are the
    /// same on every run.
    fn signature() -> git2::Signature<'static> {
        git2::Signature::new(
            "Test",
            "test@example.com",
            &git2::Time::new(1_767_225_600, 0),
        )
        .expect("signature")
    }

    /// Commits the whole work tree on HEAD; returns the commit id.
    fn commit(&self, message: &str) -> git2::Oid {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        // Deleted files leave the index too.
        index.update_all(["*"], None).expect("update");
        index.write().expect("write index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("find tree");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let sig = Self::signature();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }

    fn branch(&self, name: &str) {
        let head = self.repo.head().expect("head").peel_to_commit().expect("c");
        self.repo.branch(name, &head, false).expect("branch");
    }

    fn checkout(&self, name: &str) {
        self.repo
            .set_head(&format!("refs/heads/{name}"))
            .expect("set head");
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .expect("checkout");
    }

    fn tip(&self, branch: &str) -> git2::Commit<'_> {
        self.repo
            .find_branch(branch, git2::BranchType::Local)
            .expect("branch")
            .get()
            .peel_to_commit()
            .expect("commit")
    }

    /// A merge commit of `branch` into `main` (a pull request merged without
    /// fast-forward), then `main` checked out.
    fn merge_into_main(&self, branch: &str) -> git2::Oid {
        let (main, other) = (self.tip("main"), self.tip(branch));
        let tree = other.tree().expect("tree");
        let sig = Self::signature();
        let id = self
            .repo
            .commit(
                Some("refs/heads/main"),
                &sig,
                &sig,
                &format!("Merge branch '{branch}'"),
                &tree,
                &[&main, &other],
            )
            .expect("merge commit");
        self.checkout("main");
        id
    }

    /// The sandbox org of this checkout, opened for a change made by hand.
    fn sandbox(&self) -> Store {
        Store::open_existing(&self.path().join(".orgform/sandbox.db"), Access::ReadWrite)
            .expect("sandbox")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == ".orgform" {
            continue;
        }
        let target: PathBuf = to.join(&name);
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// The plan as JSON, for comparing plans made different ways.
fn plan_json(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["plan", "--format", "json"];
    args.extend_from_slice(extra);
    let run = orgform(dir, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.json()
}

fn items<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["key"] == key)
        .collect()
}

#[test]
fn a_pull_request_from_branch_to_drift() {
    let git = GitRepo::acme();
    let dir = git.path();
    let reviewed = tempfile::tempdir().expect("temp dir");
    let saved = reviewed.path().join("plan.json");
    let saved = saved.to_str().expect("utf-8 path");

    // A pull request: one commit adds a user and changes a group.
    git.branch("add-dave");
    git.checkout("add-dave");
    git.append(
        "org/people.yaml",
        "  - email: dave@acme.com\n    role: member\n",
    );
    git.replace(
        "org/groups.yaml",
        "    members: [dr.house@stjames-hospital.org, dr.grey@stjames-hospital.org]",
        "    members: [dr.house@stjames-hospital.org, dr.grey@stjames-hospital.org, dave@acme.com]",
    );
    git.replace(
        "org/groups.yaml",
        "Partner radiologists who review CT and MRI labels",
        "Partner radiologists who review CT, MRI and X-ray labels",
    );
    let head = git.commit("Dave joins the radiologists");

    // The review: exactly that, read from git alone.
    let run = orgform(dir, &["diff", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let diff = run.json();
    assert_eq!(
        diff["head"],
        json!({ "ref": "HEAD", "commit": head.to_string() })
    );
    assert_eq!(
        diff["base"]["commit"],
        git.tip("main").id().to_string(),
        "{diff:#}"
    );
    assert_eq!(
        diff["summary"],
        json!({ "added": 2, "removed": 0, "changed": 1, "renamed": 0 })
    );
    assert_eq!(
        diff["changes"],
        json!([
            { "kind": "user", "key": "dave@acme.com", "change": "added", "fields": [
                { "field": "role", "before": null, "after": "member" },
                { "field": "type", "before": null, "after": "internal" } ] },
            { "kind": "group", "key": "radiologists", "change": "changed", "fields": [
                { "field": "description",
                  "before": "Partner radiologists who review CT and MRI labels",
                  "after": "Partner radiologists who review CT, MRI and X-ray labels",
                  "words": [
                    { "op": "equal", "text": "Partner radiologists who review " },
                    { "op": "delete", "text": "CT" },
                    { "op": "insert", "text": "CT, MRI" },
                    { "op": "equal", "text": " and " },
                    { "op": "delete", "text": "MRI" },
                    { "op": "insert", "text": "X-ray" },
                    { "op": "equal", "text": " labels" } ] } ] },
            { "kind": "group_member", "key": "radiologists/dave@acme.com", "change": "added" }
        ]),
        "{diff:#}"
    );

    // What reviewers read.
    let text = orgform(dir, &["diff", "--base", "main"]);
    assert_eq!(text.code, 2);
    insta::assert_snapshot!("diff_text", text.stdout);
    let markdown = orgform(dir, &["diff", "--base", "main", "--format", "markdown"]);
    assert_eq!(markdown.code, 2);
    insta::assert_snapshot!("diff_markdown", markdown.stdout);

    // The plan of the branch, made from main's checkout, is the plan of the branch's
    // checkout: same commit, same changes, same digest.
    git.checkout("main");
    let from_ref = plan_json(dir, &["--git-ref", "add-dave", "--out", saved]);
    assert_eq!(from_ref["source"]["git_commit"], head.to_string());
    assert!(
        from_ref["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["key"] == "dave@acme.com" && c["action"] == "create"),
        "the branch's new user is planned though main's work tree lacks it"
    );
    git.checkout("add-dave");
    assert_eq!(plan_json(dir, &[]), from_ref);

    // Merged; the apply job applies exactly the reviewed plan.
    git.merge_into_main("add-dave");
    let run = orgform(dir, &["apply", saved, "--allow-destroy"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = orgform(dir, &["drift"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("No drift"), "{}", run.stdout);

    // Someone changes the org by hand: drift names it, and who it affects.
    let mut store = git.sandbox();
    store
        .set_user_role("ken@acme.com", OrgRole::Collaborator)
        .expect("demote ken");
    store
        .add_user(
            "intruder@elsewhere.io",
            OrgRole::Member,
            UserType::External,
            InvitationStatus::Joined,
        )
        .expect("add a user");
    store
        .set_access(
            ResourceKind::Project,
            "3c9d0e7f-5a1b-4e2c-8d6f-7b0a1c2e3f44",
            &Principal::Group("radiologists".to_string()),
            "viewer",
        )
        .expect("grant access");
    drop(store);
    let run = orgform(dir, &["drift", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["drifted"], true);
    assert_eq!(
        items(&report, "ken@acme.com"),
        [&json!({
            "kind": "user", "key": "ken@acme.com", "state": "changed",
            "fields": [ { "field": "role", "live": "collaborator", "declared": "member" } ],
            "affected": ["ken@acme.com"],
            "adopt": "set `role: collaborator` for `ken@acme.com` in `users:`"
        })]
    );
    assert_eq!(
        items(&report, "intruder@elsewhere.io")[0]["state"],
        "not_declared"
    );
    let grant = items(&report, "project:Brain MRI/group:radiologists");
    assert_eq!(grant[0]["state"], "not_declared", "{report:#}");
    assert_eq!(
        grant[0]["affected"],
        json!([
            "dave@acme.com",
            "dr.grey@stjames-hospital.org",
            "dr.house@stjames-hospital.org"
        ])
    );
    let text = orgform(dir, &["drift"]);
    assert_eq!(text.code, 2);
    insta::assert_snapshot!("drift_text", text.stdout);
    let markdown = orgform(dir, &["drift", "--format", "markdown"]);
    assert_eq!(markdown.code, 2);
    insta::assert_snapshot!("drift_markdown", markdown.stdout);
    for needle in [
        "ken@acme.com",
        "role: collaborator in the org, member declared",
        "intruder@elsewhere.io",
        "project:Brain MRI/group:radiologists",
        "Revert: review `orgform plan --out plan.json`, then run `orgform apply plan.json`",
    ] {
        assert!(text.stdout.contains(needle), "{needle}:\n{}", text.stdout);
    }

    // The next apply reverts it: no drift left.
    let run = orgform(dir, &["apply", "--auto-approve", "--allow-destroy"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = orgform(dir, &["drift", "--format", "markdown"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("<!-- orgform-drift -->\n### orgform drift\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("**No drift**"), "{}", run.stdout);
}

#[test]
fn a_ref_that_names_nothing_is_an_error_naming_it() {
    let git = GitRepo::acme();
    for args in [
        &["plan", "--git-ref", "no-such-branch"][..],
        &["validate", "--git-ref", "no-such-branch"],
        &["drift", "--git-ref", "no-such-branch"],
        &["diff", "--base", "no-such-branch"],
        &["diff", "--base", "main", "--head", "no-such-branch"],
    ] {
        let run = orgform(git.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr
                .contains("error: unknown git ref `no-such-branch` in ")
                && run
                    .stderr
                    .contains("or fetch it first (`git fetch origin no-such-branch`)"),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A CI job reading annotations learns it too.
    let run = orgform(
        git.path(),
        &["validate", "--git-ref", "nope", "--format", "github"],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("::error title=invalid-value::unknown git ref `nope` in "),
        "{}",
        run.stdout
    );
}

#[test]
fn a_ref_without_orgform_yaml_or_its_manifests_is_an_error_naming_the_path() {
    let git = GitRepo::new();
    git.write("README.md", "# not yet an org\n");
    let first = git.commit("readme");
    copy_dir(&repo_root().join("examples/acme"), git.path());
    git.commit("acme");

    let run = orgform(git.path(), &["plan", "--git-ref", &first.to_string()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let short: String = first.to_string().chars().take(12).collect();
    assert_eq!(
        run.stderr,
        format!(
            "error: {first}:orgform.yaml does not exist: there is no orgform.yaml at this place in commit {short} of `{first}`. Name a ref that holds the org repository, or point -C at the folder of orgform.yaml\n"
        )
    );

    // orgform.yaml names a manifests folder the commit lacks.
    git.write("orgform.yaml", "manifests: people/\n");
    git.commit("point at a missing folder");
    let run = orgform(git.path(), &["diff", "--base", "HEAD~1"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "error: HEAD:people does not exist: the manifests folder set by `manifests:` in HEAD:orgform.yaml is not in commit "
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_shallow_clone_without_the_base_says_to_fetch_it() {
    let git = GitRepo::acme();
    git.branch("feature");
    git.checkout("feature");
    git.append(
        "org/people.yaml",
        "  - email: dave@acme.com\n    role: member\n",
    );
    git.commit("dave");
    // A CI checkout: only the pull request's commit, as `actions/checkout` fetches it.
    let clones = tempfile::tempdir().expect("temp dir");
    let shallow = clones.path().join("shallow");
    let url = format!("file://{}", git.path().display());
    let status = std::process::Command::new("git")
        .args([
            "clone", "--quiet", "--depth", "1", "--branch", "feature", &url,
        ])
        .arg(&shallow)
        .status()
        .expect("git runs");
    assert!(status.success());
    assert!(
        git2::Repository::open(&shallow)
            .expect("clone")
            .is_shallow()
    );

    for base in ["main", "origin/main", "HEAD~1"] {
        let run = orgform(&shallow, &["diff", "--base", base]);
        assert_eq!(run.code, 1, "{base}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "error: git ref `{base}` is not in this shallow clone of {}/ (it was cloned with limited history): fetch it (`git fetch --no-tags origin {base}`), or clone with full history (`fetch-depth: 0` in actions/checkout)\n",
                shallow.display()
            )
        );
    }
    // What the clone does have still works.
    let run = orgform(&shallow, &["diff", "--base", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn validate_at_a_ref_names_ref_path_line_and_column() {
    let git = GitRepo::acme();
    git.branch("broken");
    git.checkout("broken");
    git.append(
        "org/people.yaml",
        "  - email: not-an-email\n    role: member\n",
    );
    git.commit("a typo");
    git.checkout("main");

    let run = orgform(git.path(), &["validate", "--git-ref", "broken"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("--> broken:org/people.yaml:"),
        "{}",
        run.stderr
    );
    // The work tree (main) is valid and untouched.
    assert_eq!(orgform(git.path(), &["validate"]).code, 0);
    let run = orgform(
        git.path(),
        &["validate", "--git-ref", "broken", "--format", "json"],
    );
    let report = run.json();
    let errors: Vec<&Value> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert_eq!(errors[0]["rule"], "email-invalid");
    assert_eq!(errors[0]["file"], "broken:org/people.yaml");
    // plan refuses the invalid ref before reading the org.
    let run = orgform(git.path(), &["plan", "--git-ref", "broken"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--> broken:org/people.yaml:"));
}

#[test]
fn annotations_name_paths_from_the_repository_root_for_an_org_in_a_subfolder() {
    let git = GitRepo::new();
    git.write("README.md", "two orgs live here\n");
    git.write("orgs/acme/orgform.yaml", "manifests: org/\n");
    git.write(
        "orgs/acme/org/people.yaml",
        "users:\n  - email: ada@acme.com\n    role: boss\n",
    );
    git.commit("acme");
    let org = git.path().join("orgs/acme");

    for args in [
        &["validate", "--format", "github"][..],
        &["validate", "--format", "github", "--git-ref", "main"],
    ] {
        let run = orgform(&org, args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(
            run.stdout
                .starts_with("::error file=orgs/acme/org/people.yaml,line=3,col=11,"),
            "{args:?}: {}",
            run.stdout
        );
    }
    // Text output keeps the short path (or REF:path from the root).
    let run = orgform(&org, &["validate"]);
    assert!(
        run.stderr.contains("--> org/people.yaml:3:11"),
        "{}",
        run.stderr
    );
    let run = orgform(&org, &["validate", "--git-ref", "main"]);
    assert!(
        run.stderr
            .contains("--> main:orgs/acme/org/people.yaml:3:11"),
        "{}",
        run.stderr
    );
}

#[test]
fn diff_matches_renames_reports_settings_and_needs_no_provider() {
    let git = GitRepo::acme();
    // The encord provider is not even available: diff never opens one.
    git.replace("orgform.yaml", "  kind: sandbox\n", "  kind: encord\n");
    git.commit("the real org");
    git.replace(
        "org/groups.yaml",
        "  - name: ml-engineers\n",
        "  - name: ml-platform\n    renamed_from: [ml-engineers]\n",
    );
    git.replace(
        "org/access.yaml",
        "group: ml-engineers",
        "group: ml-platform",
    );
    git.replace(
        "orgform.yaml",
        "    project_tags: true\n",
        "    project_tags: false\n",
    );
    git.commit("rename a group, stop pruning tags");

    let run = orgform(
        git.path(),
        &["diff", "--base", "HEAD~1", "--format", "json"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.json()["changes"],
        json!([
            { "kind": "group", "key": "ml-platform", "change": "renamed", "fields": [
                { "field": "name", "before": "ml-engineers", "after": "ml-platform" } ] },
            // Its access follows it: a rename changes nothing else.
            { "kind": "config", "key": "policy.prune.project_tags", "change": "changed", "fields": [
                { "field": "value", "before": true, "after": false } ] }
        ])
    );
    let run = orgform(git.path(), &["diff", "--base", "HEAD~1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("  > ml-platform  ")
            && run.stdout.contains("name: ml-engineers → ml-platform"),
        "{}",
        run.stdout
    );
    let same = orgform(git.path(), &["diff", "--base", "HEAD", "--head", "main"]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("No differences"), "{}", same.stdout);
}

#[test]
fn drift_ignores_unmanaged_objects_and_counts_what_pruning_keeps() {
    let repo = crate::util::TempRepo::new();
    repo.write(
        "orgform.yaml",
        "manifests: org/\npolicy:\n  prune: { users: false }\n  unmanaged: { users: [\"*@encord.com\"] }\n",
    )
    .write(
        "org/people.yaml",
        "users:\n  - { email: ada@acme.com, role: admin, type: internal }\n",
    )
    .write(
        "sandbox.yaml",
        "users:\n  - { email: ada@acme.com, role: admin, type: internal }\n  - { email: old@acme.com, role: member, type: internal }\n  - { email: support@encord.com, role: collaborator, type: external }\n",
    );
    let run = orgform(repo.path(), &["drift"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("No drift"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "1 live object(s) not in the manifests are kept because pruning is off for their kind (policy.prune): not drift."
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("encord.com"), "{}", run.stdout);
    let json = orgform(repo.path(), &["drift", "--format", "json"]).json();
    assert_eq!(json["kept_unpruned"], 1);
    assert_eq!(json["items"], json!([]));

    // Pruning on: the same user is drift, and the unmanaged one still is not.
    repo.write(
        "orgform.yaml",
        "manifests: org/\npolicy:\n  unmanaged: { users: [\"*@encord.com\"] }\n",
    );
    let json = orgform(repo.path(), &["drift", "--format", "json"]);
    assert_eq!(json.code, 2, "{}", json.stderr);
    let report = json.json();
    assert_eq!(report["kept_unpruned"], 0);
    let keys: Vec<&str> = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["key"].as_str())
        .collect();
    assert_eq!(keys, ["old@acme.com"]);
    assert_eq!(
        report["items"][0]["adopt"],
        "declare it in `users:`: `- { email: old@acme.com, role: member, type: internal }`"
    );
}
