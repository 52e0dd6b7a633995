//! `orgform export`: write manifests from the live org (onboarding an existing org).

use std::path::PathBuf;

use anyhow::{Context, bail};

use super::{Exit, Globals, provider};
use crate::config::{CONFIG_FILE, Config};
use crate::export;
use crate::manifest;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the manifests into (default: the `manifests` directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite manifest files that already exist there.
    #[arg(long)]
    pub force: bool,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let root = &globals.dir;
    if !root.join(CONFIG_FILE).is_file() {
        bail!(
            "no {CONFIG_FILE} in {}: create one naming the provider to export from (see README)",
            root.display()
        );
    }
    let repo = manifest::load_config_only(root)?;
    if let Some(d) = repo.diagnostics.iter().find(|d| d.is_error()) {
        eprintln!(
            "{}",
            crate::diagnostic::render_text(d, &repo.sources, globals.color)
        );
        bail!("{CONFIG_FILE} is invalid: nothing was exported");
    }
    let config: Config = repo.config;
    let mut provider = provider::open(root, &config, globals.color)?;
    let org = provider.read().context("reading the live org")?;
    let dir = root.join(args.out.unwrap_or_else(|| PathBuf::from(&config.manifests)));
    let header = format!(
        "Exported from {} by orgform export on {}. Edit freely: this is now the source of truth.",
        provider.describe(),
        crate::apply::journal::now()
    );
    let files = export::render(&org, &config, &header);
    let clashes: Vec<String> = files
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !clashes.is_empty() && !args.force {
        bail!(
            "refusing to overwrite existing manifests ({}): pass --force, or --out another directory",
            clashes.join(", ")
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    eprintln!(
        "Exported {} users, {} groups, {} project tags, {} metadata keys, {} folders, {} projects, {} datasets, {} ontologies.",
        org.users.len(),
        org.groups.len(),
        org.project_tags.len(),
        org.metadata_schema.len(),
        org.folders.len(),
        org.projects.len(),
        org.datasets.len(),
        org.ontologies.len()
    );
    Ok(Exit::Ok)
}
