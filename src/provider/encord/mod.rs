//! The `encord` provider: the real platform over HTTPS (SPEC §4, encord-api.md).
//!
//! `key.rs` loads the API key, `client.rs` signs, bounds, times out, retries and counts
//! every call, `read.rs` reads the org with the fewest calls, `write.rs` performs
//! operations, and [`CAPABILITIES`] says what the public API cannot do (SPEC §7.1).
//!
//! Assumptions where the SDK says nothing (kept tolerant, recorded here): unknown JSON
//! fields are ignored; organisation tags carry `description` when they have one; the
//! API has no organisation id, so the org's identity is its domain (one lock per
//! domain on a machine: never two applies to one org at once, at worst one waits).

mod client;
pub mod key;
mod limit;
mod progress;
mod read;
mod stats;
mod write;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::Duration;

pub use stats::Counts;

use self::client::Client;
use self::read::{Coverage, Ids};
use self::write::Writer;
use super::{BatchEvent, BatchReport, ErrorClass, OrgIdentity, Provider, ProviderError, ReadScope};
use crate::model::Org;
use crate::plan::{Capabilities, KeyUser, Op};

pub const DEFAULT_DOMAIN: &str = "https://api.encord.com";
pub const DOMAIN_VAR: &str = "ENCORD_DOMAIN";

/// What the public API can do (encord-api.md §6).
pub fn capabilities(key_user: Option<&str>) -> Capabilities {
    Capabilities {
        change_org_role: false,
        group_managers: false,
        rename_tag: false,
        tag_description: false,
        change_access_role: false,
        add_workforce_user: false,
        ontology_user_access: false,
        key_user: match key_user {
            Some(email) => KeyUser::Known(crate::model::email::normalize(email)),
            None => KeyUser::Unknown,
        },
    }
}

/// How the provider connects, from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Print the calls made on stderr when done (`--stats`).
    pub stats: bool,
    /// The longest a call may take.
    pub timeout: Duration,
    /// Show what long reads are doing (a terminal, not `-q`).
    pub progress: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: 8,
            stats: false,
            timeout: Duration::from_secs(60),
            progress: false,
        }
    }
}

/// The provider `orgform.yaml` configures (`provider.domain`, `provider.key_user`).
pub fn open(
    config: &crate::config::ProviderConfig,
    settings: &Settings,
) -> Result<EncordProvider, ProviderError> {
    EncordProvider::open(
        config.domain.as_deref(),
        config.key_user.as_deref(),
        settings,
    )
}

pub struct EncordProvider {
    runtime: tokio::runtime::Runtime,
    client: Client,
    domain: String,
    key_user: Option<String>,
    /// What reads fetch of resources; `None`: every resource.
    scope: Option<ReadScope>,
    ids: Ids,
    coverage: Coverage,
    /// Operations whose last try may have been made: read back before trying again.
    uncertain: BTreeSet<String>,
    show_stats: bool,
}

impl EncordProvider {
    /// Connects to `domain` (ENCORD_DOMAIN wins) with the key the environment names.
    pub fn open(
        domain: Option<&str>,
        key_user: Option<&str>,
        settings: &Settings,
    ) -> Result<EncordProvider, ProviderError> {
        let from_env = std::env::var(DOMAIN_VAR)
            .ok()
            .filter(|d| !d.trim().is_empty());
        let domain = from_env
            .as_deref()
            .or(domain)
            .unwrap_or(DEFAULT_DOMAIN)
            .trim()
            .trim_end_matches('/')
            .to_string();
        let key =
            key::from_env().map_err(|e| ProviderError::new(ErrorClass::Denied, e.to_string()))?;
        let mut client = Client::new(&domain, key, settings.concurrency, settings.timeout)?;
        client.progress = progress::Progress::new(settings.progress);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ProviderError::new(ErrorClass::Other, format!("cannot start: {e}")))?;
        Ok(EncordProvider {
            runtime,
            client,
            domain,
            key_user: key_user.map(str::to_string),
            scope: None,
            ids: Ids::default(),
            coverage: Coverage::default(),
            uncertain: BTreeSet::new(),
            show_stats: settings.stats,
        })
    }

    /// The calls made so far.
    pub fn counts(&self) -> Counts {
        self.client.counts()
    }

    fn write(&mut self, op: &Op, batch: Option<&[Op]>) -> Result<(), ProviderError> {
        let id = format!("{op:?}");
        let maybe_done = self.uncertain.contains(&id);
        let mut writer = Writer {
            client: &self.client,
            ids: &mut self.ids,
        };
        let result = self.runtime.block_on(async {
            match (batch, op.batch_key()) {
                (Some(ops), Some(key)) if ops.len() > 1 => {
                    writer.apply_batch(&key, ops, maybe_done).await
                }
                _ => writer.apply(op, maybe_done).await,
            }
        });
        match result {
            Ok(()) => {
                self.uncertain.remove(&id);
                Ok(())
            }
            Err(failure) => {
                if failure.maybe_done {
                    self.uncertain.insert(id);
                }
                Err(failure.error)
            }
        }
    }
}

impl Drop for EncordProvider {
    fn drop(&mut self) {
        // `--stats`: what this command sent, when it is done with the org.
        if self.show_stats {
            eprint!("{}", self.counts().render(&self.describe()));
        }
    }
}

impl Provider for EncordProvider {
    fn describe(&self) -> String {
        format!("encord {}", self.domain)
    }

    fn identity(&self) -> OrgIdentity {
        OrgIdentity::Remote {
            provider: "encord".to_string(),
            id: self.domain.clone(),
        }
    }

    fn capabilities(&self) -> Capabilities {
        capabilities(self.key_user.as_deref())
    }

    fn read(&mut self) -> Result<Org, ProviderError> {
        self.client.progress.begin(&self.describe());
        let snapshot = self
            .runtime
            .block_on(read::read(&self.client, self.scope.as_ref()));
        self.client.progress.end();
        let snapshot = snapshot?;
        self.ids = snapshot.ids;
        self.coverage = snapshot.coverage;
        Ok(snapshot.org)
    }

    fn set_read_scope(&mut self, scope: ReadScope) -> bool {
        self.scope = Some(scope);
        true
    }

    fn read_rest(&mut self, partial: Org) -> Result<Org, ProviderError> {
        self.client
            .progress
            .begin(&format!("the rest of {}", self.describe()));
        let rest = self
            .runtime
            .block_on(read::read_rest(&self.client, partial, &self.coverage));
        self.client.progress.end();
        let (org, coverage) = rest?;
        self.coverage = coverage;
        self.scope = None;
        Ok(org)
    }

    fn apply(&mut self, op: &Op) -> Result<(), ProviderError> {
        self.write(op, None)
    }

    fn apply_batch(&mut self, ops: &[Op], report: &mut BatchReport<'_>) {
        let Some(first) = ops.first() else {
            return;
        };
        if ops.len() == 1 {
            if report(BatchEvent::Writing(0)).is_break() {
                return;
            }
            let result = self.apply(first);
            let _ = report(BatchEvent::Finished(0, result));
            return;
        }
        for i in 0..ops.len() {
            if report(BatchEvent::Writing(i)).is_break() {
                return;
            }
        }
        let result = self.write(first, Some(ops));
        for i in 0..ops.len() {
            if let ControlFlow::Break(()) = report(BatchEvent::Finished(i, result.clone())) {
                return;
            }
        }
    }
}
