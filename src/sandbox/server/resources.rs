//! Projects, Datasets and Ontologies (encord-api.md §5.6, §5.7): listings, project tags,
//! user and group access, and the legacy v1 RPC that adds project and dataset users.
//! orgform never creates these resources; they come from the sandbox's state file.

use std::collections::{HashMap, HashSet};

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::{Caller, read_only_refusal};
use super::error::{ApiError, ApiResult};
use super::org::{body, group_json, tag_json};
use super::pages::{Query, page};
use super::permissions::{is_org_admin, resource_admin, role_on, roles_on_all};
use super::storage::owner;
use super::{SANDBOX_TIME, Shared};
use crate::model::{Principal, ResourceKind};
use crate::sandbox::store::{ResourceRow, Store};

/// A role's integer on the wire: ProjectUserRole (ADMIN 0, ANNOTATOR 1, REVIEWER 2,
/// ANNOTATOR_REVIEWER 3, TEAM_MANAGER 4, VIEWER 5) or Dataset/OntologyUserRole
/// (ADMIN 0, USER 1).
fn role_number(kind: ResourceKind, role: &str) -> Option<u8> {
    let roles: &[&str] = match kind {
        ResourceKind::Project => &[
            "admin",
            "annotator",
            "reviewer",
            "annotator_reviewer",
            "team_manager",
            "viewer",
        ],
        _ => &["admin", "user"],
    };
    roles.iter().position(|r| *r == role).map(|i| i as u8)
}

fn role_name(kind: ResourceKind, number: &Value) -> ApiResult<&'static str> {
    let names: &[&'static str] = match kind {
        ResourceKind::Project => &[
            "admin",
            "annotator",
            "reviewer",
            "annotator_reviewer",
            "team_manager",
            "viewer",
        ],
        _ => &["admin", "user"],
    };
    number
        .as_u64()
        .and_then(|n| names.get(n as usize).copied())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "userRole {number} is not a {kind} role: 0..{}",
                names.len() - 1
            ))
        })
}

