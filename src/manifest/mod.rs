//! Manifests: a directory of `*.yaml` files (from the working tree or a git ref) →
//! one merged [`ManifestFile`] whose every node knows its file:line:column.
//!
//! Loading never stops at the first problem: a broken entry is reported and skipped,
//! and the rest of the file is still read, so `validate` shows everything at once.

pub mod git;
mod load;
mod types;

pub use load::{
    LoadError, Repo, Salvaged, load_config_only, load_manifest_text, load_repo, load_repo_files,
    load_repo_named,
};
pub use types::*;
