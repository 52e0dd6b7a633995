//! Storage folders (encord-api.md §5.5) and their group access (§5.6). The sandbox's
//! folders have no items, back no datasets and carry no tags: `datasetSynced=True` and
//! `organisationTagNamesAllof` therefore match nothing.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::org::{body, group_json};
use super::pages::{Query, page};
use super::permissions::{folder_admin, folder_role, is_org_admin};
use super::{SANDBOX_TIME, Shared};
use crate::sandbox::store::{FolderRow, Store};

/// The org's first admin stands in as every folder's owner (the sandbox keeps none).
pub fn owner(store: &Store) -> ApiResult<String> {
    Ok(store.first_admin()?.unwrap_or_default())
}

fn folder_json(store: &Store, f: &FolderRow, role: &str, owner: &str) -> ApiResult<Value> {
    let path: Vec<Value> = store
        .folder_lineage(&f.uuid)?
        .iter()
        .map(|p| {
            json!({
                "uuid": p.uuid,
                "parentUuid": p.parent,
                "name": p.name,
                "syncedDatasetHash": null,
            })
        })
        .collect();
    Ok(json!({
        "uuid": f.uuid,
        "parent": f.parent,
        "name": f.name,
        "description": f.description,
        "clientMetadata": f.client_metadata,
        "owner": owner,
        "createdAt": SANDBOX_TIME,
        "lastEditedAt": SANDBOX_TIME,
        "userRole": role,
        "syncedDatasetHash": null,
        "pathToRoot": path,
        "folderType": "GENERIC",
        "integrationHash": null,
        "remoteUrl": null,
    }))
}

fn one(store: &Store, caller: &Caller, uuid: &str) -> ApiResult<Value> {
    let folder = store
        .folder(uuid)?
        .ok_or_else(|| ApiError::not_found(format!("folder {uuid} does not exist")))?;
    let role = folder_role(store, caller, uuid)?.ok_or_else(|| {
        ApiError::forbidden(format!("folder {uuid} is not shared with {}", caller.email))
    })?;
    folder_json(store, &folder, &role, &owner(store)?)
}

/// Which folders a listing starts from.
enum Scope<'a> {
    TopLevel,
    Below(&'a str),
    Everywhere,
}

fn listing(
    app: &Shared,
    caller: &Caller,
    scope: Scope<'_>,
    raw: Option<&str>,
) -> ApiResult<Json<Value>> {
    let q = Query::parse(raw);
    let store = app.store();
    let recursive = q.flag("isRecursive")?.unwrap_or(false);
    let all = store.folders()?;
    let lineage_has = |f: &FolderRow, uuid: &str| -> ApiResult<bool> {
        Ok(store
            .folder_lineage(&f.uuid)?
            .iter()
            .skip(1)
            .any(|a| a.uuid == uuid))
    };
    let mut chosen: Vec<&FolderRow> = Vec::new();
    for f in &all {
        let inside = match &scope {
            Scope::Everywhere => true,
            Scope::TopLevel => recursive || f.parent.is_none(),
            Scope::Below(uuid) if recursive => lineage_has(f, uuid)?,
            Scope::Below(uuid) => f.parent.as_deref() == Some(*uuid),
        };
        if inside {
            chosen.push(f);
        }
    }
    if let Some(search) = q.get("search") {
        let search = search.to_lowercase();
        chosen.retain(|f| f.name.to_lowercase().contains(&search));
    }
    if q.flag("datasetSynced")? == Some(true) || !q.all("organisationTagNamesAllof").is_empty() {
        chosen.clear();
    }
    match q.get("order").unwrap_or("name") {
        "name" => chosen.sort_by(|a, b| a.name.cmp(&b.name).then(a.seq.cmp(&b.seq))),
        "createdAt" => chosen.sort_by_key(|f| f.seq),
        other => {
            return Err(ApiError::bad_request(format!(
                "order `{other}` is not supported: name or createdAt"
            )));
        }
    }
    if q.flag("desc")?.unwrap_or(false) {
        chosen.reverse();
    }
    let owner = owner(&store)?;
    let mut out = Vec::new();
    for f in chosen {
        // Only folders shared with the caller (every folder, for an org admin).
        if let Some(role) = folder_role(&store, caller, &f.uuid)? {
            out.push(folder_json(&store, f, &role, &owner)?);
        }
    }
    page(out, &q, app.settings.page_size_max)
}

pub async fn list_top(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    listing(&app, &caller, Scope::TopLevel, q.as_deref())
}

pub async fn list_children(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    one(&app.store(), &caller, &uuid)?;
    listing(&app, &caller, Scope::Below(&uuid), q.as_deref())
}

pub async fn search(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    listing(&app, &caller, Scope::Everywhere, q.as_deref())
}

pub async fn get(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(one(&app.store(), &caller, &uuid)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewFolder {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    /// A JSON-encoded object, as the SDK sends it on create.
    #[serde(default)]
    client_metadata: Option<String>,
}

fn metadata_text(value: &Value) -> ApiResult<String> {
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "clientMetadata must be a JSON object",
        ));
    }
    Ok(value.to_string())
}

