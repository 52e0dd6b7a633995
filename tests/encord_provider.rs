//! The `encord` provider end to end: the real binary against `orgform sandbox serve` on
//! an ephemeral loopback port (examples/acme), compared with the sandbox provider on
//! the same org; faults, rate limits and latency; the fewest reads; read-only keys;
//! key errors; and the key never written anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::serve::{Server, retries, run_with, stats};
use crate::util::{Run, repo_root};

/// Acme's org served over HTTP, and a repository that manages it through the API.
struct Acme {
    _tmp: tempfile::TempDir,
    /// The sandbox org the server serves (examples/acme as it is).
    server_dir: PathBuf,
    /// The same manifests, `provider: encord`.
    client_dir: PathBuf,
    key: PathBuf,
    state: PathBuf,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == ".orgform" {
            continue;
        }
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).expect("copy");
        }
    }
}

impl Acme {
    fn new(read_only: bool) -> Acme {
        let tmp = tempfile::tempdir().expect("temp dir");
        let server_dir = tmp.path().join("server");
        let client_dir = tmp.path().join("client");
        copy_dir(&repo_root().join("examples/acme"), &server_dir);
        copy_dir(
            &repo_root().join("examples/acme/org"),
            &client_dir.join("org"),
        );
        let key = tmp.path().join("ada.key");
        let state = tmp.path().join("state");
        let acme = Acme {
            _tmp: tmp,
            server_dir,
            client_dir,
            key,
            state,
        };
        let init = acme.server(&["sandbox", "init", "--from", "sandbox.yaml"]);
        assert_eq!(init.code, 0, "{}", init.stderr);
        let key = acme.key.to_string_lossy().into_owned();
        let mut add = vec!["sandbox", "key", "add", "ada@acme.com", "--generate", &key];
        if read_only {
            add.push("--read-only");
        }
        let added = acme.server(&add);
        assert_eq!(added.code, 0, "{}", added.stderr);
        acme
    }

    /// `orgform` in the server's repository (the sandbox provider).
    fn server(&self, args: &[&str]) -> Run {
        run_with(&self.server_dir, &[], args)
    }

    /// Points the client repository at a server.
    fn configure(&self, url: &str, key_user: Option<&str>) {
        let config = std::fs::read_to_string(self.server_dir.join("orgform.yaml"))
            .expect("config")
            .replace(
                "  kind: sandbox\n  path: .orgform/sandbox.db\n",
                &format!(
                    "  kind: encord\n  domain: {url}\n{}",
                    key_user.map_or(String::new(), |u| format!("  key_user: {u}\n"))
                ),
            );
        assert!(config.contains("kind: encord"), "{config}");
        std::fs::write(self.client_dir.join("orgform.yaml"), config).expect("write config");
    }

    /// `orgform` in the client repository, through the API.
    fn client(&self, args: &[&str]) -> Run {
        let key = self.key.to_string_lossy().into_owned();
        let state = self.state.to_string_lossy().into_owned();
        run_with(
            &self.client_dir,
            &[("ENCORD_SSH_KEY_FILE", &key), ("XDG_STATE_HOME", &state)],
            args,
        )
    }
}

/// (kind, key, action) of each change, in order.
fn changes(plan: &Value) -> Vec<(String, String, String)> {
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("key"), s("action"))
        })
        .collect()
}

fn blocked(plan: &Value) -> Vec<(String, String, String)> {
    plan["blocked"]
        .as_array()
        .expect("blocked")
        .iter()
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("key"), s("rule"))
        })
        .collect()
}

/// What the encord capabilities make of a sandbox plan's change (SPEC §7.1): the
/// action expected through the API.
fn through_the_api(sandbox: &Value, change: &Value) -> String {
    let action = change["action"].as_str().unwrap_or_default();
    let kind = change["kind"].as_str().unwrap_or_default();
    let workforce_invites: Vec<&str> = sandbox["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["kind"] == "user"
                && c["action"] == "create"
                && c["fields"].as_array().is_some_and(|f| {
                    f.iter()
                        .any(|f| f["field"] == "type" && f["after"] == "workforce")
                })
        })
        .filter_map(|c| c["key"].as_str())
        .collect();
    let needs_invite = |key: &str| {
        workforce_invites
            .iter()
            .any(|e| key.ends_with(&format!("/{e}")) || key == *e)
    };
    let user_principal = change["target"]["principal"]
        .as_str()
        .is_some_and(|p| p.starts_with("user:"));
    match (kind, action) {
        ("user", "update") => "manual",
        ("project_tag", "rename" | "update") => "manual",
        (_, "create") if needs_invite(change["key"].as_str().unwrap_or_default()) => "manual",
        ("access", "update") if user_principal => "replace",
        _ => action,
    }
    .to_string()
}

