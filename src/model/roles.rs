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

macro_rules! display_via_serde {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // The serde name is the manifest spelling; show users what they write.
                let v = serde_json::to_value(self).map_err(|_| fmt::Error)?;
                f.write_str(v.as_str().unwrap_or_default())
            }
        }
    )*};
}

display_via_serde!(
    OrgRole,
    UserType,
    InvitationStatus,
    ProjectRole,
    ResourceRole
);
