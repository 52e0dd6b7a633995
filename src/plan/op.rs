//! Typed operations: what a change asks the provider to do.
//!
//! A plan keeps each change as a target, an action and a list of field changes: what
//! people, the renderers and the JSON plan read. [`Change::from_op`] writes that form
//! from an [`Op`] and [`Change::op`] reads it back; they are the only code that knows
//! field names. Providers, preconditions, dependency tracking and the apply order work
//! on `Op`s. A saved plan whose fields do not read back as exactly the operation they
//! describe is refused (see `integrity::check`).
//!
//! Operations that remove or change something carry what the plan saw (`from`, or the
//! values of what is deleted): apply checks the live object still has them first.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Action, Change, Danger, FieldChange, Kind, Target};
use crate::model::{
    FolderPath, MetadataType, OrgRole, Principal, ProjectRole, ResourceKind, ResourceRole, UserType,
};

/// A Project, Dataset or Ontology: identified by kind and hash (titles are not unique);
/// the title is for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    pub kind: ResourceKind,
    pub hash: String,
    /// As people read it: the title, with the hash when the title is not unique.
    pub title: String,
}

/// A role on a resource: Projects have their own roles, Datasets and Ontologies share
/// `admin` and `user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessRole {
    Project(ProjectRole),
    Resource(ResourceRole),
}

impl AccessRole {
    /// The admin role of a resource of this kind.
    pub fn admin(kind: ResourceKind) -> AccessRole {
        match kind {
            ResourceKind::Project => AccessRole::Project(ProjectRole::Admin),
            _ => AccessRole::Resource(ResourceRole::Admin),
        }
    }

    /// A role by its manifest name, for a resource of this kind.
    pub fn parse(kind: ResourceKind, name: &str) -> Option<AccessRole> {
        Self::decode(kind, &Value::from(name)).ok()
    }

    fn decode(kind: ResourceKind, value: &Value) -> Result<AccessRole, serde_json::Error> {
        Ok(match kind {
            ResourceKind::Project => AccessRole::Project(ProjectRole::deserialize_from(value)?),
            _ => AccessRole::Resource(ResourceRole::deserialize_from(value)?),
        })
    }

    fn encode(self) -> Value {
        match self {
            AccessRole::Project(r) => json!(r),
            AccessRole::Resource(r) => json!(r),
        }
    }

    pub fn is_admin(self) -> bool {
        matches!(
            self,
            AccessRole::Project(ProjectRole::Admin) | AccessRole::Resource(ResourceRole::Admin)
        )
    }

    /// Higher means more permissions (within one kind of resource).
    pub fn rank(self) -> u8 {
        match self {
            AccessRole::Project(r) => r.rank(),
            AccessRole::Resource(r) => r.rank(),
        }
    }
}

impl From<ProjectRole> for AccessRole {
    fn from(role: ProjectRole) -> Self {
        AccessRole::Project(role)
    }
}

impl From<ResourceRole> for AccessRole {
    fn from(role: ResourceRole) -> Self {
        AccessRole::Resource(role)
    }
}

impl std::fmt::Display for AccessRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccessRole::Project(r) => r.fmt(f),
            AccessRole::Resource(r) => r.fmt(f),
        }
    }
}

/// Decoding from a borrowed JSON value, without cloning it.
trait DeserializeFrom: Sized {
    fn deserialize_from(value: &Value) -> Result<Self, serde_json::Error>;
}

impl<T: DeserializeOwned> DeserializeFrom for T {
    fn deserialize_from(value: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(value)
    }
}

