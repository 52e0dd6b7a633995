//! `orgform sandbox`: the embedded sandbox org.

use std::path::PathBuf;

use anyhow::bail;

use super::{Exit, Globals, provider};
use crate::manifest;

mod key;
mod serve;

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
    /// Serve the sandbox org over Encord's public HTTP API (for Encord's SDK and the
    /// `encord` provider), on loopback only.
    ///
    /// The first line on stdout is `listening on http://ADDR:PORT`; one line per request
    /// goes to stderr. Stops cleanly on SIGINT or SIGTERM. Requests must be signed with a
    /// key registered by `orgform sandbox key add`, and act as that key's user.
    Serve(serve::Args),
    /// Manage the API keys of the sandbox org's users.
    Key(key::Args),
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
        Command::Serve(args) => serve::run(globals, args),
        Command::Key(args) => key::run(globals, args),
    }
}

/// The configured sandbox store, opened for writing; created from `sandbox.yaml` when
/// there is no store yet (as `plan` does).
fn open_store(globals: &Globals) -> anyhow::Result<(crate::sandbox::store::Store, String)> {
    let repo = manifest::load_repo(&globals.dir)?;
    if repo.config.provider.kind != crate::config::ProviderKind::Sandbox {
        bail!(
            "orgform.yaml's provider is `encord`, not `sandbox`: `orgform sandbox` works on the sandbox org only"
        );
    }
    let quiet = globals.quiet;
    let path =
        crate::provider::open::sandbox_path(&globals.dir, &repo.config, globals.color, &mut |m| {
            if !quiet {
                eprintln!("{m}")
            }
        })?;
    Ok((
        crate::sandbox::store::Store::open(&path)?,
        repo.config.provider.path.clone(),
    ))
}
