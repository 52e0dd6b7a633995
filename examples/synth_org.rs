//! Writes a synthetic org repository and its live org:
//!
//! ```sh
//! cargo run --release --example synth_org -- --scale s --changes 10 --seed 1 --out /tmp/org
//! orgform -C /tmp/org plan    # creates the sandbox org from /tmp/org/sandbox.yaml first
//! ```
//!
//! Sizes are SPEC §6's (`xl`: 20,000 users, ...; `s`, `m`, `l`: 1/100, 1/10, 1/2 of it).
//! The live org differs from the manifests in about `--changes` percent of the objects
//! of every kind; the seed chooses which.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use orgform::synth::{self, Options, Sizes};

#[derive(Debug, Parser)]
struct Args {
    /// s, m, l or xl (SPEC §6).
    #[arg(long, default_value = "s", value_parser = ["s", "m", "l", "xl"])]
    scale: String,
    /// Percentage of the objects of each kind that differ between the live org and the
    /// manifests (at least one of each kind when above 0).
    #[arg(long, default_value_t = 1.0)]
    changes: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The folder to write orgform.yaml, org/ and sandbox.yaml into.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(0.0..=100.0).contains(&args.changes) {
        eprintln!(
            "error: --changes {} is not a percentage: give a number from 0 to 100",
            args.changes
        );
        return ExitCode::FAILURE;
    }
    let Some(sizes) = Sizes::named(&args.scale) else {
        eprintln!("error: unknown --scale {}: use s, m, l or xl", args.scale);
        return ExitCode::FAILURE;
    };
    if args.out.join("orgform.yaml").exists() {
        eprintln!(
            "error: {} already holds an orgform.yaml: choose an empty folder",
            args.out.display()
        );
        return ExitCode::FAILURE;
    }
    let synth = synth::generate(&Options {
        sizes,
        changes_pct: args.changes,
        seed: args.seed,
    });
    let bytes = match synth.write(&args.out) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot write into {}: {e}", args.out.display());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} org: {} users, {} groups × {} members, {} tags, {} metadata keys, {} folders, {} projects ({:.1} MiB of manifests) in {}",
        args.scale,
        sizes.users,
        sizes.groups,
        sizes.members,
        sizes.tags,
        sizes.metadata_keys,
        (sizes.folders / 20).max(1) * 20,
        sizes.projects,
        bytes as f64 / 1048576.0,
        args.out.display()
    );
    println!(
        "the live org (sandbox.yaml) differs by {} changes:",
        synth.expected_changes()
    );
    for e in &synth.expected {
        println!(
            "  {:>6} {:<24} {:<20} {:<8} (of {})",
            e.count,
            e.kind.to_string(),
            e.what,
            format!("{:?}", e.action).to_lowercase(),
            e.of
        );
    }
    ExitCode::SUCCESS
}
