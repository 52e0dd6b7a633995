//! Organisation-wide endpoints: users (§5.1), groups and members (§5.2), tags (§5.3) and
//! the client metadata schema (§5.4). Org admins only (SPEC §7.13).

use std::collections::BTreeMap;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::pages::{Query, page};
use super::permissions::org_admin;
use super::{SANDBOX_TIME, Shared};
use crate::model::{InvitationStatus, OrgRole, UserType};
use crate::sandbox::store::{GroupRow, Store, TagRow, UserRow};

/// A JSON body, or 400 saying what is wrong with it.
pub fn body<T: DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))
}

fn mnemonic(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Admin => "ADMIN",
        OrgRole::Member => "MEMBER",
        OrgRole::WorkforceManager => "WORKFORCE_MANAGER",
        // The web app's Collaborator (encord-api.md §6).
        OrgRole::Collaborator => "TASKER",
    }
}

/// Fixed identifiers of the four org roles.
fn role_uuid(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Admin => "00000000-0000-4000-8000-00000000000a",
        OrgRole::Member => "00000000-0000-4000-8000-00000000000b",
        OrgRole::WorkforceManager => "00000000-0000-4000-8000-00000000000c",
        OrgRole::Collaborator => "00000000-0000-4000-8000-00000000000d",
    }
}

fn user_json(u: &UserRow) -> Value {
    json!({
        "email": u.email,
        "roleMnemonicName": mnemonic(u.role),
        "roleUuid": role_uuid(u.role),
        "memberType": u.user_type.to_string(),
        "createdAt": SANDBOX_TIME,
        "lastEditedAt": SANDBOX_TIME,
    })
}

pub fn group_json(g: &GroupRow) -> Value {
    json!({
        "groupHash": g.hash,
        "name": g.name,
        "description": g.description,
        "createdAt": SANDBOX_TIME,
    })
}

pub fn tag_json(t: &TagRow) -> Value {
    json!({ "uuid": t.uuid, "name": t.name, "description": t.description })
}

// ---------------------------------------------------------------- users