/// One operation on the org, in the platform's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    InviteUser {
        email: String,
        role: OrgRole,
        user_type: UserType,
    },
    SetOrgRole {
        email: String,
        from: OrgRole,
        to: OrgRole,
    },
    /// Remove and re-add with another type (or role, where the API cannot change one).
    ReplaceUser {
        email: String,
        from_role: OrgRole,
        from_type: UserType,
        role: OrgRole,
        user_type: UserType,
    },
    /// `role` and `user_type` as the plan saw them.
    RemoveUser {
        email: String,
        role: OrgRole,
        user_type: UserType,
    },
    CreateGroup {
        name: String,
        description: String,
    },
    RenameGroup {
        from: String,
        to: String,
    },
    SetGroupDescription {
        name: String,
        from: String,
        to: String,
    },
    /// `description` as the plan saw it.
    DeleteGroup {
        name: String,
        description: String,
    },
    AddGroupMember {
        group: String,
        email: String,
    },
    RemoveGroupMember {
        group: String,
        email: String,
    },
    AddGroupManager {
        group: String,
        email: String,
    },
    RemoveGroupManager {
        group: String,
        email: String,
    },
    CreateTag {
        name: String,
        description: String,
    },
    RenameTag {
        from: String,
        to: String,
    },
    SetTagDescription {
        name: String,
        from: String,
        to: String,
    },
    /// `description` as the plan saw it.
    DeleteTag {
        name: String,
        description: String,
    },
    AssignTag {
        project: ResourceId,
        tag: String,
    },
    UnassignTag {
        project: ResourceId,
        tag: String,
    },
    CreateMetadataKey {
        key: String,
        ty: MetadataType,
    },
    RetypeMetadataKey {
        key: String,
        from: MetadataType,
        to: MetadataType,
    },
    /// `ty` as the plan saw it.
    DeleteMetadataKey {
        key: String,
        ty: MetadataType,
    },
    CreateFolder {
        path: FolderPath,
        description: String,
    },
    /// Renames the folder at `path` to `to` (same parent).
    RenameFolder {
        path: FolderPath,
        to: String,
    },
    SetFolderDescription {
        path: FolderPath,
        from: String,
        to: String,
    },
    /// Deletes the folder and everything below it; `description` as the plan saw it.
    DeleteFolder {
        path: FolderPath,
        description: String,
    },
    GrantAccess {
        resource: ResourceId,
        principal: Principal,
        role: AccessRole,
    },
    SetAccessRole {
        resource: ResourceId,
        principal: Principal,
        from: AccessRole,
        to: AccessRole,
    },
    /// Remove and re-add with another role (the API cannot change one in place).
    ReplaceAccess {
        resource: ResourceId,
        principal: Principal,
        from: AccessRole,
        to: AccessRole,
    },
    /// `role` as the plan saw it.
    RemoveAccess {
        resource: ResourceId,
        principal: Principal,
        role: AccessRole,
    },
    /// What the provider's API cannot do: someone does it in the web app (the change's
    /// note says how). `rename_to` when it is a rename, so what needs the new name waits.
    Manual {
        target: Target,
        rename_to: Option<String>,
    },
}

/// Operations one list-taking API call can perform together: all of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchKey {
    /// Members added to one group.
    AddGroupMembers(String),
    /// Members removed from one group.
    RemoveGroupMembers(String),
    /// Users removed from one project (by hash).
    RemoveProjectUsers(String),
    /// Users removed from one dataset (by hash).
    RemoveDatasetUsers(String),
    /// Groups given one role on one resource.
    GrantGroups(ResourceKind, String, AccessRole),
}

// Field names as plans show them.
const ROLE: &str = "role";
const TYPE: &str = "type";
const NAME: &str = "name";
const DESCRIPTION: &str = "description";

/// A field change; `None` is "absent on this side" (before a create, after a delete).
fn field(name: &str, before: Option<Value>, after: Option<Value>) -> FieldChange {
    FieldChange {
        field: name.to_string(),
        before: before.unwrap_or(Value::Null),
        after: after.unwrap_or(Value::Null),
    }
}

/// Where a folder renamed to `name` is: same parent.
pub fn renamed_folder(path: &FolderPath, name: &str) -> FolderPath {
    match path.parent() {
        Some(parent) => parent.child(name),
        None => FolderPath(vec![name.to_string()]),
    }
}

