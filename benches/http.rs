//! The HTTP benchmark (issue 13): orgform's `encord` provider planning and applying a
//! synthetic org (`orgform::synth`) served by `orgform sandbox serve` on loopback, with
//! 20 ms and 0 ms added to every answer, measured against the limit latency and
//! concurrency allow and against the script a user of Encord's SDK would write.
//!
//! ```sh
//! cargo bench --bench http                                   # scales s and xl
//! ORGFORM_HTTP_BENCH_SCALES=s cargo bench --bench http       # s only (seconds)
//! ORGFORM_BENCH_REPORT=BENCHMARKS.md cargo bench --bench http  # also update the file
//! ```
//!
//! Per scale: a no-change plan, a 1% and a 10% change plan (calls per endpoint and in
//! all, writes, wall time, peak memory through GNU time), an apply of about 1,000
//! changes (fewer at scale s: its 10% plan), and the SDK baseline
//! (`tests/sdk/sdk_baseline.py`, encord==0.1.211, sequential) when the virtualenv of the
//! SDK test exists (`target/sdk-venv`, made by `.ci/run`). Two ratios:
//! - distance to the limit: plan wall time ÷ (calls × latency ÷ concurrency), goal ≤ 1.3;
//! - against the SDK script: its wall time ÷ orgform's for the same reads, goal ≥ 8×,
//!   with no more calls.
//!
//! The report goes to stdout; with ORGFORM_BENCH_REPORT it also replaces the part of
//! that file between `<!-- http-bench:start -->` and `<!-- http-bench:end -->`.

#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod support;
#[allow(dead_code, unused_macros, unused_imports)]
#[path = "../tests/util.rs"]
mod util;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use orgform::synth::{self, Options, Sizes, Synth};
use support::serve::{Served, Server, rate_limited, stats};

/// Calls in flight: orgform's default `--concurrency`.
const CONCURRENCY: u32 = 8;
const LATENCIES: [u64; 2] = [20, 0];
const START: &str = "<!-- http-bench:start -->";
const END: &str = "<!-- http-bench:end -->";

/// One measured orgform run.
struct Measured {
    wall: Duration,
    peak_kib: Option<u64>,
    code: i32,
    calls: u64,
    writes: u64,
    per: BTreeMap<String, u64>,
    rate_limited: u64,
    stdout: String,
}

impl Measured {
    /// Wall time ÷ the time `calls` round trips take `CONCURRENCY` at a time.
    fn distance(&self, latency: u64) -> Option<f64> {
        let floor = self.calls as f64 * latency as f64 / 1000.0 / f64::from(CONCURRENCY);
        (latency > 0).then(|| self.wall.as_secs_f64() / floor)
    }
}

