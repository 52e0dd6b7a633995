//! [`Desired`]: the org as the manifests declare it, built from validated manifests.
//!
//! Besides the [`Org`] itself it keeps what only declarations have: `renamed_from`
//! lists, resources named by hash (resolved against the live org by the planner), and
//! where things were declared (for warnings).

use std::collections::{BTreeMap, BTreeSet};

use super::{
    Folder, FolderPath, Group, MetadataType, Org, Principal, ProjectRole, ResourceKind,
    ResourceRole, Tag, User, default_user_type, email,
};
use crate::diagnostic::Origin;
use crate::manifest::{AccessSpec, FolderSpec, ManifestFile, MetadataTypeSpec};
use crate::yaml::Spanned;

#[derive(Debug, Clone, Default)]
pub struct Desired {
    /// Users, groups, tags, metadata keys and folders. Resources stay empty until
    /// the planner resolves [`Desired::resources`] against the live org.
    pub org: Org,
    /// New name → former names.
    pub group_renames: BTreeMap<String, Vec<String>>,
    pub tag_renames: BTreeMap<String, Vec<String>>,
    /// New path → former names among the same parent's children.
    pub folder_renames: BTreeMap<FolderPath, Vec<String>>,
    pub resources: Vec<DesiredResource>,
    /// Where renamed objects were declared, by (kind, key).
    pub origins: BTreeMap<(&'static str, String), Origin>,
}

/// How a manifest names an existing resource: by title, by hash, or both (then the
/// hash identifies it and the title is only checked).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceRef {
    pub name: Option<String>,
    pub hash: Option<String>,
}

impl std::fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, &self.hash) {
            (Some(n), Some(h)) => write!(f, "{n} (hash {h})"),
            (Some(n), None) => f.write_str(n),
            (None, Some(h)) => write!(f, "hash {h}"),
            (None, None) => f.write_str("(unnamed)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DesiredResource {
    pub kind: ResourceKind,
    pub by: ResourceRef,
    pub origin: Origin,
    /// Project tags (projects only); `None`: not managed (no `tags:` key).
    pub tags: Option<BTreeSet<String>>,
    /// Project access (projects only); `None`: not managed (no `access:` key).
    pub project_access: Option<BTreeMap<Principal, ProjectRole>>,
    /// Dataset / Ontology access; `None`: not managed (no `access:` key).
    pub resource_access: Option<BTreeMap<Principal, ResourceRole>>,
}

impl DesiredResource {
    /// Whether the manifests manage this resource's access (an `access:` key).
    pub fn manages_access(&self) -> bool {
        match self.kind {
            ResourceKind::Project => self.project_access.is_some(),
            _ => self.resource_access.is_some(),
        }
    }
}

impl Desired {
    /// Builds the desired org. Call only on manifests that validated without errors.
    pub fn from_manifests(m: &ManifestFile) -> Desired {
        let mut d = Desired::default();
        let domains: Vec<&str> = m
            .organization
            .iter()
            .flat_map(|o| o.email_domains.iter().map(|d| d.as_str()))
            .collect();
        for u in &m.users {
            let user_type = u.user_type.as_ref().map_or_else(
                || default_user_type(&u.email, domains.iter().copied()),
                |t| t.value,
            );
            d.org.users.insert(
                email::normalize(&u.email),
                User {
                    role: u.role.value,
                    user_type,
                    status: u.status.as_ref().map(|s| s.value),
                },
            );
        }
        for g in &m.groups {
            d.org.groups.insert(
                g.name.value.clone(),
                Group {
                    description: g.description.clone(),
                    members: g.members.iter().map(|e| email::normalize(e)).collect(),
                    managers: g.managers.iter().map(|e| email::normalize(e)).collect(),
                },
            );
            if !g.renamed_from.is_empty() {
                d.group_renames
                    .insert(g.name.value.clone(), names(&g.renamed_from));
                d.origins
                    .insert(("group", g.name.value.clone()), g.name.origin);
            }
        }
        for t in &m.project_tags {
            d.org.project_tags.insert(
                t.name.value.clone(),
                Tag {
                    description: t.description.clone(),
                },
            );
            if !t.renamed_from.is_empty() {
                d.tag_renames
                    .insert(t.name.value.clone(), names(&t.renamed_from));
                d.origins
                    .insert(("project_tag", t.name.value.clone()), t.name.origin);
            }
        }
        for (key, ty) in &m.metadata_schema.0 {
            d.org
                .metadata_schema
                .insert(key.value.clone(), metadata_type(&ty.value));
        }
        d.add_folders(&m.folders, &FolderPath(Vec::new()));
        for p in &m.projects {
            d.resources.push(DesiredResource {
                kind: ResourceKind::Project,
                by: reference(&p.name, &p.hash),
                origin: p.origin,
                tags: p
                    .tags
                    .as_ref()
                    .map(|tags| tags.iter().map(|t| t.value.clone()).collect()),
                project_access: p.access.as_deref().map(access),
                resource_access: None,
            });
        }
        for (kind, list) in [
            (ResourceKind::Dataset, &m.datasets),
            (ResourceKind::Ontology, &m.ontologies),
        ] {
            for r in list {
                d.resources.push(DesiredResource {
                    kind,
                    by: reference(&r.name, &r.hash),
                    origin: r.origin,
                    tags: None,
                    project_access: None,
                    resource_access: r.access.as_deref().map(access),
                });
            }
        }
        d
    }

