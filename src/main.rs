//! The `orgform` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use orgform::cli::{Cli, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    match orgform::cli::run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}

/// Help and version exit 0; every usage error exits 1, never clap's 2, which means
/// "changes present" to a drift job (SPEC §7.11).
fn usage(e: &clap::Error) -> ExitCode {
    // clap prints help and version to stdout and errors to stderr.
    let _ = e.print();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::from(Exit::Ok as u8),
        _ => ExitCode::from(Exit::Error as u8),
    }
}
