//! `orgform export` writes what a person would commit, and works before `org/` exists.

use std::path::Path;

use crate::onboarding::filtered;
use crate::util::{orgform, repo_root};

const CONFIG: &str = "manifests: org/
policy:
  unmanaged:
    users: [\"*@encord.com\"]
";

/// A repository with orgform.yaml and the acme sandbox org, but no org/ folder yet.
fn repo_without_manifests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("orgform.yaml"), CONFIG).expect("config");
    std::fs::copy(
        repo_root().join("examples/acme/sandbox.yaml"),
        dir.path().join("state.yaml"),
    )
    .expect("copy state");
    dir
}

fn exported_files(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            format!(
                "--- {n}\n{}",
                std::fs::read_to_string(dir.join(n)).expect("read")
            )
        })
        .collect()
}

#[test]
fn sandbox_init_and_export_work_before_the_manifests_folder_exists() {
    let repo = repo_without_manifests();
    let init = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert!(!repo.path().join("org").exists());
    let export = orgform(repo.path(), &["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(repo.path().join("org/people.yaml").is_file());

    // --out into a folder that does not exist either.
    let repo = repo_without_manifests();
    orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    let export = orgform(repo.path(), &["export", "--out", "onboarding/org"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(repo.path().join("onboarding/org/access.yaml").is_file());
    // Its `$schema` lines reach the repository's schemas/ from two levels down.
    let people =
        std::fs::read_to_string(repo.path().join("onboarding/org/people.yaml")).expect("read");
    assert!(
        people.starts_with("# yaml-language-server: $schema=../../schemas/manifest.schema.json\n"),
        "{people}"
    );
}

#[test]
fn export_is_ready_to_commit() {
    let repo = repo_without_manifests();
    orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
    let run = orgform(repo.path(), &["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("export_stderr", filtered(&run.stderr, repo.path()));
    let files = exported_files(&repo.path().join("org"));
    insta::assert_snapshot!("export_files", files);

    // No timestamp: exporting the same org again writes the same bytes.
    let again = orgform(repo.path(), &["export", "--force"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(exported_files(&repo.path().join("org")), files);

    // Every file starts with the `$schema` line, and the schema it names exists.
    for (name, _) in files
        .split("--- ")
        .skip(1)
        .filter_map(|f| f.split_once('\n'))
    {
        let text = std::fs::read_to_string(repo.path().join("org").join(name)).expect("read");
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/manifest.schema.json\n"),
            "{name}"
        );
    }
    assert!(repo.path().join("schemas/manifest.schema.json").is_file());

    // The counts are those of what was written: validate counts the same objects.
    let validate = orgform(repo.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let exported = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Exported "))
        .and_then(|l| l.split(';').next())
        .expect("an Exported line");
    let loaded = validate
        .stderr
        .lines()
        .find_map(|l| l.split_once(" manifest files: ").map(|(_, counts)| counts))
        .expect("a Loaded line");
    assert_eq!(exported, loaded);

    let plan = orgform(repo.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);

    // A new hire declared without `type:` defaults as the live internal users do.
    std::fs::write(
        repo.path().join("org/zoe.yaml"),
        "users:\n  - { email: zoe@acme.com, role: member }\n",
    )
    .expect("write");
    let plan = orgform(repo.path(), &["plan"]);
    let zoe = plan
        .stdout
        .lines()
        .find(|l| l.contains("+ zoe@acme.com"))
        .unwrap_or_else(|| panic!("{}", plan.stdout));
    assert!(zoe.ends_with("role: member, type: internal"), "{zoe}");
}

#[test]
fn nested_folders_are_indented_like_every_other_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("orgform.yaml"), "manifests: org/\n").expect("config");
    std::fs::write(
        dir.path().join("state.yaml"),
        "users:
  - { email: ada@acme.com, role: admin, type: internal }
folders:
  - name: raw
    description: Raw uploads
    folders:
      - name: \"2026\"
        folders:
          - name: ct
            description: CT scans
  - name: curated
",
    )
    .expect("state");
    orgform(dir.path(), &["sandbox", "init", "--from", "state.yaml"]);
    let run = orgform(dir.path(), &["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let folders = std::fs::read_to_string(dir.path().join("org/folders.yaml")).expect("read");
    let body: Vec<&str> = folders.lines().skip(2).collect();
    assert_eq!(
        body,
        [
            "folders:",
            "  - name: curated",
            "  - name: raw",
            "    description: Raw uploads",
            "    folders:",
            "      - name: \"2026\"",
            "        folders:",
            "          - name: ct",
            "            description: CT scans",
        ]
    );
    assert!(run.stderr.contains("4 folders"), "{}", run.stderr);
    let plan = orgform(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}
