//! The "XL" scale benchmark of SPEC §6: 20,000 users, 2,000 groups of ~50 members,
//! 1,000 tags, 500 metadata keys, 2,000 folders, 5,000 projects with access and tags.
//!
//! `cargo bench --bench xl` (set ORGFORM_BENCH_SCALE=0.1 for a quick run). It writes
//! real manifest files and a real sandbox org (`orgform::synth`: the live org differs from
//! the manifests in 1% of the objects of every kind), then
//! measures, in process: parsing the YAML, validating, reading the live org, planning;
//! and the whole `orgform validate` and `orgform plan` commands as child processes with
//! their wall time and peak memory. It reports figures against the targets: planning
//! compute ≤ 2× parsing, memory ≤ 10× the manifests' size.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use orgform::manifest;
use orgform::model::Desired;
use orgform::plan::{self, Capabilities, Source};
use orgform::sandbox::store::Store;
use orgform::synth::{self, Options, Sizes};
use orgform::validate::{self, Mode};

/// XL, or the fraction of it `ORGFORM_BENCH_SCALE` gives.
fn sizes() -> Sizes {
    let scale: f64 = std::env::var("ORGFORM_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Sizes::fraction(scale)
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
    // The live org differs from the manifests by 1% of every kind (the seed picks which).
    let synth = synth::generate(&Options {
        sizes: s,
        changes_pct: 1.0,
        seed: 1,
    });
    let manifest_bytes = synth.write(root).expect("write the org repository");
    let (out, init) = timed(|| {
        Command::new(env!("CARGO_BIN_EXE_orgform"))
            .arg("-C")
            .arg(root)
            .args(["sandbox", "init", "--from", "sandbox.yaml"])
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
        s.users, s.groups, s.members, s.tags, s.metadata_keys, s.folders, s.projects
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
        "  plan: {} changes ({} expected), {} blocked",
        plan.changes.len(),
        synth.expected_changes(),
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
