//! The embedded sandbox org: its SQLite store and how it is created from a state file.

pub mod layout;
pub use crate::encord::openssh;
pub mod server;
pub mod store;

use std::path::Path;

use crate::manifest::ManifestFile;
use crate::model::{Desired, FolderPath, InvitationStatus};
use store::{Store, StoreError};

/// The admin a fresh sandbox starts with when no state file is given.
pub const DEFAULT_ADMIN: &str = "admin@example.com";

/// Fills an empty store from a state file (manifest format): users with their status,
/// groups, tags, schema, folders, and the projects/datasets/ontologies it describes.
pub fn load_state(store: &mut Store, state: &ManifestFile) -> Result<(), StoreError> {
    store.batch(|store| fill(store, state))
}

fn fill(store: &mut Store, state: &ManifestFile) -> Result<(), StoreError> {
    let d = Desired::from_manifests(state);
    for (email, u) in &d.org.users {
        store.add_user(
            email,
            u.role,
            u.user_type,
            u.status.unwrap_or(InvitationStatus::Joined),
        )?;
    }
    for (name, g) in &d.org.groups {
        store.create_group(name, &g.description)?;
        for m in &g.members {
            store.add_group_user(name, m, false)?;
        }
        for m in &g.managers {
            store.add_group_user(name, m, true)?;
        }
    }
    for (name, t) in &d.org.project_tags {
        store.create_tag(name, &t.description)?;
    }
    for (key, ty) in &d.org.metadata_schema {
        store.set_metadata_key(key, ty)?;
    }
    // Parents sort before their children.
    let mut folders: Vec<(&FolderPath, _)> = d.org.folders.iter().collect();
    folders.sort_by_key(|(p, _)| p.depth());
    for (path, f) in folders {
        store.create_folder(path, &f.description)?;
    }
    let hashes = state
        .projects
        .iter()
        .map(|p| p.hash.as_ref().map(|h| h.value.clone()))
        .chain(
            state
                .datasets
                .iter()
                .map(|x| x.hash.as_ref().map(|h| h.value.clone())),
        )
        .chain(
            state
                .ontologies
                .iter()
                .map(|x| x.hash.as_ref().map(|h| h.value.clone())),
        );
    for (r, hash) in d.resources.iter().zip(hashes) {
        let Some(name) = &r.by.name else {
            continue;
        };
        let hash = store.create_resource(r.kind, name, hash.as_deref())?;
        for tag in r.tags.iter().flatten() {
            store.assign_tag(&hash, tag)?;
        }
        for (who, role) in r.project_access.iter().flatten() {
            store.set_access(r.kind, &hash, who, &role.to_string())?;
        }
        for (who, role) in r.resource_access.iter().flatten() {
            store.set_access(r.kind, &hash, who, &role.to_string())?;
        }
    }
    Ok(())
}

/// A fresh store at `path` with only the default admin.
pub fn init_default(path: &Path) -> Result<Store, StoreError> {
    let mut store = Store::create(path)?;
    store.add_user(
        DEFAULT_ADMIN,
        crate::model::OrgRole::Admin,
        crate::model::UserType::Internal,
        InvitationStatus::Joined,
    )?;
    Ok(store)
}
