//! Reading the org with the fewest calls (SPEC §6, §7.2, §7.12): org-wide listings
//! once each, whole pages (`pageSize` only where encord-api.md §5 lists it: storage
//! folders, 1000), then, concurrently, group members and the access and tag
//! assignments of the resources the manifests declare — or of every resource, when
//! the plan needs the whole org. Tag assignments come from one listing per project or
//! one per tag, whichever is fewer calls.
//!
//! Not readable through the API, so left empty in the snapshot: group managers, users'
//! access to ontologies, invitation status (the planner is told by the capabilities).

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::try_join_all;
use serde_json::Value;

use super::client::{Client, Request, encode, unexpected};
use crate::encord::{metadata, wire};
use crate::model::email::normalize;
use crate::model::{
    Folder, FolderPath, Group, Org, Principal, Project, ProjectRole, Resource, ResourceKind,
    ResourceRole, Tag, User,
};
use crate::plan::AccessRole;
use crate::provider::{ErrorClass, ProviderError, ReadScope};

/// The largest page the storage listings allow.
pub const FOLDER_PAGE: usize = 1000;

pub const USERS: &str = "organisation/users";
pub const GROUPS: &str = "user/current-organisation/groups";
pub const MEMBERS: &str = "organisation/groups/{group}/users";
pub const TAGS: &str = "organisation/organisation-tags";
pub const SCHEMA: &str = "organisation/client-metadata-schema-v2";
pub const FOLDERS: &str = "storage/folders";
pub const PROJECTS: &str = "projects";
pub const DATASETS: &str = "datasets/list";
pub const ONTOLOGIES: &str = "ontologies";
pub const PROJECT_TAGS: &str = "projects/{project}/tags";

/// Platform ids the writes need, by the names the plan uses.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    /// Group name → `groupHash`.
    pub groups: BTreeMap<String, String>,
    /// Tag name → `uuid`.
    pub tags: BTreeMap<String, String>,
    /// Folder path → `uuid`.
    pub folders: BTreeMap<FolderPath, String>,
}

/// Which resources a snapshot holds the access and tag assignments of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub access: BTreeSet<(ResourceKind, String)>,
    pub tags: BTreeSet<String>,
}

/// A snapshot and what it took to make it.
pub struct Snapshot {
    pub org: Org,
    pub ids: Ids,
    pub coverage: Coverage,
}

/// Reads the org: resources' access and tags only as far as `scope` needs (`None`:
/// every resource).
pub async fn read(client: &Client, scope: Option<&ReadScope>) -> Result<Snapshot, ProviderError> {
    let schema_req = Request::get(SCHEMA, SCHEMA.to_string());
    let datasets_req = Request::get(DATASETS, format!("{DATASETS}?includeOrgAccess=True"));
    let (users, groups, tags, schema, folders, projects, datasets, ontologies) = tokio::try_join!(
        client.pages_of::<UserItem>(USERS, USERS.to_string()),
        client.pages(GROUPS, GROUPS.to_string()),
        client.pages(TAGS, TAGS.to_string()),
        client.read_json(&schema_req),
        client.pages(FOLDERS, all_folders()),
        client.pages_of::<ProjectItem>(PROJECTS, format!("{PROJECTS}?includeOrgAccess=True")),
        client.read_json(&datasets_req),
        client.pages(ONTOLOGIES, format!("{ONTOLOGIES}?includeOrgAccess=True")),
    )?;
    let mut org = Org::default();
    let mut ids = Ids::default();
    for u in &users {
        let (email, user) = user_of(u)?;
        org.users.insert(email, user);
    }
    for g in &groups {
        let name = text(g, "name", GROUPS)?;
        ids.groups
            .insert(name.clone(), text(g, "groupHash", GROUPS)?);
        org.groups.insert(
            name,
            Group {
                description: g
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                ..Group::default()
            },
        );
    }
    for t in &tags {
        let name = text(t, "name", TAGS)?;
        ids.tags.insert(name.clone(), text(t, "uuid", TAGS)?);
        // `description` is optional in the SDK's model; this API returns it.
        let description = t
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        org.project_tags.insert(name, Tag { description });
    }
    if let Value::Object(entries) = &schema {
        for (key, entry) in entries {
            if let Some(ty) = metadata::modelled(entry) {
                org.metadata_schema.insert(key.clone(), ty);
            }
        }
    }
    read_folders(&folders, &mut org, &mut ids)?;
    for p in projects {
        org.projects.insert(
            p.hash,
            Project {
                name: p.title,
                ..Project::default()
            },
        );
    }
    let datasets = match datasets.get("result") {
        Some(Value::Array(list)) => list.clone(),
        _ => {
            return Err(unexpected(
                &Request::get(DATASETS, DATASETS.to_string()),
                "no `result` list",
            ));
        }
    };
    for (list, kind, id_field) in [
        (&datasets, ResourceKind::Dataset, "datasetUuid"),
        (&ontologies, ResourceKind::Ontology, "ontologyUuid"),
    ] {
        for r in list {
            let endpoint = if kind == ResourceKind::Dataset {
                DATASETS
            } else {
                ONTOLOGIES
            };
            let resource = Resource {
                name: text(r, "title", endpoint)?,
                access: BTreeMap::new(),
            };
            let hash = text(r, id_field, endpoint)?;
            match kind {
                ResourceKind::Dataset => org.datasets.insert(hash, resource),
                _ => org.ontologies.insert(hash, resource),
            };
        }
    }
    // Group members, and the resources the plan needs, all at once (bounded).
    let members = try_join_all(ids.groups.iter().map(|(name, hash)| async move {
        let path = MEMBERS.replace("{group}", &encode(hash));
        let list = client.pages(MEMBERS, path).await?;
        let emails = list
            .iter()
            .map(|m| text(m, "userEmail", MEMBERS).map(|e| normalize(&e)))
            .collect::<Result<BTreeSet<String>, ProviderError>>()?;
        Ok::<_, ProviderError>((name.clone(), emails))
    }));
    let coverage = wanted(&org, scope);
    let covered = read_resources(client, &org, &coverage);
    let (members, filled) = tokio::try_join!(members, covered)?;
    for (name, emails) in members {
        if let Some(g) = org.groups.get_mut(&name) {
            g.members = emails;
        }
    }
    fill(&mut org, filled);
    Ok(Snapshot { org, ids, coverage })
}

