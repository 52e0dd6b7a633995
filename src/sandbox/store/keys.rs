//! API keys of the sandbox org: Ed25519 public keys registered for its users, used by
//! `orgform sandbox serve` to authenticate requests. A key acts as its user; removing the
//! user removes their keys.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, refused};
use crate::diagnostic::Rule;
use crate::model::email;

/// A registered key: the raw Ed25519 public key (lower-case hex, Encord's `keyid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub public_key: String,
    pub email: String,
    pub read_only: bool,
}

impl Store {
    /// Registers `public_key` (64 hex digits) for an org user.
    pub fn add_api_key(
        &mut self,
        public_key: &str,
        email_addr: &str,
        read_only: bool,
        comment: &str,
    ) -> Result<()> {
        let email_addr = email::normalize(email_addr);
        if self.user(&email_addr)?.is_none() {
            return Err(refused(
                Rule::UserUnknown,
                format!("`{email_addr}` is not a user of the sandbox org: add the user first"),
            ));
        }
        if let Some(existing) = self.api_key(public_key)? {
            return Err(refused(
                Rule::InvalidValue,
                format!(
                    "this public key is already registered for `{}`",
                    existing.email
                ),
            ));
        }
        self.conn.execute(
            "INSERT INTO api_keys (public_key, email, read_only, comment) VALUES (?1, ?2, ?3, ?4)",
            params![public_key, email_addr, read_only, comment],
        )?;
        Ok(())
    }

    pub fn api_key(&self, public_key: &str) -> Result<Option<ApiKey>> {
        Ok(self
            .conn
            .query_row(
                "SELECT public_key, email, read_only FROM api_keys WHERE public_key = ?1",
                params![public_key.to_ascii_lowercase()],
                |r| {
                    Ok(ApiKey {
                        public_key: r.get(0)?,
                        email: r.get(1)?,
                        read_only: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}
