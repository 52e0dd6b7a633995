//! Opening the configured provider for a command: the library does it
//! ([`crate::provider::open`]); its messages go to stderr.

use std::path::Path;

use crate::config::Config;
use crate::provider::Provider;
pub use crate::provider::open::SANDBOX_STATE;
use crate::sandbox::store::Access;

/// Opens the configured org (see [`crate::provider::open::open`]).
pub fn open(
    root: &Path,
    config: &Config,
    access: Access,
    globals: &super::Globals,
) -> anyhow::Result<Box<dyn Provider>> {
    let quiet = globals.quiet;
    crate::provider::open::open(root, config, access, globals.color, &mut |m| {
        if !quiet {
            eprintln!("{m}")
        }
    })
}

/// Creates (or replaces) a sandbox org (see [`crate::provider::open::create_sandbox`]).
pub fn create_sandbox(path: &Path, state: Option<&Path>, color: bool) -> anyhow::Result<()> {
    crate::provider::open::create_sandbox(path, state, color, &mut |m| eprintln!("{m}"))
}
