//! The command-line contract a CI job relies on: the exit code of every command in every
//! situation that matters, and `plan --target` never reading a typo as "no changes".

use crate::util::{TempRepo, orgform};

/// The live org of every situation: two admins and a member.
const STATE: &str = "users:
  - { email: admin@example.com, role: admin, type: internal }
  - { email: ann@example.com, role: admin, type: internal }
  - { email: olga@acme.com, role: member, type: internal }
groups:
  - { name: labelers, members: [olga@acme.com] }
project_tags:
  - { name: Gold }
";

/// Manifests that match [`STATE`] exactly.
const SAME: &str = STATE;

#[derive(Debug, Clone, Copy)]
enum Situation {
    /// Manifests, no sandbox org yet (the live org cannot be read).
    NoOrg,
    /// The manifests match the live org.
    Clean,
    /// A user to invite and a role to change.
    Changes,
    /// Only a blocked item: an admin dropped from the manifests (admins are unremovable).
    Blocked,
    /// A manifest that does not validate.
    Invalid,
    /// An orgform.yaml that does not validate.
    BadConfig,
}

fn situation(s: Situation) -> TempRepo {
    let repo = TempRepo::new();
    repo.write("state.yaml", STATE);
    repo.write("org/people.yaml", SAME);
    if !matches!(s, Situation::NoOrg) {
        let init = orgform(repo.path(), &["sandbox", "init", "--from", "state.yaml"]);
        assert_eq!(init.code, 0, "sandbox init: {}", init.stderr);
    }
    match s {
        Situation::NoOrg | Situation::Clean => {}
        Situation::Changes => {
            repo.write(
                "org/people.yaml",
                SAME.replace("role: member", "role: collaborator").replace(
                    "users:\n",
                    "users:\n  - { email: bob@example.com, role: member }\n",
                ),
            );
        }
        Situation::Blocked => {
            repo.write(
                "org/people.yaml",
                SAME.replace(
                    "  - { email: ann@example.com, role: admin, type: internal }\n",
                    "",
                ),
            );
        }
        Situation::Invalid => {
            repo.write(
                "org/people.yaml",
                "users:\n  - { email: nope, role: member }\n",
            );
        }
        Situation::BadConfig => {
            repo.write("orgform.yaml", "manifests: org/\nbogus: 1\n");
        }
    }
    repo
}