    fn add_folders(&mut self, folders: &[Spanned<FolderSpec>], parent: &FolderPath) {
        for f in folders {
            let path = parent.child(&f.name);
            self.org.folders.insert(
                path.clone(),
                Folder {
                    description: f.description.clone(),
                },
            );
            if !f.renamed_from.is_empty() {
                self.folder_renames
                    .insert(path.clone(), names(&f.renamed_from));
                self.origins
                    .insert(("folder", path.to_string()), f.name.origin);
            }
            self.add_folders(&f.folders, &path);
        }
    }
}

fn names(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.value.clone()).collect()
}

fn reference(name: &Option<Spanned<String>>, hash: &Option<Spanned<String>>) -> ResourceRef {
    ResourceRef {
        name: name.as_ref().map(|n| n.value.clone()),
        hash: hash.as_ref().map(|h| h.value.clone()),
    }
}

fn access<R: Copy>(list: &[Spanned<AccessSpec<R>>]) -> BTreeMap<Principal, R> {
    list.iter()
        .filter_map(|a| {
            let who = match (&a.user, &a.group) {
                (Some(u), None) => Principal::User(email::normalize(u)),
                (None, Some(g)) => Principal::Group(g.value.clone()),
                _ => return None,
            };
            Some((who, a.role.value))
        })
        .collect()
}

/// The canonical type of a manifest type (aliases resolved).
pub fn metadata_type(spec: &MetadataTypeSpec) -> MetadataType {
    match spec {
        MetadataTypeSpec::Boolean => MetadataType::Boolean,
        MetadataTypeSpec::Datetime => MetadataType::Datetime,
        MetadataTypeSpec::Number => MetadataType::Number,
        MetadataTypeSpec::Uuid => MetadataType::Uuid,
        MetadataTypeSpec::Varchar | MetadataTypeSpec::StringAlias => MetadataType::Varchar,
        MetadataTypeSpec::Text | MetadataTypeSpec::LongStringAlias => MetadataType::Text,
        MetadataTypeSpec::Enum(options) => {
            MetadataType::Enum(options.iter().map(|o| o.value.clone()).collect())
        }
        MetadataTypeSpec::Embedding(size) => {
            MetadataType::Embedding(u32::try_from(size.value).unwrap_or(u32::MAX))
        }
    }
}