/// Runs `orgform ARGS` in the client repository under GNU time (when installed).
fn measure(served: &Served, args: &[&str]) -> Measured {
    let rss_file = served.root.join("rss.txt");
    let rss_text = rss_file.to_string_lossy().into_owned();
    let wrapper: Vec<&str> = if Path::new("/usr/bin/time").exists() {
        vec!["/usr/bin/time", "-f", "%M", "-o", &rss_text]
    } else {
        Vec::new()
    };
    let mut cmd = served.client_command(args, &wrapper);
    let start = Instant::now();
    let out = cmd.output().expect("orgform runs");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let (calls, writes, per) = stats(&stderr);
    assert!(calls > 0, "orgform {args:?} made no calls:\n{stderr}");
    Measured {
        wall,
        peak_kib: std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|s| s.lines().last()?.trim().parse().ok()),
        code: out.status.code().unwrap_or(-1),
        calls,
        writes,
        per,
        rate_limited: rate_limited(&stderr),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

/// The number of changes in a `--format json` plan.
fn changes(stdout: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(stdout)
        .ok()
        .and_then(|v| v["changes"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// What the SDK script measured, when its virtualenv exists.
struct Sdk {
    wall: f64,
    calls: u64,
}

fn sdk_baseline(served: &Served, latency: u64) -> Result<Sdk, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/sdk-venv/bin/python");
    if !python.exists() {
        return Err(format!(
            "not run: no virtualenv at {} (`.ci/run` makes it: python3 -m venv target/sdk-venv && target/sdk-venv/bin/pip install encord==0.1.211 pyyaml==6.0.4)",
            python.display()
        ));
    }
    let out = Command::new(python)
        .arg(root.join("tests/sdk/sdk_baseline.py"))
        .arg(env!("CARGO_BIN_EXE_orgform"))
        .arg(&served.server_dir)
        .args(["--admin", &served.admin, "--latency", &latency.to_string()])
        .arg("--json")
        .output()
        .map_err(|e| format!("the SDK script did not start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the SDK script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("the SDK script's output is not JSON: {e}"))?;
    Ok(Sdk {
        wall: v["wall_seconds"].as_f64().unwrap_or(f64::NAN),
        calls: v["calls"].as_u64().unwrap_or(0),
    })
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn ratio(r: Option<f64>, goal: f64, at_most: bool) -> String {
    match r {
        None => "–".into(),
        Some(r) => {
            let met = if at_most { r <= goal } else { r >= goal };
            format!("{r:.2} {}", if met { "✓" } else { "✗" })
        }
    }
}

/// A synthetic org at `scale`, differing from its manifests by `pct`%.
fn org(scale: &str, pct: f64) -> Synth {
    synth::generate(&Options {
        sizes: Sizes::named(scale).expect("a scale"),
        changes_pct: pct,
        seed: 1,
    })
}

/// Measures one scale; returns its section of the report.
fn bench_scale(scale: &str) -> String {
    let sizes = Sizes::named(scale).expect("a scale");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### Scale {scale}: {} users, {} groups × {} members, {} tags, {} metadata keys, {} folders, {} projects\n",
        sizes.users,
        sizes.groups,
        sizes.members,
        sizes.tags,
        sizes.metadata_keys,
        sizes.folders,
        sizes.projects
    );
    let _ = writeln!(
        out,
        "| run | latency | changes | calls | writes | 429s | wall | peak memory | calls × latency ÷ {CONCURRENCY} | distance to the limit (≤ 1.3) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let mut endpoints: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut row = |out: &mut String, what: &'static str, latency: u64, m: &Measured| {
        let floor = m.calls as f64 * latency as f64 / 1000.0 / f64::from(CONCURRENCY);
        let _ = writeln!(
            out,
            "| {what} | {latency} ms | {} | {} | {} | {} | {} | {} | {} | {} |",
            changes(&m.stdout),
            m.calls,
            m.writes,
            m.rate_limited,
            secs(m.wall),
            mib(m.peak_kib),
            if latency > 0 {
                format!("{floor:.2} s")
            } else {
                "–".into()
            },
            ratio(m.distance(latency), 1.3, true)
        );
        if latency == LATENCIES[0] {
            for (endpoint, n) in &m.per {
                endpoints
                    .entry(endpoint.clone())
                    .or_default()
                    .insert(what, *n);
            }
        }
        eprintln!(
            "  {scale} {what} at {latency} ms: {} calls in {}",
            m.calls,
            secs(m.wall)
        );
    };
    let plan_args = ["plan", "--format", "json", "--stats"];

    // The 1% org: its plan, then (manifests exported from the live org) no changes.
    let tmp = tempfile::tempdir().expect("temp dir");
    let served = Served::new(tmp.path(), &org(scale, 1.0));
    let mut no_change_at_20 = None;
    for latency in LATENCIES {
        let server = Server::start(&served.server_dir, &["--latency", &latency.to_string()]);
        served.configure(&server.url);
        let m = measure(&served, &plan_args);
        assert!(m.code <= 1 && m.writes == 0, "{}", m.stdout);
        row(&mut out, "1% plan", latency, &m);
    }
    served.export_live();
    for latency in LATENCIES {
        let server = Server::start(&served.server_dir, &["--latency", &latency.to_string()]);
        served.configure(&server.url);
        let m = measure(&served, &plan_args);
        assert_eq!(changes(&m.stdout), 0, "exported manifests plan no changes");
        assert_eq!(m.writes, 0);
        row(&mut out, "no-change plan", latency, &m);
        if latency == LATENCIES[0] {
            no_change_at_20 = Some(m);
        }
    }
    let sdk = sdk_baseline(&served, LATENCIES[0]);
    drop(served);
    drop(tmp);

    let tmp = tempfile::tempdir().expect("temp dir");
    let served = Served::new(tmp.path(), &org(scale, 10.0));
    for latency in LATENCIES {
        let server = Server::start(&served.server_dir, &["--latency", &latency.to_string()]);
        served.configure(&server.url);
        let m = measure(&served, &plan_args);
        assert!(m.code <= 1 && m.writes == 0, "{}", m.stdout);
        row(&mut out, "10% plan", latency, &m);
    }
    drop(served);
    drop(tmp);

    // An apply of about 1,000 changes (the org's 10% plan where that is fewer).
    let per_pct = org(scale, 1.0).expected_changes().max(1) as f64;
    let pct = (1000.0 / per_pct).min(10.0);
    let tmp = tempfile::tempdir().expect("temp dir");
    let served = Served::new(tmp.path(), &org(scale, pct));
    let latency = LATENCIES[0];
    let server = Server::start(&served.server_dir, &["--latency", &latency.to_string()]);
    served.configure(&server.url);
    let planned = measure(&served, &["plan", "--out", "plan.json", "--stats"]);
    assert!(planned.code <= 1, "{}", planned.stdout);
    let applied = measure(
        &served,
        &[
            "apply",
            "plan.json",
            "--auto-approve",
            "--allow-destroy",
            "--stats",
        ],
    );
    let changed = served.client(&["plan", "--format", "json"]).stdout.clone();
    let planned_changes = std::fs::read_to_string(served.client_dir.join("plan.json"))
        .map(|t| changes(&t))
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "| apply {planned_changes} changes (saved plan: reads again under the lock, then writes) | {latency} ms | {planned_changes} | {} | {} | {} | {} | {} | – | – |",
        applied.calls,
        applied.writes,
        applied.rate_limited,
        secs(applied.wall),
        mib(applied.peak_kib)
    );
    eprintln!(
        "  {scale} apply of {planned_changes} changes: {} calls ({} writes) in {}, exit {}",
        applied.calls,
        applied.writes,
        secs(applied.wall),
        applied.code
    );
    let left = changes(&changed);
    let _ = writeln!(
        out,
        "\nThe apply exited {}; a plan after it has {left} changes left (those the API cannot make are manual items: SPEC §7.1).",
        applied.code
    );

    let _ = writeln!(
        out,
        "\nCalls per endpoint at {} ms:\n\n| endpoint | no-change plan | 1% plan | 10% plan |\n|---|---|---|---|",
        LATENCIES[0]
    );
    for (endpoint, by) in &endpoints {
        let n = |w: &str| by.get(w).map_or("0".to_string(), u64::to_string);
        let _ = writeln!(
            out,
            "| `{endpoint}` | {} | {} | {} |",
            n("no-change plan"),
            n("1% plan"),
            n("10% plan")
        );
    }

    let no_change = no_change_at_20.expect("measured");
    let _ = writeln!(
        out,
        "\nAgainst the SDK script (`tests/sdk/sdk_baseline.py`: the same reads with encord==0.1.211, one call after another, at {} ms):",
        LATENCIES[0]
    );
    match sdk {
        Ok(sdk) => {
            let speedup = sdk.wall / no_change.wall.as_secs_f64();
            let _ = writeln!(
                out,
                "SDK {:.2} s and {} calls; orgform's no-change plan {} and {} calls: **{speedup:.1}× faster** (goal ≥ 8×: {}), {} calls (goal: no more than the SDK's: {}).",
                sdk.wall,
                sdk.calls,
                secs(no_change.wall),
                no_change.calls,
                if speedup >= 8.0 { "met" } else { "missed" },
                if no_change.calls <= sdk.calls {
                    "fewer or equal"
                } else {
                    "more"
                },
                if no_change.calls <= sdk.calls {
                    "met"
                } else {
                    "missed"
                },
            );
            eprintln!(
                "  {scale} SDK: {:.2} s, {} calls ({speedup:.1}×)",
                sdk.wall, sdk.calls
            );
        }
        Err(why) => {
            let _ = writeln!(out, "{why}.");
            eprintln!("  {scale} SDK baseline {why}");
        }
    }
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    format!("{date}, commit {commit}, {cores} cores ({cpu}), server and client on one machine")
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // a standalone benchmark: nothing to list or test-run
    }
    let scales = std::env::var("ORGFORM_HTTP_BENCH_SCALES").unwrap_or_else(|_| "s,xl".into());
    let mut report = format!(
        "Measured {}: `orgform sandbox serve --latency MS` and orgform (release build, `--concurrency {CONCURRENCY}`, the default) over loopback HTTP.\n",
        machine()
    );
    for scale in scales.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        eprintln!("scale {scale}:");
        report.push_str(&bench_scale(scale));
    }
    println!("{report}");
    if let Ok(file) = std::env::var("ORGFORM_BENCH_REPORT") {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let updated = match (text.find(START), text.find(END)) {
            (Some(a), Some(b)) if a < b => {
                format!("{}{START}\n{report}\n{}", &text[..a], &text[b..])
            }
            _ => format!("{text}\n{START}\n{report}\n{END}\n"),
        };
        std::fs::write(&path, updated).expect("write the report");
        eprintln!("report written to {}", path.display());
    }
}
