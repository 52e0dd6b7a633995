//! What makes a SQLite file an orgform sandbox, and which one.
//!
//! Creation stamps the file (`PRAGMA application_id` and `user_version`); opening checks
//! the stamp and compares every table and index with the layout this orgform creates. A
//! database of another application, of another orgform version, or with a table dropped
//! is refused: never written to, never repaired in place, never mixed with.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, ErrorCode};

/// "orgf": marks the file as an orgform sandbox.
pub const APPLICATION_ID: i32 = 0x6f72_6766;
/// Bump whenever the store's SCHEMA changes: older files are then refused, not mixed.
pub const LAYOUT_VERSION: i32 = 2;

/// What a database file is, as far as orgform is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// An orgform sandbox this orgform reads.
    Current,
    /// No tables at all (e.g. an empty file).
    Empty,
    /// orgform's tables without the stamp: made before sandboxes were versioned.
    Unstamped,
    /// Stamped by an orgform with another layout version.
    OtherVersion(i32),
    /// Stamped with this version, but tables or indexes differ (dropped, altered, added).
    Damaged(Vec<String>),
    /// Not an orgform sandbox; says what it is instead.
    Foreign(String),
}

impl Layout {
    /// Whether `sandbox init --force` may replace such a file: orgform's own (in any
    /// version or state) or empty, never another application's data.
    pub fn replaceable(&self) -> bool {
        !matches!(self, Layout::Foreign(_))
    }

    /// Why a store with this layout cannot be used, and what to do.
    pub fn refusal(&self, path: &Path) -> String {
        let path = path.display();
        let recreate = "recreate it with `orgform sandbox init --force` (add `--from STATE.yaml` to describe the org to create)";
        match self {
            Layout::Current => format!("{path} is an orgform sandbox"),
            Layout::Empty => format!(
                "{path} is an empty database, not an orgform sandbox: create the sandbox org with `orgform sandbox init --force`"
            ),
            Layout::Unstamped => format!(
                "{path} was made by an earlier orgform, before sandboxes had a layout version: {recreate}"
            ),
            Layout::OtherVersion(v) => format!(
                "{path} was made by another orgform version (sandbox layout {v}; this orgform reads layout {LAYOUT_VERSION}): {recreate}, or use the orgform that made it"
            ),
            Layout::Damaged(diffs) => format!(
                "{path} is an orgform sandbox whose tables were changed outside orgform ({}); orgform does not repair it in place: {recreate}",
                diffs.join("; ")
            ),
            Layout::Foreign(what) => format!(
                "{path} is not an orgform sandbox ({what}); orgform left it untouched. Point `provider.path` in orgform.yaml at the sandbox org, or move this file away and create one with `orgform sandbox init`"
            ),
        }
    }
}

/// Marks a freshly created store as this orgform's layout.
pub fn stamp(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    conn.pragma_update(None, "user_version", LAYOUT_VERSION)
}

/// Judges an open database against the layout `schema` creates. Reads only.
pub fn inspect(conn: &Connection, schema: &str) -> rusqlite::Result<Layout> {
    let found = match objects(conn) {
        Ok(found) => found,
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            return Ok(Layout::Foreign("not a SQLite database".to_string()));
        }
        Err(e) => return Err(e),
    };
    let application_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let want = reference(schema)?;
    let diffs = differences(&want, &found);
    Ok(match application_id {
        APPLICATION_ID if version != LAYOUT_VERSION => Layout::OtherVersion(version),
        APPLICATION_ID if diffs.is_empty() => Layout::Current,
        APPLICATION_ID => Layout::Damaged(diffs),
        0 if found.is_empty() => Layout::Empty,
        0 if diffs.is_empty() => Layout::Unstamped,
        0 => Layout::Foreign(unstamped(&want, &found, &diffs)),
        other => Layout::Foreign(format!(
            "a SQLite database of another application, application_id {other:#x}"
        )),
    })
}

/// Every table and index: name → (type, SQL). SQLite stores the SQL as created, so two
/// stores made from the same schema compare equal.
type Objects = BTreeMap<String, (String, Option<String>)>;

fn objects(conn: &Connection) -> rusqlite::Result<Objects> {
    // SQLite's own objects (automatic indexes, statistics) follow from the tables.
    let mut stmt = conn.prepare(
        "SELECT name, type, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    rows.collect()
}

/// The objects this orgform creates: built in memory from the same schema.
fn reference(schema: &str) -> rusqlite::Result<Objects> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(schema)?;
    objects(&conn)
}

/// What an unstamped database that is not orgform's layout holds instead.
fn unstamped(want: &Objects, found: &Objects, diffs: &[String]) -> String {
    let unknown: Vec<&str> = found
        .iter()
        .filter(|(name, (kind, _))| kind == "table" && !want.contains_key(*name))
        .map(|(name, _)| name.as_str())
        .collect();
    if unknown.is_empty() {
        format!(
            "it has no orgform stamp and its tables differ from orgform's: {}",
            diffs.join("; ")
        )
    } else {
        format!(
            "it has no orgform stamp and holds tables orgform does not make: {}",
            unknown.join(", ")
        )
    }
}

fn differences(want: &Objects, found: &Objects) -> Vec<String> {
    let mut diffs = Vec::new();
    for (name, (kind, sql)) in want {
        match found.get(name) {
            None => diffs.push(format!("{kind} `{name}` is missing")),
            Some(got) if got != &(kind.clone(), sql.clone()) => {
                diffs.push(format!("{kind} `{name}` has another definition"))
            }
            Some(_) => {}
        }
    }
    for (name, (kind, _)) in found {
        if !want.contains_key(name) {
            diffs.push(format!("{kind} `{name}` is not orgform's"));
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::store::{Store, StoreError};

    #[test]
    fn a_created_store_is_current_and_is_never_created_twice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sandbox.db");
        drop(Store::create(&path).expect("create"));
        assert_eq!(Store::layout_of(&path).expect("layout"), Layout::Current);
        match Store::create(&path) {
            Err(StoreError::Layout { layout, .. }) => assert_eq!(layout, Layout::Current),
            other => panic!("creating over a sandbox must be refused: {:?}", other.err()),
        }
    }

    #[test]
    fn only_orgform_files_and_empty_ones_are_replaceable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, "").expect("write");
        assert_eq!(Store::layout_of(&empty).expect("layout"), Layout::Empty);
        let foreign = dir.path().join("notes.db");
        Connection::open(&foreign)
            .and_then(|c| c.execute_batch("CREATE TABLE notes (body TEXT);"))
            .expect("foreign db");
        let layout = Store::layout_of(&foreign).expect("layout");
        assert!(matches!(layout, Layout::Foreign(_)), "{layout:?}");
        assert!(!layout.replaceable());
        for own in [
            Layout::Empty,
            Layout::Unstamped,
            Layout::OtherVersion(2),
            Layout::Damaged(vec![]),
        ] {
            assert!(own.replaceable(), "{own:?}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_new_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("missing.db");
        assert!(matches!(
            Store::open_existing(&path, crate::sandbox::store::Access::ReadOnly),
            Err(StoreError::Open { .. })
        ));
        assert!(matches!(Store::open(&path), Err(StoreError::Open { .. })));
        assert!(!path.exists());
    }
}
