//! Writing: each operation is one call, or one per batch where the API takes a list
//! (group members added or removed, users removed from a project or dataset, groups
//! given one role on a resource); a remove + re-add is two. Every write can tell
//! whether it is already done by reading the object back, so a try whose answer was
//! lost is recognised, never repeated (see [`Client::write`]).
//!
//! Assumption (not observable in the SDK): adding a group to a resource it already has
//! access to sets the group's role, as the sandbox server does.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::client::{Client, Failure, Request, encode, parse};
use super::read::{self, FOLDER_PAGE, Ids, access_of, plural, text};
use crate::encord::{metadata, wire};
use crate::model::{FolderPath, MetadataType, OrgRole, Principal, ResourceKind, UserType};
use crate::plan::op::renamed_folder;
use crate::plan::{AccessRole, BatchKey, Op, ResourceId};
use crate::provider::{ErrorClass, ProviderError};

/// What a write needs: the client and the platform ids of named objects.
pub struct Writer<'a> {
    pub client: &'a Client,
    pub ids: &'a mut Ids,
}

fn unsupported(op: &Op) -> ProviderError {
    ProviderError::new(
        ErrorClass::Unsupported,
        format!(
            "{} {}: Encord's public API cannot do this; it is a manual step in the web app",
            op.kind(),
            op.key()
        ),
    )
}

fn other(message: String) -> ProviderError {
    ProviderError::new(ErrorClass::Other, message)
}