#[test]
fn every_command_exits_with_the_documented_code() {
    use Situation::*;
    // (situation, arguments, exit code): 0 success, 1 any error (usage errors
    // included), 2 changes present (plan --detailed-exitcode).
    let table: &[(Situation, &[&str], i32)] = &[
        (Clean, &["validate"], 0),
        (Changes, &["validate"], 0),
        (Blocked, &["validate"], 0),
        (Invalid, &["validate"], 1),
        (BadConfig, &["validate"], 1),
        (Clean, &["plan"], 0),
        (Changes, &["plan"], 0),
        (Blocked, &["plan"], 1),
        (Invalid, &["plan"], 1),
        (BadConfig, &["plan"], 1),
        (NoOrg, &["plan"], 1),
        (Clean, &["plan", "--detailed-exitcode"], 0),
        (Changes, &["plan", "--detailed-exitcode"], 2),
        (Blocked, &["plan", "--detailed-exitcode"], 2),
        (Invalid, &["plan", "--detailed-exitcode"], 1),
        (BadConfig, &["plan", "--detailed-exitcode"], 1),
        (NoOrg, &["plan", "--detailed-exitcode"], 1),
        (
            Changes,
            &["plan", "--detailed-exitcode", "--format", "json"],
            2,
        ),
        (
            Changes,
            &["plan", "--detailed-exitcode", "--target", "group"],
            0,
        ),
        (
            Changes,
            &[
                "plan",
                "--detailed-exitcode",
                "--target",
                "user/BOB@example.com",
            ],
            2,
        ),
        (
            Blocked,
            &[
                "plan",
                "--detailed-exitcode",
                "--target",
                "user/Ann@Example.com",
            ],
            2,
        ),
        (
            Changes,
            &["plan", "--detailed-exitcode", "--target", "users"],
            1,
        ),
        (Changes, &["plan", "--detailed-exitcode", "--target", ""], 1),
        (
            Changes,
            &["plan", "--detailed-exitcode", "--target", "bogus"],
            1,
        ),
        (
            Changes,
            &[
                "plan",
                "--detailed-exitcode",
                "--target",
                "user/nobody@example.com",
            ],
            1,
        ),
        (Clean, &["apply", "--auto-approve"], 0),
        (Changes, &["apply", "--auto-approve"], 0),
        (Blocked, &["apply", "--auto-approve"], 1),
        (Invalid, &["apply", "--auto-approve"], 1),
        (NoOrg, &["apply", "--auto-approve"], 1),
        (Changes, &["apply"], 1), // no terminal to confirm on
        (Clean, &["apply", "missing.json"], 1),
        (Clean, &["export", "--out", "exported"], 0),
        (Invalid, &["export", "--out", "exported"], 0), // reads only the live org
        (Clean, &["export"], 1),                        // would overwrite org/people.yaml
        (BadConfig, &["export", "--out", "exported"], 1),
        (NoOrg, &["export", "--out", "exported"], 1),
        (Clean, &["schema"], 0),
        (Clean, &["schema", "plan"], 0),
        (NoOrg, &["sandbox", "init"], 0),
        (Clean, &["sandbox", "init"], 1), // exists: needs --force
        (Clean, &["sandbox", "init", "--force"], 0),
        // Usage errors: a bad flag, a bad value, an unknown subcommand, no subcommand.
        (Changes, &["plan", "--detailed-exitcode", "--bogus"], 1),
        (
            Changes,
            &["plan", "--detailed-exitcode", "--format", "yaml"],
            1,
        ),
        (Clean, &["validate", "--format", "yaml"], 1),
        (Clean, &["apply", "--bogus"], 1),
        (Clean, &["export", "--bogus"], 1),
        (Clean, &["schema", "bogus"], 1),
        (Clean, &["sandbox", "bogus"], 1),
        (Clean, &["sandbox", "init", "--from"], 1),
        (Clean, &["--color", "sometimes", "plan"], 1),
        (Clean, &["frobnicate"], 1),
        (Clean, &[], 1),
        // Help and version.
        (Clean, &["--help"], 0),
        (Clean, &["-h"], 0),
        (Clean, &["help"], 0),
        (Clean, &["help", "plan"], 0),
        (Changes, &["plan", "--help"], 0),
        (Changes, &["plan", "--detailed-exitcode", "-h"], 0),
        (Clean, &["sandbox", "init", "--help"], 0),
        (Clean, &["--version"], 0),
        (Clean, &["-V"], 0),
    ];
    let mut wrong = Vec::new();
    for (situation_, args, want) in table {
        let repo = situation(*situation_);
        let run = orgform(repo.path(), args);
        if run.code != *want {
            wrong.push(format!(
                "{situation_:?} `orgform {}` exited {} (want {want})\n  stderr: {}",
                args.join(" "),
                run.code,
                run.stderr.trim().replace('\n', "\n          ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn usage_errors_and_help_go_to_the_right_stream() {
    let repo = situation(Situation::Clean);
    let bad = orgform(repo.path(), &["plan", "--bogus"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);
    assert!(
        bad.stderr.contains("unexpected argument '--bogus'"),
        "{}",
        bad.stderr
    );
    let help = orgform(repo.path(), &["plan", "--help"]);
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("--detailed-exitcode"),
        "{}",
        help.stdout
    );
    assert!(
        help.stdout.contains("2 when it is not, 1 on any error"),
        "the help states the exit codes:\n{}",
        help.stdout
    );
    let version = orgform(repo.path(), &["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("orgform "), "{}", version.stdout);
}

fn plan_json(repo: &TempRepo, targets: &[&str]) -> serde_json::Value {
    let mut args = vec!["plan", "--format", "json"];
    for t in targets {
        args.extend(["--target", t]);
    }
    let run = orgform(repo.path(), &args);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.json()
}

fn keys(plan: &serde_json::Value) -> Vec<String> {
    let items = plan["changes"]
        .as_array()
        .into_iter()
        .chain(plan["blocked"].as_array())
        .flatten();
    items
        .map(|c| {
            format!(
                "{} {}",
                c["kind"].as_str().unwrap_or("?"),
                c["key"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn a_misspelt_kind_is_a_usage_error_with_a_suggestion() {
    let repo = situation(Situation::Changes);
    let run = orgform(
        repo.path(),
        &["plan", "--target", "users", "--detailed-exitcode"],
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "nothing planned: {}", run.stdout);
    insta::assert_snapshot!("target_kind_misspelt", run.stderr);
    for (target, says) in [
        ("", "the kind is missing"),
        (
            "bogus",
            "`bogus` is not a kind of change. The kinds are: user, group,",
        ),
        ("Group", "Did you mean `group`?"),
        ("project_tags/Gold", "Did you mean `project_tag`?"),
        ("user/", "the key after `user/` is empty"),
        ("/olga@acme.com", "the kind is missing"),
    ] {
        let run = orgform(repo.path(), &["plan", "--target", target]);
        assert_eq!(run.code, 1, "--target {target:?}: {}", run.stdout);
        assert!(
            run.stderr.contains(says),
            "--target {target:?}:\n{}",
            run.stderr
        );
        assert!(!run.stdout.contains("No changes"), "{}", run.stdout);
    }
}

#[test]
fn target_keys_compare_the_way_their_kind_does() {
    let repo = situation(Situation::Changes);
    repo.write(
        "org/more.yaml",
        "project_tags:\n  - { name: Silver }\ngroups:\n  - { name: Reviewers, members: [olga@acme.com] }\n",
    );
    // Emails ignore case, in users and in the email part of memberships.
    assert_eq!(
        keys(&plan_json(&repo, &["user/OLGA@Acme.com"])),
        ["user olga@acme.com"]
    );
    assert_eq!(
        keys(&plan_json(&repo, &["group_member/Reviewers/Olga@ACME.com"])),
        ["group_member Reviewers/olga@acme.com"]
    );
    // Project tag names ignore case; group names do not.
    assert_eq!(
        keys(&plan_json(&repo, &["project_tag/SILVER"])),
        ["project_tag Silver"]
    );
    assert_eq!(
        keys(&plan_json(&repo, &["group/Reviewers"])),
        ["group Reviewers"]
    );
    let wrong_case = orgform(repo.path(), &["plan", "--target", "group/reviewers"]);
    assert_eq!(wrong_case.code, 1, "{}", wrong_case.stdout);
    assert!(
        wrong_case
            .stderr
            .contains("Did you mean `group/Reviewers`?"),
        "{}",
        wrong_case.stderr
    );
    // Several targets add up; a kind alone takes all its changes.
    assert_eq!(
        keys(&plan_json(&repo, &["user/bob@example.com", "project_tag"])),
        ["user bob@example.com", "project_tag Silver"]
    );
}

#[test]
fn a_target_naming_nothing_declared_or_live_is_an_error() {
    let repo = situation(Situation::Changes);
    let run = orgform(
        repo.path(),
        &[
            "plan",
            "--target",
            "user/olga@acme.co",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "nothing planned: {}", run.stdout);
    insta::assert_snapshot!("target_unknown", run.stderr);
    for target in [
        "group/nobody",
        "project_tag/Bronze",
        "group_member/labelers/bob@example.com",
        "access/project:P/user:olga@acme.com",
        "metadata_key/camera",
        "folder/raw",
    ] {
        let run = orgform(repo.path(), &["plan", "--target", target]);
        assert_eq!(run.code, 1, "--target {target}: {}", run.stdout);
        assert!(
            run.stderr.contains(&format!(
                "error[target-unknown]: --target {target} matches nothing"
            )),
            "{}",
            run.stderr
        );
    }
    // Live but unchanged, declared but not live, live but not declared: all real objects.
    let unchanged = orgform(
        repo.path(),
        &[
            "plan",
            "--target",
            "user/ann@example.com",
            "--detailed-exitcode",
        ],
    );
    assert_eq!(unchanged.code, 0, "{}", unchanged.stderr);
    assert!(
        unchanged.stdout.contains("No changes"),
        "{}",
        unchanged.stdout
    );
    assert_eq!(
        keys(&plan_json(&repo, &["user/bob@example.com"])),
        ["user bob@example.com"]
    );
    repo.write(
        "org/people.yaml",
        SAME.replace("members: [olga@acme.com]", "members: []"),
    );
    assert_eq!(
        keys(&plan_json(&repo, &["group_member/labelers/OLGA@acme.com"])),
        ["group_member labelers/olga@acme.com"]
    );
}