/// Completes a snapshot with the access and tag assignments of every resource it does
/// not cover yet.
pub async fn read_rest(
    client: &Client,
    mut org: Org,
    coverage: &Coverage,
) -> Result<(Org, Coverage), ProviderError> {
    let mut wanted = wanted(&org, None);
    wanted.access.retain(|r| !coverage.access.contains(r));
    wanted.tags.retain(|p| !coverage.tags.contains(p));
    let filled = read_resources(client, &org, &wanted).await?;
    fill(&mut org, filled);
    let mut all = coverage.clone();
    all.access.extend(wanted.access);
    all.tags.extend(wanted.tags);
    Ok((org, all))
}

/// The resources whose access and tags to read: those `scope` declares (by hash, or by
/// a title exactly one live resource has), or all.
fn wanted(org: &Org, scope: Option<&ReadScope>) -> Coverage {
    let mut out = Coverage::default();
    let Some(scope) = scope else {
        for kind in [
            ResourceKind::Project,
            ResourceKind::Dataset,
            ResourceKind::Ontology,
        ] {
            for (hash, _) in org.resources_of(kind) {
                out.access.insert((kind, hash.to_string()));
            }
        }
        out.tags = org.projects.keys().cloned().collect();
        return out;
    };
    for r in &scope.resources {
        let hash = match (&r.hash, &r.name) {
            (Some(hash), _) => org.title(r.kind, hash).map(|_| hash.clone()),
            (None, Some(name)) => {
                let matches: Vec<&str> = org
                    .resources_of(r.kind)
                    .into_iter()
                    .filter(|(_, t)| t == name)
                    .map(|(h, _)| h)
                    .collect();
                // Ambiguous or unknown: the plan blocks it, nothing to read.
                match matches.as_slice() {
                    [one] => Some(one.to_string()),
                    _ => None,
                }
            }
            (None, None) => None,
        };
        let Some(hash) = hash else { continue };
        if r.access {
            out.access.insert((r.kind, hash.clone()));
        }
        if r.tags && r.kind == ResourceKind::Project {
            out.tags.insert(hash);
        }
    }
    out
}

/// A live resource by kind and hash.
type Resolved = (ResourceKind, String);

/// The access and tag assignments of some resources, as read.
struct Filled {
    access: Vec<(Resolved, Vec<(Principal, AccessRole)>)>,
    tags: Vec<(String, BTreeSet<String>)>,
}

/// Reads the access and tag assignments `wanted` names.
async fn read_resources(
    client: &Client,
    org: &Org,
    wanted: &Coverage,
) -> Result<Filled, ProviderError> {
    let access = try_join_all(wanted.access.iter().map(|(kind, hash)| async move {
        let entries = access_of(client, *kind, hash).await?;
        Ok::<_, ProviderError>(((*kind, hash.clone()), entries))
    }));
    let tags = tag_assignments(client, org, &wanted.tags);
    let (access, tags) = tokio::try_join!(access, tags)?;
    Ok(Filled { access, tags })
}

