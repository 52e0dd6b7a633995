//! [`Org`]: one Organization's state, live or desired, keyed by natural keys.
//!
//! Ordered maps throughout, so iteration, plans and fingerprints are deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{InvitationStatus, OrgRole, ProjectRole, ResourceRole, UserType};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Org {
    /// By lower-case email.
    pub users: BTreeMap<String, User>,
    /// By name.
    pub groups: BTreeMap<String, Group>,
    /// By name (unique case-insensitively).
    pub project_tags: BTreeMap<String, Tag>,
    pub metadata_schema: BTreeMap<String, MetadataType>,
    /// By path from the root.
    pub folders: BTreeMap<FolderPath, Folder>,
    /// By hash: titles are not unique on the platform.
    pub projects: BTreeMap<String, Project>,
    /// By hash.
    pub datasets: BTreeMap<String, Resource<ResourceRole>>,
    /// By hash.
    pub ontologies: BTreeMap<String, Resource<ResourceRole>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub role: OrgRole,
    #[serde(rename = "type")]
    pub user_type: UserType,
    /// Invitation status: known for live users, not part of what is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InvitationStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub description: String,
    pub members: BTreeSet<String>,
    pub managers: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub description: String,
}

/// A metadata key's type, canonical (aliases resolved).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataType {
    Boolean,
    Datetime,
    Number,
    Uuid,
    Varchar,
    Text,
    Enum(BTreeSet<String>),
    Embedding(u32),
}

impl MetadataType {
    /// The type's name without its parameters.
    pub fn name(&self) -> &'static str {
        match self {
            MetadataType::Boolean => "boolean",
            MetadataType::Datetime => "datetime",
            MetadataType::Number => "number",
            MetadataType::Uuid => "uuid",
            MetadataType::Varchar => "varchar",
            MetadataType::Text => "text",
            MetadataType::Enum(_) => "enum",
            MetadataType::Embedding(_) => "embedding",
        }
    }

    /// Whether changing `self` into `new` can break existing data: a different type,
    /// a different embedding size, or enum options removed (SPEC `metadata-retype`).
    pub fn retype_breaks_data(&self, new: &MetadataType) -> bool {
        match (self, new) {
            (MetadataType::Enum(old), MetadataType::Enum(new)) => !old.is_subset(new),
            (a, b) => a != b,
        }
    }
}

impl fmt::Display for MetadataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataType::Enum(options) => {
                let options: Vec<&str> = options.iter().map(String::as_str).collect();
                write!(f, "enum [{}]", options.join(", "))
            }
            MetadataType::Embedding(size) => write!(f, "embedding {size}"),
            other => f.write_str(other.name()),
        }
    }
}

/// A folder's path from the root: names of the folder and its ancestors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FolderPath(pub Vec<String>);

impl FolderPath {
    pub fn parent(&self) -> Option<FolderPath> {
        (self.0.len() > 1).then(|| FolderPath(self.0[..self.0.len() - 1].to_vec()))
    }

    pub fn name(&self) -> &str {
        self.0.last().map_or("", String::as_str)
    }

    pub fn child(&self, name: &str) -> FolderPath {
        let mut p = self.0.clone();
        p.push(name.to_string());
        FolderPath(p)
    }

    pub fn depth(&self) -> usize {
        self.0.len()
    }

    pub fn starts_with(&self, prefix: &FolderPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

// Folder names cannot contain `/` (validated), so the joined path is a faithful key.
impl Serialize for FolderPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for FolderPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(FolderPath(s.split('/').map(str::to_string).collect()))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub description: String,
}

/// Who holds a role on a resource: a user (by email) or a group (by name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    User(String),
    Group(String),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(e) => write!(f, "user:{e}"),
            Principal::Group(g) => write!(f, "group:{g}"),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.split_once(':') {
            Some(("user", e)) => Ok(Principal::User(e.to_string())),
            Some(("group", g)) => Ok(Principal::Group(g.to_string())),
            _ => Err(serde::de::Error::custom(format!(
                "`{s}` is not a principal (user:EMAIL or group:NAME)"
            ))),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The title (not unique).
    pub name: String,
    pub tags: BTreeSet<String>,
    pub access: BTreeMap<Principal, ProjectRole>,
}

/// A Dataset or Ontology.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource<R> {
    /// The title (not unique).
    pub name: String,
    pub access: BTreeMap<Principal, R>,
}

