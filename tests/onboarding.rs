//! The first hour of a new user: `orgform init`, the README's "Start your own org
//! repository", shell completions and the man page, `-q`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::{orgform, repo_root};

/// Copies a directory tree (without `.orgform/`, the local state).
pub fn copy_dir(from: &Path, to: &Path) {
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

/// Output with the temp dir shown as `[DIR]`, for snapshots.
pub fn filtered(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[DIR]")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The file a `# yaml-language-server: $schema=PATH` first line points at.
fn schema_target(file: &Path) -> PathBuf {
    let text = read(file);
    let first = text.lines().next().unwrap_or_default();
    let rel = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("{} starts with {first:?}", file.display()));
    file.parent().expect("parent").join(rel)
}

#[test]
fn init_writes_a_repository_that_validates_and_plans_with_no_changes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = orgform(tmp.path(), &["init", "my-org"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("init_stderr", filtered(&run.stderr, tmp.path()));
    let root = tmp.path().join("my-org");
    for file in [
        "orgform.yaml",
        ".gitignore",
        "schemas/manifest.schema.json",
        "schemas/config.schema.json",
        "org/people.yaml",
        "org/organization.yaml",
    ] {
        assert!(root.join(file).is_file(), "{file} was not written");
    }
    assert!(
        read(&root.join(".gitignore"))
            .lines()
            .any(|l| l == ".orgform/")
    );
    // Every YAML file points editors at a schema that exists.
    for file in ["orgform.yaml", "org/people.yaml", "org/organization.yaml"] {
        let schema = schema_target(&root.join(file));
        assert!(schema.is_file(), "{file} → {}", schema.display());
    }

    // Every policy knob is set and explained by a comment (on its line, or next to it).
    let config = read(&root.join("orgform.yaml"));
    for knob in [
        "manifests:",
        "kind: sandbox",
        "path: .orgform/sandbox.db",
        "users: true",
        "groups: true",
        "memberships: true",
        "project_tags: false",
        "metadata_keys: false",
        "folders: false",
        "default: 10",
        "unmanaged:",
        "offboarding:",
        "replacement:",
        "audit:",
    ] {
        let line = config
            .lines()
            .position(|l| l.contains(knob))
            .unwrap_or_else(|| panic!("no `{knob}` in:\n{config}"));
        let lines: Vec<&str> = config.lines().collect();
        let explained = lines[line].contains(" # ")
            || lines[line].trim_start().starts_with('#')
            || lines[line.saturating_sub(1)].trim_start().starts_with('#')
            || lines
                .get(line + 1)
                .is_some_and(|l| l.trim_start().starts_with('#'));
        assert!(explained, "`{knob}` has no comment:\n{}", lines[line]);
    }
    // The config means what orgform's defaults mean.
    let repo = orgform::manifest::load_config_only(&root).expect("config loads");
    assert!(repo.diagnostics.is_empty(), "{:?}", repo.diagnostics);
    let mut expected = orgform::config::Config::default();
    expected.policy.max_deletions.users = Some(5);
    assert_eq!(repo.config, expected);

    let sandbox = orgform(&root, &["sandbox", "init"]);
    assert_eq!(sandbox.code, 0, "{}", sandbox.stderr);
    let validate = orgform(&root, &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate.stderr.contains("valid (0 warnings, 0 notes)"),
        "{}",
        validate.stderr
    );
    let plan = orgform(&root, &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
}

#[test]
fn init_refuses_to_overwrite_a_repository() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join(".gitignore"), "target/").expect("write");
    assert_eq!(orgform(tmp.path(), &["init"]).code, 0);
    // An existing .gitignore is kept, with the state folder added.
    assert_eq!(
        read(&tmp.path().join(".gitignore")),
        "target/\n# orgform's local state: the sandbox org, apply journals, the audit log\n.orgform/\n"
    );
    std::fs::write(tmp.path().join("orgform.yaml"), "manifests: org/ # mine\n").expect("write");
    let again = orgform(tmp.path(), &["init"]);
    assert_eq!(again.code, 1);
    assert_eq!(
        filtered(&again.stderr, tmp.path()),
        "error: [DIR]/orgform.yaml already exists: `orgform init` never overwrites a repository. Edit it, or init another folder (`orgform init DIR`)\n"
    );
    assert_eq!(
        read(&tmp.path().join("orgform.yaml")),
        "manifests: org/ # mine\n"
    );

    // Manifests without a config are not overwritten either.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("org")).expect("mkdir");
    std::fs::write(other.join("org/people.yml"), "users: []\n").expect("write");
    let run = orgform(&other, &["init"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("already holds manifests (people.yml)"),
        "{}",
        run.stderr
    );
    assert!(!other.join("orgform.yaml").exists());
}

#[test]
fn init_for_encord_writes_a_valid_config_and_from_live_writes_nothing_it_cannot_read() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = orgform(tmp.path(), &["init", "--provider", "encord", "--from-live"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--from-live: opening the live org (nothing was written)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("ls").count(),
        0,
        "a failed --from-live leaves the folder empty"
    );

    let run = orgform(tmp.path(), &["init", "--provider", "encord"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = read(&tmp.path().join("orgform.yaml"));
    assert!(config.contains("  kind: encord\n"), "{config}");
    assert!(config.contains("ENCORD_SSH_KEY_FILE"), "{config}");
    let validate = orgform(tmp.path(), &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
}

#[test]
fn init_from_live_exports_the_org_and_plans_with_no_changes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        repo_root().join("examples/acme/sandbox.yaml"),
        tmp.path().join("sandbox.yaml"),
    )
    .expect("copy");
    let run = orgform(tmp.path(), &["init", "--from-live"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "Exported 17 users, 4 groups, 5 project tags, 9 metadata keys, 4 folders, 3 projects, 3 datasets, 1 ontology"
        ),
        "{}",
        run.stderr
    );
    for file in ["people.yaml", "access.yaml", "organization.yaml"] {
        let schema = schema_target(&tmp.path().join("org").join(file));
        assert!(schema.is_file(), "{file} → {}", schema.display());
    }
    let plan = orgform(tmp.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

/// The README's "Start your own org repository" block, run line by line as written:
/// `cd` changes the directory, every other line is an orgform command.
#[test]
fn readme_start_your_own_org_repository_runs_as_written() {
    let readme = read(&repo_root().join("README.md"));
    let section = readme
        .split("\n## Start your own org repository\n")
        .nth(1)
        .expect("README has the section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the section has a sh block");

    // Run where the README runs it: a checkout of orgform (its examples/).
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo_root().join("examples"), &tmp.path().join("examples"));
    let mut cwd = tmp.path().to_path_buf();
    let mut ran = Vec::new();
    for line in block.lines() {
        let command = line.split(" #").next().unwrap_or_default().trim();
        if command.is_empty() || command.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["cd", dir] => cwd = cwd.join(dir),
            ["orgform", args @ ..] => {
                let out = Command::new(env!("CARGO_BIN_EXE_orgform"))
                    .args(args)
                    .current_dir(&cwd)
                    .env("NO_COLOR", "1")
                    .stdin(Stdio::null())
                    .output()
                    .expect("orgform runs");
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "`{command}` failed:\n{stdout}\n{stderr}"
                );
                if args.first() == Some(&"plan") {
                    assert!(stdout.contains("No changes"), "`{command}`:\n{stdout}");
                }
                ran.push(args.first().copied().unwrap_or_default().to_string());
            }
            other => panic!("the README block runs only cd and orgform, found {other:?}"),
        }
    }
    for step in ["init", "sandbox", "export", "plan"] {
        assert!(
            ran.iter().any(|r| r == step),
            "no `orgform {step}` in {ran:?}"
        );
    }
}

#[test]
fn completions_generate_for_every_shell() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = orgform(tmp.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in [
            "validate",
            "plan",
            "apply",
            "export",
            "init",
            "detailed-exitcode",
        ] {
            assert!(run.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    // The bash script is valid bash, and completes subcommands when sourced.
    let bash = orgform(tmp.path(), &["completions", "bash"]).stdout;
    let script = tmp.path().join("orgform.bash");
    std::fs::write(&script, bash).expect("write");
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && COMP_WORDS=(orgform pl); COMP_CWORD=1; _orgform orgform pl orgform && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .expect("bash runs");
    let replies = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && replies.lines().any(|l| l == "plan"),
        "{replies}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let unknown = orgform(tmp.path(), &["completions", "tcsh"]);
    assert_eq!(unknown.code, 1);
}

#[test]
fn man_pages_generate_from_the_same_definitions() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = orgform(tmp.path(), &["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(".TH orgform 1"), "{}", run.stdout);
    for word in ["init", "validate", "plan", "completions", "\\-\\-quiet"] {
        assert!(run.stdout.contains(word), "man page lacks {word}");
    }
    let out = orgform(tmp.path(), &["man", "--out", "man"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for page in [
        "orgform.1",
        "orgform-plan.1",
        "orgform-init.1",
        "orgform-sandbox.1",
    ] {
        let text = read(&tmp.path().join("man").join(page));
        assert!(text.contains(".TH "), "{page}: {text}");
    }
    let plan_page = read(&tmp.path().join("man/orgform-plan.1"));
    assert!(plan_page.contains("detailed\\-exitcode"), "{plan_page}");
}

#[test]
fn quiet_prints_errors_only() {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo_root().join("examples/acme"), tmp.path());
    // The sandbox is created, the plan printed (data), nothing else on stderr.
    let plan = orgform(tmp.path(), &["-q", "plan", "--out", "plan.json"]);
    assert_eq!(plan.code, 1, "blocked items still fail the plan");
    assert_eq!(plan.stderr, "");
    assert!(plan.stdout.starts_with("Plan for org/"), "{}", plan.stdout);
    assert!(tmp.path().join("plan.json").is_file());

    let validate = orgform(tmp.path(), &["validate", "--quiet"]);
    assert_eq!((validate.code, validate.stderr.as_str()), (0, ""));
    let export = orgform(tmp.path(), &["-q", "export", "--out", "exported"]);
    assert_eq!((export.code, export.stderr.as_str()), (0, ""));
    let init = orgform(tmp.path(), &["-q", "init", "again"]);
    assert_eq!((init.code, init.stderr.as_str()), (0, ""));
    let sandbox = orgform(&tmp.path().join("again"), &["-q", "sandbox", "init"]);
    assert_eq!((sandbox.code, sandbox.stderr.as_str()), (0, ""));

    // Errors still show, alone.
    std::fs::write(
        tmp.path().join("org/extra.yaml"),
        "users:\n  - { email: ada@acme.com, role: admin }\nbad: 1\n",
    )
    .expect("write");
    let invalid = orgform(tmp.path(), &["-q", "validate"]);
    assert_eq!(invalid.code, 1);
    assert!(invalid.stderr.starts_with("error["), "{}", invalid.stderr);
    assert!(!invalid.stderr.contains("note["), "{}", invalid.stderr);
    assert!(!invalid.stderr.contains("Loaded"), "{}", invalid.stderr);
}
