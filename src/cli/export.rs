//! `orgform export`: write manifests from the live org (onboarding an existing org).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Exit, Globals, provider};
use crate::config::{CONFIG_FILE, Config};
use crate::export;
use crate::manifest;
use crate::sandbox::store::Access;
use crate::schema;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write the manifests into (default: the `manifests` directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite the manifest files export writes, if they exist there. Other `*.yaml`
    /// files in the folder are never overwritten nor left beside the export: refused.
    #[arg(long)]
    pub force: bool,
}

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let root = &globals.dir;
    if !root.join(CONFIG_FILE).is_file() {
        bail!(
            "no {CONFIG_FILE} in {}: create one naming the provider to export from (`orgform init`, or see README)",
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
    let mut provider = provider::open(root, &config, Access::ReadOnly, globals)?;
    let org = provider.read().context("reading the live org")?;
    let dir = root.join(args.out.unwrap_or_else(|| PathBuf::from(&config.manifests)));
    write(
        globals,
        root,
        &dir,
        &org,
        &config,
        &provider.describe(),
        args.force,
    )?;
    Ok(Exit::Ok)
}

/// Writes the export of `org` into `dir` (created if needed), with the manifest schema
/// its `$schema` lines point at; refuses to overwrite (unless `force`) or to leave
/// other manifests beside it. Reports what it wrote and left out unless quiet.
pub fn write(
    globals: &Globals,
    root: &Path,
    dir: &Path,
    org: &crate::model::Org,
    config: &Config,
    source: &str,
    force: bool,
) -> anyhow::Result<()> {
    let schema = root
        .join(schema::REPO_SCHEMAS_DIR)
        .join("manifest.schema.json");
    let header = [
        schema::editor_line(&absolute(dir), &absolute(&schema)),
        format!(
            "Exported from {source} by `orgform export`. Edit freely: this is now the source of truth."
        ),
    ];
    let exported = export::export(org, config, &header);
    let files = &exported.files;
    let clashes: Vec<String> = files
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    // Any other manifest there would be read with the exported ones: the same objects
    // declared twice, or stale ones declared again. Even --force does not remove it.
    let others = other_manifests(dir, files)?;
    if !others.is_empty() {
        bail!(
            "refusing to export into {}: it already holds other manifests ({}) that orgform would read together with the exported files, declaring objects twice. Move them out of the folder, or export into an empty folder with `--out DIR` (`--force` only overwrites the files export writes). Nothing was written",
            dir.display(),
            others.join(", ")
        );
    }
    if !clashes.is_empty() && !force {
        bail!(
            "refusing to overwrite existing manifests ({}): pass --force, or --out another directory",
            clashes.join(", ")
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        if !globals.quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    // The `$schema` lines point here; an existing schema (perhaps newer) is kept.
    if !schema.exists() {
        write_schema(&schema, &schema::manifest())?;
        if !globals.quiet {
            eprintln!("wrote {} (editor completion)", schema.display());
        }
    }
    if globals.quiet {
        return Ok(());
    }
    let domains = if exported.email_domains.is_empty() {
        String::new()
    } else {
        format!(
            "; organization.email_domains: {}",
            exported.email_domains.join(", ")
        )
    };
    eprintln!("Exported {}{domains}.", exported.counts);
    for why in &exported.left_out {
        eprintln!("note: left out {why}");
    }
    Ok(())
}

/// Writes one generated JSON Schema, creating its folder.
pub fn write_schema(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, schema::to_file_text(value))
        .with_context(|| format!("writing {}", path.display()))
}

/// `path` made absolute against the current directory (it may not exist yet).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The `*.yaml` files in `dir` (as the manifest loader reads them) that this export
/// does not write, sorted.
fn other_manifests(dir: &Path, files: &[(String, String)]) -> anyhow::Result<Vec<String>> {
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut others = Vec::new();
    for entry in listing {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml")
            && entry.path().is_file()
            && !files.iter().any(|(written, _)| *written == name)
        {
            others.push(name);
        }
    }
    others.sort();
    Ok(others)
}
