//! Before each write: is the object still as the plan saw it?
//!
//! A change is *ready* when the live object matches what the operation expects to find
//! (its `from` values, or what it deletes), *done* when it already matches the result
//! (an interrupted apply wrote it but did not record it), and in *conflict* otherwise
//! (someone changed it since the plan).

use crate::model::{Org, Principal};
use crate::plan::op::renamed_folder;
use crate::plan::{AccessRole, Change, Op, ResourceId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    Ready,
    Done,
    Conflict(String),
}

/// Judges a planned change against the live org.
pub fn check(org: &Org, change: &Change) -> Precondition {
    match change.op() {
        Ok(op) => check_op(org, &op),
        Err(e) => Precondition::Conflict(e.to_string()),
    }
}

/// Judges an operation against the live org.
pub fn check_op(org: &Org, op: &Op) -> Precondition {
    use Op::*;
    let user = |email: &String| org.users.get(email).map(|u| (u.role, u.user_type));
    let group = |name: &String| org.groups.get(name).map(|g| &g.description);
    let tag = |name: &String| org.project_tags.get(name).map(|t| &t.description);
    let folder = |path| org.folders.get(path).map(|f| &f.description);
    let member = |group: &String, email: &String, managers: bool| {
        org.groups
            .get(group)
            .filter(|g| {
                if managers {
                    g.managers.contains(email)
                } else {
                    g.members.contains(email)
                }
            })
            .map(|_| ())
    };
    let access = |resource: &ResourceId, who: &Principal| access_role(org, resource, who);
    match op {
        InviteUser {
            email,
            role,
            user_type,
        } => create(op, user(email), (*role, *user_type)),
        SetOrgRole { email, from, to } => update(op, user(email).map(|u| u.0), *from, *to),
        ReplaceUser {
            email,
            from_role,
            from_type,
            role,
            user_type,
        } => update(
            op,
            user(email),
            (*from_role, *from_type),
            (*role, *user_type),
        ),
        RemoveUser {
            email,
            role,
            user_type,
        } => delete(op, user(email), (*role, *user_type)),
        CreateGroup { name, description } => create(op, group(name), description),
        RenameGroup { from, to } => rename(op, group(from).is_some(), group(to).is_some()),
        SetGroupDescription { name, from, to } => update(op, group(name), from, to),
        DeleteGroup { name, description } => delete(op, group(name), description),
        AddGroupMember { group, email } => create(op, member(group, email, false), ()),
        RemoveGroupMember { group, email } => delete(op, member(group, email, false), ()),
        AddGroupManager { group, email } => create(op, member(group, email, true), ()),
        RemoveGroupManager { group, email } => delete(op, member(group, email, true), ()),
        CreateTag { name, description } => create(op, tag(name), description),
        RenameTag { from, to } => rename(op, tag(from).is_some(), tag(to).is_some()),
        SetTagDescription { name, from, to } => update(op, tag(name), from, to),
        DeleteTag { name, description } => delete(op, tag(name), description),
        AssignTag { project, tag } | UnassignTag { project, tag } => {
            let assigned = org
                .projects
                .get(&project.hash)
                .filter(|p| p.tags.contains(tag))
                .map(|_| ());
            if matches!(op, AssignTag { .. }) {
                create(op, assigned, ())
            } else {
                delete(op, assigned, ())
            }
        }
        CreateMetadataKey { key, ty } => create(op, org.metadata_schema.get(key), ty),
        RetypeMetadataKey { key, from, to } => update(op, org.metadata_schema.get(key), from, to),
        DeleteMetadataKey { key, ty } => delete(op, org.metadata_schema.get(key), ty),
        CreateFolder { path, description } => create(op, folder(path), description),
        RenameFolder { path, to } => rename(
            op,
            folder(path).is_some(),
            folder(&renamed_folder(path, to)).is_some(),
        ),
        SetFolderDescription { path, from, to } => update(op, folder(path), from, to),
        DeleteFolder { path, description } => delete(op, folder(path), description),
        GrantAccess {
            resource,
            principal,
            role,
        } => create(op, access(resource, principal), *role),
        SetAccessRole {
            resource,
            principal,
            from,
            to,
        }
        | ReplaceAccess {
            resource,
            principal,
            from,
            to,
        } => update(op, access(resource, principal), *from, *to),
        RemoveAccess {
            resource,
            principal,
            role,
        } => delete(op, access(resource, principal), *role),
        Manual { .. } => Precondition::Ready,
    }
}

/// The change as people read it in messages: `group labelers`.
fn what(op: &Op) -> String {
    format!("{} {}", op.kind(), op.key())
}

/// Something to bring into being: absent, or already there as planned.
fn create<T: PartialEq>(op: &Op, live: Option<T>, planned: T) -> Precondition {
    match live {
        None => Precondition::Ready,
        Some(live) if live == planned => Precondition::Done,
        Some(_) => Precondition::Conflict(format!(
            "{} already exists with other values: someone created it since the plan",
            what(op)
        )),
    }
}

/// Something to remove: as the plan saw it, or already gone.
fn delete<T: PartialEq>(op: &Op, live: Option<T>, seen: T) -> Precondition {
    match live {
        None => Precondition::Done,
        Some(live) if live == seen => Precondition::Ready,
        Some(_) => Precondition::Conflict(format!(
            "{} changed since the plan: it is not what the plan meant to delete",
            what(op)
        )),
    }
}

/// Something to change: as the plan saw it, or already changed as planned.
fn update<T: PartialEq>(op: &Op, live: Option<T>, from: T, to: T) -> Precondition {
    match live {
        None => Precondition::Conflict(format!("{} no longer exists", what(op))),
        Some(live) if live == from => Precondition::Ready,
        Some(live) if live == to => Precondition::Done,
        Some(_) => Precondition::Conflict(format!(
            "{} changed since the plan: it no longer has the values the plan expected",
            what(op)
        )),
    }
}

/// Something to rename: under its old name, or already under its new one.
fn rename(op: &Op, old_exists: bool, new_exists: bool) -> Precondition {
    match (old_exists, new_exists) {
        (true, false) => Precondition::Ready,
        (false, true) => Precondition::Done,
        (false, false) => {
            Precondition::Conflict(format!("{}: the object to rename is gone", what(op)))
        }
        (true, true) => Precondition::Conflict(format!(
            "{}: both the old and the new name exist now",
            what(op)
        )),
    }
}

fn access_role(org: &Org, resource: &ResourceId, who: &Principal) -> Option<AccessRole> {
    use crate::model::ResourceKind::*;
    match resource.kind {
        Project => org
            .projects
            .get(&resource.hash)?
            .access
            .get(who)
            .map(|r| (*r).into()),
        Dataset => org
            .datasets
            .get(&resource.hash)?
            .access
            .get(who)
            .map(|r| (*r).into()),
        Ontology => org
            .ontologies
            .get(&resource.hash)?
            .access
            .get(who)
            .map(|r| (*r).into()),
    }
}
