//! `orgform sandbox`: the embedded sandbox org.

use std::path::PathBuf;

use anyhow::bail;

use super::{Exit, Globals, provider};
use crate::manifest;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create the sandbox org at the configured path (provider.path in orgform.yaml).
    ///
    /// Without --from the org starts with one admin, admin@example.com. A state file
    /// uses the manifest format; its projects/datasets/ontologies are created, and
    /// users may carry `status: invited|declined|joined`.
    Init {
        /// State file describing the org to create.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Replace an existing sandbox org.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    match args.command {
        Command::Init { from, force } => {
            // Only orgform.yaml is needed: the manifests folder may not exist yet.
            let repo = manifest::load_config_only(&globals.dir)?;
            if let Some(d) = repo.diagnostics.iter().find(|d| d.is_error()) {
                eprintln!(
                    "{}",
                    crate::diagnostic::render_text(d, &repo.sources, globals.color)
                );
                bail!(
                    "{} is invalid: no sandbox was created",
                    crate::config::CONFIG_FILE
                );
            }
            let path = globals.dir.join(&repo.config.provider.path);
            // With --force the new org is built aside and renamed over the old one, so a
            // bad state file leaves the existing sandbox as it was.
            if path.exists() && !force {
                bail!(
                    "a sandbox org already exists at {}: pass --force to replace it",
                    repo.config.provider.path
                );
            }
            let state = from.map(|f| {
                if f.is_absolute() {
                    f
                } else {
                    globals.dir.join(f)
                }
            });
            provider::create_sandbox(&path, state.as_deref(), globals.color)?;
            if !globals.quiet {
                eprintln!("Created the sandbox org {}.", repo.config.provider.path);
            }
            Ok(Exit::Ok)
        }
    }
}