impl Writer<'_> {
    /// Performs one operation; `maybe_done`: an earlier try may have made it.
    pub async fn apply(&mut self, op: &Op, maybe_done: bool) -> Result<(), Failure> {
        let c = self.client;
        let fail = |error: ProviderError| Failure {
            error,
            maybe_done: false,
        };
        match op {
            Op::InviteUser {
                email,
                role,
                user_type,
            } => {
                if *user_type == UserType::Workforce {
                    return Err(fail(unsupported(op)));
                }
                self.add_user(email, *role, *user_type, maybe_done).await
            }
            Op::RemoveUser { email, .. } => self.remove_user(email, maybe_done).await,
            Op::ReplaceUser {
                email,
                role,
                user_type,
                ..
            } => {
                if *user_type == UserType::Workforce {
                    return Err(fail(unsupported(op)));
                }
                let now = user(c, email).await.map_err(fail)?;
                if now == Some((*role, *user_type)) {
                    return Ok(());
                }
                if now.is_some() {
                    self.remove_user(email, maybe_done).await?;
                }
                self.add_user(email, *role, *user_type, maybe_done).await
            }
            Op::CreateGroup { name, description } => {
                let body = json!({"name": name, "description": description});
                let req = Request::json(
                    Method::POST,
                    "organisation/groups",
                    "organisation/groups".into(),
                    &body,
                );
                let done = async || Ok(group_named(c, name).await?.is_some());
                if let Some(answer) = c.write(&req, maybe_done, done).await? {
                    let group = parse(&answer, &req).map_err(fail)?;
                    let hash = text(&group, "groupHash", "organisation/groups").map_err(fail)?;
                    self.ids.groups.insert(name.clone(), hash);
                } else if let Some(hash) = group_named(c, name).await.map_err(fail)? {
                    self.ids.groups.insert(name.clone(), hash);
                }
                Ok(())
            }
            Op::RenameGroup { from, to } => {
                let hash = self.group(from).await.map_err(fail)?;
                self.patch_group(&hash, json!({"name": to}), maybe_done, "name", to)
                    .await?;
                self.ids.groups.remove(from);
                self.ids.groups.insert(to.clone(), hash);
                Ok(())
            }
            Op::SetGroupDescription { name, to, .. } => {
                let hash = self.group(name).await.map_err(fail)?;
                self.patch_group(
                    &hash,
                    json!({"description": to}),
                    maybe_done,
                    "description",
                    to,
                )
                .await
            }
            Op::DeleteGroup { name, .. } => {
                let hash = self.group(name).await.map_err(fail)?;
                let path = format!("organisation/groups/{}", encode(&hash));
                let req =
                    Request::bare(Method::DELETE, "organisation/groups/{group}", path.clone());
                let done = async || gone(c, "organisation/groups/{group}", &path).await;
                c.write(&req, maybe_done, done).await?;
                self.ids.groups.remove(name);
                Ok(())
            }
            Op::AddGroupMember { group, email } => {
                self.group_members(group, std::slice::from_ref(email), true, maybe_done)
                    .await
            }
            Op::RemoveGroupMember { group, email } => {
                self.group_members(group, std::slice::from_ref(email), false, maybe_done)
                    .await
            }
            Op::CreateTag { name, description } => {
                let body = json!({"name": name, "description": description});
                let req = Request::json(Method::POST, read::TAGS, read::TAGS.into(), &body);
                let done = async || Ok(tag_named(c, name).await?.is_some());
                if let Some(answer) = c.write(&req, maybe_done, done).await? {
                    let tag = parse(&answer, &req).map_err(fail)?;
                    let uuid = text(&tag, "uuid", read::TAGS).map_err(fail)?;
                    self.ids.tags.insert(name.clone(), uuid);
                } else if let Some(uuid) = tag_named(c, name).await.map_err(fail)? {
                    self.ids.tags.insert(name.clone(), uuid);
                }
                Ok(())
            }
            Op::DeleteTag { name, .. } => {
                let uuid = self.tag(name).await.map_err(fail)?;
                let path = format!("{}/{}", read::TAGS, encode(&uuid));
                let req =
                    Request::bare(Method::DELETE, "organisation/organisation-tags/{tag}", path);
                let done = async || Ok(tag_named(c, name).await?.is_none());
                c.write(&req, maybe_done, done).await?;
                self.ids.tags.remove(name);
                Ok(())
            }
            Op::AssignTag { project, tag } | Op::UnassignTag { project, tag } => {
                let assign = matches!(op, Op::AssignTag { .. });
                let uuid = self.tag(tag).await.map_err(fail)?;
                let path = format!("projects/{}/tags/{}", encode(&project.hash), encode(&uuid));
                let method = if assign { Method::PUT } else { Method::DELETE };
                let req = Request::bare(method, "projects/{project}/tags/{tag}", path);
                let done = async || {
                    let tags = project_tags(c, &project.hash).await?;
                    Ok(tags.contains(tag) == assign)
                };
                c.write(&req, maybe_done, done).await?;
                Ok(())
            }
            Op::CreateMetadataKey { key, ty } => {
                self.metadata(key, None, Some(ty), maybe_done).await
            }
            Op::RetypeMetadataKey { key, from, to } => {
                self.metadata(key, Some(from), Some(to), maybe_done).await
            }
            Op::DeleteMetadataKey { key, ty } => {
                self.metadata(key, Some(ty), None, maybe_done).await
            }
            Op::CreateFolder { path, description } => {
                self.create_folder(path, description, maybe_done).await
            }
            Op::RenameFolder { path, to } => {
                let uuid = self.folder(path).await.map_err(fail)?;
                self.patch_folder(&uuid, json!({"name": to}), "name", to, maybe_done)
                    .await?;
                let new = renamed_folder(path, to);
                let moved: Vec<(FolderPath, String)> = self
                    .ids
                    .folders
                    .iter()
                    .filter(|(p, _)| p.starts_with(path))
                    .map(|(p, u)| (p.clone(), u.clone()))
                    .collect();
                for (old, u) in moved {
                    self.ids.folders.remove(&old);
                    let mut names = new.0.clone();
                    names.extend(old.0[path.depth()..].iter().cloned());
                    self.ids.folders.insert(FolderPath(names), u);
                }
                Ok(())
            }
            Op::SetFolderDescription { path, to, .. } => {
                let uuid = self.folder(path).await.map_err(fail)?;
                self.patch_folder(
                    &uuid,
                    json!({"description": to}),
                    "description",
                    to,
                    maybe_done,
                )
                .await
            }
            Op::DeleteFolder { path, .. } => {
                let uuid = self.folder(path).await.map_err(fail)?;
                let at = format!("storage/folders/{}", encode(&uuid));
                let req = Request::bare(Method::DELETE, "storage/folders/{folder}", at.clone());
                let done = async || gone(c, "storage/folders/{folder}", &at).await;
                c.write(&req, maybe_done, done).await?;
                self.ids.folders.retain(|p, _| !p.starts_with(path));
                Ok(())
            }
            Op::GrantAccess {
                resource,
                principal,
                role,
            } => match principal {
                Principal::User(email) => {
                    if resource.kind == ResourceKind::Ontology {
                        return Err(fail(unsupported(op)));
                    }
                    self.add_resource_user(resource, email, *role, maybe_done)
                        .await
                }
                Principal::Group(g) => {
                    self.grant_groups(resource, std::slice::from_ref(g), *role, maybe_done)
                        .await
                }
            },
            Op::SetAccessRole {
                resource,
                principal: Principal::Group(g),
                to,
                ..
            } => {
                self.grant_groups(resource, std::slice::from_ref(g), *to, maybe_done)
                    .await
            }
            Op::ReplaceAccess {
                resource,
                principal: Principal::User(email),
                to,
                ..
            } if resource.kind != ResourceKind::Ontology => {
                let now = access_of(c, resource.kind, &resource.hash)
                    .await
                    .map_err(fail)?;
                let who = Principal::User(email.clone());
                match now.iter().find(|(p, _)| *p == who).map(|(_, r)| *r) {
                    Some(r) if r == *to => return Ok(()),
                    Some(_) => {
                        self.remove_resource_users(
                            resource,
                            std::slice::from_ref(email),
                            maybe_done,
                        )
                        .await?
                    }
                    None => {}
                }
                self.add_resource_user(resource, email, *to, maybe_done)
                    .await
            }
            Op::RemoveAccess {
                resource,
                principal,
                ..
            } => match principal {
                Principal::User(email) => {
                    if resource.kind == ResourceKind::Ontology {
                        return Err(fail(unsupported(op)));
                    }
                    self.remove_resource_users(resource, std::slice::from_ref(email), maybe_done)
                        .await
                }
                Principal::Group(g) => self.remove_group(resource, g, maybe_done).await,
            },
            Op::SetOrgRole { .. }
            | Op::AddGroupManager { .. }
            | Op::RemoveGroupManager { .. }
            | Op::RenameTag { .. }
            | Op::SetTagDescription { .. }
            | Op::SetAccessRole { .. }
            | Op::ReplaceAccess { .. }
            | Op::Manual { .. } => Err(fail(unsupported(op))),
        }
    }

    /// Performs a batch (all of one [`BatchKey`]) in one call.
    pub async fn apply_batch(
        &mut self,
        key: &BatchKey,
        ops: &[Op],
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let emails = || -> Vec<String> {
            ops.iter()
                .filter_map(|op| match op {
                    Op::AddGroupMember { email, .. }
                    | Op::RemoveGroupMember { email, .. }
                    | Op::RemoveAccess {
                        principal: Principal::User(email),
                        ..
                    } => Some(email.clone()),
                    _ => None,
                })
                .collect()
        };
        let resource = ops.iter().find_map(|op| match op {
            Op::RemoveAccess { resource, .. } | Op::GrantAccess { resource, .. } => {
                Some(resource.clone())
            }
            _ => None,
        });
        match (key, resource) {
            (BatchKey::AddGroupMembers(group), _) => {
                self.group_members(group, &emails(), true, maybe_done).await
            }
            (BatchKey::RemoveGroupMembers(group), _) => {
                self.group_members(group, &emails(), false, maybe_done)
                    .await
            }
            (BatchKey::RemoveProjectUsers(_) | BatchKey::RemoveDatasetUsers(_), Some(resource)) => {
                self.remove_resource_users(&resource, &emails(), maybe_done)
                    .await
            }
            (BatchKey::GrantGroups(_, _, role), Some(resource)) => {
                let groups: Vec<String> = ops
                    .iter()
                    .filter_map(|op| match op {
                        Op::GrantAccess {
                            principal: Principal::Group(g),
                            ..
                        } => Some(g.clone()),
                        _ => None,
                    })
                    .collect();
                self.grant_groups(&resource, &groups, *role, maybe_done)
                    .await
            }
            _ => Err(Failure {
                error: other(format!("cannot batch {key:?}")),
                maybe_done: false,
            }),
        }
    }

    async fn add_user(
        &self,
        email: &str,
        role: OrgRole,
        user_type: UserType,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let body = json!({
            "email": email,
            "roleMnemonicName": wire::org_role_name(role),
            "memberType": user_type.to_string(),
        });
        let req = Request::json(Method::POST, read::USERS, read::USERS.into(), &body);
        let done = async || Ok(user(c, email).await? == Some((role, user_type)));
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn remove_user(&self, email: &str, maybe_done: bool) -> Result<(), Failure> {
        let c = self.client;
        let path = format!("{}/{}", read::USERS, encode(email));
        let req = Request::bare(Method::DELETE, "organisation/users/{email}", path);
        let done = async || Ok(user(c, email).await?.is_none());
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn patch_group(
        &self,
        hash: &str,
        body: Value,
        maybe_done: bool,
        field: &str,
        want: &str,
    ) -> Result<(), Failure> {
        let path = format!("organisation/groups/{}", encode(hash));
        self.patch_checked(
            "organisation/groups/{group}",
            path,
            body,
            field,
            want,
            maybe_done,
        )
        .await
    }

    /// PATCHes the object at `path`; a write whose answer was lost counts as done when
    /// the object now reads `field: want`.
    async fn patch_checked(
        &self,
        endpoint: &'static str,
        path: String,
        body: Value,
        field: &str,
        want: &str,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let req = Request::json(Method::PATCH, endpoint, path.clone(), &body);
        let done = async || {
            let object = c.read_json(&Request::get(endpoint, path.clone())).await?;
            Ok(object.get(field).and_then(Value::as_str) == Some(want))
        };
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn group_members(
        &mut self,
        group: &str,
        emails: &[String],
        add: bool,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let hash = self.group(group).await.map_err(|error| Failure {
            error,
            maybe_done: false,
        })?;
        let base = format!("organisation/groups/{}/users", encode(&hash));
        let (endpoint, path) = if add {
            (read::MEMBERS, base.clone())
        } else {
            (
                "organisation/groups/{group}/users/bulk-delete",
                format!("{base}/bulk-delete"),
            )
        };
        let req = Request::json(Method::POST, endpoint, path, &json!({"userEmails": emails}));
        let done = async || {
            let members = c.pages(read::MEMBERS, base.clone()).await?;
            let now: BTreeSet<String> = members
                .iter()
                .filter_map(|m| m.get("userEmail").and_then(Value::as_str))
                .map(crate::model::email::normalize)
                .collect();
            Ok(emails.iter().all(|e| now.contains(e) == add))
        };
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn add_resource_user(
        &self,
        resource: &ResourceId,
        email: &str,
        role: AccessRole,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let (query_type, resource_type) = match resource.kind {
            ResourceKind::Project => ("projectusers", "project"),
            _ => ("datasetusers", "dataset"),
        };
        let body = json!({
            "query_type": query_type,
            "query_method": "POST",
            "values": {
                "uid": resource.hash,
                "payload": {"user_emails": [email], "user_role": wire::role_number(role)},
            },
        });
        let mut req = Request::json(Method::POST, "/public", String::new(), &body);
        req.v1 = Some((resource_type, resource.hash.clone()));
        let who = Principal::User(email.to_string());
        let done = async || {
            let now = access_of(c, resource.kind, &resource.hash).await?;
            Ok(now.contains(&(who.clone(), role)))
        };
        let Some(answer) = c.write(&req, maybe_done, done).await? else {
            return Ok(());
        };
        // A user already there keeps their role: the answer shows which they hold.
        let held = parse(&answer, &req)
            .ok()
            .and_then(|v| v.get("response").cloned())
            .and_then(|r| r.as_array().cloned())
            .and_then(|list| {
                list.iter()
                    .find(|e| e.get("user_email").and_then(Value::as_str) == Some(email))
                    .and_then(|e| e.get("user_role").and_then(Value::as_u64))
            });
        match held.and_then(|n| wire::role_of(resource.kind, n)) {
            Some(r) if r != role => Err(Failure {
                error: ProviderError::new(
                    ErrorClass::AlreadyExists,
                    format!(
                        "`{email}` already has the role {r} on {} `{}`, not {role}: the platform keeps an existing role",
                        resource.kind, resource.title
                    ),
                ),
                maybe_done: false,
            }),
            _ => Ok(()),
        }
    }

    async fn remove_resource_users(
        &self,
        resource: &ResourceId,
        emails: &[String],
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let endpoint = match resource.kind {
            ResourceKind::Project => "projects/{project}/users/bulk-delete",
            _ => "datasets/{dataset}/users/bulk-delete",
        };
        let path = format!(
            "{}/{}/users/bulk-delete",
            plural(resource.kind),
            encode(&resource.hash)
        );
        let req = Request::json(Method::POST, endpoint, path, &json!({"userEmails": emails}));
        let done = async || {
            let now = access_of(c, resource.kind, &resource.hash).await?;
            Ok(!now
                .iter()
                .any(|(p, _)| matches!(p, Principal::User(e) if emails.contains(e))))
        };
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn grant_groups(
        &mut self,
        resource: &ResourceId,
        groups: &[String],
        role: AccessRole,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let mut hashes = Vec::new();
        for g in groups {
            hashes.push(self.group(g).await.map_err(|error| Failure {
                error,
                maybe_done: false,
            })?);
        }
        let (_, endpoint) = read::endpoints(resource.kind);
        let path = format!(
            "{}/{}/groups",
            plural(resource.kind),
            encode(&resource.hash)
        );
        let body = json!({"groupHashList": hashes, "userRole": wire::role_number(role)});
        let req = Request::json(Method::POST, endpoint, path, &body);
        let done = async || {
            let now = access_of(c, resource.kind, &resource.hash).await?;
            Ok(groups
                .iter()
                .all(|g| now.contains(&(Principal::Group(g.clone()), role))))
        };
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn remove_group(
        &mut self,
        resource: &ResourceId,
        group: &str,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let hash = self.group(group).await.map_err(|error| Failure {
            error,
            maybe_done: false,
        })?;
        let (_, endpoint) = read::endpoints(resource.kind);
        let path = format!(
            "{}/{}/groups?groupHashList={}",
            plural(resource.kind),
            encode(&resource.hash),
            encode(&hash)
        );
        let req = Request::bare(Method::DELETE, endpoint, path);
        let who = Principal::Group(group.to_string());
        let done = async || {
            let now = access_of(c, resource.kind, &resource.hash).await?;
            Ok(!now.iter().any(|(p, _)| *p == who))
        };
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    /// SPEC §7.7: the POST replaces the whole schema, so the live one is read right
    /// before it and sent back with only this key changed (unmanaged keys, unmodelled
    /// attributes and tombstones pass through); deleting writes a soft tombstone. If the
    /// key is no longer as the plan saw it, nothing is written.
    async fn metadata(
        &self,
        key: &str,
        from: Option<&MetadataType>,
        to: Option<&MetadataType>,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let fail = |error: ProviderError| Failure {
            error,
            maybe_done: false,
        };
        let mut schema = schema(c).await.map_err(fail)?;
        let current = schema.get(key).and_then(metadata::modelled);
        if current.as_ref() == to {
            return Ok(());
        }
        if current.as_ref() != from {
            let shown =
                |t: Option<&MetadataType>| t.map_or("absent".to_string(), |t| t.to_string());
            return Err(fail(other(format!(
                "metadata key `{key}` changed since the plan was made (it is {}, the plan expected {}): nothing was written; run `orgform plan` again",
                shown(current.as_ref()),
                shown(from)
            ))));
        }
        let entry = match to {
            Some(ty) => metadata::entry_of(ty),
            None => {
                json!({"ty": "tombstone", "deleted_ty": schema.get(key).cloned().unwrap_or(Value::Null)})
            }
        };
        schema.insert(key.to_string(), entry);
        let req = Request::json(
            Method::POST,
            read::SCHEMA,
            read::SCHEMA.into(),
            &Value::Object(schema),
        );
        let done = async || {
            let now = schema_of(c).await?;
            Ok(now.get(key).and_then(metadata::modelled).as_ref() == to)
        };
        c.write(&req, maybe_done, done).await?;
        Ok(())
    }

    async fn create_folder(
        &mut self,
        path: &FolderPath,
        description: &str,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let c = self.client;
        let fail = |error: ProviderError| Failure {
            error,
            maybe_done: false,
        };
        let parent = match path.parent() {
            Some(p) => Some(self.folder(&p).await.map_err(fail)?),
            None => None,
        };
        let mut body = Map::new();
        body.insert("name".into(), json!(path.name()));
        body.insert("description".into(), json!(description));
        if let Some(p) = &parent {
            body.insert("parent".into(), json!(p));
        }
        let req = Request::json(
            Method::POST,
            read::FOLDERS,
            read::FOLDERS.into(),
            &Value::Object(body),
        );
        let name = path.name();
        let done = async || Ok(child_named(c, parent.as_deref(), name).await?.is_some());
        let uuid = match c.write(&req, maybe_done, done).await? {
            Some(answer) => {
                let folder = parse(&answer, &req).map_err(fail)?;
                Some(text(&folder, "uuid", read::FOLDERS).map_err(fail)?)
            }
            None => child_named(c, parent.as_deref(), name)
                .await
                .map_err(fail)?,
        };
        if let Some(uuid) = uuid {
            self.ids.folders.insert(path.clone(), uuid);
        }
        Ok(())
    }

    async fn patch_folder(
        &self,
        uuid: &str,
        body: Value,
        field: &str,
        want: &str,
        maybe_done: bool,
    ) -> Result<(), Failure> {
        let path = format!("storage/folders/{}", encode(uuid));
        self.patch_checked(
            "storage/folders/{folder}",
            path,
            body,
            field,
            want,
            maybe_done,
        )
        .await
    }

    /// A group's hash by name, listing the groups again when it is not known yet.
    async fn group(&mut self, name: &str) -> Result<String, ProviderError> {
        if let Some(hash) = self.ids.groups.get(name) {
            return Ok(hash.clone());
        }
        let hash = group_named(self.client, name).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                format!("group `{name}` does not exist"),
            )
        })?;
        self.ids.groups.insert(name.to_string(), hash.clone());
        Ok(hash)
    }

    async fn tag(&mut self, name: &str) -> Result<String, ProviderError> {
        if let Some(uuid) = self.ids.tags.get(name) {
            return Ok(uuid.clone());
        }
        let uuid = tag_named(self.client, name).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                format!("project tag `{name}` does not exist"),
            )
        })?;
        self.ids.tags.insert(name.to_string(), uuid.clone());
        Ok(uuid)
    }

    async fn folder(&mut self, path: &FolderPath) -> Result<String, ProviderError> {
        if let Some(uuid) = self.ids.folders.get(path) {
            return Ok(uuid.clone());
        }
        self.ids.folders = read::folder_ids(self.client).await?;
        self.ids.folders.get(path).cloned().ok_or_else(|| {
            ProviderError::new(
                ErrorClass::NotFound,
                format!("folder `{path}` does not exist"),
            )
        })
    }
}