impl Op {
    /// The object the operation acts on (a rename: as it is named before).
    pub fn target(&self) -> Target {
        use Op::*;
        match self {
            InviteUser { email, .. }
            | SetOrgRole { email, .. }
            | ReplaceUser { email, .. }
            | RemoveUser { email, .. } => Target::User {
                email: email.clone(),
            },
            CreateGroup { name, .. }
            | SetGroupDescription { name, .. }
            | DeleteGroup { name, .. }
            | RenameGroup { from: name, .. } => Target::Group { name: name.clone() },
            AddGroupMember { group, email } | RemoveGroupMember { group, email } => {
                Target::GroupMember {
                    group: group.clone(),
                    email: email.clone(),
                }
            }
            AddGroupManager { group, email } | RemoveGroupManager { group, email } => {
                Target::GroupManager {
                    group: group.clone(),
                    email: email.clone(),
                }
            }
            CreateTag { name, .. }
            | SetTagDescription { name, .. }
            | DeleteTag { name, .. }
            | RenameTag { from: name, .. } => Target::ProjectTag { name: name.clone() },
            AssignTag { project, tag } | UnassignTag { project, tag } => {
                Target::ProjectTagAssignment {
                    project: project.hash.clone(),
                    title: project.title.clone(),
                    tag: tag.clone(),
                }
            }
            CreateMetadataKey { key, .. }
            | RetypeMetadataKey { key, .. }
            | DeleteMetadataKey { key, .. } => Target::MetadataKey { key: key.clone() },
            CreateFolder { path, .. }
            | RenameFolder { path, .. }
            | SetFolderDescription { path, .. }
            | DeleteFolder { path, .. } => Target::Folder { path: path.clone() },
            GrantAccess {
                resource,
                principal,
                ..
            }
            | SetAccessRole {
                resource,
                principal,
                ..
            }
            | ReplaceAccess {
                resource,
                principal,
                ..
            }
            | RemoveAccess {
                resource,
                principal,
                ..
            } => Target::Access {
                resource_kind: resource.kind,
                resource: resource.hash.clone(),
                title: resource.title.clone(),
                principal: principal.clone(),
            },
            Manual { target, .. } => target.clone(),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Op::Manual { target, .. } => target.kind(),
            other => other.target().kind(),
        }
    }

    pub fn action(&self) -> Action {
        use Op::*;
        match self {
            InviteUser { .. }
            | CreateGroup { .. }
            | AddGroupMember { .. }
            | AddGroupManager { .. }
            | CreateTag { .. }
            | AssignTag { .. }
            | CreateMetadataKey { .. }
            | CreateFolder { .. }
            | GrantAccess { .. } => Action::Create,
            SetOrgRole { .. }
            | SetGroupDescription { .. }
            | SetTagDescription { .. }
            | RetypeMetadataKey { .. }
            | SetFolderDescription { .. }
            | SetAccessRole { .. } => Action::Update,
            RenameGroup { .. } | RenameTag { .. } | RenameFolder { .. } => Action::Rename,
            ReplaceUser { .. } | ReplaceAccess { .. } => Action::Replace,
            RemoveUser { .. }
            | DeleteGroup { .. }
            | RemoveGroupMember { .. }
            | RemoveGroupManager { .. }
            | DeleteTag { .. }
            | UnassignTag { .. }
            | DeleteMetadataKey { .. }
            | DeleteFolder { .. }
            | RemoveAccess { .. } => Action::Delete,
            Manual { .. } => Action::Manual,
        }
    }

    /// The new name of what a rename (done here or by hand) renames.
    pub fn renamed_to(&self) -> Option<&str> {
        match self {
            Op::RenameGroup { to, .. } | Op::RenameTag { to, .. } | Op::RenameFolder { to, .. } => {
                Some(to)
            }
            Op::Manual { rename_to, .. } => rename_to.as_deref(),
            _ => None,
        }
    }

    /// The key people read: the target's, or for a rename the new name's.
    pub fn key(&self) -> String {
        let target = self.target();
        match (self.renamed_to(), target) {
            (Some(new), Target::Folder { path }) => renamed_folder(&path, new).to_string(),
            (Some(new), _) => new.to_string(),
            (None, target) => target.key(),
        }
    }

