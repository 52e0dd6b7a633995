//! Roles and types as they travel on the wire (encord-api.md §5.1, §5.6, §6).

use crate::model::{OrgRole, ProjectRole, ResourceKind, ResourceRole, UserType};
use crate::plan::AccessRole;

/// `roleMnemonicName`: the web app's Collaborator is `TASKER` (encord-api.md §6).
pub fn org_role_name(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Admin => "ADMIN",
        OrgRole::Member => "MEMBER",
        OrgRole::WorkforceManager => "WORKFORCE_MANAGER",
        OrgRole::Collaborator => "TASKER",
    }
}

/// An org role from its mnemonic; unknown names are the caller's error to report.
pub fn org_role(name: &str) -> Option<OrgRole> {
    [
        OrgRole::Admin,
        OrgRole::Member,
        OrgRole::WorkforceManager,
        OrgRole::Collaborator,
    ]
    .into_iter()
    .find(|r| org_role_name(*r).eq_ignore_ascii_case(name))
}

/// `memberType` on the wire: `internal`, `external`, `workforce`.
pub fn user_type(name: &str) -> Option<UserType> {
    match name.to_ascii_lowercase().as_str() {
        "internal" => Some(UserType::Internal),
        "external" => Some(UserType::External),
        "workforce" => Some(UserType::Workforce),
        _ => None,
    }
}

/// ProjectUserRole: ADMIN 0, ANNOTATOR 1, REVIEWER 2, ANNOTATOR_REVIEWER 3,
/// TEAM_MANAGER 4, VIEWER 5.
const PROJECT_ROLES: [ProjectRole; 6] = [
    ProjectRole::Admin,
    ProjectRole::Annotator,
    ProjectRole::Reviewer,
    ProjectRole::AnnotatorReviewer,
    ProjectRole::TeamManager,
    ProjectRole::Viewer,
];

/// DatasetUserRole and OntologyUserRole: ADMIN 0, USER 1.
const RESOURCE_ROLES: [ResourceRole; 2] = [ResourceRole::Admin, ResourceRole::User];

/// A role's integer on the wire.
pub fn role_number(role: AccessRole) -> u64 {
    let position = match role {
        AccessRole::Project(r) => PROJECT_ROLES.iter().position(|x| *x == r),
        AccessRole::Resource(r) => RESOURCE_ROLES.iter().position(|x| *x == r),
    };
    position.unwrap_or_default() as u64
}

/// A role from its integer, for a resource of this kind.
pub fn role_of(kind: ResourceKind, number: u64) -> Option<AccessRole> {
    let i = usize::try_from(number).ok()?;
    match kind {
        ResourceKind::Project => PROJECT_ROLES.get(i).copied().map(AccessRole::Project),
        _ => RESOURCE_ROLES.get(i).copied().map(AccessRole::Resource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_wire_forms() {
        for role in PROJECT_ROLES {
            let r = AccessRole::Project(role);
            assert_eq!(role_of(ResourceKind::Project, role_number(r)), Some(r));
        }
        for role in RESOURCE_ROLES {
            let r = AccessRole::Resource(role);
            assert_eq!(role_of(ResourceKind::Dataset, role_number(r)), Some(r));
        }
        assert_eq!(role_of(ResourceKind::Project, 6), None);
        assert_eq!(org_role("TASKER"), Some(OrgRole::Collaborator));
        assert_eq!(org_role("OWNER"), None);
    }
}
