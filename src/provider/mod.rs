//! Providers hold the live org: read it whole, perform typed operations ([`Op`]).
//! They never decide policy; the planner never calls them. Adding a provider means
//! implementing [`Provider`]: its errors say their class ([`ErrorClass`]), and apply
//! decides what to do by the class, never by the message.

pub mod encord;
pub mod open;
pub mod sandbox;

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use crate::diagnostic::Rule;
use crate::model::{Desired, Org, ResourceKind};
use crate::plan::{Capabilities, Op};

/// What kind of failure a provider error is: it decides what apply does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// The platform refused the change by one of its rules: dependants are skipped.
    Refused(Rule),
    /// The object (or one it needs) does not exist.
    NotFound,
    /// Something with that name or identity exists already. A create that finds its
    /// object with the planned content counts as done.
    AlreadyExists,
    /// Worth trying again (rate limit, unavailable, timeout): retried with backoff,
    /// after `retry_after` when the platform said.
    Transient {
        retry_after: Option<Duration>,
    },
    /// The credentials are not accepted, or lack the permission.
    Denied,
    /// Not something this provider can do (a manual step).
    Unsupported,
    Other,
}

/// A failed read or write, with its class; the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub class: ErrorClass,
    pub message: String,
}

impl ProviderError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            message: message.into(),
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self.class, ErrorClass::Transient { .. })
    }
}

/// Which org a provider reaches. Apply keeps its local state (lock, journals, plan
/// copies) per identity, so every checkout applying to one org finds the same state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrgIdentity {
    /// A sandbox org: its database file, canonical (symlinks and `..` resolved).
    SandboxFile(PathBuf),
    /// An org on a platform reached over the network, e.g. `encord` and
    /// `app.encord.com/<organisation id>`.
    Remote { provider: String, id: String },
}

/// What a provider tells apply while it performs a batch, about the operation at a
/// position in the batch: it is about to be written (possibly), or how it ended.
#[derive(Debug)]
pub enum BatchEvent {
    Writing(usize),
    Finished(usize, Result<(), ProviderError>),
}

/// Receives a batch's events as they happen, so each is journaled before the next
/// write; `Break` means stop (the journal could not be written).
pub type BatchReport<'a> = dyn FnMut(BatchEvent) -> ControlFlow<()> + 'a;

/// What the manifests need read beyond the org-wide objects: the access and tag
/// assignments of the resources they declare (a network provider reads no more;
/// SPEC §7.2 says when the whole org is needed after all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadScope {
    pub resources: Vec<ScopedResource>,
}

/// A declared resource, as the manifests name it, and what of it they manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedResource {
    pub kind: ResourceKind,
    pub name: Option<String>,
    pub hash: Option<String>,
    pub access: bool,
    pub tags: bool,
}

impl ReadScope {
    pub fn of(desired: &Desired) -> ReadScope {
        ReadScope {
            resources: desired
                .resources
                .iter()
                .map(|r| ScopedResource {
                    kind: r.kind,
                    name: r.by.name.clone(),
                    hash: r.by.hash.clone(),
                    access: r.manages_access(),
                    tags: r.tags.is_some(),
                })
                .collect(),
        }
    }
}

pub trait Provider {
    /// What the user is told they are planning against, e.g. `sandbox .orgform/sandbox.db`.
    fn describe(&self) -> String;
    /// Which org this is (apply keys its lock and journals by it).
    fn identity(&self) -> OrgIdentity;
    fn capabilities(&self) -> Capabilities;
    /// The whole live org as one snapshot.
    fn read(&mut self) -> Result<Org, ProviderError>;
    /// Limits what [`read`](Provider::read) fetches of resources to `scope`; returns
    /// whether reads are partial from now on. Providers that read everything cheaply
    /// ignore it (the default).
    fn set_read_scope(&mut self, _scope: ReadScope) -> bool {
        false
    }
    /// Completes a snapshot read within the scope with the access and tag assignments of
    /// every resource (SPEC §7.2), and reads the whole org from then on.
    fn read_rest(&mut self, partial: Org) -> Result<Org, ProviderError> {
        Ok(partial)
    }
    /// Performs one operation.
    fn apply(&mut self, op: &Op) -> Result<(), ProviderError>;
    /// Performs operations that share one [`Op::batch_key`] (one list-taking API call
    /// can do them), reporting `Writing` for each before the call and `Finished` for
    /// each after it. The default performs them one at a time.
    fn apply_batch(&mut self, ops: &[Op], report: &mut BatchReport<'_>) {
        for (i, op) in ops.iter().enumerate() {
            if report(BatchEvent::Writing(i)).is_break() {
                return;
            }
            let result = self.apply(op);
            if report(BatchEvent::Finished(i, result)).is_break() {
                return;
            }
        }
    }
}
