//! Opening the configured provider for a command: the library does it
//! ([`crate::provider::open`]); its messages go to stderr.

use std::path::Path;

use crate::config::Config;
use crate::provider::Provider;
use crate::provider::encord;
use crate::sandbox::store::Access;

/// Opens the configured org (see [`crate::provider::open::open`]).
pub fn open(
    root: &Path,
    config: &Config,
    access: Access,
    globals: &super::Globals,
) -> anyhow::Result<Box<dyn Provider>> {
    let quiet = globals.quiet;
    crate::provider::open::open(
        root,
        config,
        access,
        globals.color,
        &globals.connection,
        &mut |m| {
            if !quiet {
                eprintln!("{m}")
            }
        },
    )
}

/// How a network provider connects: `--concurrency` and `--stats` of plan, apply and
/// drift.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// At most N API calls in flight at once (the `encord` provider).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Print on stderr the API calls made: per endpoint, retries, 429s and bytes (the
    /// `encord` provider; the sandbox makes none).
    #[arg(long)]
    pub stats: bool,
}

impl Connection {
    pub fn settings(&self) -> encord::Settings {
        encord::Settings {
            concurrency: usize::from(self.concurrency),
            stats: self.stats,
            ..Default::default()
        }
    }
}

/// Creates (or replaces) a sandbox org (see [`crate::provider::open::create_sandbox`]).
pub fn create_sandbox(path: &Path, state: Option<&Path>, color: bool) -> anyhow::Result<()> {
    crate::provider::open::create_sandbox(path, state, color, &mut |m| eprintln!("{m}"))
}