    /// The field changes shown for this operation.
    pub fn fields(&self) -> Vec<FieldChange> {
        use Op::*;
        match self {
            InviteUser {
                role, user_type, ..
            } => vec![
                field(ROLE, None, Some(json!(role))),
                field(TYPE, None, Some(json!(user_type))),
            ],
            SetOrgRole { from, to, .. } => vec![field(ROLE, Some(json!(from)), Some(json!(to)))],
            ReplaceUser {
                from_role,
                from_type,
                role,
                user_type,
                ..
            } => vec![
                field(TYPE, Some(json!(from_type)), Some(json!(user_type))),
                field(ROLE, Some(json!(from_role)), Some(json!(role))),
            ],
            RemoveUser {
                role, user_type, ..
            } => vec![
                field(ROLE, Some(json!(role)), None),
                field(TYPE, Some(json!(user_type)), None),
            ],
            CreateGroup { description, .. }
            | CreateTag { description, .. }
            | CreateFolder { description, .. } => {
                vec![field(DESCRIPTION, None, Some(json!(description)))]
            }
            SetGroupDescription { from, to, .. }
            | SetTagDescription { from, to, .. }
            | SetFolderDescription { from, to, .. } => {
                vec![field(DESCRIPTION, Some(json!(from)), Some(json!(to)))]
            }
            DeleteGroup { description, .. }
            | DeleteTag { description, .. }
            | DeleteFolder { description, .. } => {
                vec![field(DESCRIPTION, Some(json!(description)), None)]
            }
            RenameGroup { from, to } | RenameTag { from, to } => {
                vec![field(NAME, Some(json!(from)), Some(json!(to)))]
            }
            RenameFolder { path, to } => {
                vec![field(NAME, Some(json!(path.name())), Some(json!(to)))]
            }
            AddGroupMember { .. }
            | RemoveGroupMember { .. }
            | AddGroupManager { .. }
            | RemoveGroupManager { .. }
            | AssignTag { .. }
            | UnassignTag { .. } => Vec::new(),
            CreateMetadataKey { ty, .. } => vec![field(TYPE, None, Some(json!(ty)))],
            RetypeMetadataKey { from, to, .. } => {
                vec![field(TYPE, Some(json!(from)), Some(json!(to)))]
            }
            DeleteMetadataKey { ty, .. } => vec![field(TYPE, Some(json!(ty)), None)],
            GrantAccess { role, .. } => vec![field(ROLE, None, Some(role.encode()))],
            SetAccessRole { from, to, .. } | ReplaceAccess { from, to, .. } => {
                vec![field(ROLE, Some(from.encode()), Some(to.encode()))]
            }
            RemoveAccess { role, .. } => vec![field(ROLE, Some(role.encode()), None)],
            Manual { target, rename_to } => match (rename_to, target) {
                (Some(new), Target::Folder { path }) => {
                    vec![field(NAME, Some(json!(path.name())), Some(json!(new)))]
                }
                (Some(new), Target::Group { name: old } | Target::ProjectTag { name: old }) => {
                    vec![field(NAME, Some(json!(old)), Some(json!(new)))]
                }
                _ => Vec::new(),
            },
        }
    }

    /// Whether the operation brings something into being (so "already exists" with the
    /// planned content means it is done).
    pub fn creates(&self) -> bool {
        self.action() == Action::Create
    }

    /// The list-taking call this operation can share with others, if any.
    pub fn batch_key(&self) -> Option<BatchKey> {
        match self {
            Op::AddGroupMember { group, .. } => Some(BatchKey::AddGroupMembers(group.clone())),
            Op::RemoveGroupMember { group, .. } => {
                Some(BatchKey::RemoveGroupMembers(group.clone()))
            }
            Op::RemoveAccess {
                resource,
                principal: Principal::User(_),
                ..
            } => match resource.kind {
                ResourceKind::Project => Some(BatchKey::RemoveProjectUsers(resource.hash.clone())),
                ResourceKind::Dataset => Some(BatchKey::RemoveDatasetUsers(resource.hash.clone())),
                ResourceKind::Ontology => None,
            },
            Op::GrantAccess {
                resource,
                principal: Principal::Group(_),
                role,
            } => Some(BatchKey::GrantGroups(
                resource.kind,
                resource.hash.clone(),
                *role,
            )),
            _ => None,
        }
    }
}

/// A change whose fields do not describe an operation (a plan file edited by hand).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {key}: {problem}")]
pub struct OpError {
    pub kind: Kind,
    pub key: String,
    pub problem: String,
}

/// Reads a change's fields as typed values.
struct Fields<'a>(&'a Change);