pub async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let new: NewFolder = body(&bytes)?;
    let metadata = match &new.client_metadata {
        Some(text) => {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("clientMetadata is not JSON: {e}")))?;
            Some(metadata_text(&value)?)
        }
        None => None,
    };
    let mut store = app.store();
    match &new.parent {
        Some(parent) => folder_admin(&store, &caller, parent)?,
        None if is_org_admin(&store, &caller)? => {}
        None => {
            return Err(ApiError::forbidden(format!(
                "{} may not create top-level folders: only organisation admins may",
                caller.email
            )));
        }
    }
    let uuid = store.create_folder_in(
        new.parent.as_deref(),
        &new.name,
        new.description.as_deref().unwrap_or_default(),
        metadata.as_deref(),
    )?;
    Ok(Json(one(&store, &caller, &uuid)?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FolderPatch {
    name: Option<String>,
    description: Option<String>,
    /// A JSON object here (not a string, unlike on create).
    client_metadata: Option<Value>,
}

fn apply_patch(
    store: &mut Store,
    caller: &Caller,
    uuid: &str,
    patch: &FolderPatch,
) -> ApiResult<()> {
    folder_admin(store, caller, uuid)?;
    let metadata = patch
        .client_metadata
        .as_ref()
        .map(metadata_text)
        .transpose()?;
    store.update_folder(
        uuid,
        patch.name.as_deref(),
        patch.description.as_deref(),
        metadata.as_deref(),
    )?;
    Ok(())
}

pub async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    // The SDK sends nothing when every field is None.
    let patch: FolderPatch = if bytes.is_empty() {
        FolderPatch::default()
    } else {
        body(&bytes)?
    };
    let mut store = app.store();
    apply_patch(&mut store, &caller, &uuid, &patch)?;
    Ok(Json(one(&store, &caller, &uuid)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkPatch {
    folder_patches: BTreeMap<String, FolderPatch>,
}

pub async fn patch_bulk(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let bulk: BulkPatch = body(&bytes)?;
    let mut store = app.store();
    for uuid in bulk.folder_patches.keys() {
        folder_admin(&store, &caller, uuid)?;
    }
    let mut failure = None;
    store
        .batch(|s| {
            for (uuid, patch) in &bulk.folder_patches {
                if let Err(e) = apply_patch(s, &caller, uuid, patch) {
                    failure = Some(e);
                    return Err(crate::sandbox::store::StoreError::NotFound(uuid.clone()));
                }
            }
            Ok(())
        })
        .map_err(|e| failure.take().unwrap_or_else(|| e.into()))?;
    let mut out = Vec::new();
    for uuid in bulk.folder_patches.keys() {
        out.push(one(&store, &caller, uuid)?);
    }
    page(out, &Query::default(), None)
}

pub async fn delete(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let mut store = app.store();
    folder_admin(&store, &caller, &uuid)?;
    store.delete_folder_by_uuid(&uuid)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Move {
    folder_uuids: Vec<String>,
    #[serde(default)]
    new_parent_uuid: Option<String>,
}

pub async fn move_folders(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let mv: Move = body(&bytes)?;
    let mut store = app.store();
    for uuid in &mv.folder_uuids {
        folder_admin(&store, &caller, uuid)?;
    }
    match &mv.new_parent_uuid {
        Some(parent) => folder_admin(&store, &caller, parent)?,
        None if is_org_admin(&store, &caller)? => {}
        None => {
            return Err(ApiError::forbidden(
                "only organisation admins may move folders to the top level",
            ));
        }
    }
    store.move_folders(&mv.folder_uuids, mv.new_parent_uuid.as_deref())?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- folder groups

pub async fn list_groups(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    folder_admin(&store, &caller, &uuid)?;
    let groups: Vec<Value> = store
        .folder_groups(&uuid)?
        .iter()
        .map(|(g, role)| {
            let mut v = group_json(g);
            v["isSameOrganisation"] = json!(true);
            v["userRole"] = json!(role);
            v
        })
        .collect();
    page(
        groups,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddGroups {
    group_hash_list: Vec<String>,
    user_role: Value,
}

pub async fn add_groups(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let add: AddGroups = body(&bytes)?;
    let role = add
        .user_role
        .as_str()
        .filter(|r| matches!(*r, "user" | "admin"))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "userRole {} is not a folder role: \"user\" or \"admin\"",
                add.user_role
            ))
        })?
        .to_string();
    let mut store = app.store();
    folder_admin(&store, &caller, &uuid)?;
    for hash in &add.group_hash_list {
        if store.group_by_hash(hash)?.is_none() {
            return Err(ApiError::not_found(format!("group {hash} does not exist")));
        }
    }
    store.batch(|s| {
        for hash in &add.group_hash_list {
            s.set_folder_group(&uuid, hash, &role)?;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_groups(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<StatusCode> {
    let q = Query::parse(q.as_deref());
    let mut store = app.store();
    folder_admin(&store, &caller, &uuid)?;
    store.batch(|s| {
        for hash in q.all("groupHashList") {
            s.remove_folder_group(&uuid, hash)?;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}
