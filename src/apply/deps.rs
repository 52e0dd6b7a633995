//! Which changes depend on which: when one fails, the changes that need its object
//! are skipped, and independent changes still go ahead.

use crate::model::Principal;
use crate::plan::op::renamed_folder;
use crate::plan::{Op, Target};

/// The objects an operation brings into being (or changes the identity of), as ids.
pub fn provides(op: &Op) -> Vec<String> {
    use Op::*;
    let id = match op {
        InviteUser { email, .. }
        | SetOrgRole { email, .. }
        | ReplaceUser { email, .. }
        | RemoveUser { email, .. } => format!("user:{email}"),
        CreateGroup { name, .. } | SetGroupDescription { name, .. } | DeleteGroup { name, .. } => {
            format!("group:{name}")
        }
        RenameGroup { to, .. } => format!("group:{to}"),
        CreateTag { name, .. } | SetTagDescription { name, .. } | DeleteTag { name, .. } => {
            format!("tag:{name}")
        }
        RenameTag { to, .. } => format!("tag:{to}"),
        CreateFolder { path, .. }
        | SetFolderDescription { path, .. }
        | DeleteFolder { path, .. } => format!("folder:{path}"),
        RenameFolder { path, to } => format!("folder:{}", renamed_folder(path, to)),
        // Until someone renames it by hand, what needs the new name cannot happen
        // either. Other manual steps (a role, a description) provide nothing: what needs
        // a user whose arrival is manual is planned as a manual step itself.
        Manual {
            target,
            rename_to: Some(new),
        } => match target {
            Target::Group { .. } => format!("group:{new}"),
            Target::ProjectTag { .. } => format!("tag:{new}"),
            Target::Folder { path } => format!("folder:{}", renamed_folder(path, new)),
            _ => return Vec::new(),
        },
        _ => return Vec::new(),
    };
    vec![id]
}

/// The objects an operation needs to exist (as this plan leaves them).
pub fn requires(op: &Op) -> Vec<String> {
    use Op::*;
    match op {
        AddGroupMember { group, email }
        | RemoveGroupMember { group, email }
        | AddGroupManager { group, email }
        | RemoveGroupManager { group, email } => {
            vec![format!("group:{group}"), format!("user:{email}")]
        }
        AssignTag { tag, .. } | UnassignTag { tag, .. } => vec![format!("tag:{tag}")],
        GrantAccess { principal, .. }
        | SetAccessRole { principal, .. }
        | ReplaceAccess { principal, .. }
        | RemoveAccess { principal, .. } => vec![match principal {
            Principal::User(e) => format!("user:{e}"),
            Principal::Group(g) => format!("group:{g}"),
        }],
        CreateFolder { path, .. }
        | RenameFolder { path, .. }
        | SetFolderDescription { path, .. }
        | DeleteFolder { path, .. } => {
            let mut out: Vec<String> = (1..path.depth())
                .map(|n| format!("folder:{}", path.0[..n].join("/")))
                .collect();
            if matches!(op, SetFolderDescription { .. }) {
                out.push(format!("folder:{path}"));
            }
            out
        }
        SetGroupDescription { name, .. } => vec![format!("group:{name}")],
        SetTagDescription { name, .. } => vec![format!("tag:{name}")],
        _ => Vec::new(),
    }
}
