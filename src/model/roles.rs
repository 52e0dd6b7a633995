//! Roles, user types and statuses: the platform's fixed vocabularies.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A user's role in the Organization (org-settings-current: Admin, Member,
/// Workforce Manager, Collaborator).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    Admin,
    Member,
    WorkforceManager,
    Collaborator,
}

/// Internal users are employed by the org; only they can be admins.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UserType {
    Internal,
    External,
    Workforce,
}

/// Invitation status; read-only on the platform, settable only in sandbox state files.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Invited,
    Declined,
    Joined,
}

/// A user's or group's role on a Project.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProjectRole {
    Admin,
    TeamManager,
    Reviewer,
    AnnotatorReviewer,
    Annotator,
    Viewer,
}

/// A user's or group's role on a Dataset or Ontology.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceRole {
    Admin,
    User,
}

impl OrgRole {
    /// Higher means more permissions; lowering a role is disruptive.
    pub fn rank(self) -> u8 {
        match self {
            OrgRole::Admin => 3,
            OrgRole::WorkforceManager => 2,
            OrgRole::Member => 1,
            OrgRole::Collaborator => 0,
        }
    }
}

impl ProjectRole {
    pub fn rank(self) -> u8 {
        match self {
            ProjectRole::Admin => 5,
            ProjectRole::TeamManager => 4,
            ProjectRole::AnnotatorReviewer => 3,
            ProjectRole::Reviewer | ProjectRole::Annotator => 2,
            ProjectRole::Viewer => 1,
        }
    }
}

impl ResourceRole {
    pub fn rank(self) -> u8 {
        match self {
            ResourceRole::Admin => 1,
            ResourceRole::User => 0,
        }
    }
}

/// Each vocabulary's names, as spelled in manifests (the serde names: a test checks
/// they agree). A plain match: the access lists of large orgs print many roles.
macro_rules! names {
    ($($t:ident { $($v:ident => $name:literal),* $(,)? })*) => {$(
        impl $t {
            pub fn name(self) -> &'static str {
                match self {
                    $($t::$v => $name),*
                }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    )*};
}

names! {
    OrgRole {
        Admin => "admin",
        Member => "member",
        WorkforceManager => "workforce_manager",
        Collaborator => "collaborator",
    }
    UserType {
        Internal => "internal",
        External => "external",
        Workforce => "workforce",
    }
    InvitationStatus {
        Invited => "invited",
        Declined => "declined",
        Joined => "joined",
    }
    ProjectRole {
        Admin => "admin",
        TeamManager => "team_manager",
        Reviewer => "reviewer",
        AnnotatorReviewer => "annotator_reviewer",
        Annotator => "annotator",
        Viewer => "viewer",
    }
    ResourceRole {
        Admin => "admin",
        User => "user",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(v: T) -> String {
        serde_json::to_value(v)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn names_are_the_manifest_spellings() {
        use InvitationStatus as S;
        use OrgRole as O;
        use ProjectRole as P;
        use ResourceRole as R;
        use UserType as U;
        for v in [O::Admin, O::Member, O::WorkforceManager, O::Collaborator] {
            assert_eq!(v.name(), serde_name(v));
            assert_eq!(v.to_string(), serde_name(v));
        }
        for v in [U::Internal, U::External, U::Workforce] {
            assert_eq!(v.to_string(), serde_name(v));
        }
        for v in [S::Invited, S::Declined, S::Joined] {
            assert_eq!(v.to_string(), serde_name(v));
        }
        for v in [
            P::Admin,
            P::TeamManager,
            P::Reviewer,
            P::AnnotatorReviewer,
            P::Annotator,
            P::Viewer,
        ] {
            assert_eq!(v.to_string(), serde_name(v));
        }
        for v in [R::Admin, R::User] {
            assert_eq!(v.to_string(), serde_name(v));
        }
    }
}