impl Fields<'_> {
    fn value(&self, name: &str, after: bool) -> &Value {
        static NULL: Value = Value::Null;
        self.0
            .fields
            .iter()
            .find(|f| f.field == name)
            .map_or(&NULL, |f| if after { &f.after } else { &f.before })
    }

    fn error(&self, problem: String) -> OpError {
        OpError {
            kind: self.0.kind,
            key: self.0.key.clone(),
            problem,
        }
    }

    fn decode<T>(
        &self,
        name: &str,
        after: bool,
        read: impl Fn(&Value) -> Result<T, serde_json::Error>,
    ) -> Result<T, OpError> {
        let side = if after { "new" } else { "old" };
        read(self.value(name, after)).map_err(|e| {
            self.error(format!(
                "the {side} value of field `{name}` is missing or unreadable in the plan: {e}"
            ))
        })
    }

    fn after<T: DeserializeOwned>(&self, name: &str) -> Result<T, OpError> {
        self.decode(name, true, T::deserialize_from)
    }

    fn before<T: DeserializeOwned>(&self, name: &str) -> Result<T, OpError> {
        self.decode(name, false, T::deserialize_from)
    }

    fn role(&self, kind: ResourceKind, after: bool) -> Result<AccessRole, OpError> {
        self.decode(ROLE, after, |v| AccessRole::decode(kind, v))
    }
}

impl Change {
    /// The change that performs `op`, with the danger the planner judged.
    pub fn from_op(op: Op, danger: Danger) -> Change {
        let target = op.target();
        Change {
            kind: target.kind(),
            key: op.key(),
            action: op.action(),
            danger,
            fields: op.fields(),
            target,
            rule: None,
            note: None,
            impact: None,
        }
    }

