//! The plan: what must change for the live org to match the manifests (SPEC §3).
//!
//! [`plan`] is a pure function of (desired, live, policy, provider capabilities): it
//! never calls a provider. Changes come out in apply order; blocked items (platform
//! rules, policy limits) are kept apart and are never applied.

mod diff;
mod fingerprint;
mod footprint;
pub mod impact;
pub mod integrity;
pub mod op;
mod order;
pub mod target;
mod titles;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Rule;
use crate::model::{FolderPath, Principal, ResourceKind};

pub use diff::{admin_losses, plan};
pub use fingerprint::fingerprint;
pub use impact::Impact;
pub use op::{AccessRole, BatchKey, Op, OpError, ResourceId};
pub use order::enforce_deletion_limits;

pub const FORMAT_VERSION: u32 = 1;

/// What the connected platform API can do; what it cannot becomes a `manual` item
/// (SPEC §7.1), and what it cannot read is a warning, never a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Change a user's org role in place (else a manual step in the web app).
    pub change_org_role: bool,
    /// Read, add and remove group managers (else live managers are unknown: declared
    /// ones are one warning, and only a new group's managers are manual steps).
    pub group_managers: bool,
    /// Rename a project tag.
    pub rename_tag: bool,
    /// Change a project tag's description.
    pub tag_description: bool,
    /// Change a user's role on a Project or Dataset in place (else remove + re-add).
    /// Groups' roles change in place either way (adding a group again sets its role).
    pub change_access_role: bool,
    /// Add a workforce user to the org (else they arrive when added to a project or
    /// dataset: a manual step, with what needs them).
    pub add_workforce_user: bool,
    /// Read and change individual users' access to Ontologies (else each declared entry
    /// is a warning, and changes known to be needed are manual steps).
    pub ontology_user_access: bool,
    /// The user the provider acts as, which a plan never removes, demotes or replaces.
    pub key_user: KeyUser,
}

/// Who the provider's credentials act as (SPEC §7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUser {
    /// No user: the provider is not reached through a user's key (the sandbox).
    NotApplicable,
    /// A key acts as some user, but the configuration does not say which: plans warn.
    Unknown,
    /// `provider.key_user`, lower-case.
    Known(String),
}

impl Capabilities {
    pub const ALL: Capabilities = Capabilities {
        change_org_role: true,
        group_managers: true,
        rename_tag: true,
        tag_description: true,
        change_access_role: true,
        add_workforce_user: true,
        ontology_user_access: true,
        key_user: KeyUser::NotApplicable,
    };
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(
    title = "orgform plan",
    description = "A saved orgform plan (format_version 1): the changes that make the live org match the manifests."
)]
pub struct Plan {
    pub format_version: u32,
    /// The orgform version that made the plan: apply refuses a plan from another one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub orgform_version: String,
    pub source: Source,
    /// `sha256:` of orgform.yaml and the manifest files the plan was made from: apply
    /// refuses the plan in a checkout whose manifests differ.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifests_digest: String,
    /// Digest of the live org the plan was computed against. Apply judges each change
    /// against the live org as it is then; while this still matches, a saved plan must
    /// also equal a fresh one exactly.
    pub actual_fingerprint: String,
    pub summary: Summary,
    /// In apply order.
    pub changes: Vec<Change>,
    /// Never applied: platform rules or policy forbid them.
    pub blocked: Vec<Blocked>,
    pub warnings: Vec<Warning>,
    /// `sha256:` digest of the rest of the plan (canonical JSON), set when the plan is
    /// made; apply refuses a plan file whose content no longer matches it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Source {
    /// The manifests directory.
    pub manifests: String,
    /// The git commit the manifests were read from, when known; `<sha>-dirty` when the
    /// manifests or orgform.yaml differ from it.
    pub git_commit: Option<String>,
    /// The manifests or orgform.yaml had changes not committed to `git_commit`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dirty: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub rename: usize,
    pub replace: usize,
    pub manual: usize,
    pub blocked: usize,
}

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
pub enum Kind {
    User,
    Group,
    GroupMember,
    GroupManager,
    ProjectTag,
    ProjectTagAssignment,
    MetadataKey,
    Folder,
    Access,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::User,
        Kind::Group,
        Kind::GroupMember,
        Kind::GroupManager,
        Kind::ProjectTag,
        Kind::ProjectTagAssignment,
        Kind::MetadataKey,
        Kind::Folder,
        Kind::Access,
    ];

    /// Its names: in plans and `--target` (`as_str`), as a heading (`plural`), in
    /// `policy.max_deletions` (`policy`).
    fn names(self) -> &'static KindNames {
        &KIND_NAMES[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.names().name
    }

    /// Heading for grouped output.
    pub fn plural(self) -> &'static str {
        self.names().plural
    }

    /// The key of `policy.max_deletions` for this kind.
    pub fn policy_name(self) -> &'static str {
        self.names().policy
    }
}

