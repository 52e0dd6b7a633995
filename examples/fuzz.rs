//! The long fuzz run: generated orgs, mutated, through load → validate → plan → apply
//! (see tests/fuzz/harness.rs for what is checked).
//!
//! ```sh
//! ORGFORM_FUZZ_SECONDS=600 cargo run --release --example fuzz
//! ```
//!
//! `ORGFORM_FUZZ_SEED` picks another sequence of inputs (default: the clock). A failure
//! is shrunk to a small input, printed, and written as an org repository to
//! `ORGFORM_FUZZ_OUT` (default `target/fuzz-failure`): `orgform -C DIR plan` replays it.

#[path = "../tests/fuzz/harness.rs"]
mod harness;

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let seconds: u64 = std::env::var("ORGFORM_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("ORGFORM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
    println!("fuzzing for {seconds}s from seed {seed}");
    match harness::run(Duration::from_secs(seconds), 1, seed) {
        Ok(tally) => {
            println!("nothing found: {tally}");
            ExitCode::SUCCESS
        }
        Err(found) => {
            let harness::Found {
                reason,
                input,
                tally,
            } = *found;
            let out =
                std::env::var("ORGFORM_FUZZ_OUT").unwrap_or_else(|_| "target/fuzz-failure".into());
            println!(
                "FOUND (seed {seed}) after {tally}: {reason}\n{}",
                input.show()
            );
            match input.write(std::path::Path::new(&out)) {
                Ok(()) => println!("the input is in {out}"),
                Err(e) => println!("could not write the input to {out}: {e}"),
            }
            ExitCode::FAILURE
        }
    }
}