    /// The operation this change performs, read from its target, action and fields.
    pub fn op(&self) -> Result<Op, OpError> {
        use Target as T;
        let f = Fields(self);
        let resource = |kind: ResourceKind, hash: &String, title: &String| ResourceId {
            kind,
            hash: hash.clone(),
            title: title.clone(),
        };
        Ok(match (&self.target, self.action) {
            (target, Action::Manual) => Op::Manual {
                target: target.clone(),
                rename_to: f.after::<Option<String>>(NAME)?,
            },
            (T::User { email }, action) => {
                let email = email.clone();
                match action {
                    Action::Create => Op::InviteUser {
                        email,
                        role: f.after(ROLE)?,
                        user_type: f.after(TYPE)?,
                    },
                    Action::Update => Op::SetOrgRole {
                        email,
                        from: f.before(ROLE)?,
                        to: f.after(ROLE)?,
                    },
                    Action::Replace => Op::ReplaceUser {
                        email,
                        from_role: f.before(ROLE)?,
                        from_type: f.before(TYPE)?,
                        role: f.after(ROLE)?,
                        user_type: f.after(TYPE)?,
                    },
                    Action::Delete => Op::RemoveUser {
                        email,
                        role: f.before(ROLE)?,
                        user_type: f.before(TYPE)?,
                    },
                    _ => return Err(self.impossible()),
                }
            }
            (T::Group { name }, Action::Create) => Op::CreateGroup {
                name: name.clone(),
                description: f.after(DESCRIPTION)?,
            },
            (T::Group { name }, Action::Rename) => Op::RenameGroup {
                from: name.clone(),
                to: f.after(NAME)?,
            },
            (T::Group { name }, Action::Update) => Op::SetGroupDescription {
                name: name.clone(),
                from: f.before(DESCRIPTION)?,
                to: f.after(DESCRIPTION)?,
            },
            (T::Group { name }, Action::Delete) => Op::DeleteGroup {
                name: name.clone(),
                description: f.before(DESCRIPTION)?,
            },
            (T::GroupMember { group, email }, Action::Create | Action::Delete)
            | (T::GroupManager { group, email }, Action::Create | Action::Delete) => {
                let (group, email) = (group.clone(), email.clone());
                match (&self.target, self.action) {
                    (T::GroupMember { .. }, Action::Create) => Op::AddGroupMember { group, email },
                    (T::GroupMember { .. }, _) => Op::RemoveGroupMember { group, email },
                    (_, Action::Create) => Op::AddGroupManager { group, email },
                    _ => Op::RemoveGroupManager { group, email },
                }
            }
            (T::ProjectTag { name }, Action::Create) => Op::CreateTag {
                name: name.clone(),
                description: f.after(DESCRIPTION)?,
            },
            (T::ProjectTag { name }, Action::Rename) => Op::RenameTag {
                from: name.clone(),
                to: f.after(NAME)?,
            },
            (T::ProjectTag { name }, Action::Update) => Op::SetTagDescription {
                name: name.clone(),
                from: f.before(DESCRIPTION)?,
                to: f.after(DESCRIPTION)?,
            },
            (T::ProjectTag { name }, Action::Delete) => Op::DeleteTag {
                name: name.clone(),
                description: f.before(DESCRIPTION)?,
            },
            (
                T::ProjectTagAssignment {
                    project,
                    title,
                    tag,
                },
                action @ (Action::Create | Action::Delete),
            ) => {
                let project = resource(ResourceKind::Project, project, title);
                let tag = tag.clone();
                if action == Action::Create {
                    Op::AssignTag { project, tag }
                } else {
                    Op::UnassignTag { project, tag }
                }
            }
            (T::MetadataKey { key }, Action::Create) => Op::CreateMetadataKey {
                key: key.clone(),
                ty: f.after(TYPE)?,
            },
            (T::MetadataKey { key }, Action::Update) => Op::RetypeMetadataKey {
                key: key.clone(),
                from: f.before(TYPE)?,
                to: f.after(TYPE)?,
            },
            (T::MetadataKey { key }, Action::Delete) => Op::DeleteMetadataKey {
                key: key.clone(),
                ty: f.before(TYPE)?,
            },
            (T::Folder { path }, Action::Create) => Op::CreateFolder {
                path: path.clone(),
                description: f.after(DESCRIPTION)?,
            },
            (T::Folder { path }, Action::Rename) => Op::RenameFolder {
                path: path.clone(),
                to: f.after(NAME)?,
            },
            (T::Folder { path }, Action::Update) => Op::SetFolderDescription {
                path: path.clone(),
                from: f.before(DESCRIPTION)?,
                to: f.after(DESCRIPTION)?,
            },
            (T::Folder { path }, Action::Delete) => Op::DeleteFolder {
                path: path.clone(),
                description: f.before(DESCRIPTION)?,
            },
            (
                T::Access {
                    resource_kind,
                    resource: hash,
                    title,
                    principal,
                },
                action,
            ) => {
                let resource = resource(*resource_kind, hash, title);
                let principal = principal.clone();
                let kind = *resource_kind;
                match action {
                    Action::Create => Op::GrantAccess {
                        resource,
                        principal,
                        role: f.role(kind, true)?,
                    },
                    Action::Update => Op::SetAccessRole {
                        resource,
                        principal,
                        from: f.role(kind, false)?,
                        to: f.role(kind, true)?,
                    },
                    Action::Replace => Op::ReplaceAccess {
                        resource,
                        principal,
                        from: f.role(kind, false)?,
                        to: f.role(kind, true)?,
                    },
                    Action::Delete => Op::RemoveAccess {
                        resource,
                        principal,
                        role: f.role(kind, false)?,
                    },
                    _ => return Err(self.impossible()),
                }
            }
            _ => return Err(self.impossible()),
        })
    }

    /// A kind of object that cannot undergo this action.
    fn impossible(&self) -> OpError {
        OpError {
            kind: self.kind,
            key: self.key.clone(),
            problem: format!(
                "a {} cannot be {}",
                self.target.kind().as_str().replace('_', " "),
                match self.action {
                    Action::Create => "created",
                    Action::Update => "updated",
                    Action::Delete => "deleted",
                    Action::Rename => "renamed",
                    Action::Replace => "replaced",
                    Action::Manual => "changed by hand",
                }
            ),
        }
    }