struct KindNames {
    name: &'static str,
    plural: &'static str,
    policy: &'static str,
}

/// Every name of every kind, in `Kind` order: the one table to edit.
const KIND_NAMES: [KindNames; 9] = [
    KindNames {
        name: "user",
        plural: "users",
        policy: "users",
    },
    KindNames {
        name: "group",
        plural: "groups",
        policy: "groups",
    },
    KindNames {
        name: "group_member",
        plural: "group members",
        policy: "group_members",
    },
    KindNames {
        name: "group_manager",
        plural: "group managers",
        policy: "group_managers",
    },
    KindNames {
        name: "project_tag",
        plural: "project tags",
        policy: "project_tags",
    },
    KindNames {
        name: "project_tag_assignment",
        plural: "project tag assignments",
        policy: "project_tag_assignments",
    },
    KindNames {
        name: "metadata_key",
        plural: "metadata keys",
        policy: "metadata_keys",
    },
    KindNames {
        name: "folder",
        plural: "folders",
        policy: "folders",
    },
    KindNames {
        name: "access",
        plural: "access",
        policy: "access",
    },
];

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
pub enum Action {
    Create,
    Update,
    Delete,
    Rename,
    Replace,
    Manual,
}

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
pub enum Danger {
    Safe,
    /// Removes access or membership, or lowers a role.
    Disruptive,
    /// Deletes an object, retypes a metadata key, or replaces a user.
    Destructive,
}