/// The synthetic editor ontology of a project (every project must have one that
/// answers `GET ontologies/{hash}`, §5.8): a UUID derived from the project's hash.
fn project_ontology(project_hash: &str) -> String {
    let d = Sha256::digest(format!("orgform-sandbox-ontology:{project_hash}").as_bytes());
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn empty_editor() -> Value {
    json!({ "objects": [], "classifications": [] })
}

fn project_json(p: &ResourceRow, role: Option<&str>, creator: &str) -> Value {
    json!({
        "projectHash": p.hash,
        "projectType": "workflow",
        "status": "inProgress",
        "title": p.name,
        "description": "",
        "createdAt": SANDBOX_TIME,
        "creatorEmail": creator,
        "lastEditedAt": SANDBOX_TIME,
        "ontologyHash": project_ontology(&p.hash),
        "editorOntology": empty_editor(),
        "userRole": role.and_then(|r| role_number(ResourceKind::Project, r)),
        "sourceProjects": null,
        "workflowManagerUuid": null,
        "workflow": null,
    })
}

fn dataset_json(d: &ResourceRow, role: Option<&str>) -> Value {
    json!({
        "datasetUuid": d.hash,
        "title": d.name,
        "description": "",
        "createdAt": SANDBOX_TIME,
        "lastEditedAt": SANDBOX_TIME,
        // A string here, unlike the integer of dataset access (§5.7).
        "userRole": role,
        "storageLocation": null,
        "backingFolderUuid": null,
    })
}

fn ontology_json(hash: &str, title: &str, role: Option<&str>) -> Value {
    json!({
        "ontologyUuid": hash,
        "title": title,
        "description": "",
        "editor": empty_editor(),
        "createdAt": SANDBOX_TIME,
        "lastEditedAt": SANDBOX_TIME,
        "userRole": role.and_then(|r| role_number(ResourceKind::Ontology, r)),
    })
}

/// SQL LIKE on titles: `%` any run, `_` one character, ignoring case.
fn like(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('_', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    go(&p, &t)
}

/// The resources of a kind the caller sees in a listing, with the caller's role: an org
/// admin every one with `includeOrgAccess=True`, else those shared with them; anyone
/// else only those they administer (SPEC §7.13).
/// `among`: only these resources (by hash), looked up one by one — a listing filtered
/// by tag must not cost a pass over every resource of the org.
fn visible(
    store: &Store,
    caller: &Caller,
    kind: ResourceKind,
    q: &Query,
    among: Option<&HashSet<String>>,
) -> ApiResult<Vec<(ResourceRow, Option<String>)>> {
    let admin = is_org_admin(store, caller)?;
    let org_access = q.flag("includeOrgAccess")?.unwrap_or(false);
    let title_eq = q.get("titleEq");
    let title_like = q.get("titleLike");
    let (rows, mut roles) = match among {
        None => (store.resources(kind)?, roles_on_all(store, caller, kind)?),
        Some(hashes) => {
            let mut rows = Vec::new();
            let mut roles = HashMap::new();
            for hash in hashes {
                if let Some(row) = store.resource(kind, hash)? {
                    if let Some(role) = role_on(store, caller, kind, hash)? {
                        roles.insert(hash.clone(), role);
                    }
                    rows.push(row);
                }
            }
            // The order of the unfiltered listing: by title, then hash.
            rows.sort_by(|a, b| (&a.name, &a.hash).cmp(&(&b.name, &b.hash)));
            (rows, roles)
        }
    };
    let mut out = Vec::new();
    for r in rows {
        if title_eq.is_some_and(|t| t != r.name) || title_like.is_some_and(|p| !like(p, &r.name)) {
            continue;
        }
        let role = roles.remove(&r.hash);
        let shown = if admin {
            org_access || role.is_some()
        } else {
            role.as_deref() == Some("admin")
        };
        if shown {
            out.push((r, role));
        }
    }
    Ok(out)
}

pub async fn list_projects(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let q = Query::parse(q.as_deref());
    let store = app.store();
    let any_of = q.all("tagsAnyof");
    let tagged = match any_of.is_empty() {
        true => None,
        false => Some(store.projects_tagged(&any_of)?),
    };
    let creator = owner(&store)?;
    let mut out = Vec::new();
    for (p, role) in visible(&store, &caller, ResourceKind::Project, &q, tagged.as_ref())? {
        out.push(project_json(&p, role.as_deref(), &creator));
    }
    page(out, &q, app.settings.page_size_max)
}

pub async fn get_project(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    let p = resource_admin(&store, &caller, ResourceKind::Project, &hash)?;
    let role = role_on(&store, &caller, ResourceKind::Project, &hash)?;
    Ok(Json(project_json(&p, role.as_deref(), &owner(&store)?)))
}

pub async fn list_datasets(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let q = Query::parse(q.as_deref());
    let store = app.store();
    let result: Vec<Value> = visible(&store, &caller, ResourceKind::Dataset, &q, None)?
        .iter()
        .map(|(d, role)| dataset_json(d, role.as_deref()))
        .collect();
    // Not a page: `{"result": [...]}` (§5.7).
    Ok(Json(json!({ "result": result })))
}

pub async fn list_ontologies(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let q = Query::parse(q.as_deref());
    let store = app.store();
    let out: Vec<Value> = visible(&store, &caller, ResourceKind::Ontology, &q, None)?
        .iter()
        .map(|(o, role)| ontology_json(&o.hash, &o.name, role.as_deref()))
        .collect();
    page(out, &q, app.settings.page_size_max)
}

pub async fn get_ontology(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    if store.resource(ResourceKind::Ontology, &hash)?.is_some() {
        let o = resource_admin(&store, &caller, ResourceKind::Ontology, &hash)?;
        let role = role_on(&store, &caller, ResourceKind::Ontology, &hash)?;
        return Ok(Json(ontology_json(&o.hash, &o.name, role.as_deref())));
    }
    // A project's editor ontology, for whoever may get the project.
    for p in store.resources(ResourceKind::Project)? {
        if project_ontology(&p.hash) == hash {
            resource_admin(&store, &caller, ResourceKind::Project, &p.hash)?;
            let title = format!("{} ontology", p.name);
            return Ok(Json(ontology_json(&hash, &title, None)));
        }
    }
    Err(ApiError::not_found(format!(
        "ontology {hash} does not exist"
    )))
}

// ---------------------------------------------------------------- project tags

pub async fn project_tags(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    resource_admin(&store, &caller, ResourceKind::Project, &hash)?;
    let tags: Vec<Value> = store.tags_of_project(&hash)?.iter().map(tag_json).collect();
    page(
        tags,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

fn tag_name(store: &Store, uuid: &str) -> ApiResult<String> {
    Ok(store
        .tag_by_uuid(uuid)?
        .ok_or_else(|| ApiError::not_found(format!("tag {uuid} does not exist")))?
        .name)
}

pub async fn attach_tag(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((hash, tag)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut store = app.store();
    resource_admin(&store, &caller, ResourceKind::Project, &hash)?;
    let name = tag_name(&store, &tag)?;
    store.assign_tag(&hash, &name)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn detach_tag(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((hash, tag)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut store = app.store();
    resource_admin(&store, &caller, ResourceKind::Project, &hash)?;
    let name = tag_name(&store, &tag)?;
    store.unassign_tag(&hash, &name)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- users

fn users_of(store: &Store, kind: ResourceKind, hash: &str) -> ApiResult<Vec<(String, u8)>> {
    Ok(store
        .access_of(kind, hash)?
        .into_iter()
        .filter_map(|(p, role)| match p {
            Principal::User(e) => role_number(kind, &role).map(|n| (e, n)),
            Principal::Group(_) => None,
        })
        .collect())
}

pub async fn project_users(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    resource_admin(&store, &caller, ResourceKind::Project, &hash)?;
    let users: Vec<Value> = users_of(&store, ResourceKind::Project, &hash)?
        .into_iter()
        .map(|(e, r)| json!({ "userEmail": e, "userRole": r }))
        .collect();
    page(
        users,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

pub async fn dataset_users(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    resource_admin(&store, &caller, ResourceKind::Dataset, &hash)?;
    let users: Vec<Value> = users_of(&store, ResourceKind::Dataset, &hash)?
        .into_iter()
        .map(|(e, r)| json!({ "datasetUuid": hash, "userEmail": e, "userRole": r }))
        .collect();
    page(
        users,
        &Query::parse(q.as_deref()),
        app.settings.page_size_max,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Emails {
    user_emails: Vec<String>,
}

fn remove_users(
    app: &Shared,
    caller: &Caller,
    kind: ResourceKind,
    hash: &str,
    bytes: &Bytes,
) -> ApiResult<StatusCode> {
    let emails: Emails = body(bytes)?;
    let mut store = app.store();
    resource_admin(&store, caller, kind, hash)?;
    store.batch(|s| {
        for e in &emails.user_emails {
            let who = Principal::User(crate::model::email::normalize(e));
            s.remove_access(kind, hash, &who)?;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_project_users(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    remove_users(&app, &caller, ResourceKind::Project, &hash, &bytes)
}

pub async fn remove_dataset_users(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    bytes: Bytes,
) -> ApiResult<StatusCode> {
    remove_users(&app, &caller, ResourceKind::Dataset, &hash, &bytes)
}

// ---------------------------------------------------------------- group access

fn groups_page(
    app: &Shared,
    caller: &Caller,
    kind: ResourceKind,
    hash: &str,
    q: Option<&str>,
) -> ApiResult<Json<Value>> {
    let store = app.store();
    resource_admin(&store, caller, kind, hash)?;
    let mut out = Vec::new();
    for (p, role) in store.access_of(kind, hash)? {
        let Principal::Group(name) = p else {
            continue;
        };
        let Some(group) = store.group_by_name(&name)? else {
            continue;
        };
        let mut v = group_json(&group);
        v["isSameOrganisation"] = json!(true);
        v["userRole"] = json!(role_number(kind, &role));
        out.push(v);
    }
    page(out, &Query::parse(q), app.settings.page_size_max)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddGroups {
    group_hash_list: Vec<String>,
    user_role: Value,
}

fn add_groups(
    app: &Shared,
    caller: &Caller,
    kind: ResourceKind,
    hash: &str,
    bytes: &Bytes,
) -> ApiResult<StatusCode> {
    let add: AddGroups = body(bytes)?;
    let role = role_name(kind, &add.user_role)?;
    let mut store = app.store();
    resource_admin(&store, caller, kind, hash)?;
    let mut names = Vec::new();
    for g in &add.group_hash_list {
        let group = store
            .group_by_hash(g)?
            .ok_or_else(|| ApiError::not_found(format!("group {g} does not exist")))?;
        names.push(group.name);
    }
    store.batch(|s| {
        for name in &names {
            s.set_access(kind, hash, &Principal::Group(name.clone()), role)?;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

fn remove_groups(
    app: &Shared,
    caller: &Caller,
    kind: ResourceKind,
    hash: &str,
    q: Option<&str>,
) -> ApiResult<StatusCode> {
    let q = Query::parse(q);
    let mut store = app.store();
    resource_admin(&store, caller, kind, hash)?;
    let mut names = Vec::new();
    for g in q.all("groupHashList") {
        if let Some(group) = store.group_by_hash(g)? {
            names.push(group.name);
        }
    }
    store.batch(|s| {
        for name in &names {
            s.remove_access(kind, hash, &Principal::Group(name.clone()))?;
        }
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! group_endpoints {
    ($kind:expr, $list:ident, $add:ident, $remove:ident) => {
        pub async fn $list(
            State(app): State<Shared>,
            Extension(caller): Extension<Caller>,
            Path(hash): Path<String>,
            RawQuery(q): RawQuery,
        ) -> ApiResult<Json<Value>> {
            groups_page(&app, &caller, $kind, &hash, q.as_deref())
        }

        pub async fn $add(
            State(app): State<Shared>,
            Extension(caller): Extension<Caller>,
            Path(hash): Path<String>,
            bytes: Bytes,
        ) -> ApiResult<StatusCode> {
            add_groups(&app, &caller, $kind, &hash, &bytes)
        }

        pub async fn $remove(
            State(app): State<Shared>,
            Extension(caller): Extension<Caller>,
            Path(hash): Path<String>,
            RawQuery(q): RawQuery,
        ) -> ApiResult<StatusCode> {
            remove_groups(&app, &caller, $kind, &hash, q.as_deref())
        }
    };
}

group_endpoints!(
    ResourceKind::Project,
    project_groups,
    add_project_groups,
    remove_project_groups
);
group_endpoints!(
    ResourceKind::Dataset,
    dataset_groups,
    add_dataset_groups,
    remove_dataset_groups
);
group_endpoints!(
    ResourceKind::Ontology,
    ontology_groups,
    add_ontology_groups,
    remove_ontology_groups
);

// ---------------------------------------------------------------- legacy v1 RPC

#[derive(Deserialize)]
struct V1Request {
    query_type: String,
    query_method: String,
    #[serde(default)]
    values: V1Values,
}

#[derive(Deserialize, Default)]
struct V1Values {
    #[serde(default)]
    uid: Value,
    #[serde(default)]
    payload: Value,
}

#[derive(Deserialize)]
struct V1AddUsers {
    user_emails: Vec<String>,
    user_role: Value,
}

/// `POST /public`: the RPC envelope `{query_type, query_method, values: {uid, payload}}`,
/// answered `{"status": 200, "response": …}` or the v1 error envelope.
pub async fn v1(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    match v1_answer(&app, &caller, &headers, &bytes) {
        Ok(response) => Json(json!({ "status": 200, "response": response })).into_response(),
        Err(e) => e.v1(),
    }
}

fn v1_answer(
    app: &Shared,
    caller: &Caller,
    headers: &HeaderMap,
    bytes: &Bytes,
) -> ApiResult<Value> {
    let req: V1Request = body(bytes)?;
    let method = req.query_method.to_ascii_uppercase();
    if method != "GET" && caller.read_only {
        return Err(read_only_refusal());
    }
    let resource_id = headers
        .get("resourceid")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    let uid = req.values.uid.as_str().or(resource_id);
    match (req.query_type.as_str(), method.as_str()) {
        ("projectusers", "POST") => {
            add_users(app, caller, ResourceKind::Project, uid, &req.values.payload)
        }
        ("datasetusers", "POST") => {
            add_users(app, caller, ResourceKind::Dataset, uid, &req.values.payload)
        }
        ("dataset", "GET") => {
            // The hash arrives only in the ResourceID header.
            let hash = resource_id.ok_or_else(|| {
                ApiError::bad_request("ResourceID header (the dataset hash) is missing")
            })?;
            let store = app.store();
            let d = resource_admin(&store, caller, ResourceKind::Dataset, hash)?;
            Ok(json!({
                "dataset_hash": d.hash,
                "title": d.name,
                "description": "",
                "dataset_type": "CORD_STORAGE",
                "data_rows": [],
            }))
        }
        (other, m) => Err(ApiError::bad_request(format!(
            "the sandbox server's v1 RPC answers projectusers POST, datasetusers POST and dataset GET, not {other} {m}"
        ))),
    }
}

/// Adds users to a project or dataset; a user already there keeps their role, and the
/// answer shows the role they hold.
fn add_users(
    app: &Shared,
    caller: &Caller,
    kind: ResourceKind,
    uid: Option<&str>,
    payload: &Value,
) -> ApiResult<Value> {
    let hash =
        uid.ok_or_else(|| ApiError::bad_request(format!("the {kind} hash (uid) is missing")))?;
    let add: V1AddUsers = serde_json::from_value(payload.clone())
        .map_err(|e| ApiError::bad_request(format!("the payload is not valid: {e}")))?;
    let role = role_name(kind, &add.user_role)?;
    let mut store = app.store();
    resource_admin(&store, caller, kind, hash)?;
    let emails: Vec<String> = add
        .user_emails
        .iter()
        .map(|e| crate::model::email::normalize(e))
        .collect();
    for e in &emails {
        if store.user_row(e)?.is_none() {
            return Err(ApiError::bad_request(format!(
                "`{e}` is not a member of the organisation: add them to the organisation first"
            )));
        }
    }
    let existing = users_of(&store, kind, hash)?;
    store.batch(|s| {
        for e in &emails {
            if !existing.iter().any(|(x, _)| x == e) {
                s.set_access(kind, hash, &Principal::User(e.clone()), role)?;
            }
        }
        Ok(())
    })?;
    let now = users_of(&store, kind, hash)?;
    let hash_key = match kind {
        ResourceKind::Project => "project_hash",
        _ => "dataset_hash",
    };
    Ok(Value::Array(
        emails
            .iter()
            .filter_map(|e| now.iter().find(|(x, _)| x == e))
            .map(|(e, r)| json!({ "user_email": e, "user_role": r, hash_key: hash }))
            .collect(),
    ))
}
