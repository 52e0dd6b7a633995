//! The "XL" scale benchmark of SPEC §6: 20,000 users, 2,000 groups of ~50 members,
//! 1,000 tags, 500 metadata keys, 2,000 folders, 5,000 projects with access and tags.
//!
//! `cargo bench --bench xl` (set ORGFORM_BENCH_SCALE=0.1 for a quick run). It writes
//! real manifest files and a real sandbox org (live = manifests with ~1% drift), then
//! measures, in process: parsing the YAML, validating, reading the live org, planning;
//! and the whole `orgform validate` and `orgform plan` commands as child processes with
//! their wall time and peak memory. It reports figures against the targets: planning
//! compute ≤ 2× parsing, memory ≤ 10× the manifests' size.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orgform::manifest;
use orgform::model::Desired;
use orgform::plan::{self, Capabilities, Source};
use orgform::sandbox::store::Store;
use orgform::validate::{self, Mode};

struct Sizes {
    users: usize,
    groups: usize,
    members: usize,
    tags: usize,
    keys: usize,
    folders: usize,
    projects: usize,
}

fn sizes() -> Sizes {
    let scale: f64 = std::env::var("ORGFORM_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let n = |x: f64| ((x * scale) as usize).max(1);
    Sizes {
        users: n(20_000.0),
        groups: n(2_000.0),
        members: 50,
        tags: n(1_000.0),
        keys: n(500.0),
        folders: n(2_000.0),
        projects: n(5_000.0),
    }
}

/// Manifests (`live == false`) or the sandbox state with drift (`live == true`).
fn org_yaml(s: &Sizes, live: bool) -> Vec<(String, String)> {
    // Drift: every 100th object differs between live and declared.
    let drift = |i: usize| live && i % 100 == 7;
    let user = |i: usize| format!("user{i:05}@acme.com");
    let mut people = String::from("organization: { email_domains: [acme.com] }\nusers:\n");
    let _ = writeln!(
        people,
        "  - {{ email: {}, role: admin, type: internal }}",
        user(0)
    );
    for i in 1..s.users {
        let role = if i % 10 == 0 {
            "workforce_manager"
        } else if drift(i) {
            "collaborator"
        } else {
            "member"
        };
        let _ = writeln!(
            people,
            "  - {{ email: {}, role: {role}, type: internal }}",
            user(i)
        );
    }
    // New hires to invite (declared only) and leavers to remove (live only).
    let (extra, count) = if live {
        ("leaver", s.users / 200)
    } else {
        ("newhire", s.users / 100)
    };
    for i in 0..count {
        let _ = writeln!(
            people,
            "  - {{ email: {extra}{i:05}@acme.com, role: member, type: internal }}"
        );
    }
    let mut groups = String::from("groups:\n");
    for g in 0..s.groups {
        let members: Vec<String> = (0..s.members)
            .map(|m| user((g * 37 + m * 11) % s.users))
            .collect();
        let desc = if drift(g) { "old" } else { "team" };
        let _ = writeln!(
            groups,
            "  - name: group-{g:04}\n    description: {desc}\n    managers: [{}]\n    members: [{}]",
            user((g * 13) % s.users),
            members.join(", ")
        );
    }
    let mut tags = String::from("project_tags:\n");
    for t in 0..s.tags {
        let _ = writeln!(tags, "  - {{ name: tag-{t:04}, description: tag {t} }}");
    }
    let mut keys = String::from("metadata_schema:\n");
    for k in 0..s.keys {
        let ty = match k % 5 {
            0 => "varchar".to_string(),
            1 => "number".to_string(),
            2 => "{ enum: [a, b, c] }".to_string(),
            3 => "{ embedding: 512 }".to_string(),
            _ => {
                if drift(k) {
                    "text".to_string()
                } else {
                    "datetime".to_string()
                }
            }
        };
        let _ = writeln!(keys, "  key.{k:04}: {ty}");
    }
    let mut folders = String::from("folders:\n");
    let top = (s.folders / 20).max(1);
    for f in 0..top {
        let _ = writeln!(
            folders,
            "  - name: area-{f:03}\n    description: area\n    folders:"
        );
        for c in 0..19 {
            let _ = writeln!(folders, "      - {{ name: sub-{c:02}, description: sub }}");
        }
    }
    let mut access = String::from("projects:\n");
    for p in 0..s.projects {
        let hash = if live {
            format!("\n    hash: p-{p:05}")
        } else {
            String::new()
        };
        let role = if drift(p) { "reviewer" } else { "annotator" };
        let _ = writeln!(
            access,
            "  - name: Project {p:05}{hash}\n    tags: [tag-{:04}, tag-{:04}]\n    access:\n      - {{ user: {}, role: admin }}\n      - {{ group: group-{:04}, role: {role} }}\n      - {{ group: group-{:04}, role: viewer }}\n      - {{ user: {}, role: team_manager }}",
            p % s.tags,
            (p * 7 + 1) % s.tags,
            user(0),
            p % s.groups,
            (p * 3 + 1) % s.groups,
            user((p * 17 + 5) % (s.users - 1) + 1),
        );
    }
    vec![
        ("people.yaml".into(), people),
        ("groups.yaml".into(), groups),
        ("tags.yaml".into(), tags),
        ("metadata.yaml".into(), keys),
        ("folders.yaml".into(), folders),
        ("access.yaml".into(), access),
    ]
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

/// Wall time, peak RSS (KiB, when GNU time is installed) and exit code of one
/// `orgform` run. The run is started by /usr/bin/time: a child forked straight from
/// this (large) benchmark process would count the benchmark's pages as its own.
fn child(dir: &Path, args: &[&str]) -> (Duration, Option<u64>, i32) {
    let gnu_time = Path::new("/usr/bin/time");
    let rss_file = dir.join("rss.txt");
    let mut cmd = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(env!("CARGO_BIN_EXE_orgform"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_orgform"))
    };
    let start = Instant::now();
    let status = cmd
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run orgform");
    let wall = start.elapsed();
    let rss = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()));
    (wall, rss, status.code().unwrap_or(-1))
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // nothing to list or test-run: this is a standalone benchmark
    }
    let s = sizes();
    let dir = tempfile::tempdir().expect("temp dir");
    // ORGFORM_BENCH_KEEP=1 keeps the generated repository for profiling.
    let root = if std::env::var_os("ORGFORM_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        println!("repository kept at {}", kept.display());
        Box::leak(kept.into_boxed_path())
    } else {
        dir.path()
    };
    std::fs::create_dir_all(root.join("org")).expect("org dir");
    std::fs::write(
        root.join("orgform.yaml"),
        "manifests: org/\npolicy:\n  max_deletions: { default: 100000 }\n",
    )
    .expect("config");
    let mut manifest_bytes = 0;
    for (name, text) in org_yaml(&s, false) {
        manifest_bytes += text.len();
        std::fs::write(root.join("org").join(name), text).expect("write manifest");
    }
    let state: String = org_yaml(&s, true).into_iter().map(|(_, t)| t).collect();
    std::fs::write(root.join("state.yaml"), state).expect("state");
    let (out, init) = timed(|| {
        Command::new(env!("CARGO_BIN_EXE_orgform"))
            .arg("-C")
            .arg(root)
            .args(["sandbox", "init", "--from", "state.yaml"])
            .output()
            .expect("run orgform")
    });
    assert!(
        out.status.success(),
        "sandbox init from the XL state: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    println!(
        "XL org: {} users, {} groups × {} members, {} tags, {} metadata keys, {} folders, {} projects",
        s.users, s.groups, s.members, s.tags, s.keys, s.folders, s.projects
    );
    println!(
        "manifests: {:.1} MiB in 6 files; sandbox created in {:.2}s",
        manifest_bytes as f64 / 1048576.0,
        init.as_secs_f64()
    );

    let (repo, parse) = timed(|| manifest::load_repo(root).expect("load"));
    let (diags, check) = timed(|| {
        validate::validate(
            &repo.manifests,
            &repo.config,
            Mode::Manifests,
            &repo.salvaged,
        )
    });
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .take(5)
        .map(|d| d.full_message(&repo.sources))
        .collect();
    assert!(errors.is_empty(), "the XL manifests are valid: {errors:?}");
    let (live, read) = timed(|| {
        Store::open(&root.join(".orgform/sandbox.db"))
            .expect("sandbox")
            .read()
            .expect("read")
    });
    let (plan, compute) = timed(|| {
        let desired = Desired::from_manifests(&repo.manifests);
        plan::plan(
            &desired,
            &live,
            &repo.config.policy,
            Capabilities::ALL,
            Source {
                manifests: "org/".into(),
                git_commit: None,
                dirty: false,
            },
            &repo.sources,
        )
    });
    println!("\nin process:");
    println!(
        "  parse YAML (load manifests)   {:>8.3}s",
        parse.as_secs_f64()
    );
    println!(
        "  validate                      {:>8.3}s",
        check.as_secs_f64()
    );
    println!(
        "  read live org (SQLite)        {:>8.3}s",
        read.as_secs_f64()
    );
    println!(
        "  plan (desired model + diff)   {:>8.3}s   = {:.2}× parsing (target ≤ 2×)",
        compute.as_secs_f64(),
        compute.as_secs_f64() / parse.as_secs_f64()
    );
    println!(
        "  plan: {} changes, {} blocked",
        plan.changes.len(),
        plan.blocked.len()
    );

    let (validate_wall, validate_rss, validate_code) = child(root, &["validate"]);
    let (plan_wall, plan_rss, plan_code) = child(root, &["plan", "--format", "json"]);
    println!("\nwhole commands (release binary when run by `cargo bench`):");
    println!(
        "  orgform validate              {:>8.3}s  exit {validate_code}",
        validate_wall.as_secs_f64()
    );
    println!(
        "  orgform plan --format json    {:>8.3}s  exit {plan_code}",
        plan_wall.as_secs_f64()
    );
    for (what, rss) in [("validate", validate_rss), ("plan", plan_rss)] {
        let Some(rss) = rss else {
            println!("  peak memory of {what}: unavailable (install GNU time)");
            continue;
        };
        let peak = rss as f64 * 1024.0;
        println!(
            "  peak memory of {what:<9} {:>8.1} MiB = {:.1}× the manifests (target ≤ 10×)",
            peak / 1048576.0,
            peak / manifest_bytes as f64
        );
    }
}