    /// Why the change's target, action, key or fields are not exactly those of the
    /// operation they read as, if they are not (an edited plan file).
    pub fn op_mismatch(&self, op: &Op) -> Option<String> {
        let rebuilt = Change::from_op(op.clone(), self.danger);
        if rebuilt.target != self.target || rebuilt.action != self.action {
            return Some("its target and action do not match".to_string());
        }
        if rebuilt.key != self.key {
            return Some(format!(
                "its key should be `{}` for what it changes",
                rebuilt.key
            ));
        }
        if rebuilt.fields != self.fields {
            let names = |c: &Change| {
                c.fields
                    .iter()
                    .map(|f| f.field.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Some(format!(
                "its fields ({}) are not those of the operation ({}), or a value does not match its target",
                names(self),
                names(&rebuilt)
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> ResourceId {
        ResourceId {
            kind: ResourceKind::Project,
            hash: "p-1".into(),
            title: "Lung CT".into(),
        }
    }

    /// One operation of every variant (the round trip below covers each).
    fn every_op() -> Vec<Op> {
        let path = FolderPath(vec!["raw".into(), "2026".into()]);
        let user = Principal::User("bob@acme.com".into());
        let group = Principal::Group("labelers".into());
        let viewer = AccessRole::Project(ProjectRole::Viewer);
        let admin = AccessRole::Project(ProjectRole::Admin);
        let dataset = ResourceId {
            kind: ResourceKind::Dataset,
            hash: "d-1".into(),
            title: "scans".into(),
        };
        let (g, e) = ("labelers".to_string(), "bob@acme.com".to_string());
        vec![
            Op::InviteUser {
                email: e.clone(),
                role: OrgRole::Member,
                user_type: UserType::Internal,
            },
            Op::SetOrgRole {
                email: e.clone(),
                from: OrgRole::Member,
                to: OrgRole::Collaborator,
            },
            Op::ReplaceUser {
                email: e.clone(),
                from_role: OrgRole::Member,
                from_type: UserType::External,
                role: OrgRole::Member,
                user_type: UserType::Internal,
            },
            Op::RemoveUser {
                email: e.clone(),
                role: OrgRole::Collaborator,
                user_type: UserType::External,
            },
            Op::CreateGroup {
                name: g.clone(),
                description: "d".into(),
            },
            Op::RenameGroup {
                from: "old".into(),
                to: g.clone(),
            },
            Op::SetGroupDescription {
                name: g.clone(),
                from: "a".into(),
                to: "b".into(),
            },
            Op::DeleteGroup {
                name: g.clone(),
                description: "".into(),
            },
            Op::AddGroupMember {
                group: g.clone(),
                email: e.clone(),
            },
            Op::RemoveGroupMember {
                group: g.clone(),
                email: e.clone(),
            },
            Op::AddGroupManager {
                group: g.clone(),
                email: e.clone(),
            },
            Op::RemoveGroupManager {
                group: g.clone(),
                email: e.clone(),
            },
            Op::CreateTag {
                name: "ct".into(),
                description: "".into(),
            },
            Op::RenameTag {
                from: "CT".into(),
                to: "ct".into(),
            },
            Op::SetTagDescription {
                name: "ct".into(),
                from: "".into(),
                to: "scans".into(),
            },
            Op::DeleteTag {
                name: "ct".into(),
                description: "x".into(),
            },
            Op::AssignTag {
                project: project(),
                tag: "ct".into(),
            },
            Op::UnassignTag {
                project: project(),
                tag: "ct".into(),
            },
            Op::CreateMetadataKey {
                key: "k".into(),
                ty: MetadataType::Embedding(4),
            },
            Op::RetypeMetadataKey {
                key: "k".into(),
                from: MetadataType::Varchar,
                to: MetadataType::Enum(["a".to_string()].into()),
            },
            Op::DeleteMetadataKey {
                key: "k".into(),
                ty: MetadataType::Text,
            },
            Op::CreateFolder {
                path: path.clone(),
                description: "d".into(),
            },
            Op::RenameFolder {
                path: path.clone(),
                to: "2027".into(),
            },
            Op::SetFolderDescription {
                path: path.clone(),
                from: "a".into(),
                to: "b".into(),
            },
            Op::DeleteFolder {
                path,
                description: "".into(),
            },
            Op::GrantAccess {
                resource: project(),
                principal: group.clone(),
                role: viewer,
            },
            Op::SetAccessRole {
                resource: project(),
                principal: user.clone(),
                from: admin,
                to: viewer,
            },
            Op::ReplaceAccess {
                resource: project(),
                principal: user.clone(),
                from: viewer,
                to: admin,
            },
            Op::RemoveAccess {
                resource: dataset,
                principal: user,
                role: AccessRole::Resource(ResourceRole::User),
            },
            Op::Manual {
                target: Target::ProjectTag { name: "CT".into() },
                rename_to: Some("ct".into()),
            },
            Op::Manual {
                target: Target::GroupManager { group: g, email: e },
                rename_to: None,
            },
        ]
    }

    #[test]
    fn every_op_reads_back_from_its_change_and_its_json() {
        for op in every_op() {
            let change = Change::from_op(op.clone(), Danger::Safe);
            assert_eq!(change.op().as_ref(), Ok(&op), "{change:?}");
            assert_eq!(change.op_mismatch(&op), None);
            // As saved in a plan file and read back.
            let json = serde_json::to_string(&change).expect("serializes");
            let read: Change = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(read.op(), Ok(op));
        }
    }

    #[test]
    fn renames_are_keyed_by_the_new_name() {
        let folder = Change::from_op(
            Op::RenameFolder {
                path: FolderPath(vec!["raw".into(), "2026".into()]),
                to: "2027".into(),
            },
            Danger::Safe,
        );
        assert_eq!(folder.key, "raw/2027");
        assert_eq!(folder.target.key(), "raw/2026");
    }

    #[test]
    fn unreadable_or_impossible_changes_say_what_is_wrong() {
        let mut change = Change::from_op(
            Op::SetOrgRole {
                email: "bob@acme.com".into(),
                from: OrgRole::Member,
                to: OrgRole::Collaborator,
            },
            Danger::Disruptive,
        );
        change.fields[0].after = json!("overlord");
        let err = change.op().expect_err("not a role");
        assert_eq!(err.kind, Kind::User);
        assert!(
            err.to_string().starts_with(
                "user bob@acme.com: the new value of field `role` is missing or unreadable"
            ),
            "{err}"
        );
        change.fields.clear();
        assert!(change.op().is_err());
        let rename = Change::new(
            Target::GroupMember {
                group: "g".into(),
                email: "e@x.io".into(),
            },
            Action::Rename,
            Danger::Safe,
        );
        assert_eq!(
            rename.op().map_err(|e| e.problem),
            Err("a group member cannot be renamed".to_string())
        );
        // A dataset has no project roles.
        let wrong = Change::new(
            Target::Access {
                resource_kind: ResourceKind::Dataset,
                resource: "d".into(),
                title: "d".into(),
                principal: Principal::User("e@x.io".into()),
            },
            Action::Create,
            Danger::Safe,
        )
        .field(ROLE, None, json!("viewer"));
        assert!(wrong.op().is_err());
    }

    #[test]
    fn a_change_whose_fields_say_more_than_its_op_is_reported() {
        let op = Op::AddGroupMember {
            group: "g".into(),
            email: "e@x.io".into(),
        };
        let change = Change::from_op(op.clone(), Danger::Safe).field(ROLE, None, json!("admin"));
        assert_eq!(change.op().as_ref(), Ok(&op));
        assert!(
            change
                .op_mismatch(&op)
                .is_some_and(|why| why.contains("fields (role)"))
        );
    }

    #[test]
    fn only_list_taking_calls_batch() {
        let keys: Vec<Option<BatchKey>> = every_op().iter().map(Op::batch_key).collect();
        let batched = keys.iter().filter(|k| k.is_some()).count();
        // Member adds, member removals, a group grant, a user removal from a dataset.
        assert_eq!(batched, 4, "{keys:?}");
        let remove = |hash: &str, email: &str| Op::RemoveAccess {
            resource: ResourceId {
                hash: hash.into(),
                ..project()
            },
            principal: Principal::User(email.into()),
            role: AccessRole::Project(ProjectRole::Viewer),
        };
        assert_eq!(
            remove("p-1", "a@x.io").batch_key(),
            remove("p-1", "b@x.io").batch_key()
        );
        assert_ne!(
            remove("p-1", "a@x.io").batch_key(),
            remove("p-2", "a@x.io").batch_key()
        );
    }
}