/// Which kind of resource an access entry is on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Project,
    Dataset,
    Ontology,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::Project => "project",
            ResourceKind::Dataset => "dataset",
            ResourceKind::Ontology => "ontology",
        })
    }
}

impl Org {
    /// Case-insensitive tag lookup: tag names are unique ignoring case (Unicode-aware,
    /// the same comparison validate and the sandbox store use).
    pub fn tag_named(&self, name: &str) -> Option<&str> {
        let wanted = name.to_lowercase();
        self.project_tags
            .keys()
            .find(|k| k.to_lowercase() == wanted)
            .map(String::as_str)
    }

    /// Access entries of every resource, as (kind, resource hash, principal, role name).
    pub fn access_entries(&self) -> Vec<(ResourceKind, &str, &Principal, &'static str)> {
        let mut out = Vec::new();
        self.each_access(|kind, hash, who, role| out.push((kind, hash, who, role)));
        out
    }

    /// Calls `f` with every access entry, in the order of [`Org::access_entries`]
    /// (projects, datasets, ontologies; each by hash, then principal), collecting nothing.
    pub fn each_access<'a>(
        &'a self,
        mut f: impl FnMut(ResourceKind, &'a str, &'a Principal, &'static str),
    ) {
        for (hash, p) in &self.projects {
            for (who, role) in &p.access {
                f(ResourceKind::Project, hash, who, role.name());
            }
        }
        for (kind, map) in [
            (ResourceKind::Dataset, &self.datasets),
            (ResourceKind::Ontology, &self.ontologies),
        ] {
            for (hash, r) in map {
                for (who, role) in &r.access {
                    f(kind, hash, who, role.name());
                }
            }
        }
    }

    /// Every resource of a kind as (hash, title).
    pub fn resources_of(&self, kind: ResourceKind) -> Vec<(&str, &str)> {
        match kind {
            ResourceKind::Project => self
                .projects
                .iter()
                .map(|(h, p)| (h.as_str(), p.name.as_str()))
                .collect(),
            ResourceKind::Dataset => self
                .datasets
                .iter()
                .map(|(h, r)| (h.as_str(), r.name.as_str()))
                .collect(),
            ResourceKind::Ontology => self
                .ontologies
                .iter()
                .map(|(h, r)| (h.as_str(), r.name.as_str()))
                .collect(),
        }
    }

    /// A resource's title, by kind and hash.
    pub fn title(&self, kind: ResourceKind, hash: &str) -> Option<&str> {
        match kind {
            ResourceKind::Project => self.projects.get(hash).map(|p| p.name.as_str()),
            ResourceKind::Dataset => self.datasets.get(hash).map(|r| r.name.as_str()),
            ResourceKind::Ontology => self.ontologies.get(hash).map(|r| r.name.as_str()),
        }
    }

    /// A resource's access entries as (principal, role name), by kind and hash.
    pub fn access_of(&self, kind: ResourceKind, hash: &str) -> Option<Vec<(&Principal, String)>> {
        fn list<R: ToString>(access: &BTreeMap<Principal, R>) -> Vec<(&Principal, String)> {
            access.iter().map(|(w, r)| (w, r.to_string())).collect()
        }
        match kind {
            ResourceKind::Project => self.projects.get(hash).map(|p| list(&p.access)),
            ResourceKind::Dataset => self.datasets.get(hash).map(|r| list(&r.access)),
            ResourceKind::Ontology => self.ontologies.get(hash).map(|r| list(&r.access)),
        }
    }
}