/// The object a change acts on, in machine-readable form (the `key` is for people).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    User {
        email: String,
    },
    Group {
        name: String,
    },
    GroupMember {
        group: String,
        email: String,
    },
    GroupManager {
        group: String,
        email: String,
    },
    ProjectTag {
        name: String,
    },
    ProjectTagAssignment {
        /// The project's hash.
        project: String,
        /// The project as people read it: its title, with the hash when the title is
        /// not unique.
        title: String,
        tag: String,
    },
    MetadataKey {
        key: String,
    },
    Folder {
        #[schemars(with = "String")]
        path: FolderPath,
    },
    Access {
        resource_kind: ResourceKind,
        /// The resource's hash.
        resource: String,
        /// The resource as people read it: its title, with the hash when the title is
        /// not unique.
        title: String,
        #[schemars(with = "String")]
        principal: Principal,
    },
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::User { .. } => Kind::User,
            Target::Group { .. } => Kind::Group,
            Target::GroupMember { .. } => Kind::GroupMember,
            Target::GroupManager { .. } => Kind::GroupManager,
            Target::ProjectTag { .. } => Kind::ProjectTag,
            Target::ProjectTagAssignment { .. } => Kind::ProjectTagAssignment,
            Target::MetadataKey { .. } => Kind::MetadataKey,
            Target::Folder { .. } => Kind::Folder,
            Target::Access { .. } => Kind::Access,
        }
    }

    /// The natural key shown to people.
    pub fn key(&self) -> String {
        match self {
            Target::User { email } => email.clone(),
            Target::Group { name } | Target::ProjectTag { name } => name.clone(),
            Target::GroupMember { group, email } | Target::GroupManager { group, email } => {
                format!("{group}/{email}")
            }
            Target::ProjectTagAssignment { title, tag, .. } => format!("{title}/{tag}"),
            Target::MetadataKey { key } => key.clone(),
            Target::Folder { path } => path.to_string(),
            Target::Access {
                resource_kind,
                title,
                principal,
                ..
            } => format!("{resource_kind}:{title}/{principal}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    pub kind: Kind,
    pub key: String,
    pub action: Action,
    pub danger: Danger,
    pub fields: Vec<FieldChange>,
    pub target: Target,
    /// The rule behind this change's danger or manual status, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    /// What else happens, or the steps for a manual change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who and what a deletion or replacement affects (members, groups, access,
    /// projects), for reviewers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
}

/// Two changes are the same when they do the same thing: `impact` describes the live
/// org around a change (who else is in a group being deleted), not the change, so a
/// saved plan still matches a fresh one when only that surrounding changed.
impl PartialEq for Change {
    fn eq(&self, other: &Self) -> bool {
        let Change {
            kind,
            key,
            action,
            danger,
            fields,
            target,
            rule,
            note,
            impact: _,
        } = self;
        *kind == other.kind
            && *key == other.key
            && *action == other.action
            && *danger == other.danger
            && *fields == other.fields
            && *target == other.target
            && *rule == other.rule
            && *note == other.note
    }
}

impl Change {
    pub fn new(target: Target, action: Action, danger: Danger) -> Self {
        Change {
            kind: target.kind(),
            key: target.key(),
            action,
            danger,
            fields: Vec::new(),
            target,
            rule: None,
            note: None,
            impact: None,
        }
    }

    /// Adds a field change (tests and hand-made changes; the planner builds changes
    /// from operations with [`Change::from_op`]).
    pub fn field(
        mut self,
        field: &str,
        before: impl Into<Option<serde_json::Value>>,
        after: impl Into<Option<serde_json::Value>>,
    ) -> Self {
        self.fields.push(FieldChange {
            field: field.to_string(),
            before: before.into().unwrap_or(serde_json::Value::Null),
            after: after.into().unwrap_or(serde_json::Value::Null),
        });
        self
    }

    pub fn rule(mut self, rule: Rule) -> Self {
        self.rule = Some(rule);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The value a field will have after the change.
    pub fn after(&self, field: &str) -> Option<&serde_json::Value> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| &f.after)
    }

    /// The value a field had when the plan was made.
    pub fn before(&self, field: &str) -> Option<&serde_json::Value> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| &f.before)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FieldChange {
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Blocked {
    pub kind: Kind,
    pub key: String,
    pub rule: Rule,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Warning {
    pub rule: Rule,
    pub message: String,
    /// `file:line:column` of the declaration concerned, when there is one.
    pub origin: Option<String>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Counts per kind of change, for the summary.
    pub fn summarize(changes: &[Change], blocked: usize) -> Summary {
        let mut s = Summary {
            blocked,
            ..Summary::default()
        };
        for c in changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
                Action::Rename => s.rename += 1,
                Action::Replace => s.replace += 1,
                Action::Manual => s.manual += 1,
            }
        }
        s
    }

    /// Changes grouped by kind, in kind order (for renderers).
    pub fn by_kind(&self) -> BTreeMap<Kind, Vec<&Change>> {
        let mut map: BTreeMap<Kind, Vec<&Change>> = BTreeMap::new();
        for c in &self.changes {
            map.entry(c.kind).or_default().push(c);
        }
        map
    }
}

/// Whether a plan computed from a read limited to the declared resources needs the
/// whole org (SPEC §7.2): it removes or replaces a user, or deletes a group or a tag,
/// so the admin rule, the restore of undeclared access and `impact` must see every
/// resource's access and tag assignments.
pub fn needs_whole_org(plan: &Plan) -> bool {
    plan.changes.iter().any(|c| {
        matches!(
            (c.kind, c.action),
            (Kind::User, Action::Delete | Action::Replace)
                | (Kind::Group | Kind::ProjectTag, Action::Delete)
        )
    })
}

/// The JSON Schema of saved plans (`schemas/plan.schema.json`).
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Plan)).unwrap_or_default()
}