#[test]
fn acme_through_the_api_plans_as_the_sandbox_does_applies_and_converges() {
    let acme = Acme::new(false);
    // The sandbox provider's plan of the same org, before anything changes.
    let sandbox = acme.server(&["plan", "--format", "json"]);
    let sandbox: Value = sandbox.json();
    let server = Server::start(&acme.server_dir, &[]);
    acme.configure(&server.url, Some("ada@acme.com"));

    let validate = acme.client(&["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let plan = acme.client(&["plan", "--format", "json", "--out", "plan.json", "--stats"]);
    assert_eq!(
        plan.code, 1,
        "blocked: the admin dropped from the YAML\n{}",
        plan.stderr
    );
    let api: Value = plan.json();
    // It removes a user: every resource's access was read (SPEC §7.2), the undeclared
    // dataset too (its only admin leaves), and nothing was written.
    let live = orgform::sandbox::store::Store::open_existing(
        &acme.server_dir.join(".orgform/sandbox.db"),
        orgform::sandbox::store::Access::ReadOnly,
    )
    .expect("store")
    .read()
    .expect("read");
    let (_, writes, per) = stats(&plan.stderr);
    assert_eq!(writes, 0);
    for (endpoint, count) in [
        ("GET projects/{project}/users", live.projects.len()),
        ("GET datasets/{dataset}/users", live.datasets.len()),
        ("GET ontologies/{ontology}/groups", live.ontologies.len()),
    ] {
        assert_eq!(
            per.get(endpoint).copied(),
            Some(count as u64),
            "{endpoint}: {per:#?}"
        );
    }

    // Same changes in the same order where the capabilities agree; the capability
    // gaps become what SPEC §7.1 says; the same blocked items.
    let expected: Vec<(String, String, String)> = sandbox["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (s("kind"), s("key"), through_the_api(&sandbox, c))
        })
        .collect();
    let got = changes(&api);
    let same = |list: &[(String, String, String)]| -> Vec<(String, String, String)> {
        list.iter()
            .filter(|c| c.2 != "manual" && c.2 != "replace")
            .cloned()
            .collect()
    };
    assert_eq!(
        same(&got),
        same(&expected),
        "the changes both providers can make, in order"
    );
    let gaps = |list: &[(String, String, String)]| -> Vec<(String, String, String)> {
        let mut v: Vec<_> = list
            .iter()
            .filter(|c| c.2 == "manual" || c.2 == "replace")
            .cloned()
            .collect();
        v.sort();
        v
    };
    assert_eq!(gaps(&got), gaps(&expected), "the capability gaps");
    assert!(
        got.iter().any(|c| c.2 == "manual")
            && got.iter().any(|c| c.0 == "user" && c.2 == "replace"),
        "acme exercises manual items and a replaced user: {got:#?}"
    );
    assert_eq!(blocked(&api), blocked(&sandbox));
    let warnings: Vec<&str> = api["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["message"].as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("cannot read group managers"))
            && warnings.iter().any(|w| w.contains("access to ontologies")),
        "{warnings:#?}"
    );

    let apply = acme.client(&["apply", "plan.json", "--allow-destroy"]);
    assert!(
        every_change_made(&apply.stderr),
        "every change the API can make was made:\n{}",
        apply.stderr
    );
    let writes: usize = server.writes().values().sum();
    assert!(
        writes > 0 && writes <= got.iter().filter(|c| c.2 != "manual").count() + 2,
        "{writes} writes"
    );

    // Converged: what is left are the API's gaps (manual items, warnings) and the
    // blocked admin, on every run.
    for _ in 0..2 {
        let again = acme.client(&["plan", "--format", "json"]);
        let again_plan: Value = again.json();
        let left = changes(&again_plan);
        assert!(left.iter().all(|c| c.2 == "manual"), "{left:#?}");
        assert_eq!(
            left.len(),
            gaps(&got).iter().filter(|c| c.2 == "manual").count()
        );
        assert_eq!(blocked(&again_plan), blocked(&sandbox));
    }

    // The live org (read by the sandbox provider) holds what was planned.
    let export_check = acme.server(&["plan", "--format", "json"]);
    let left: Value = export_check.json();
    let left = changes(&left);
    assert!(
        left.iter().all(
            |c| gaps(&got).iter().any(|g| g.0 == c.0 && g.1 == c.1) || (c.0 == "group_manager")
        ),
        "only the gaps remain for the sandbox provider too: {left:#?}"
    );

    // The key is nowhere: not in output, logs, plans, journals or the audit log.
    let pem = std::fs::read_to_string(&acme.key).expect("key");
    let secret_lines: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    assert!(!secret_lines.is_empty());
    let mut haystacks = vec![
        ("validate", validate.stdout + &validate.stderr),
        ("plan", plan.stdout + &plan.stderr),
        ("apply", apply.stdout + &apply.stderr),
        ("server log", server.log()),
    ];
    for dir in [&acme.client_dir, &acme.state] {
        for file in walk(dir) {
            let text =
                String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned();
            haystacks.push(("file", format!("{}\n{text}", file.display())));
        }
    }
    assert!(
        haystacks.iter().any(|(_, h)| h.contains("audit")),
        "the audit log was read"
    );
    for (name, text) in &haystacks {
        for line in &secret_lines {
            assert!(!text.contains(line), "the private key appears in {name}");
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn apply_converges_through_faults_rate_limits_and_latency_doing_each_write_once() {
    // What a fault-free apply writes, per endpoint.
    let reference = Acme::new(false);
    let calm = Server::start(&reference.server_dir, &[]);
    reference.configure(&calm.url, Some("ada@acme.com"));
    let applied = reference.client(&["apply", "--auto-approve", "--allow-destroy"]);
    assert!(every_change_made(&applied.stderr), "{}", applied.stderr);
    let expected = calm.writes();
    assert!(!expected.is_empty());

    let (mut lost, mut retried) = (0, 0);
    for seed in 1..=5 {
        let acme = Acme::new(false);
        let seed_text = seed.to_string();
        let server = Server::start(
            &acme.server_dir,
            &[
                "--faults",
                "0.2",
                "--seed",
                &seed_text,
                "--rate-limit",
                "40/s",
                "--latency",
                "5",
            ],
        );
        acme.configure(&server.url, Some("ada@acme.com"));
        let apply = acme.client(&["apply", "--auto-approve", "--allow-destroy", "--stats"]);
        assert!(
            every_change_made(&apply.stderr),
            "seed {seed}:\n{}\n--- server\n{}",
            apply.stderr,
            server.log()
        );
        assert_eq!(
            server.writes(),
            expected,
            "seed {seed}: every write made exactly once\n{}",
            server.log()
        );
        let log = server.log();
        lost += log.matches("write done, response lost").count();
        retried += retries(&apply.stderr);
        let again = acme.client(&["plan", "--format", "json"]);
        let left = changes(&again.json());
        assert!(
            left.iter().all(|c| c.2 == "manual"),
            "seed {seed}: converged but for the API's gaps: {left:#?}"
        );
    }
    assert!(
        lost > 0 && retried > 0,
        "the seeds lose writes ({lost}) and retry ({retried})"
    );
}

#[test]
fn a_no_change_plan_writes_nothing_and_reads_the_minimum() {
    let acme = Acme::new(false);
    // Manifests that describe the live org exactly: export it.
    std::fs::remove_dir_all(acme.client_dir.join("org")).expect("clear");
    let export = acme.server(&["export", "--out", "../client/org"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let server = Server::start(&acme.server_dir, &[]);
    acme.configure(&server.url, Some("ada@acme.com"));
    let plan = acme.client(&["plan", "--stats", "--concurrency", "4"]);
    assert!(
        plan.stdout.contains("0 manual"),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    let (calls, writes, per) = stats(&plan.stderr);
    assert_eq!(writes, 0);

    // The minimum the reading rules allow, from the org and the manifests: each
    // org-wide listing once (users, groups, tags, schema, folders, projects, datasets,
    // ontologies), each group's members, the users and groups of each declared project
    // and dataset, the groups of each declared ontology, and tag assignments by
    // project or by tag, whichever is fewer.
    let live = orgform::sandbox::store::Store::open_existing(
        &acme.server_dir.join(".orgform/sandbox.db"),
        orgform::sandbox::store::Access::ReadOnly,
    )
    .expect("store")
    .read()
    .expect("read");
    let repo = orgform::manifest::load_repo(&acme.client_dir).expect("manifests");
    let desired = orgform::model::Desired::from_manifests(&repo.manifests);
    let mut access = 0;
    let mut tagged = 0;
    for r in &desired.resources {
        if r.manages_access() {
            access += match r.kind {
                orgform::model::ResourceKind::Ontology => 1,
                _ => 2,
            };
        }
        tagged += usize::from(r.tags.is_some());
    }
    let minimum = 8 + live.groups.len() + access + tagged.min(live.project_tags.len());
    assert!(access > 0 && tagged > 0);
    assert_eq!(calls as usize, minimum, "{per:#?}");
    assert_eq!(
        per.get("GET organisation/groups/{group}/users").copied(),
        Some(live.groups.len() as u64)
    );
    assert_eq!(server.writes(), BTreeMap::new());
}

#[test]
fn a_read_only_key_plans_but_cannot_apply() {
    let acme = Acme::new(true);
    let server = Server::start(&acme.server_dir, &[]);
    acme.configure(&server.url, Some("ada@acme.com"));
    let plan = acme.client(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(plan.stdout.contains("Plan:"), "{}", plan.stdout);
    let apply = acme.client(&["apply", "--auto-approve", "--allow-destroy"]);
    assert_eq!(apply.code, 1);
    assert!(
        apply.stderr.contains("answered 403") && apply.stderr.contains("lacks the permission"),
        "{}",
        apply.stderr
    );
    assert_eq!(server.writes(), BTreeMap::new(), "nothing was written");
}

#[test]
fn key_problems_are_named_without_the_key() {
    let acme = Acme::new(false);
    acme.configure("http://127.0.0.1:9", Some("ada@acme.com"));
    let dir = &acme.client_dir;
    let missing = run_with(dir, &[], &["plan"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("no Encord API key: set ENCORD_SSH_KEY_FILE"),
        "{}",
        missing.stderr
    );

    let unreadable = run_with(
        dir,
        &[("ENCORD_SSH_KEY_FILE", "/nonexistent/key")],
        &["plan"],
    );
    assert_eq!(unreadable.code, 1);
    assert!(
        unreadable
            .stderr
            .contains("cannot read the Encord API key file /nonexistent/key"),
        "{}",
        unreadable.stderr
    );

    let pkcs8 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHNlY3JldHNlY3JldHNlY3JldHNlY3JldHNlYw==\n-----END PRIVATE KEY-----\n";
    let pem = run_with(dir, &[("ENCORD_SSH_KEY", pkcs8)], &["plan"]);
    assert_eq!(pem.code, 1);
    assert!(
        pem.stderr
            .contains("ENCORD_SSH_KEY cannot be used: not an OpenSSH private key"),
        "{}",
        pem.stderr
    );
    assert!(!pem.stderr.contains("MC4CAQAw"), "{}", pem.stderr);

    let rsa = openssh_key_of_type("ssh-rsa");
    let rsa_file = acme.client_dir.join("rsa.key");
    std::fs::write(&rsa_file, rsa).expect("write");
    let not_ed = run_with(
        dir,
        &[("ENCORD_SSH_KEY_FILE", rsa_file.to_str().expect("utf-8"))],
        &["plan"],
    );
    assert_eq!(not_ed.code, 1);
    assert!(
        not_ed
            .stderr
            .contains("not an Ed25519 key (it is `ssh-rsa`)"),
        "{}",
        not_ed.stderr
    );
}

/// An unencrypted `openssh-key-v1` file whose key is of another type.
fn openssh_key_of_type(key_type: &str) -> String {
    use base64::Engine;
    fn string(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut private = Vec::new();
    private.extend_from_slice(&7u32.to_be_bytes());
    private.extend_from_slice(&7u32.to_be_bytes());
    string(&mut private, key_type.as_bytes());
    string(&mut private, b"not a real key");
    let mut body = b"openssh-key-v1\0".to_vec();
    string(&mut body, b"none");
    string(&mut body, b"none");
    string(&mut body, b"");
    body.extend_from_slice(&1u32.to_be_bytes());
    string(&mut body, b"public");
    string(&mut body, &private);
    format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(body)
    )
}

/// Apply's last line says every change the API can make was made: nothing failed,
/// conflicted or was skipped (manual and blocked items may remain).
fn every_change_made(stderr: &str) -> bool {
    stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("Applied"))
        .is_some_and(|l| {
            !l.contains(" failed:") && !l.contains(" conflicting:") && !l.contains(" skipped:")
        })
}