/// Puts what was read into the snapshot.
fn fill(org: &mut Org, filled: Filled) {
    for ((kind, hash), entries) in filled.access {
        match kind {
            ResourceKind::Project => {
                if let Some(p) = org.projects.get_mut(&hash) {
                    p.access = entries
                        .into_iter()
                        .filter_map(|(who, role)| match role {
                            AccessRole::Project(r) => Some((who, r)),
                            AccessRole::Resource(_) => None,
                        })
                        .collect::<BTreeMap<Principal, ProjectRole>>();
                }
            }
            kind => {
                let map = if kind == ResourceKind::Dataset {
                    &mut org.datasets
                } else {
                    &mut org.ontologies
                };
                if let Some(r) = map.get_mut(&hash) {
                    r.access = entries
                        .into_iter()
                        .filter_map(|(who, role)| match role {
                            AccessRole::Resource(r) => Some((who, r)),
                            AccessRole::Project(_) => None,
                        })
                        .collect::<BTreeMap<Principal, ResourceRole>>();
                }
            }
        }
    }
    for (hash, names) in filled.tags {
        if let Some(p) = org.projects.get_mut(&hash) {
            p.tags = names;
        }
    }
}

/// The access entries of one resource: users (projects and datasets; the API lists no
/// users of ontologies) and groups.
pub async fn access_of(
    client: &Client,
    kind: ResourceKind,
    hash: &str,
) -> Result<Vec<(Principal, AccessRole)>, ProviderError> {
    let (users_endpoint, groups_endpoint) = endpoints(kind);
    let base = format!("{}/{}", plural(kind), encode(hash));
    let users = async {
        match users_endpoint {
            Some(endpoint) => client.pages(endpoint, format!("{base}/users")).await,
            None => Ok(Vec::new()),
        }
    };
    let groups = client.pages(groups_endpoint, format!("{base}/groups"));
    let (users, groups) = tokio::try_join!(users, groups)?;
    let mut out = Vec::new();
    for u in &users {
        let endpoint = users_endpoint.unwrap_or_default();
        let email = normalize(&text(u, "userEmail", endpoint)?);
        out.push((Principal::User(email), role(u, kind, endpoint)?));
    }
    for g in &groups {
        let name = text(g, "name", groups_endpoint)?;
        out.push((Principal::Group(name), role(g, kind, groups_endpoint)?));
    }
    Ok(out)
}

/// `{projects,datasets,ontologies}/{id}/users` and `/groups`, as `--stats` names them.
pub fn endpoints(kind: ResourceKind) -> (Option<&'static str>, &'static str) {
    match kind {
        ResourceKind::Project => (
            Some("projects/{project}/users"),
            "projects/{project}/groups",
        ),
        ResourceKind::Dataset => (
            Some("datasets/{dataset}/users"),
            "datasets/{dataset}/groups",
        ),
        ResourceKind::Ontology => (None, "ontologies/{ontology}/groups"),
    }
}

pub fn plural(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Project => "projects",
        ResourceKind::Dataset => "datasets",
        ResourceKind::Ontology => "ontologies",
    }
}

