//! What a caller may see and change (SPEC §7.13): org admins everything orgform does;
//! other users nothing org-wide (users, groups, tags, metadata schema) and only the
//! Projects, Datasets, Ontologies and folders on which they are admin, directly or
//! through a group.

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::model::{OrgRole, Principal, ResourceKind};
use crate::sandbox::store::{ResourceRow, Store};

pub fn is_org_admin(store: &Store, caller: &Caller) -> ApiResult<bool> {
    Ok(store
        .user_row(&caller.email)?
        .is_some_and(|u| u.role == OrgRole::Admin))
}

pub fn org_admin(store: &Store, caller: &Caller) -> ApiResult<()> {
    if is_org_admin(store, caller)? {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} is not an organisation admin: only admins may read or change the organisation's users, groups, tags and metadata schema",
            caller.email
        )))
    }
}

/// The caller's own role on a resource (manifest name), directly or through a group;
/// the highest when several. Membership is looked up per group entry by key: a listing
/// asks this for many resources, and the caller's groups would cost a scan each time.
pub fn role_on(
    store: &Store,
    caller: &Caller,
    kind: ResourceKind,
    hash: &str,
) -> ApiResult<Option<String>> {
    let mut roles = Vec::new();
    for (who, role) in store.access_of(kind, hash)? {
        let mine = match &who {
            Principal::User(e) => *e == caller.email,
            Principal::Group(g) => store.is_member(g, &caller.email)?,
        };
        if mine {
            roles.push(role);
        }
    }
    Ok(best(kind, roles))
}

/// The caller's own role on every resource of a kind that they have one on, by hash.
pub fn roles_on_all(
    store: &Store,
    caller: &Caller,
    kind: ResourceKind,
) -> ApiResult<std::collections::HashMap<String, String>> {
    let mut mine = vec![Principal::User(caller.email.clone())];
    mine.extend(
        store
            .groups_of(&caller.email)?
            .into_iter()
            .map(Principal::Group),
    );
    Ok(store
        .roles_held(kind, &mine)?
        .into_iter()
        .filter_map(|(hash, roles)| Some((hash, best(kind, roles)?)))
        .collect())
}

fn rank(kind: ResourceKind, role: &str) -> u8 {
    let quoted = serde_json::Value::String(role.to_string());
    match kind {
        ResourceKind::Project => serde_json::from_value::<crate::model::ProjectRole>(quoted)
            .map(|r| r.rank())
            .unwrap_or(0),
        _ => serde_json::from_value::<crate::model::ResourceRole>(quoted)
            .map(|r| r.rank())
            .unwrap_or(0),
    }
}

fn best(kind: ResourceKind, roles: Vec<String>) -> Option<String> {
    roles.into_iter().max_by_key(|r| rank(kind, r))
}

/// The resource, if the caller may see and change it: 404 when there is none, 403 when
/// the caller is neither org admin nor its admin.
pub fn resource_admin(
    store: &Store,
    caller: &Caller,
    kind: ResourceKind,
    hash: &str,
) -> ApiResult<ResourceRow> {
    let row = store
        .resource(kind, hash)?
        .ok_or_else(|| ApiError::not_found(format!("{kind} {hash} does not exist")))?;
    if is_org_admin(store, caller)?
        || role_on(store, caller, kind, hash)?.as_deref() == Some("admin")
    {
        Ok(row)
    } else {
        Err(ApiError::forbidden(format!(
            "{} is not an admin of {kind} {hash}",
            caller.email
        )))
    }
}

/// The caller's role on a folder through their groups, inherited from its ancestors.
pub fn folder_role(store: &Store, caller: &Caller, uuid: &str) -> ApiResult<Option<String>> {
    if is_org_admin(store, caller)? {
        return Ok(Some("admin".into()));
    }
    let groups = store.groups_of(&caller.email)?;
    let mut role: Option<String> = None;
    for folder in store.folder_lineage(uuid)? {
        for (group, r) in store.folder_groups(&folder.uuid)? {
            if groups.contains(&group.name) && role.as_deref() != Some("admin") {
                role = Some(r);
            }
        }
    }
    Ok(role)
}

pub fn folder_admin(store: &Store, caller: &Caller, uuid: &str) -> ApiResult<()> {
    if store.folder(uuid)?.is_none() {
        return Err(ApiError::not_found(format!("folder {uuid} does not exist")));
    }
    match folder_role(store, caller, uuid)?.as_deref() {
        Some("admin") => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "{} is not an admin of folder {uuid}",
            caller.email
        ))),
    }
}
