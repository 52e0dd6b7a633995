//! Opening the configured provider, creating the sandbox org on first use. What a
//! person should read along the way (a sandbox created, a state file's problems) is
//! handed to `say`, one message at a time; the command decides where it goes.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use super::Provider;
use super::sandbox::{self as sandbox_provider, SandboxProvider};
use crate::apply::lock::{self, ApplyLock, Holder, LockError};
use crate::apply::{journal, state};
use crate::config::{CONFIG_FILE, Config, ProviderKind};
use crate::diagnostic::{self, Diagnostic, Sources};
use crate::manifest::{self, ManifestFile, Salvaged};
use crate::sandbox::{
    self,
    store::{Access, Store},
};
use crate::validate::{self, Mode};

/// The state file a sandbox is created from when it does not exist yet.
pub const SANDBOX_STATE: &str = "sandbox.yaml";

/// Opens the configured org; an existing sandbox is opened `access` (plan and export
/// read only) and is never created or altered here, except from `sandbox.yaml` when
/// there is no file at all.
pub fn open(
    root: &Path,
    config: &Config,
    access: Access,
    color: bool,
    connection: &crate::provider::encord::Settings,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<Box<dyn Provider>> {
    match config.provider.kind {
        ProviderKind::Sandbox => {
            let path = sandbox_path(root, config, color, say)?;
            Ok(Box::new(SandboxProvider::open(
                &path,
                &config.provider.path,
                access,
            )?))
        }
        ProviderKind::Encord => Ok(Box::new(crate::provider::encord::open(
            &config.provider,
            connection,
        )?)),
    }
}

/// The configured sandbox file, created from `sandbox.yaml` beside `orgform.yaml` when
/// there is none yet (the only way besides `sandbox init` that a store is created).
pub fn sandbox_path(
    root: &Path,
    config: &Config,
    color: bool,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<PathBuf> {
    let path = root.join(&config.provider.path);
    if !path.exists() {
        let state = root.join(SANDBOX_STATE);
        if !state.is_file() {
            bail!(
                "no sandbox org at {}: run `orgform sandbox init` (or put a {SANDBOX_STATE} beside {CONFIG_FILE})",
                config.provider.path
            );
        }
        create_sandbox(&path, Some(&state), color, say)?;
        say(&format!(
            "Created the sandbox org {} from {SANDBOX_STATE}.",
            config.provider.path
        ));
    }
    Ok(path)
}

/// Creates a sandbox store at `path` from a state file (or with just the default admin),
/// replacing the orgform sandbox there, if any. Built in a temporary file and moved into
/// place, so a failure leaves the old org as it was. Holds the org's apply lock
/// throughout (refused while an apply runs), and clears the journals of the org it
/// replaces: they describe another org and must neither block nor replay into this one.
pub fn create_sandbox(
    path: &Path,
    state: Option<&Path>,
    color: bool,
    say: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let parsed = match state {
        Some(file) => Some(read_state(file, color, say)?),
        None => None,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Another application's database is never replaced, nor anything written beside it.
    if path.exists() {
        let layout = Store::layout_of(path)?;
        if !layout.replaceable() {
            bail!(
                "{}. `sandbox init --force` replaces only orgform sandboxes",
                layout.refusal(path)
            );
        }
    }
    let state_dir = state::dir(&sandbox_provider::identity(path));
    let _lock = take_lock(path, &state_dir)?;
    let tmp = PathBuf::from(format!("{}.creating", path.display()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| -> anyhow::Result<()> {
        match &parsed {
            Some(state) => {
                let mut store = Store::create(&tmp)?;
                sandbox::load_state(&mut store, state)
                    .context("the state file describes an org the platform would reject")?;
            }
            None => {
                sandbox::init_default(&tmp)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let cleared = journal::clear(&state_dir).with_context(|| {
        format!(
            "clearing the apply journals of the replaced org in {}",
            state_dir.display()
        )
    })?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("moving the sandbox into {}", path.display()))?;
    if cleared > 0 {
        say(&format!(
            "Cleared {cleared} apply journal(s) of the replaced org."
        ));
    }
    Ok(())
}

/// The org's apply lock, or why the org cannot be replaced now.
fn take_lock(path: &Path, state_dir: &Path) -> anyhow::Result<ApplyLock> {
    ApplyLock::acquire(&lock::path(state_dir), "sandbox init").map_err(|e| match e {
        LockError::Busy { path: lock, holder } => anyhow!(
            "refusing to replace the sandbox org {}: {} is running against it{} (lock {}). Wait for it to finish, then run this again. Nothing was changed.",
            path.display(),
            Holder::command(holder.as_ref()),
            Holder::process(holder.as_ref()),
            lock.display()
        ),
        other => other.into(),
    })
}

/// Loads and validates a sandbox state file (manifest format, plus status and resources).
fn read_state(file: &Path, color: bool, say: &mut dyn FnMut(&str)) -> anyhow::Result<ManifestFile> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut sources = Sources::default();
    let mut state = ManifestFile::default();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut salvaged = Salvaged::default();
    let shown = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    manifest::load_manifest_text(
        &shown,
        bytes,
        &mut sources,
        &mut state,
        &mut diags,
        &mut salvaged,
    );
    diags.extend(validate::validate(
        &state,
        &Config::default(),
        Mode::SandboxState,
        &salvaged,
    ));
    diagnostic::sort(&mut diags);
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        for d in &errors {
            say(&diagnostic::render_text(d, &sources, color));
        }
        bail!(
            "the sandbox state file {} is invalid ({} error(s))",
            file.display(),
            errors.len()
        );
    }
    Ok(state)
}