pub async fn list_users(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    org_admin(&store, &caller)?;
    let users: Vec<Value> = store.users()?.iter().map(user_json).collect();
    page(
        users,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewUser {
    email: String,
    role_mnemonic_name: String,
    member_type: String,
}

pub async fn add_user(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let new: NewUser = body(&bytes)?;
    let role = match new.role_mnemonic_name.as_str() {
        "ADMIN" => OrgRole::Admin,
        "MEMBER" => OrgRole::Member,
        "WORKFORCE_MANAGER" => OrgRole::WorkforceManager,
        "TASKER" => OrgRole::Collaborator,
        other => {
            return Err(ApiError::bad_request(format!(
                "roleMnemonicName `{other}` is not a role: ADMIN, MEMBER, TASKER or WORKFORCE_MANAGER"
            )));
        }
    };
    let user_type = match new.member_type.as_str() {
        "internal" => UserType::Internal,
        "external" => UserType::External,
        other => {
            return Err(ApiError::bad_request(format!(
                "memberType `{other}` cannot be added: internal or external (workforce users join through a project or dataset)"
            )));
        }
    };
    let mut store = app.store();
    org_admin(&store, &caller)?;
    store.add_user(&new.email, role, user_type, InvitationStatus::Invited)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_user(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(email): Path<String>,
) -> ApiResult<StatusCode> {
    let mut store = app.store();
    org_admin(&store, &caller)?;
    store.remove_user(&email)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- groups

fn existing_group(store: &Store, hash: &str) -> ApiResult<GroupRow> {
    store
        .group_by_hash(hash)?
        .ok_or_else(|| ApiError::not_found(format!("group {hash} does not exist")))
}

pub async fn list_groups(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    org_admin(&store, &caller)?;
    let groups: Vec<Value> = store.groups()?.iter().map(group_json).collect();
    page(
        groups,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

#[derive(Deserialize)]
struct NewGroup {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

fn check_group_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::bad_request("a group name must not be blank"));
    }
    Ok(())
}

pub async fn create_group(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let new: NewGroup = body(&bytes)?;
    check_group_name(&new.name)?;
    let mut store = app.store();
    org_admin(&store, &caller)?;
    let caller_email = caller.email.clone();
    let name = new.name.clone();
    store.batch(|s| {
        s.create_group(&name, new.description.as_deref().unwrap_or_default())?;
        // The platform makes the creator a manager of the new group.
        s.add_group_user(&name, &caller_email, true)
    })?;
    let group = store
        .group_by_name(&new.name)?
        .ok_or_else(|| ApiError::not_found(format!("group `{}` vanished", new.name)))?;
    Ok(Json(group_json(&group)))
}

pub async fn get_group(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    org_admin(&store, &caller)?;
    Ok(Json(group_json(&existing_group(&store, &hash)?)))
}

#[derive(Deserialize)]
struct GroupPatch {
    name: Option<String>,
    description: Option<String>,
}

pub async fn update_group(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let patch: GroupPatch = body(&bytes)?;
    if patch.name.is_none() && patch.description.is_none() {
        return Err(ApiError::bad_request(
            "nothing to change: send `name`, `description` or both",
        ));
    }
    let mut store = app.store();
    org_admin(&store, &caller)?;
    let group = existing_group(&store, &hash)?;
    store.batch(|s| {
        let mut name = group.name.clone();
        if let Some(new) = &patch.name
            && *new != group.name
        {
            if new.trim().is_empty() {
                return Err(crate::sandbox::store::StoreError::Refused {
                    rule: crate::diagnostic::Rule::InvalidValue,
                    message: "a group name must not be blank".into(),
                });
            }
            s.rename_group(&group.name, new)?;
            name = new.clone();
        }
        if let Some(d) = &patch.description {
            s.set_group_description(&name, d)?;
        }
        Ok(())
    })?;
    Ok(Json(group_json(&existing_group(&store, &hash)?)))
}

pub async fn delete_group(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> ApiResult<StatusCode> {
    let mut store = app.store();
    org_admin(&store, &caller)?;
    let group = existing_group(&store, &hash)?;
    store.delete_group(&group.name)?;
    Ok(StatusCode::NO_CONTENT)
}

fn members_page(store: &Store, hash: &str, app: &Shared, q: &Query) -> ApiResult<Json<Value>> {
    let members: Vec<Value> = store
        .group_members(hash)?
        .into_iter()
        .map(|e| json!({ "userEmail": e }))
        .collect();
    page(members, q, app.settings.page_size_max)
}

pub async fn list_members(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    org_admin(&store, &caller)?;
    existing_group(&store, &hash)?;
    members_page(&store, &hash, &app, &Query::parse(q.as_deref()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Emails {
    user_emails: Vec<String>,
}

pub async fn add_members(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let emails: Emails = body(&bytes)?;
    let mut store = app.store();
    org_admin(&store, &caller)?;
    let group = existing_group(&store, &hash)?;
    // 0.1.200+: every email must already be an org member (an authorisation error).
    for e in &emails.user_emails {
        if store.user_row(e)?.is_none() {
            return Err(ApiError::forbidden(format!(
                "`{e}` is not a member of the organisation: add them to the organisation first"
            )));
        }
    }
    store.batch(|s| {
        for e in &emails.user_emails {
            s.add_group_user(&group.name, e, false)?;
        }
        Ok(())
    })?;
    members_page(&store, &hash, &app, &Query::default())
}

pub async fn remove_members(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let emails: Emails = body(&bytes)?;
    let mut store = app.store();
    org_admin(&store, &caller)?;
    let group = existing_group(&store, &hash)?;
    store.batch(|s| {
        for e in &emails.user_emails {
            s.remove_group_user(&group.name, e, false)?;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- tags

pub async fn list_tags(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    org_admin(&store, &caller)?;
    let tags: Vec<Value> = store.tags()?.iter().map(tag_json).collect();
    page(
        tags,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

#[derive(Deserialize)]
struct NewTag {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub async fn create_tag(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let new: NewTag = body(&bytes)?;
    if new.name.trim().is_empty() {
        return Err(ApiError::bad_request("a tag name must not be blank"));
    }
    let mut store = app.store();
    org_admin(&store, &caller)?;
    store.create_tag(&new.name, new.description.as_deref().unwrap_or_default())?;
    let tag = store
        .tags()?
        .into_iter()
        .find(|t| t.name == new.name)
        .ok_or_else(|| ApiError::not_found(format!("tag `{}` vanished", new.name)))?;
    Ok(Json(tag_json(&tag)))
}

pub async fn delete_tag(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let mut store = app.store();
    org_admin(&store, &caller)?;
    let tag = store
        .tag_by_uuid(&uuid)?
        .ok_or_else(|| ApiError::not_found(format!("tag {uuid} does not exist")))?;
    store.delete_tag(&tag.name)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- metadata schema

pub async fn metadata_schema(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    org_admin(&store, &caller)?;
    Ok(Json(json!(store.metadata_entries()?)))
}

pub async fn replace_metadata_schema(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    let schema: Option<BTreeMap<String, Value>> = body(&bytes)?;
    let mut store = app.store();
    org_admin(&store, &caller)?;
    store.replace_metadata_schema(&schema.unwrap_or_default())?;
    Ok(StatusCode::NO_CONTENT)
}