/// A user's role and type, or `None` when not in the org.
async fn user(c: &Client, email: &str) -> Result<Option<(OrgRole, UserType)>, ProviderError> {
    let users = c
        .pages_of::<read::UserItem>(read::USERS, read::USERS.into())
        .await?;
    Ok(users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .and_then(|u| wire::org_role(&u.role).zip(wire::user_type(&u.member_type))))
}

async fn group_named(c: &Client, name: &str) -> Result<Option<String>, ProviderError> {
    let groups = c.pages(read::GROUPS, read::GROUPS.into()).await?;
    Ok(groups
        .iter()
        .find(|g| g.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|g| g.get("groupHash").and_then(Value::as_str))
        .map(str::to_string))
}

async fn tag_named(c: &Client, name: &str) -> Result<Option<String>, ProviderError> {
    let tags = c.pages(read::TAGS, read::TAGS.into()).await?;
    Ok(tags
        .iter()
        .find(|t| {
            t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.to_lowercase() == name.to_lowercase())
        })
        .and_then(|t| t.get("uuid").and_then(Value::as_str))
        .map(str::to_string))
}

async fn project_tags(c: &Client, project: &str) -> Result<BTreeSet<String>, ProviderError> {
    let path = read::PROJECT_TAGS.replace("{project}", &encode(project));
    let tags = c.pages(read::PROJECT_TAGS, path).await?;
    Ok(tags
        .iter()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect())
}

