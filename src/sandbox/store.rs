//! The sandbox org: an Encord Organization in one SQLite file.
//!
//! The store enforces the platform's rules itself — it refuses to remove or demote an
//! admin, to make a non-internal user admin, to create duplicate tag or group names, to
//! assign an unknown tag, to remove a sole resource admin without a replacement — so a
//! planner bug can never corrupt it. It also cascades like the platform: removing a user
//! drops their memberships and access; deleting a group revokes its access; deleting a
//! tag unassigns it; deleting a folder deletes its subfolders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::layout::{self, Layout};

mod api;
mod keys;
mod metadata;

pub use api::{FolderRow, GroupRow, ResourceRow, TagRow, UserRow};
pub use keys::ApiKey;

use crate::diagnostic::Rule;
use crate::model::{
    Folder, FolderPath, Group, InvitationStatus, MetadataType, Org, OrgRole, Principal, Project,
    ProjectRole, Resource, ResourceKind, ResourceRole, Tag, User, UserType, email,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The platform would reject this; `rule` says which rule.
    #[error("refused ({rule}): {message}")]
    Refused { rule: Rule, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("sandbox database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("sandbox database holds an unreadable value: {0}")]
    Corrupt(String),
    /// The file is not a sandbox this orgform can use (see [`Layout::refusal`]).
    #[error("{}", layout.refusal(path))]
    Layout { path: PathBuf, layout: Layout },
    #[error("cannot open the sandbox org {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

fn refused(rule: Rule, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        rule,
        message: message.into(),
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    email TEXT PRIMARY KEY, role TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
    hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS group_members (
    group_hash TEXT NOT NULL REFERENCES groups(hash) ON DELETE CASCADE,
    email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    PRIMARY KEY (group_hash, email));
CREATE TABLE IF NOT EXISTS group_managers (
    group_hash TEXT NOT NULL REFERENCES groups(hash) ON DELETE CASCADE,
    email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    PRIMARY KEY (group_hash, email));
CREATE TABLE IF NOT EXISTS tags (
    uuid TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, hash TEXT NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (kind, hash));
CREATE TABLE IF NOT EXISTS project_tags (
    project_hash TEXT NOT NULL, tag_uuid TEXT NOT NULL REFERENCES tags(uuid) ON DELETE CASCADE,
    PRIMARY KEY (project_hash, tag_uuid));
CREATE TABLE IF NOT EXISTS access (
    kind TEXT NOT NULL, resource_hash TEXT NOT NULL, principal TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (kind, resource_hash, principal));
CREATE TABLE IF NOT EXISTS metadata_keys (key TEXT PRIMARY KEY, type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    uuid TEXT PRIMARY KEY, parent TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
    client_metadata TEXT,
    UNIQUE (parent, name));
CREATE TABLE IF NOT EXISTS folder_groups (
    folder_uuid TEXT NOT NULL REFERENCES folders(uuid) ON DELETE CASCADE,
    group_hash TEXT NOT NULL REFERENCES groups(hash) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (folder_uuid, group_hash));
CREATE TABLE IF NOT EXISTS metadata_entries (key TEXT PRIMARY KEY, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
    public_key TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    read_only INTEGER NOT NULL, comment TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
";
// Changing SCHEMA? Bump layout::LAYOUT_VERSION, so stores made before are refused.

pub struct Store {
    conn: Connection,
}

/// Serde names are the stored names, so the database reads like the manifests.
fn name_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| StoreError::Corrupt(s.to_string()))
}

/// How an existing store is opened: commands that only read (plan, export) cannot
/// write to the file even by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

impl Store {
    /// Opens an existing sandbox for writing (apply). Never creates the file or a table.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_existing(path, Access::ReadWrite)
    }

    /// Opens an existing sandbox that is an orgform store of this layout; anything else
    /// is refused without a write.
    pub fn open_existing(path: &Path, access: Access) -> Result<Store> {
        let conn = Self::connect(path, access)?;
        match layout::inspect(&conn, SCHEMA)? {
            Layout::Current => Self::setup(conn),
            other => Err(StoreError::Layout {
                path: path.to_path_buf(),
                layout: other,
            }),
        }
    }

    /// What the file at `path` is, read without writing (`sandbox init --force` asks
    /// before replacing it).
    pub fn layout_of(path: &Path) -> Result<Layout> {
        Ok(layout::inspect(
            &Self::connect(path, Access::ReadOnly)?,
            SCHEMA,
        )?)
    }

    /// Creates a new sandbox at `path`: its tables and the layout stamp, in one
    /// transaction. Refuses a file that already holds anything.
    pub fn create(path: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        match layout::inspect(&conn, SCHEMA)? {
            Layout::Empty => Self::initialize(conn),
            other => Err(StoreError::Layout {
                path: path.to_path_buf(),
                layout: other,
            }),
        }
    }

    pub fn in_memory() -> Result<Store> {
        Self::initialize(Connection::open_in_memory()?)
    }

    fn connect(path: &Path, access: Access) -> Result<Connection> {
        // Without SQLITE_OPEN_CREATE: a missing file is an error, never a new database.
        let mode = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        };
        Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(
            |source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
        )
    }

    fn initialize(conn: Connection) -> Result<Store> {
        conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{SCHEMA}"))?;
        match layout::stamp(&conn).and_then(|()| conn.execute_batch("COMMIT")) {
            Ok(()) => Self::setup(conn),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        }
    }

    fn setup(conn: Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        Ok(Store { conn })
    }

    /// A fresh identifier: deterministic per store, so sandbox runs are reproducible, and
    /// UUID-shaped, as the platform's hashes are (Encord's SDK parses them as UUIDs). The
    /// first field names the kind, the last counts.
    fn next_id(&self, prefix: &str) -> Result<String> {
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?1, 1)
             ON CONFLICT(name) DO UPDATE SET value = value + 1",
            params![prefix],
        )?;
        let n: i64 = self.conn.query_row(
            "SELECT value FROM counters WHERE name = ?1",
            params![prefix],
            |r| r.get(0),
        )?;
        let kind: u32 = match prefix {
            "project" => 1,
            "dataset" => 2,
            "ontology" => 3,
            "group" => 4,
            "tag" => 5,
            "folder" => 6,
            _ => 0,
        };
        Ok(format!("{kind:08x}-0000-4000-8000-{n:012x}"))
    }

    /// Runs `f` in a transaction, or inside the one already open (see [`Store::batch`]).
    fn tx<T>(&mut self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return f(self);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs many operations as one transaction: all or nothing, and one sync to disk
    /// instead of one per operation (creating a large sandbox).
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    // ---------------------------------------------------------------- reading

    /// The whole org as one snapshot.
    pub fn read(&self) -> Result<Org> {
        let mut org = Org::default();
        let mut stmt = self
            .conn
            .prepare("SELECT email, role, type, status FROM users")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (email, role, user_type, status) = row?;
            org.users.insert(
                email,
                User {
                    role: parse(&role)?,
                    user_type: parse(&user_type)?,
                    status: Some(parse(&status)?),
                },
            );
        }
        let mut stmt = self
            .conn
            .prepare("SELECT hash, name, description FROM groups")?;
        let groups: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut group_names = BTreeMap::new();
        for (hash, name, description) in groups {
            group_names.insert(hash, name.clone());
            org.groups.insert(
                name,
                Group {
                    description,
                    ..Group::default()
                },
            );
        }
        for (table, managers) in [("group_members", false), ("group_managers", true)] {
            let mut stmt = self
                .conn
                .prepare(&format!("SELECT group_hash, email FROM {table}"))?;
            for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
                let (hash, email): (String, String) = row?;
                let Some(group) = group_names.get(&hash).and_then(|n| org.groups.get_mut(n)) else {
                    continue;
                };
                if managers {
                    group.managers.insert(email);
                } else {
                    group.members.insert(email);
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT uuid, name, description FROM tags")?;
        let tags: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut tag_names = BTreeMap::new();
        for (uuid, name, description) in tags {
            tag_names.insert(uuid, name.clone());
            org.project_tags.insert(name, Tag { description });
        }
        let mut stmt = self.conn.prepare("SELECT key, type FROM metadata_keys")?;
        for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (key, ty): (String, String) = row?;
            let ty: MetadataType =
                serde_json::from_str(&ty).map_err(|_| StoreError::Corrupt(ty.clone()))?;
            org.metadata_schema.insert(key, ty);
        }
        for (path, _, description) in self.folder_rows()? {
            org.folders.insert(path, Folder { description });
        }
        let mut stmt = self
            .conn
            .prepare("SELECT kind, hash, name FROM resources")?;
        let resources: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (kind, hash, name) in resources {
            match parse::<ResourceKind>(&kind)? {
                ResourceKind::Project => {
                    org.projects.insert(
                        hash,
                        Project {
                            name,
                            ..Project::default()
                        },
                    );
                }
                ResourceKind::Dataset => {
                    org.datasets.insert(
                        hash,
                        Resource {
                            name,
                            access: BTreeMap::new(),
                        },
                    );
                }
                ResourceKind::Ontology => {
                    org.ontologies.insert(
                        hash,
                        Resource {
                            name,
                            access: BTreeMap::new(),
                        },
                    );
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT kind, resource_hash, principal, role FROM access")?;
        for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))? {
            let (kind, hash, principal, role): (String, String, String, String) = row?;
            let name = &hash;
            let principal: Principal = parse(&principal)?;
            match parse::<ResourceKind>(&kind)? {
                ResourceKind::Project => {
                    if let Some(p) = org.projects.get_mut(name) {
                        p.access.insert(principal, parse(&role)?);
                    }
                }
                ResourceKind::Dataset => {
                    if let Some(d) = org.datasets.get_mut(name) {
                        d.access.insert(principal, parse(&role)?);
                    }
                }
                ResourceKind::Ontology => {
                    if let Some(o) = org.ontologies.get_mut(name) {
                        o.access.insert(principal, parse(&role)?);
                    }
                }
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT project_hash, tag_uuid FROM project_tags")?;
        for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (project_hash, tag_uuid): (String, String) = row?;
            if let Some(tag) = tag_names.get(&tag_uuid)
                && let Some(p) = org.projects.get_mut(&project_hash)
            {
                p.tags.insert(tag.clone());
            }
        }
        Ok(org)
    }

    /// Every folder with its path, uuid and description.
    fn folder_rows(&self) -> Result<Vec<(FolderPath, String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT uuid, parent, name, description FROM folders")?;
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let by_uuid: BTreeMap<&str, (&str, &str)> = rows
            .iter()
            .map(|(u, p, n, _)| (u.as_str(), (p.as_str(), n.as_str())))
            .collect();
        let mut out = Vec::new();
        for (uuid, _, _, description) in &rows {
            let mut names = Vec::new();
            let mut cursor = uuid.as_str();
            while let Some((parent, name)) = by_uuid.get(cursor) {
                names.push(name.to_string());
                if names.len() > by_uuid.len() {
                    return Err(StoreError::Corrupt("folder cycle".into()));
                }
                cursor = parent;
            }
            names.reverse();
            out.push((FolderPath(names), uuid.clone(), description.clone()));
        }
        Ok(out)
    }

    fn folder_uuid(&self, path: &FolderPath) -> Result<Option<String>> {
        let mut parent = String::new();
        for name in &path.0 {
            let found: Option<String> = self
                .conn
                .query_row(
                    "SELECT uuid FROM folders WHERE parent = ?1 AND name = ?2",
                    params![parent, name],
                    |r| r.get(0),
                )
                .optional()?;
            match found {
                Some(uuid) => parent = uuid,
                None => return Ok(None),
            }
        }
        Ok((!path.0.is_empty()).then_some(parent))
    }

    fn existing_tag(&self, name: &str) -> Result<String> {
        self.tag_uuid(name)?
            .ok_or_else(|| StoreError::NotFound(format!("tag `{name}`")))
    }

    fn existing_folder(&self, path: &FolderPath) -> Result<String> {
        self.folder_uuid(path)?
            .ok_or_else(|| StoreError::NotFound(format!("folder `{path}`")))
    }

    fn user(&self, email_addr: &str) -> Result<Option<(OrgRole, UserType)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT role, type FROM users WHERE email = ?1",
                params![email::normalize(email_addr)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(r, t)| Ok((parse(&r)?, parse(&t)?))).transpose()
    }

    fn group_hash(&self, name: &str) -> Result<String> {
        self.conn
            .query_row(
                "SELECT hash FROM groups WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("group `{name}`")))
    }

    /// A tag by name, ignoring case (Unicode-aware: SQLite's NOCASE is ASCII-only).
    fn tag_uuid(&self, name: &str) -> Result<Option<String>> {
        let Some(stored) = self.tag_name_ci(name)? else {
            return Ok(None);
        };
        Ok(self
            .conn
            .query_row(
                "SELECT uuid FROM tags WHERE name = ?1",
                params![stored],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The resource with this hash must exist (titles are not unique: writes name
    /// resources by hash).
    fn resource_hash(&self, kind: ResourceKind, hash: &str) -> Result<String> {
        self.conn
            .query_row(
                "SELECT hash FROM resources WHERE kind = ?1 AND hash = ?2",
                params![name_of(&kind), hash],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                refused(
                    Rule::ResourceUnknown,
                    format!("{kind} with hash `{hash}` does not exist"),
                )
            })
    }

    // ---------------------------------------------------------------- users

    pub fn add_user(
        &mut self,
        email_addr: &str,
        role: OrgRole,
        user_type: UserType,
        status: InvitationStatus,
    ) -> Result<()> {
        let email_addr = email::normalize(email_addr);
        if !email::is_valid(&email_addr) {
            return Err(refused(
                Rule::EmailInvalid,
                format!("`{email_addr}` is not an email"),
            ));
        }
        if role == OrgRole::Admin && user_type != UserType::Internal {
            return Err(refused(
                Rule::AdminMustBeInternal,
                format!("`{email_addr}` is {user_type}: only internal users can be admins"),
            ));
        }
        if self.user(&email_addr)?.is_some() {
            return Err(refused(
                Rule::UserDuplicate,
                format!("`{email_addr}` is already a member of the org"),
            ));
        }
        self.conn.execute(
            "INSERT INTO users (email, role, type, status) VALUES (?1, ?2, ?3, ?4)",
            params![
                email_addr,
                name_of(&role),
                name_of(&user_type),
                name_of(&status)
            ],
        )?;
        Ok(())
    }

    /// Removes a user; their memberships and access go with them.
    pub fn remove_user(&mut self, email_addr: &str) -> Result<()> {
        let email_addr = email::normalize(email_addr);
        let Some((role, _)) = self.user(&email_addr)? else {
            return Err(StoreError::NotFound(format!("user `{email_addr}`")));
        };
        if role == OrgRole::Admin {
            return Err(refused(
                Rule::AdminUnremovable,
                format!("`{email_addr}` is an admin; admins cannot be removed"),
            ));
        }
        if let Some((kind, name)) = self.sole_admin_of(&email_addr)? {
            return Err(refused(
                Rule::SoleResourceAdmin,
                format!(
                    "`{email_addr}` is the only admin of {kind} `{name}`: assign a replacement admin first"
                ),
            ));
        }
        self.delete_user_row(&email_addr)
    }

    fn delete_user_row(&mut self, email_addr: &str) -> Result<()> {
        let principal = Principal::User(email_addr.to_string()).to_string();
        self.tx(|s| {
            s.conn.execute(
                "DELETE FROM access WHERE principal = ?1",
                params![principal],
            )?;
            s.conn
                .execute("DELETE FROM users WHERE email = ?1", params![email_addr])?;
            Ok(())
        })
    }

    /// A project or dataset whose only user admin is `email_addr`.
    fn sole_admin_of(&self, email_addr: &str) -> Result<Option<(String, String)>> {
        let principal = Principal::User(email_addr.to_string()).to_string();
        Ok(self
            .conn
            .query_row(
                "SELECT a.kind, r.name FROM access a JOIN resources r
                   ON r.kind = a.kind AND r.hash = a.resource_hash
                 WHERE a.principal = ?1 AND a.role = 'admin' AND a.kind IN ('project', 'dataset')
                   AND NOT EXISTS (SELECT 1 FROM access b
                     WHERE b.kind = a.kind AND b.resource_hash = a.resource_hash
                       AND b.role = 'admin' AND b.principal LIKE 'user:%' AND b.principal <> ?1)
                   AND NOT EXISTS (SELECT 1 FROM access b JOIN groups g
                       ON b.principal = 'group:' || g.name
                     JOIN group_members m ON m.group_hash = g.hash
                     WHERE b.kind = a.kind AND b.resource_hash = a.resource_hash
                       AND b.role = 'admin' AND m.email <> ?2)
                 ORDER BY r.name LIMIT 1",
                params![principal, email_addr],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub fn set_user_role(&mut self, email_addr: &str, role: OrgRole) -> Result<()> {
        let email_addr = email::normalize(email_addr);
        let Some((current, user_type)) = self.user(&email_addr)? else {
            return Err(StoreError::NotFound(format!("user `{email_addr}`")));
        };
        if current == OrgRole::Admin && role != OrgRole::Admin {
            return Err(refused(
                Rule::AdminRoleLocked,
                format!("`{email_addr}` is an admin; an admin's role cannot be changed"),
            ));
        }
        if role == OrgRole::Admin && user_type != UserType::Internal {
            return Err(refused(
                Rule::AdminMustBeInternal,
                format!("`{email_addr}` is {user_type}: only internal users can be admins"),
            ));
        }
        self.conn.execute(
            "UPDATE users SET role = ?2 WHERE email = ?1",
            params![email_addr, name_of(&role)],
        )?;
        Ok(())
    }

    /// Remove and re-add with a new type and role (how the platform changes a type).
    pub fn replace_user(
        &mut self,
        email_addr: &str,
        role: OrgRole,
        user_type: UserType,
    ) -> Result<()> {
        let email_addr = email::normalize(email_addr);
        let Some((current, _)) = self.user(&email_addr)? else {
            return Err(StoreError::NotFound(format!("user `{email_addr}`")));
        };
        if current == OrgRole::Admin {
            return Err(refused(
                Rule::AdminUnremovable,
                format!("`{email_addr}` is an admin; admins cannot be removed and re-added"),
            ));
        }
        if role == OrgRole::Admin && user_type != UserType::Internal {
            return Err(refused(
                Rule::AdminMustBeInternal,
                format!("`{email_addr}` is {user_type}: only internal users can be admins"),
            ));
        }
        // Re-adding starts with a removal, and removing a sole admin needs a replacement.
        if let Some((kind, name)) = self.sole_admin_of(&email_addr)? {
            return Err(refused(
                Rule::SoleResourceAdmin,
                format!(
                    "`{email_addr}` is the only admin of {kind} `{name}`: assign another admin first"
                ),
            ));
        }
        self.tx(|s| {
            let principal = Principal::User(email_addr.clone()).to_string();
            s.conn.execute(
                "DELETE FROM access WHERE principal = ?1",
                params![principal],
            )?;
            s.conn
                .execute("DELETE FROM users WHERE email = ?1", params![email_addr])?;
            s.conn.execute(
                "INSERT INTO users (email, role, type, status) VALUES (?1, ?2, ?3, 'invited')",
                params![email_addr, name_of(&role), name_of(&user_type)],
            )?;
            Ok(())
        })
    }

    /// What the user's answer to the invitation does (sandbox only: on the platform the
    /// invitee sets it).
    pub fn set_invitation_status(
        &mut self,
        email_addr: &str,
        status: InvitationStatus,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE users SET status = ?2 WHERE email = ?1",
            params![email::normalize(email_addr), name_of(&status)],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user `{email_addr}`")));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- groups

    pub fn create_group(&mut self, name: &str, description: &str) -> Result<()> {
        if self.group_hash(name).is_ok() {
            return Err(refused(
                Rule::GroupNameDuplicate,
                format!("a group named `{name}` already exists"),
            ));
        }
        let hash = self.next_id("group")?;
        self.conn.execute(
            "INSERT INTO groups (hash, name, description) VALUES (?1, ?2, ?3)",
            params![hash, name, description],
        )?;
        Ok(())
    }

    pub fn rename_group(&mut self, old: &str, new: &str) -> Result<()> {
        let hash = self.group_hash(old)?;
        if self.group_hash(new).is_ok() {
            return Err(refused(
                Rule::GroupNameDuplicate,
                format!("a group named `{new}` already exists"),
            ));
        }
        let (old_p, new_p) = (
            Principal::Group(old.to_string()).to_string(),
            Principal::Group(new.to_string()).to_string(),
        );
        self.tx(|s| {
            s.conn.execute(
                "UPDATE groups SET name = ?2 WHERE hash = ?1",
                params![hash, new],
            )?;
            s.conn.execute(
                "UPDATE access SET principal = ?2 WHERE principal = ?1",
                params![old_p, new_p],
            )?;
            Ok(())
        })
    }

    pub fn set_group_description(&mut self, name: &str, description: &str) -> Result<()> {
        let hash = self.group_hash(name)?;
        self.conn.execute(
            "UPDATE groups SET description = ?2 WHERE hash = ?1",
            params![hash, description],
        )?;
        Ok(())
    }

    /// Deletes a group; the access it granted is revoked.
    pub fn delete_group(&mut self, name: &str) -> Result<()> {
        let hash = self.group_hash(name)?;
        let principal = Principal::Group(name.to_string()).to_string();
        self.tx(|s| {
            s.conn.execute(
                "DELETE FROM access WHERE principal = ?1",
                params![principal],
            )?;
            s.conn
                .execute("DELETE FROM groups WHERE hash = ?1", params![hash])?;
            Ok(())
        })
    }

    pub fn add_group_user(&mut self, group: &str, email_addr: &str, manager: bool) -> Result<()> {
        let hash = self.group_hash(group)?;
        let email_addr = email::normalize(email_addr);
        if self.user(&email_addr)?.is_none() {
            return Err(refused(
                Rule::UserUnknown,
                format!("`{email_addr}` is not a member of the org"),
            ));
        }
        let table = if manager {
            "group_managers"
        } else {
            "group_members"
        };
        self.conn.execute(
            &format!("INSERT OR IGNORE INTO {table} (group_hash, email) VALUES (?1, ?2)"),
            params![hash, email_addr],
        )?;
        Ok(())
    }

    pub fn remove_group_user(
        &mut self,
        group: &str,
        email_addr: &str,
        manager: bool,
    ) -> Result<()> {
        let hash = self.group_hash(group)?;
        let table = if manager {
            "group_managers"
        } else {
            "group_members"
        };
        self.conn.execute(
            &format!("DELETE FROM {table} WHERE group_hash = ?1 AND email = ?2"),
            params![hash, email::normalize(email_addr)],
        )?;
        Ok(())
    }

    // ---------------------------------------------------------------- tags

    pub fn create_tag(&mut self, name: &str, description: &str) -> Result<()> {
        if let Some(existing) = self.tag_name_ci(name)? {
            return Err(refused(
                Rule::TagNameDuplicate,
                format!("tag `{existing}` already exists (names are unique ignoring case)"),
            ));
        }
        let uuid = self.next_id("tag")?;
        self.conn.execute(
            "INSERT INTO tags (uuid, name, description) VALUES (?1, ?2, ?3)",
            params![uuid, name, description],
        )?;
        Ok(())
    }

    /// Tag names compare ignoring case (Unicode-aware, beyond SQLite's ASCII NOCASE).
    fn tag_name_ci(&self, name: &str) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare("SELECT name FROM tags")?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names
            .into_iter()
            .find(|n| n.to_lowercase() == name.to_lowercase()))
    }

    pub fn rename_tag(&mut self, old: &str, new: &str) -> Result<()> {
        let uuid = self.existing_tag(old)?;
        if let Some(existing) = self.tag_name_ci(new)?
            && existing.to_lowercase() != old.to_lowercase()
        {
            return Err(refused(
                Rule::TagNameDuplicate,
                format!("tag `{existing}` already exists"),
            ));
        }
        self.conn.execute(
            "UPDATE tags SET name = ?2 WHERE uuid = ?1",
            params![uuid, new],
        )?;
        Ok(())
    }

    pub fn set_tag_description(&mut self, name: &str, description: &str) -> Result<()> {
        let uuid = self.existing_tag(name)?;
        self.conn.execute(
            "UPDATE tags SET description = ?2 WHERE uuid = ?1",
            params![uuid, description],
        )?;
        Ok(())
    }

    /// Deletes a tag; it is removed from every project.
    pub fn delete_tag(&mut self, name: &str) -> Result<()> {
        let uuid = self.existing_tag(name)?;
        self.conn
            .execute("DELETE FROM tags WHERE uuid = ?1", params![uuid])?;
        Ok(())
    }

    pub fn assign_tag(&mut self, project: &str, tag: &str) -> Result<()> {
        let hash = self.resource_hash(ResourceKind::Project, project)?;
        let uuid = self.tag_uuid(tag)?.ok_or_else(|| {
            refused(
                Rule::TagUnknown,
                format!("tag `{tag}` does not exist: create it before assigning it"),
            )
        })?;
        self.conn.execute(
            "INSERT OR IGNORE INTO project_tags (project_hash, tag_uuid) VALUES (?1, ?2)",
            params![hash, uuid],
        )?;
        Ok(())
    }

    pub fn unassign_tag(&mut self, project: &str, tag: &str) -> Result<()> {
        let hash = self.resource_hash(ResourceKind::Project, project)?;
        if let Some(uuid) = self.tag_uuid(tag)? {
            self.conn.execute(
                "DELETE FROM project_tags WHERE project_hash = ?1 AND tag_uuid = ?2",
                params![hash, uuid],
            )?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- metadata

    pub fn set_metadata_key(&mut self, key: &str, ty: &MetadataType) -> Result<()> {
        if let Some(problem) = crate::validate::metadata_key_problem(key) {
            return Err(refused(
                Rule::MetadataKeyInvalid,
                format!("metadata key `{key}` {problem}"),
            ));
        }
        match ty {
            MetadataType::Embedding(size) if !(1..=4096).contains(size) => {
                return Err(refused(
                    Rule::EmbeddingSizeOutOfRange,
                    format!("embedding size {size} is outside 1–4096"),
                ));
            }
            MetadataType::Enum(options) if options.is_empty() || options.len() > 255 => {
                return Err(refused(
                    Rule::EnumOptionsInvalid,
                    "an enum needs 1 to 255 options",
                ));
            }
            _ => {}
        }
        let json = serde_json::to_string(ty).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO metadata_keys (key, type) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET type = excluded.type",
            params![key, json],
        )?;
        // The key is now what the model says; an entry written over the API (a tombstone,
        // a variant) no longer describes it.
        self.conn
            .execute("DELETE FROM metadata_entries WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// Deletes a key as the platform does: a soft tombstone that keeps the old entry.
    pub fn delete_metadata_key(&mut self, key: &str) -> Result<()> {
        self.tx(|s| s.tombstone_metadata_key(key))
    }

    // ---------------------------------------------------------------- folders

    pub fn create_folder(&mut self, path: &FolderPath, description: &str) -> Result<()> {
        let parent = match path.parent() {
            Some(p) => self.existing_folder(&p)?,
            None => String::new(),
        };
        if self.folder_uuid(path)?.is_some() {
            return Err(refused(
                Rule::FolderNameDuplicate,
                format!("folder `{path}` already exists"),
            ));
        }
        let uuid = self.next_id("folder")?;
        self.conn.execute(
            "INSERT INTO folders (uuid, parent, name, description) VALUES (?1, ?2, ?3, ?4)",
            params![uuid, parent, path.name(), description],
        )?;
        Ok(())
    }

    pub fn rename_folder(&mut self, path: &FolderPath, new_name: &str) -> Result<()> {
        let uuid = self.existing_folder(path)?;
        let sibling = match path.parent() {
            Some(p) => p.child(new_name),
            None => FolderPath(vec![new_name.to_string()]),
        };
        if self.folder_uuid(&sibling)?.is_some() {
            return Err(refused(
                Rule::FolderNameDuplicate,
                format!("folder `{sibling}` already exists"),
            ));
        }
        self.conn.execute(
            "UPDATE folders SET name = ?2 WHERE uuid = ?1",
            params![uuid, new_name],
        )?;
        Ok(())
    }

    pub fn set_folder_description(&mut self, path: &FolderPath, description: &str) -> Result<()> {
        let uuid = self.existing_folder(path)?;
        self.conn.execute(
            "UPDATE folders SET description = ?2 WHERE uuid = ?1",
            params![uuid, description],
        )?;
        Ok(())
    }

    /// Deletes a folder and everything below it.
    pub fn delete_folder(&mut self, path: &FolderPath) -> Result<()> {
        if self.folder_uuid(path)?.is_none() {
            return Err(StoreError::NotFound(format!("folder `{path}`")));
        }
        let doomed: Vec<String> = self
            .folder_rows()?
            .into_iter()
            .filter(|(p, _, _)| p.starts_with(path))
            .map(|(_, uuid, _)| uuid)
            .collect();
        self.tx(|s| {
            for uuid in &doomed {
                s.conn
                    .execute("DELETE FROM folders WHERE uuid = ?1", params![uuid])?;
            }
            Ok(())
        })
    }

    // ---------------------------------------------------------------- resources

    /// Creates a Project, Dataset or Ontology (sandbox state files only: orgform never
    /// creates resources in a real org). Titles need not be unique, as on the platform;
    /// returns the hash.
    pub fn create_resource(
        &mut self,
        kind: ResourceKind,
        name: &str,
        hash: Option<&str>,
    ) -> Result<String> {
        if let Some(h) = hash
            && self.resource_hash(kind, h).is_ok()
        {
            return Err(refused(
                Rule::InvalidValue,
                format!("{kind} with hash `{h}` already exists"),
            ));
        }
        let hash = match hash {
            Some(h) => h.to_string(),
            None => self.next_id(&name_of(&kind))?,
        };
        self.conn.execute(
            "INSERT INTO resources (kind, hash, name) VALUES (?1, ?2, ?3)",
            params![name_of(&kind), hash, name],
        )?;
        Ok(hash)
    }

    /// Grants (or changes) a principal's role on a resource. `role` is the role's
    /// manifest name, checked against the resource kind.
    pub fn set_access(
        &mut self,
        kind: ResourceKind,
        resource: &str,
        who: &Principal,
        role: &str,
    ) -> Result<()> {
        let hash = self.resource_hash(kind, resource)?;
        let valid = match kind {
            ResourceKind::Project => parse::<ProjectRole>(role).is_ok(),
            _ => parse::<ResourceRole>(role).is_ok(),
        };
        if !valid {
            return Err(refused(
                Rule::InvalidValue,
                format!("`{role}` is not a {kind} role"),
            ));
        }
        match who {
            Principal::User(e) => {
                if self.user(e)?.is_none() {
                    return Err(refused(
                        Rule::UserUnknown,
                        format!("`{e}` is not a member of the org"),
                    ));
                }
            }
            Principal::Group(g) => {
                self.group_hash(g).map_err(|_| {
                    refused(Rule::UserUnknown, format!("group `{g}` does not exist"))
                })?;
            }
        }
        self.conn.execute(
            "INSERT INTO access (kind, resource_hash, principal, role) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(kind, resource_hash, principal) DO UPDATE SET role = excluded.role",
            params![name_of(&kind), hash, who.to_string(), role],
        )?;
        Ok(())
    }

    pub fn remove_access(
        &mut self,
        kind: ResourceKind,
        resource: &str,
        who: &Principal,
    ) -> Result<()> {
        let hash = self.resource_hash(kind, resource)?;
        self.conn.execute(
            "DELETE FROM access WHERE kind = ?1 AND resource_hash = ?2 AND principal = ?3",
            params![name_of(&kind), hash, who.to_string()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Each platform rule the store enforces, refused with its rule code.
    use super::*;

    fn store() -> Store {
        let mut s = Store::in_memory().expect("in-memory store");
        s.add_user(
            "ada@acme.com",
            OrgRole::Admin,
            UserType::Internal,
            InvitationStatus::Joined,
        )
        .expect("admin");
        s.add_user(
            "bob@acme.com",
            OrgRole::Member,
            UserType::Internal,
            InvitationStatus::Joined,
        )
        .expect("member");
        s.add_user(
            "eve@vendor.io",
            OrgRole::Collaborator,
            UserType::External,
            InvitationStatus::Invited,
        )
        .expect("collaborator");
        s
    }

    fn refused_with(result: Result<()>, rule: Rule) {
        match result {
            Err(StoreError::Refused { rule: got, .. }) => assert_eq!(got, rule),
            other => panic!("expected a refusal with {rule}, got {other:?}"),
        }
    }

    #[test]
    fn refuses_to_remove_an_admin() {
        let mut s = store();
        refused_with(s.remove_user("ada@acme.com"), Rule::AdminUnremovable);
        assert!(s.read().expect("read").users.contains_key("ada@acme.com"));
    }

    #[test]
    fn refuses_to_demote_an_admin() {
        let mut s = store();
        refused_with(
            s.set_user_role("ada@acme.com", OrgRole::Member),
            Rule::AdminRoleLocked,
        );
        refused_with(
            s.replace_user("ada@acme.com", OrgRole::Admin, UserType::Internal),
            Rule::AdminUnremovable,
        );
    }

    #[test]
    fn refuses_non_internal_admins() {
        let mut s = store();
        refused_with(
            s.add_user(
                "x@vendor.io",
                OrgRole::Admin,
                UserType::Workforce,
                InvitationStatus::Invited,
            ),
            Rule::AdminMustBeInternal,
        );
        refused_with(
            s.set_user_role("eve@vendor.io", OrgRole::Admin),
            Rule::AdminMustBeInternal,
        );
    }

    #[test]
    fn refuses_duplicate_users() {
        let mut s = store();
        refused_with(
            s.add_user(
                "BOB@acme.com",
                OrgRole::Member,
                UserType::Internal,
                InvitationStatus::Invited,
            ),
            Rule::UserDuplicate,
        );
    }

    #[test]
    fn refuses_duplicate_tag_names_ignoring_case() {
        let mut s = store();
        s.create_tag("Medical", "").expect("tag");
        refused_with(s.create_tag("medical", ""), Rule::TagNameDuplicate);
        s.create_tag("Ünïcode", "").expect("tag");
        refused_with(s.create_tag("üNÏCODE", ""), Rule::TagNameDuplicate);
        s.create_tag("ct", "").expect("tag");
        refused_with(s.rename_tag("ct", "MEDICAL"), Rule::TagNameDuplicate);
        s.rename_tag("ct", "CT")
            .expect("a case change of the same tag is fine");
    }

    #[test]
    fn refuses_duplicate_group_names() {
        let mut s = store();
        s.create_group("labelers", "").expect("group");
        s.create_group("reviewers", "").expect("group");
        refused_with(s.create_group("labelers", ""), Rule::GroupNameDuplicate);
        refused_with(
            s.rename_group("reviewers", "labelers"),
            Rule::GroupNameDuplicate,
        );
    }

    #[test]
    fn refuses_to_assign_an_unknown_tag() {
        let mut s = store();
        let lung = s
            .create_resource(ResourceKind::Project, "Lung CT", None)
            .expect("project");
        refused_with(s.assign_tag(&lung, "oncology"), Rule::TagUnknown);
    }

    #[test]
    fn refuses_to_remove_a_sole_resource_admin_until_replaced() {
        let mut s = store();
        let scans = s
            .create_resource(ResourceKind::Dataset, "scans", None)
            .expect("dataset");
        let bob = Principal::User("bob@acme.com".into());
        s.set_access(ResourceKind::Dataset, &scans, &bob, "admin")
            .expect("access");
        refused_with(s.remove_user("bob@acme.com"), Rule::SoleResourceAdmin);
        refused_with(
            s.replace_user("bob@acme.com", OrgRole::Member, UserType::External),
            Rule::SoleResourceAdmin,
        );
        let ada = Principal::User("ada@acme.com".into());
        s.set_access(ResourceKind::Dataset, &scans, &ada, "admin")
            .expect("replacement");
        s.remove_user("bob@acme.com")
            .expect("removable once replaced");
        let org = s.read().expect("read");
        assert_eq!(
            org.datasets[&scans].access.len(),
            1,
            "bob's access went with him"
        );
    }

    #[test]
    fn refuses_access_for_unknown_principals_and_roles() {
        let mut s = store();
        let lung = s
            .create_resource(ResourceKind::Project, "Lung CT", None)
            .expect("project");
        let ghost = Principal::User("ghost@acme.com".into());
        refused_with(
            s.set_access(ResourceKind::Project, &lung, &ghost, "viewer"),
            Rule::UserUnknown,
        );
        let group = Principal::Group("nobody".into());
        refused_with(
            s.set_access(ResourceKind::Project, &lung, &group, "viewer"),
            Rule::UserUnknown,
        );
        let bob = Principal::User("bob@acme.com".into());
        refused_with(
            s.set_access(ResourceKind::Project, &lung, &bob, "user"),
            Rule::InvalidValue,
        );
        refused_with(
            s.set_access(ResourceKind::Project, "Nope", &bob, "viewer"),
            Rule::ResourceUnknown,
        );
    }

    #[test]
    fn refuses_invalid_metadata_and_duplicate_folders() {
        let mut s = store();
        refused_with(
            s.set_metadata_key("$x", &MetadataType::Text),
            Rule::MetadataKeyInvalid,
        );
        refused_with(
            s.set_metadata_key("keyframes", &MetadataType::Text),
            Rule::MetadataKeyInvalid,
        );
        refused_with(
            s.set_metadata_key("e", &MetadataType::Embedding(5000)),
            Rule::EmbeddingSizeOutOfRange,
        );
        refused_with(
            s.set_metadata_key("k", &MetadataType::Enum(Default::default())),
            Rule::EnumOptionsInvalid,
        );
        let raw = FolderPath(vec!["raw".into()]);
        s.create_folder(&raw, "").expect("folder");
        refused_with(s.create_folder(&raw, ""), Rule::FolderNameDuplicate);
    }

    #[test]
    fn cascades_like_the_platform() {
        let mut s = store();
        let lung = s
            .create_resource(ResourceKind::Project, "Lung CT", None)
            .expect("project");
        s.create_group("labelers", "").expect("group");
        s.add_group_user("labelers", "eve@vendor.io", false)
            .expect("member");
        let g = Principal::Group("labelers".into());
        s.set_access(ResourceKind::Project, &lung, &g, "annotator")
            .expect("access");
        s.create_tag("ct", "").expect("tag");
        s.assign_tag(&lung, "ct").expect("assign");
        s.rename_group("labelers", "labelers-eu").expect("rename");
        let org = s.read().expect("read");
        assert!(
            org.projects[&lung]
                .access
                .contains_key(&Principal::Group("labelers-eu".into()))
        );
        s.remove_user("eve@vendor.io").expect("remove");
        assert!(
            s.read().expect("read").groups["labelers-eu"]
                .members
                .is_empty()
        );
        s.delete_group("labelers-eu").expect("delete group");
        s.delete_tag("ct").expect("delete tag");
        let org = s.read().expect("read");
        assert!(
            org.projects[&lung].access.is_empty(),
            "group access revoked"
        );
        assert!(org.projects[&lung].tags.is_empty(), "tag unassigned");
        let raw = FolderPath(vec!["raw".into()]);
        s.create_folder(&raw, "").expect("folder");
        s.create_folder(&raw.child("2026"), "").expect("child");
        s.delete_folder(&raw).expect("delete folder");
        assert!(
            s.read().expect("read").folders.is_empty(),
            "subfolders deleted too"
        );
    }
}