/// Tag names of each project in `projects`: one listing per project, or one project
/// listing per tag (`tagsAnyof`), whichever is fewer calls.
pub async fn tag_assignments(
    client: &Client,
    org: &Org,
    projects: &BTreeSet<String>,
) -> Result<Vec<(String, BTreeSet<String>)>, ProviderError> {
    if projects.is_empty() {
        return Ok(Vec::new());
    }
    if projects.len() <= org.project_tags.len() {
        return try_join_all(projects.iter().map(|hash| async move {
            let path = PROJECT_TAGS.replace("{project}", &encode(hash));
            let tags = client.pages(PROJECT_TAGS, path).await?;
            let names = tags
                .iter()
                .map(|t| text(t, "name", PROJECT_TAGS))
                .collect::<Result<BTreeSet<String>, ProviderError>>()?;
            Ok::<_, ProviderError>((hash.clone(), names))
        }))
        .await;
    }
    let per_tag = try_join_all(org.project_tags.keys().map(|tag| async move {
        let path = format!("{PROJECTS}?includeOrgAccess=True&tagsAnyof={}", encode(tag));
        let tagged = client.pages_of::<ProjectItem>(PROJECTS, path).await?;
        let hashes: Vec<String> = tagged.into_iter().map(|p| p.hash).collect();
        Ok::<_, ProviderError>((tag.clone(), hashes))
    }))
    .await?;
    let mut out: BTreeMap<String, BTreeSet<String>> = projects
        .iter()
        .map(|p| (p.clone(), BTreeSet::new()))
        .collect();
    for (tag, hashes) in per_tag {
        for hash in hashes {
            if let Some(names) = out.get_mut(&hash) {
                names.insert(tag.clone());
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Every folder of the org in one listing (recursive from the top, whole pages).
fn all_folders() -> String {
    format!(
        "{FOLDERS}?isRecursive=True&includeOrgAccess=True&order=name&desc=False&pageSize={FOLDER_PAGE}"
    )
}

/// Every folder's uuid by path (one listing).
pub async fn folder_ids(client: &Client) -> Result<BTreeMap<FolderPath, String>, ProviderError> {
    let list = client.pages(FOLDERS, all_folders()).await?;
    let mut ids = Ids::default();
    read_folders(&list, &mut Org::default(), &mut ids)?;
    Ok(ids.folders)
}

fn read_folders(list: &[Value], org: &mut Org, ids: &mut Ids) -> Result<(), ProviderError> {
    let mut by_uuid: BTreeMap<String, (Option<String>, String, String)> = BTreeMap::new();
    for f in list {
        let uuid = text(f, "uuid", FOLDERS)?;
        let parent = f.get("parent").and_then(Value::as_str).map(str::to_string);
        let name = text(f, "name", FOLDERS)?;
        let description = f
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        by_uuid.insert(uuid, (parent, name, description));
    }
    for (uuid, (_, _, description)) in &by_uuid {
        let mut names = Vec::new();
        let mut at = Some(uuid.clone());
        // Bounded: a cycle in the answer must not hang the read.
        while let Some(u) = at.take() {
            let Some((parent, name, _)) = by_uuid.get(&u) else {
                return Err(ProviderError::new(
                    ErrorClass::Other,
                    format!(
                        "GET {FOLDERS}: folder {uuid} has a parent ({u}) the listing does not include"
                    ),
                ));
            };
            names.push(name.clone());
            if names.len() > by_uuid.len() {
                return Err(ProviderError::new(
                    ErrorClass::Other,
                    format!("GET {FOLDERS}: the parents of folder {uuid} form a cycle"),
                ));
            }
            at = parent.clone();
        }
        names.reverse();
        let path = FolderPath(names);
        ids.folders.insert(path.clone(), uuid.clone());
        org.folders.insert(
            path,
            Folder {
                description: description.clone(),
            },
        );
    }
    Ok(())
}

/// A user of the org as the users listing gives it (other fields skipped).
#[derive(serde::Deserialize)]
pub struct UserItem {
    pub email: String,
    #[serde(rename = "roleMnemonicName")]
    pub role: String,
    #[serde(rename = "memberType")]
    pub member_type: String,
}

/// A project as the projects listing gives it (other fields skipped).
#[derive(serde::Deserialize)]
struct ProjectItem {
    #[serde(rename = "projectHash")]
    hash: String,
    title: String,
}

fn user_of(u: &UserItem) -> Result<(String, User), ProviderError> {
    let email = normalize(&u.email);
    let role_name = &u.role;
    let role = wire::org_role(role_name).ok_or_else(|| {
        ProviderError::new(
            ErrorClass::Other,
            format!(
                "user `{email}` has the org role `{role_name}`, which orgform does not know (ADMIN, MEMBER, WORKFORCE_MANAGER, TASKER): upgrade orgform, or ask for it to learn the new role"
            ),
        )
    })?;
    let type_name = &u.member_type;
    let user_type = wire::user_type(type_name).ok_or_else(|| {
        ProviderError::new(
            ErrorClass::Other,
            format!(
                "user `{email}` has the member type `{type_name}`, which orgform does not know (internal, external, workforce)"
            ),
        )
    })?;
    Ok((
        email,
        User {
            role,
            user_type,
            status: None,
        },
    ))
}

fn role(v: &Value, kind: ResourceKind, endpoint: &str) -> Result<AccessRole, ProviderError> {
    let number = v.get("userRole").and_then(Value::as_u64);
    number.and_then(|n| wire::role_of(kind, n)).ok_or_else(|| {
        ProviderError::new(
            ErrorClass::Other,
            format!(
                "GET {endpoint}: `userRole` {} is not a {kind} role orgform knows",
                v.get("userRole").cloned().unwrap_or(Value::Null)
            ),
        )
    })
}

/// A required string field of an answer.
pub fn text(v: &Value, field: &str, endpoint: &str) -> Result<String, ProviderError> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            ProviderError::new(
                ErrorClass::Other,
                format!("GET {endpoint} answered an item without `{field}`: is provider.domain Encord's API?"),
            )
        })
}
