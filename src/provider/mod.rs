//! Providers hold the live org: read it whole, perform one change at a time.
//! They never decide policy; the planner never calls them.

pub mod sandbox;

use crate::model::Org;
use crate::plan::{Capabilities, Change};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The platform refused the change (a platform rule).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
    /// The change cannot be performed through this provider (manual items, bad plan data).
    #[error("{0}")]
    Unsupported(String),
}

pub trait Provider {
    /// What the user is told they are planning against, e.g. `sandbox .orgform/sandbox.db`.
    fn describe(&self) -> String;
    /// Where applies against this org keep their lock, journals and plan copies: one
    /// place per org, so two checkouts applying to the same org see each other.
    fn state_dir(&self) -> std::path::PathBuf;
    fn capabilities(&self) -> Capabilities;
    /// The whole live org as one snapshot.
    fn read(&mut self) -> Result<Org, ProviderError>;
    /// Performs one planned change.
    fn apply(&mut self, change: &Change) -> Result<(), ProviderError>;
}