/// Whether an object's GET answers 404.
async fn gone(c: &Client, endpoint: &'static str, path: &str) -> Result<bool, ProviderError> {
    match c.read(&Request::get(endpoint, path.to_string())).await {
        Ok(_) => Ok(false),
        Err(e) if e.class == ErrorClass::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

async fn schema(c: &Client) -> Result<Map<String, Value>, ProviderError> {
    schema_of(c).await
}

async fn schema_of(c: &Client) -> Result<Map<String, Value>, ProviderError> {
    let req = Request::get(read::SCHEMA, read::SCHEMA.into());
    match c.read_json(&req).await? {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(super::client::unexpected(
            &req,
            "a schema that is not an object",
        )),
    }
}

/// The uuid of the folder `name` directly under `parent` (the top level for `None`).
async fn child_named(
    c: &Client,
    parent: Option<&str>,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    let query = format!(
        "isRecursive=False&includeOrgAccess=True&order=name&desc=False&pageSize={FOLDER_PAGE}"
    );
    let (endpoint, path) = match parent {
        Some(p) => (
            "storage/folders/{folder}/folders",
            format!("storage/folders/{}/folders?{query}", encode(p)),
        ),
        None => (read::FOLDERS, format!("{}?{query}", read::FOLDERS)),
    };
    let list = c.pages(endpoint, path).await?;
    Ok(list
        .iter()
        .find(|f| f.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|f| f.get("uuid").and_then(Value::as_str))
        .map(str::to_string))
}
