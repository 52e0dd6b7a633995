//! What Encord's HTTP API needs from the store beyond the planner's snapshot: rows with
//! their hashes and UUIDs, lookups by them, and the writes the API addresses by UUID
//! (folders, folder access). Platform rules stay in the store's own writes, which the
//! server calls by name once it has resolved a hash.

use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, name_of, parse, refused};
use crate::diagnostic::Rule;
use crate::model::{
    FolderPath, InvitationStatus, OrgRole, Principal, ResourceKind, UserType, email,
};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub email: String,
    pub role: OrgRole,
    pub user_type: UserType,
    pub status: InvitationStatus,
}

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub hash: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct TagRow {
    pub uuid: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ResourceRow {
    pub kind: ResourceKind,
    pub hash: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct FolderRow {
    pub uuid: String,
    /// None for a top-level folder.
    pub parent: Option<String>,
    pub name: String,
    pub description: String,
    pub client_metadata: Option<String>,
    /// Creation order (the sandbox keeps no timestamps).
    pub seq: i64,
}

const FOLDER_COLUMNS: &str = "uuid, parent, name, description, client_metadata, rowid";

fn folder_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FolderRow> {
    let parent: String = r.get(1)?;
    Ok(FolderRow {
        uuid: r.get(0)?,
        parent: (!parent.is_empty()).then_some(parent),
        name: r.get(2)?,
        description: r.get(3)?,
        client_metadata: r.get(4)?,
        seq: r.get(5)?,
    })
}

impl Store {
    // ------------------------------------------------------------ users

    pub fn users(&self) -> Result<Vec<UserRow>> {
        self.user_rows("ORDER BY email", params![])
    }

    /// Users by a SQL tail (`WHERE …`, `ORDER BY …`) over `users`.
    fn user_rows(&self, tail: &str, args: impl rusqlite::Params) -> Result<Vec<UserRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT email, role, type, status FROM users {tail}"
        ))?;
        let rows: Vec<(String, String, String, String)> = stmt
            .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(email, role, user_type, status)| {
                Ok(UserRow {
                    email,
                    role: parse(&role)?,
                    user_type: parse(&user_type)?,
                    status: parse(&status)?,
                })
            })
            .collect()
    }

    /// One user by email, by key: every API call looks its caller up.
    pub fn user_row(&self, email_addr: &str) -> Result<Option<UserRow>> {
        let wanted = email::normalize(email_addr);
        Ok(self
            .user_rows("WHERE email = ?1", params![wanted])?
            .into_iter()
            .next())
    }

    /// The first org admin by email (the sandbox's owner of what it creates).
    pub fn first_admin(&self) -> Result<Option<String>> {
        Ok(self
            .user_rows(
                "WHERE role = ?1 ORDER BY email LIMIT 1",
                params![name_of(&OrgRole::Admin)],
            )?
            .into_iter()
            .next()
            .map(|u| u.email))
    }

    /// Names of the groups `email_addr` is a member of.
    pub fn groups_of(&self, email_addr: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT g.name FROM groups g JOIN group_members m ON m.group_hash = g.hash
             WHERE m.email = ?1 ORDER BY g.name",
        )?;
        let rows = stmt.query_map(params![email::normalize(email_addr)], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether `email_addr` is a member of the group named `group`, by key.
    pub fn is_member(&self, group: &str, email_addr: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM groups g JOIN group_members m ON m.group_hash = g.hash
                 WHERE g.name = ?1 AND m.email = ?2",
                params![group, email::normalize(email_addr)],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    // ------------------------------------------------------------ groups

    pub fn groups(&self) -> Result<Vec<GroupRow>> {
        self.group_rows("ORDER BY name", params![])
    }

    fn group_rows(&self, tail: &str, args: impl rusqlite::Params) -> Result<Vec<GroupRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT hash, name, description FROM groups {tail}"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok(GroupRow {
                hash: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn group_by_hash(&self, hash: &str) -> Result<Option<GroupRow>> {
        Ok(self
            .group_rows("WHERE hash = ?1", params![hash])?
            .into_iter()
            .next())
    }

    pub fn group_by_name(&self, name: &str) -> Result<Option<GroupRow>> {
        Ok(self
            .group_rows("WHERE name = ?1", params![name])?
            .into_iter()
            .next())
    }

    pub fn group_members(&self, hash: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT email FROM group_members WHERE group_hash = ?1 ORDER BY email")?;
        let rows = stmt.query_map(params![hash], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ------------------------------------------------------------ tags

    pub fn tags(&self) -> Result<Vec<TagRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT uuid, name, description FROM tags ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(TagRow {
                uuid: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn tag_by_uuid(&self, uuid: &str) -> Result<Option<TagRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT uuid, name, description FROM tags WHERE uuid = ?1",
                params![uuid],
                |r| {
                    Ok(TagRow {
                        uuid: r.get(0)?,
                        name: r.get(1)?,
                        description: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The projects that have any of the tags `names` (ignoring case), in one query: a
    /// listing filtered by tag must not look at every project's tags.
    pub fn projects_tagged(&self, names: &[&str]) -> Result<std::collections::HashSet<String>> {
        let marks = vec!["?"; names.len()].join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT DISTINCT p.project_hash FROM project_tags p
             JOIN tags t ON t.uuid = p.tag_uuid WHERE t.name IN ({marks})"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(names), |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn tags_of_project(&self, project_hash: &str) -> Result<Vec<TagRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT t.uuid, t.name, t.description FROM tags t
             JOIN project_tags p ON p.tag_uuid = t.uuid
             WHERE p.project_hash = ?1 ORDER BY t.name",
        )?;
        let rows = stmt.query_map(params![project_hash], |r| {
            Ok(TagRow {
                uuid: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ------------------------------------------------------------ resources

    /// Projects, Datasets or Ontologies, by title then hash.
    pub fn resources(&self, kind: ResourceKind) -> Result<Vec<ResourceRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT hash, name FROM resources WHERE kind = ?1 ORDER BY name, hash")?;
        let rows = stmt.query_map(params![name_of(&kind)], |r| {
            Ok(ResourceRow {
                kind,
                hash: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn resource(&self, kind: ResourceKind, hash: &str) -> Result<Option<ResourceRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT hash, name FROM resources WHERE kind = ?1 AND hash = ?2",
                params![name_of(&kind), hash],
                |r| {
                    Ok(ResourceRow {
                        kind,
                        hash: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// The roles (manifest names) `principals` hold on resources of a kind, by resource
    /// hash, in one query: a listing gives the caller's role on each resource.
    pub fn roles_held(
        &self,
        kind: ResourceKind,
        principals: &[Principal],
    ) -> Result<std::collections::HashMap<String, Vec<String>>> {
        let marks = vec!["?"; principals.len()].join(", ");
        let mut stmt = self.conn.prepare(&format!(
            "SELECT resource_hash, role FROM access WHERE kind = ? AND principal IN ({marks})"
        ))?;
        let args: Vec<String> = std::iter::once(name_of(&kind))
            .chain(principals.iter().map(Principal::to_string))
            .collect();
        let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
        let rows = stmt.query_map(rusqlite::params_from_iter(&args), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (hash, role) = row?;
            out.entry(hash).or_default().push(role);
        }
        Ok(out)
    }

    /// Who holds which role (its manifest name) on a resource.
    pub fn access_of(&self, kind: ResourceKind, hash: &str) -> Result<Vec<(Principal, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT principal, role FROM access WHERE kind = ?1 AND resource_hash = ?2
             ORDER BY principal",
        )?;
        let rows: Vec<(String, String)> = stmt
            .query_map(params![name_of(&kind), hash], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(p, role)| Ok((parse(&p)?, role)))
            .collect()
    }

    // ------------------------------------------------------------ folders

    /// Every folder, in creation order.
    pub fn folders(&self) -> Result<Vec<FolderRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders ORDER BY rowid"
        ))?;
        let rows = stmt.query_map([], folder_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn folder(&self, uuid: &str) -> Result<Option<FolderRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {FOLDER_COLUMNS} FROM folders WHERE uuid = ?1"),
                params![uuid],
                folder_row,
            )
            .optional()?)
    }

    /// The folder and its ancestors, the folder first.
    pub fn folder_lineage(&self, uuid: &str) -> Result<Vec<FolderRow>> {
        let mut out: Vec<FolderRow> = Vec::new();
        let mut cursor = Some(uuid.to_string());
        while let Some(u) = cursor {
            let Some(row) = self.folder(&u)? else {
                break;
            };
            if out.iter().any(|f| f.uuid == row.uuid) {
                return Err(StoreError::Corrupt("folder cycle".into()));
            }
            cursor = row.parent.clone();
            out.push(row);
        }
        Ok(out)
    }

    fn folder_path_of(&self, uuid: &str) -> Result<FolderPath> {
        let lineage = self.folder_lineage(uuid)?;
        if lineage.is_empty() {
            return Err(StoreError::NotFound(format!("folder {uuid}")));
        }
        Ok(FolderPath(
            lineage.into_iter().rev().map(|f| f.name).collect(),
        ))
    }

    /// Creates a folder under `parent` (top level when None); returns its UUID.
    pub fn create_folder_in(
        &mut self,
        parent: Option<&str>,
        name: &str,
        description: &str,
        client_metadata: Option<&str>,
    ) -> Result<String> {
        let path = match parent {
            Some(p) => self.folder_path_of(p)?.child(name),
            None => FolderPath(vec![name.to_string()]),
        };
        self.tx(|s| {
            s.check_folder_name(name)?;
            if s.folder_uuid(&path)?.is_some() {
                return Err(refused(
                    Rule::FolderNameDuplicate,
                    format!("folder `{path}` already exists"),
                ));
            }
            let uuid = s.next_id("folder")?;
            s.conn.execute(
                "INSERT INTO folders (uuid, parent, name, description, client_metadata)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    uuid,
                    parent.unwrap_or(""),
                    name,
                    description,
                    client_metadata
                ],
            )?;
            Ok(uuid)
        })
    }

    fn check_folder_name(&self, name: &str) -> Result<()> {
        if name.trim().is_empty() || name.contains('/') {
            return Err(refused(
                Rule::InvalidValue,
                format!("`{name}` is not a folder name: it must not be blank or contain `/`"),
            ));
        }
        Ok(())
    }

    /// Renames a folder and changes its description and client metadata; `None` leaves
    /// a field as it is.
    pub fn update_folder(
        &mut self,
        uuid: &str,
        name: Option<&str>,
        description: Option<&str>,
        client_metadata: Option<&str>,
    ) -> Result<()> {
        let path = self.folder_path_of(uuid)?;
        self.tx(|s| {
            if let Some(name) = name
                && name != path.name()
            {
                s.check_folder_name(name)?;
                let sibling = match path.parent() {
                    Some(p) => p.child(name),
                    None => FolderPath(vec![name.to_string()]),
                };
                if s.folder_uuid(&sibling)?.is_some() {
                    return Err(refused(
                        Rule::FolderNameDuplicate,
                        format!("folder `{sibling}` already exists"),
                    ));
                }
                s.conn.execute(
                    "UPDATE folders SET name = ?2 WHERE uuid = ?1",
                    params![uuid, name],
                )?;
            }
            if let Some(d) = description {
                s.conn.execute(
                    "UPDATE folders SET description = ?2 WHERE uuid = ?1",
                    params![uuid, d],
                )?;
            }
            if let Some(m) = client_metadata {
                s.conn.execute(
                    "UPDATE folders SET client_metadata = ?2 WHERE uuid = ?1",
                    params![uuid, m],
                )?;
            }
            Ok(())
        })
    }

    /// Deletes a folder and everything below it.
    pub fn delete_folder_by_uuid(&mut self, uuid: &str) -> Result<()> {
        let path = self.folder_path_of(uuid)?;
        self.delete_folder(&path)
    }

    /// Moves folders under `new_parent` (top level when None): never into themselves or
    /// below themselves, never beside a folder of the same name.
    pub fn move_folders(&mut self, uuids: &[String], new_parent: Option<&str>) -> Result<()> {
        let parent_lineage = match new_parent {
            Some(p) => {
                let lineage = self.folder_lineage(p)?;
                if lineage.is_empty() {
                    return Err(StoreError::NotFound(format!("folder {p}")));
                }
                lineage
            }
            None => Vec::new(),
        };
        self.tx(|s| {
            for uuid in uuids {
                let Some(folder) = s.folder(uuid)? else {
                    return Err(StoreError::NotFound(format!("folder {uuid}")));
                };
                if parent_lineage.iter().any(|f| &f.uuid == uuid) {
                    return Err(refused(
                        Rule::InvalidValue,
                        format!(
                            "folder `{}` cannot be moved into itself or one of its subfolders",
                            folder.name
                        ),
                    ));
                }
                let clash: Option<String> = s
                    .conn
                    .query_row(
                        "SELECT uuid FROM folders WHERE parent = ?1 AND name = ?2 AND uuid <> ?3",
                        params![new_parent.unwrap_or(""), folder.name, uuid],
                        |r| r.get(0),
                    )
                    .optional()?;
                if clash.is_some() {
                    return Err(refused(
                        Rule::FolderNameDuplicate,
                        format!(
                            "a folder named `{}` already exists in the destination",
                            folder.name
                        ),
                    ));
                }
                s.conn.execute(
                    "UPDATE folders SET parent = ?2 WHERE uuid = ?1",
                    params![uuid, new_parent.unwrap_or("")],
                )?;
            }
            Ok(())
        })
    }

    /// Groups with access to a folder, with their role (`user` or `admin`).
    pub fn folder_groups(&self, uuid: &str) -> Result<Vec<(GroupRow, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT g.hash, g.name, g.description, f.role FROM folder_groups f
             JOIN groups g ON g.hash = f.group_hash WHERE f.folder_uuid = ?1 ORDER BY g.name",
        )?;
        let rows = stmt.query_map(params![uuid], |r| {
            Ok((
                GroupRow {
                    hash: r.get(0)?,
                    name: r.get(1)?,
                    description: r.get(2)?,
                },
                r.get(3)?,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_folder_group(&mut self, uuid: &str, group_hash: &str, role: &str) -> Result<()> {
        if !matches!(role, "user" | "admin") {
            return Err(refused(
                Rule::InvalidValue,
                format!("`{role}` is not a folder role (user or admin)"),
            ));
        }
        if self.folder(uuid)?.is_none() {
            return Err(StoreError::NotFound(format!("folder {uuid}")));
        }
        if self.group_by_hash(group_hash)?.is_none() {
            return Err(StoreError::NotFound(format!("group {group_hash}")));
        }
        self.conn.execute(
            "INSERT INTO folder_groups (folder_uuid, group_hash, role) VALUES (?1, ?2, ?3)
             ON CONFLICT(folder_uuid, group_hash) DO UPDATE SET role = excluded.role",
            params![uuid, group_hash, role],
        )?;
        Ok(())
    }

    pub fn remove_folder_group(&mut self, uuid: &str, group_hash: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM folder_groups WHERE folder_uuid = ?1 AND group_hash = ?2",
            params![uuid, group_hash],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_lookups_find_what_the_listings_hold() {
        let mut s = Store::in_memory().expect("store");
        for (email, role) in [
            ("bo@acme.com", OrgRole::Member),
            ("al@acme.com", OrgRole::Admin),
        ] {
            s.add_user(email, role, UserType::Internal, InvitationStatus::Joined)
                .expect("user");
        }
        s.create_group("Team", "").expect("group");
        s.add_group_user("Team", "bo@acme.com", false)
            .expect("member");
        let p1 = s
            .create_resource(ResourceKind::Project, "One", Some("p1"))
            .expect("project");
        let p2 = s
            .create_resource(ResourceKind::Project, "Two", Some("p2"))
            .expect("project");
        s.create_tag("Oncology", "").expect("tag");
        s.create_tag("cardio", "").expect("tag");
        s.assign_tag(&p1, "Oncology").expect("tagged");
        s.assign_tag(&p2, "cardio").expect("tagged");
        s.set_access(
            ResourceKind::Project,
            &p1,
            &Principal::Group("Team".into()),
            "reviewer",
        )
        .expect("group access");
        s.set_access(
            ResourceKind::Project,
            &p2,
            &Principal::User("bo@acme.com".into()),
            "admin",
        )
        .expect("user access");

        assert_eq!(
            s.user_row("BO@acme.com").expect("row").map(|u| u.role),
            Some(OrgRole::Member)
        );
        assert!(s.user_row("nobody@acme.com").expect("row").is_none());
        assert_eq!(
            s.first_admin().expect("admin").as_deref(),
            Some("al@acme.com")
        );
        let team = s.group_by_name("Team").expect("group").expect("exists");
        assert_eq!(
            s.group_by_hash(&team.hash)
                .expect("g")
                .map(|g| g.name)
                .as_deref(),
            Some("Team")
        );
        let tag = &s.tags().expect("tags")[0];
        assert_eq!(
            s.tag_by_uuid(&tag.uuid).expect("t").map(|t| t.name),
            Some(tag.name.clone())
        );
        // Tag names match ignoring case, as everywhere on the platform.
        let tagged = s.projects_tagged(&["oncology", "CARDIO"]).expect("tagged");
        assert_eq!(tagged, ["p1".to_string(), "p2".to_string()].into());
        assert_eq!(s.projects_tagged(&["none"]).expect("none").len(), 0);
        let held = s
            .roles_held(
                ResourceKind::Project,
                &[
                    Principal::User("bo@acme.com".into()),
                    Principal::Group("Team".into()),
                ],
            )
            .expect("held");
        assert_eq!(held.get("p1"), Some(&vec!["reviewer".to_string()]));
        assert_eq!(held.get("p2"), Some(&vec!["admin".to_string()]));
        assert!(s.is_member("Team", "Bo@acme.com").expect("member"));
        assert!(!s.is_member("Team", "al@acme.com").expect("not a member"));
        assert!(!s.is_member("Nobody", "bo@acme.com").expect("no group"));
    }
}
