//! The manifest format (SPEC §2) as Rust types: what people write in `org/*.yaml`.
//!
//! These types are the single source of the manifest JSON Schema (schemars) and of the
//! loader (serde). Every object and every field a diagnostic may point at is
//! [`Spanned`], so it knows its file:line:column.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{InvitationStatus, OrgRole, ProjectRole, ResourceRole, UserType};
use crate::yaml::Spanned;

/// One manifest file. Every section is optional; sections merge across files.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "orgform manifest",
    description = "One file of an orgform manifests directory (org/*.yaml). Sections merge across files."
)]
pub struct ManifestFile {
    /// Members of the Organization, by email.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Spanned<UserSpec>>,
    /// User groups with their members and managers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Spanned<GroupSpec>>,
    /// Organization-wide project tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub project_tags: Vec<Spanned<TagSpec>>,
    /// The custom-metadata schema: key → type.
    #[serde(default, skip_serializing_if = "MetadataSchemaSpec::is_empty")]
    pub metadata_schema: MetadataSchemaSpec,
    /// Index folders, nested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<Spanned<FolderSpec>>,
    /// Existing Projects: access and tags (never created or deleted by orgform).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<Spanned<ProjectSpec>>,
    /// Existing Datasets: access.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Spanned<ResourceSpec>>,
    /// Existing Ontologies: access.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ontologies: Vec<Spanned<ResourceSpec>>,
    /// Organization settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Spanned<OrganizationSpec>>,
}

/// The top-level sections, for the loader and its did-you-mean.
pub const SECTIONS: &[&str] = &[
    "users",
    "groups",
    "project_tags",
    "metadata_schema",
    "folders",
    "projects",
    "datasets",
    "ontologies",
    "organization",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// Email address; compared case-insensitively.
    pub email: Spanned<String>,
    /// Role in the Organization.
    pub role: Spanned<OrgRole>,
    /// Default: internal when the email's domain is in `organization.email_domains`, else external.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<Spanned<UserType>>,
    /// Invitation status. Read-only on the platform: only sandbox state files may set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Spanned<InvitationStatus>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Unique group name.
    pub name: Spanned<String>,
    /// Former names: a live group with one of these names is renamed instead of replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Emails of group managers (they need not be members).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managers: Vec<Spanned<String>>,
    /// Emails of group members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagSpec {
    /// Tag name, unique case-insensitively.
    pub name: Spanned<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A metadata key's type, as written: a scalar type name, `{ enum: [...] }` or `{ embedding: N }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetadataTypeSpec {
    Boolean,
    Datetime,
    Number,
    Uuid,
    Varchar,
    Text,
    /// Accepted alias of `varchar`.
    #[serde(rename = "string")]
    StringAlias,
    /// Accepted alias of `text`.
    #[serde(rename = "long_string")]
    LongStringAlias,
    /// An enumeration with its options.
    Enum(Vec<Spanned<String>>),
    /// An embedding with its size (1–4096).
    Embedding(Spanned<u64>),
}

/// `metadata_schema:` — a mapping of key to type, keeping each key's position.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MetadataSchemaSpec(pub Vec<(Spanned<String>, Spanned<MetadataTypeSpec>)>);

impl MetadataSchemaSpec {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for MetadataSchemaSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(&k.value, &v.value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for MetadataSchemaSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = MetadataSchemaSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping of metadata key to type")
            }
            fn visit_unit<E>(self) -> Result<MetadataSchemaSpec, E> {
                Ok(MetadataSchemaSpec::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<MetadataSchemaSpec, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(MetadataSchemaSpec(entries))
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for MetadataSchemaSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MetadataSchema".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = generator.subschema_for::<MetadataTypeSpec>();
        schemars::json_schema!({
            "description": "Metadata key → type. Keys: letters, digits, space, `-`, `_`, `.`; not starting with `$`; `keyframes` is reserved.",
            "type": "object",
            "additionalProperties": value,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderSpec {
    /// Folder name, unique among its siblings.
    pub name: Spanned<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Child folders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folders: Vec<Spanned<FolderSpec>>,
}

/// An existing Project, named by `name` (its title, while unique) or `hash` (or both:
/// the hash identifies it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<Spanned<String>>,
    /// Project tags (declared in `project_tags`). Without the key the project's tags
    /// are not managed; `tags: []` means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Spanned<String>>>,
    /// Who may access the project. Without the key its access is not managed;
    /// `access: []` means nobody (subject to `resource-admin-required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Vec<Spanned<AccessSpec<ProjectRole>>>>,
}

/// An existing Dataset or Ontology, named by `name` (its title, while unique) or
/// `hash` (or both: the hash identifies it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<Spanned<String>>,
    /// Who may access it. Without the key its access is not managed; `access: []`
    /// means nobody (subject to `resource-admin-required` on datasets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Vec<Spanned<AccessSpec<ResourceRole>>>>,
}

/// Who may access a resource, with which role: exactly one of `user` or `group`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AccessWith{R}")]
pub struct AccessSpec<R> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Spanned<String>>,
    pub role: Spanned<R>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    /// Email domains of the org's internal users (e.g. `acme.com`).
    #[serde(default)]
    pub email_domains: Vec<Spanned<String>>,
}
