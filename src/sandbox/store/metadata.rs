//! The metadata schema as Encord's v2 API writes it: one JSON entry per key,
//! discriminated by `ty` (encord-api.md §5.4).
//!
//! `metadata_keys` holds what the model understands; `metadata_entries` keeps the entry
//! verbatim when it says more than the model (a tombstone, `geospatial`, a `variant`,
//! `max_length`, an embedding `api`), so a client that writes the whole schema back
//! loses nothing.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::{Result, Store, StoreError, refused};
use crate::diagnostic::Rule;
use crate::model::MetadataType;

pub use crate::encord::metadata::{entry_of, modelled};

const KNOWN: [&str; 12] = [
    "boolean",
    "datetime",
    "number",
    "uuid",
    "varchar",
    "text",
    "enum",
    "embedding",
    "variant",
    "geospatial",
    "user",
    "tombstone",
];

impl Store {
    /// The whole schema, key → v2 entry.
    pub fn metadata_entries(&self) -> Result<BTreeMap<String, Value>> {
        let mut out = BTreeMap::new();
        for (key, ty) in self.read_metadata_keys()? {
            out.insert(key, entry_of(&ty));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT key, entry FROM metadata_entries")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (key, entry) = row?;
            let entry: Value =
                serde_json::from_str(&entry).map_err(|_| StoreError::Corrupt(entry.clone()))?;
            out.insert(key, entry);
        }
        Ok(out)
    }

    fn read_metadata_keys(&self) -> Result<Vec<(String, MetadataType)>> {
        let mut stmt = self.conn.prepare("SELECT key, type FROM metadata_keys")?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(k, t)| {
                let ty = serde_json::from_str(&t).map_err(|_| StoreError::Corrupt(t.clone()))?;
                Ok((k, ty))
            })
            .collect()
    }

    /// Replaces the whole schema (`POST client-metadata-schema-v2`), checking each entry
    /// as the platform does; all or nothing.
    pub fn replace_metadata_schema(&mut self, schema: &BTreeMap<String, Value>) -> Result<()> {
        for (key, entry) in schema {
            check_entry(key, entry)?;
        }
        self.tx(|s| {
            s.conn.execute("DELETE FROM metadata_keys", [])?;
            s.conn.execute("DELETE FROM metadata_entries", [])?;
            for (key, entry) in schema {
                let stored = match modelled(entry) {
                    Some(ty) => {
                        s.insert_metadata_key(key, &ty)?;
                        // Kept verbatim only when it says more than the type.
                        entry_of(&ty) != *entry
                    }
                    None => true,
                };
                if stored {
                    s.conn.execute(
                        "INSERT INTO metadata_entries (key, entry) VALUES (?1, ?2)",
                        params![key, entry.to_string()],
                    )?;
                }
            }
            Ok(())
        })
    }

    fn insert_metadata_key(&self, key: &str, ty: &MetadataType) -> Result<()> {
        let json = serde_json::to_string(ty).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO metadata_keys (key, type) VALUES (?1, ?2)",
            params![key, json],
        )?;
        Ok(())
    }

    /// Soft delete: the key's entry becomes a tombstone holding what it was.
    pub(super) fn tombstone_metadata_key(&self, key: &str) -> Result<()> {
        let current: Option<Value> = self.metadata_entries()?.remove(key);
        let old: Option<String> = self
            .conn
            .query_row(
                "SELECT type FROM metadata_keys WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?;
        self.conn
            .execute("DELETE FROM metadata_keys WHERE key = ?1", params![key])?;
        let Some(current) = current.filter(|_| old.is_some()) else {
            return Ok(());
        };
        let tombstone = json!({"ty": "tombstone", "deleted_ty": current});
        self.conn.execute(
            "INSERT INTO metadata_entries (key, entry) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET entry = excluded.entry",
            params![key, tombstone.to_string()],
        )?;
        Ok(())
    }
}

/// What the platform refuses in a schema entry.
fn check_entry(key: &str, entry: &Value) -> Result<()> {
    if let Some(problem) = crate::validate::metadata_key_problem(key) {
        return Err(refused(
            Rule::MetadataKeyInvalid,
            format!("metadata key `{key}` {problem}"),
        ));
    }
    let ty = entry.get("ty").and_then(Value::as_str).unwrap_or_default();
    if !KNOWN.contains(&ty) {
        return Err(refused(
            Rule::InvalidValue,
            format!(
                "metadata key `{key}`: `ty` must be one of {}",
                KNOWN.join(", ")
            ),
        ));
    }
    match (ty, modelled(entry)) {
        ("embedding", Some(MetadataType::Embedding(size))) if !(1..=4096).contains(&size) => {
            Err(refused(
                Rule::EmbeddingSizeOutOfRange,
                format!("metadata key `{key}`: embedding size {size} is outside 1–4096"),
            ))
        }
        ("enum", Some(MetadataType::Enum(options)))
            if options.is_empty() || options.len() > 255 =>
        {
            Err(refused(
                Rule::EnumOptionsInvalid,
                format!("metadata key `{key}`: an enum needs 1 to 255 unique options"),
            ))
        }
        ("variant" | "enum" | "embedding", None) => Err(refused(
            Rule::InvalidValue,
            format!("metadata key `{key}`: a `{ty}` entry needs its `hint`, `values` or `size`"),
        )),
        ("tombstone", _) => match entry.get("deleted_ty") {
            None | Some(Value::Null) => Ok(()),
            Some(inner) if inner.get("ty").and_then(Value::as_str) == Some("tombstone") => {
                Err(refused(
                    Rule::InvalidValue,
                    format!("metadata key `{key}`: a tombstone cannot hold a tombstone"),
                ))
            }
            Some(inner) => check_entry(key, inner),
        },
        _ => Ok(()),
    }
}
