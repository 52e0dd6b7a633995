//! The sandbox provider: the embedded SQLite org. It can do everything the platform
//! allows, so its capability table is complete.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{Provider, ProviderError};
use crate::model::{MetadataType, Org};
use crate::plan::{Action, Capabilities, Change, Target};
use crate::sandbox::store::{Access, Store, StoreError};

pub struct SandboxProvider {
    store: Store,
    /// As shown to the user.
    path: PathBuf,
    /// The database file, for the state directory beside it.
    file: PathBuf,
}

/// Where applies against the sandbox at `file` keep their lock, journals and plan
/// copies: beside the file, under its canonical name, so every checkout (and every
/// symlink) reaching this org agrees — also before the file exists.
pub fn state_dir(file: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(file).unwrap_or_else(|_| {
        match (file.parent().map(std::fs::canonicalize), file.file_name()) {
            (Some(Ok(dir)), Some(name)) => dir.join(name),
            _ => file.to_path_buf(),
        }
    });
    let mut name = canonical.file_name().unwrap_or_default().to_os_string();
    name.push(".apply");
    canonical.with_file_name(name)
}

impl SandboxProvider {
    /// Opens an existing sandbox org; `ReadOnly` for commands that never write.
    pub fn open(path: &Path, shown: &str, access: Access) -> Result<Self, ProviderError> {
        let store =
            Store::open_existing(path, access).map_err(|e| ProviderError::Failed(e.to_string()))?;
        Ok(SandboxProvider {
            store,
            path: PathBuf::from(shown),
            file: path.to_path_buf(),
        })
    }

    pub fn from_store(store: Store) -> Self {
        SandboxProvider {
            store,
            path: PathBuf::from(":memory:"),
            file: std::env::temp_dir().join("orgform-in-memory-sandbox"),
        }
    }

    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl From<StoreError> for ProviderError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused { .. } => ProviderError::Refused(e.to_string()),
            other => ProviderError::Failed(other.to_string()),
        }
    }
}

/// A field's planned value, decoded.
fn after<T: DeserializeOwned>(change: &Change, field: &str) -> Result<T, ProviderError> {
    let value = change.after(field).cloned().unwrap_or_default();
    serde_json::from_value(value).map_err(|e| {
        ProviderError::Unsupported(format!(
            "{} {}: field `{field}` is unreadable in the plan: {e}",
            change.kind, change.key
        ))
    })
}

impl Provider for SandboxProvider {
    fn describe(&self) -> String {
        format!("sandbox {}", self.path.display())
    }

    fn state_dir(&self) -> PathBuf {
        state_dir(&self.file)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    fn read(&mut self) -> Result<Org, ProviderError> {
        Ok(self.store.read()?)
    }

    fn apply(&mut self, c: &Change) -> Result<(), ProviderError> {
        let s = &mut self.store;
        let unsupported = || {
            ProviderError::Unsupported(format!(
                "{} {} cannot be {:?}d by the sandbox",
                c.kind, c.key, c.action
            ))
        };
        match (&c.target, c.action) {
            (_, Action::Manual) => return Err(unsupported()),
            (Target::User { email }, Action::Create) => s.add_user(
                email,
                after(c, "role")?,
                after(c, "type")?,
                crate::model::InvitationStatus::Invited,
            )?,
            (Target::User { email }, Action::Update) => {
                s.set_user_role(email, after(c, "role")?)?
            }
            (Target::User { email }, Action::Replace) => {
                s.replace_user(email, after(c, "role")?, after(c, "type")?)?
            }
            (Target::User { email }, Action::Delete) => s.remove_user(email)?,
            (Target::Group { name }, Action::Create) => {
                s.create_group(name, &after::<String>(c, "description")?)?
            }
            (Target::Group { name }, Action::Rename) => {
                s.rename_group(name, &after::<String>(c, "name")?)?
            }
            (Target::Group { name }, Action::Update) => {
                s.set_group_description(name, &after::<String>(c, "description")?)?
            }
            (Target::Group { name }, Action::Delete) => s.delete_group(name)?,
            (Target::GroupMember { group, email }, Action::Create) => {
                s.add_group_user(group, email, false)?
            }
            (Target::GroupMember { group, email }, Action::Delete) => {
                s.remove_group_user(group, email, false)?
            }
            (Target::GroupManager { group, email }, Action::Create) => {
                s.add_group_user(group, email, true)?
            }
            (Target::GroupManager { group, email }, Action::Delete) => {
                s.remove_group_user(group, email, true)?
            }
            (Target::ProjectTag { name }, Action::Create) => {
                s.create_tag(name, &after::<String>(c, "description")?)?
            }
            (Target::ProjectTag { name }, Action::Rename) => {
                s.rename_tag(name, &after::<String>(c, "name")?)?
            }
            (Target::ProjectTag { name }, Action::Update) => {
                s.set_tag_description(name, &after::<String>(c, "description")?)?
            }
            (Target::ProjectTag { name }, Action::Delete) => s.delete_tag(name)?,
            (Target::ProjectTagAssignment { project, tag, .. }, Action::Create) => {
                s.assign_tag(project, tag)?
            }
            (Target::ProjectTagAssignment { project, tag, .. }, Action::Delete) => {
                s.unassign_tag(project, tag)?
            }
            (Target::MetadataKey { key }, Action::Create | Action::Update) => {
                s.set_metadata_key(key, &after::<MetadataType>(c, "type")?)?
            }
            (Target::MetadataKey { key }, Action::Delete) => s.delete_metadata_key(key)?,
            (Target::Folder { path }, Action::Create) => {
                s.create_folder(path, &after::<String>(c, "description")?)?
            }
            (Target::Folder { path }, Action::Rename) => {
                s.rename_folder(path, &after::<String>(c, "name")?)?
            }
            (Target::Folder { path }, Action::Update) => {
                s.set_folder_description(path, &after::<String>(c, "description")?)?
            }
            (Target::Folder { path }, Action::Delete) => s.delete_folder(path)?,
            (
                Target::Access {
                    resource_kind,
                    resource,
                    principal,
                    ..
                },
                Action::Create | Action::Update | Action::Replace,
            ) => s.set_access(
                *resource_kind,
                resource,
                principal,
                &after::<String>(c, "role")?,
            )?,
            (
                Target::Access {
                    resource_kind,
                    resource,
                    principal,
                    ..
                },
                Action::Delete,
            ) => s.remove_access(*resource_kind, resource, principal)?,
            _ => return Err(unsupported()),
        }
        Ok(())
    }
}
