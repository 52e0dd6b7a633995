//! The sandbox provider: the embedded SQLite org. It can do everything the platform
//! allows, so its capability table is complete.

use std::path::{Path, PathBuf};

use super::{ErrorClass, OrgIdentity, Provider, ProviderError};
use crate::diagnostic::Rule;
use crate::model::Org;
use crate::plan::{Capabilities, Op};
use crate::sandbox::store::{Access, Store, StoreError};

pub struct SandboxProvider {
    store: Store,
    /// As shown to the user.
    path: PathBuf,
    /// The database file: the org's identity.
    file: PathBuf,
}

/// The identity of the sandbox org at `file`: its canonical name, so every checkout
/// (and every symlink) reaching this org agrees — also before the file exists.
pub fn identity(file: &Path) -> OrgIdentity {
    let canonical = std::fs::canonicalize(file).unwrap_or_else(|_| {
        match (file.parent().map(std::fs::canonicalize), file.file_name()) {
            (Some(Ok(dir)), Some(name)) => dir.join(name),
            _ => file.to_path_buf(),
        }
    });
    OrgIdentity::SandboxFile(canonical)
}

impl SandboxProvider {
    /// Opens an existing sandbox org; `ReadOnly` for commands that never write.
    pub fn open(path: &Path, shown: &str, access: Access) -> Result<Self, ProviderError> {
        let store = Store::open_existing(path, access)?;
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
        let class = match &e {
            StoreError::Refused {
                rule:
                    Rule::UserDuplicate
                    | Rule::GroupNameDuplicate
                    | Rule::TagNameDuplicate
                    | Rule::FolderNameDuplicate,
                ..
            } => ErrorClass::AlreadyExists,
            StoreError::Refused { rule, .. } => ErrorClass::Refused(*rule),
            StoreError::NotFound(_) => ErrorClass::NotFound,
            // Another writer held the file past the busy timeout: worth another try.
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                ErrorClass::Transient { retry_after: None }
            }
            _ => ErrorClass::Other,
        };
        ProviderError::new(class, e.to_string())
    }
}

impl Provider for SandboxProvider {
    fn describe(&self) -> String {
        format!("sandbox {}", self.path.display())
    }

    fn identity(&self) -> OrgIdentity {
        identity(&self.file)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::ALL
    }

    fn read(&mut self) -> Result<Org, ProviderError> {
        Ok(self.store.read()?)
    }

    fn apply(&mut self, op: &Op) -> Result<(), ProviderError> {
        use Op::*;
        let s = &mut self.store;
        match op {
            InviteUser {
                email,
                role,
                user_type,
            } => s.add_user(
                email,
                *role,
                *user_type,
                crate::model::InvitationStatus::Invited,
            )?,
            SetOrgRole { email, to, .. } => s.set_user_role(email, *to)?,
            ReplaceUser {
                email,
                role,
                user_type,
                ..
            } => s.replace_user(email, *role, *user_type)?,
            RemoveUser { email, .. } => s.remove_user(email)?,
            CreateGroup { name, description } => s.create_group(name, description)?,
            RenameGroup { from, to } => s.rename_group(from, to)?,
            SetGroupDescription { name, to, .. } => s.set_group_description(name, to)?,
            DeleteGroup { name, .. } => s.delete_group(name)?,
            AddGroupMember { group, email } => s.add_group_user(group, email, false)?,
            RemoveGroupMember { group, email } => s.remove_group_user(group, email, false)?,
            AddGroupManager { group, email } => s.add_group_user(group, email, true)?,
            RemoveGroupManager { group, email } => s.remove_group_user(group, email, true)?,
            CreateTag { name, description } => s.create_tag(name, description)?,
            RenameTag { from, to } => s.rename_tag(from, to)?,
            SetTagDescription { name, to, .. } => s.set_tag_description(name, to)?,
            DeleteTag { name, .. } => s.delete_tag(name)?,
            AssignTag { project, tag } => s.assign_tag(&project.hash, tag)?,
            UnassignTag { project, tag } => s.unassign_tag(&project.hash, tag)?,
            CreateMetadataKey { key, ty } | RetypeMetadataKey { key, to: ty, .. } => {
                s.set_metadata_key(key, ty)?
            }
            DeleteMetadataKey { key, .. } => s.delete_metadata_key(key)?,
            CreateFolder { path, description } => s.create_folder(path, description)?,
            RenameFolder { path, to } => s.rename_folder(path, to)?,
            SetFolderDescription { path, to, .. } => s.set_folder_description(path, to)?,
            DeleteFolder { path, .. } => s.delete_folder(path)?,
            GrantAccess {
                resource,
                principal,
                role: to,
            }
            | SetAccessRole {
                resource,
                principal,
                to,
                ..
            }
            | ReplaceAccess {
                resource,
                principal,
                to,
                ..
            } => s.set_access(resource.kind, &resource.hash, principal, &to.to_string())?,
            RemoveAccess {
                resource,
                principal,
                ..
            } => s.remove_access(resource.kind, &resource.hash, principal)?,
            Manual { target, .. } => {
                return Err(ProviderError::new(
                    ErrorClass::Unsupported,
                    format!(
                        "{} {} is a manual step: the sandbox cannot do it",
                        target.kind(),
                        op.key()
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FolderPath, InvitationStatus, OrgRole, UserType};

    fn class_of(provider: &mut SandboxProvider, op: Op) -> ErrorClass {
        match provider.apply(&op) {
            Err(e) => e.class,
            Ok(()) => panic!("{op:?} was accepted"),
        }
    }

    #[test]
    fn store_errors_keep_their_message_and_get_a_class() {
        let mut store = Store::in_memory().expect("store");
        store
            .add_user(
                "ada@acme.com",
                OrgRole::Admin,
                UserType::Internal,
                InvitationStatus::Joined,
            )
            .expect("admin");
        store.create_group("labelers", "").expect("group");
        let mut provider = SandboxProvider::from_store(store);
        let remove_admin = Op::RemoveUser {
            email: "ada@acme.com".into(),
            role: OrgRole::Admin,
            user_type: UserType::Internal,
        };
        assert_eq!(
            provider.apply(&remove_admin).map_err(|e| e.to_string()),
            Err(
                "refused (admin-unremovable): `ada@acme.com` is an admin; admins cannot be removed"
                    .into()
            )
        );
        assert_eq!(
            class_of(&mut provider, remove_admin),
            ErrorClass::Refused(Rule::AdminUnremovable)
        );
        let duplicate = Op::CreateGroup {
            name: "labelers".into(),
            description: String::new(),
        };
        assert_eq!(
            class_of(&mut provider, duplicate),
            ErrorClass::AlreadyExists
        );
        let missing = Op::DeleteFolder {
            path: FolderPath(vec!["raw".into()]),
            description: String::new(),
        };
        assert_eq!(class_of(&mut provider, missing), ErrorClass::NotFound);
        let manual = Op::Manual {
            target: crate::plan::Target::ProjectTag { name: "ct".into() },
            rename_to: Some("CT".into()),
        };
        assert_eq!(class_of(&mut provider, manual), ErrorClass::Unsupported);
    }
}
