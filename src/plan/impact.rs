//! Who and what a destructive change affects, so a reviewer can act on a plan without
//! opening the org: deleting a group names its members, managers and the access it
//! revokes; deleting or replacing a user names the groups they leave and the access
//! they lose; deleting a tag names its projects. Long lists are capped with a count.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::footprint::Footprints;
use super::titles::Titles;
use super::{Action, Change, Kind, Target};
use crate::model::{Org, Principal, ResourceKind};

/// At most this many items of each list are kept in a plan; `total` counts them all.
pub const IMPACT_CAP: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Impact {
    /// Members who lose the group (group deletion).
    #[serde(default, skip_serializing_if = "Capped::is_empty")]
    pub members: Capped<String>,
    /// Managers who lose the group (group deletion).
    #[serde(default, skip_serializing_if = "Capped::is_empty")]
    pub managers: Capped<String>,
    /// Groups the user leaves, as `name` or `name (manager)` (user deletion; for a
    /// replacement, those the plan does not add back).
    #[serde(default, skip_serializing_if = "Capped::is_empty")]
    pub groups: Capped<String>,
    /// Access revoked: the group's (group deletion) or the user's own (user deletion;
    /// for a replacement, what the plan does not add back).
    #[serde(default, skip_serializing_if = "Capped::is_empty")]
    pub access: Capped<AccessLost>,
    /// Projects the tag is removed from (tag deletion).
    #[serde(default, skip_serializing_if = "Capped::is_empty")]
    pub projects: Capped<ProjectRef>,
}

impl Impact {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
            && self.managers.is_empty()
            && self.groups.is_empty()
            && self.access.is_empty()
            && self.projects.is_empty()
    }
}

/// The first [`IMPACT_CAP`] items of a list, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capped<T> {
    pub items: Vec<T>,
    /// How many there are, shown or not.
    pub total: usize,
}

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Capped {
            items: Vec::new(),
            total: 0,
        }
    }
}

impl<T> Capped<T> {
    fn of(all: impl IntoIterator<Item = T>) -> Self {
        let mut items = Vec::new();
        let mut total = 0;
        for item in all {
            if items.len() < IMPACT_CAP {
                items.push(item);
            }
            total += 1;
        }
        Capped { items, total }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many are counted but not listed.
    pub fn left_out(&self) -> usize {
        self.total.saturating_sub(self.items.len())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessLost {
    pub resource_kind: ResourceKind,
    /// The resource's hash.
    pub resource: String,
    /// The resource as people read it: its title, with the hash when the title is not
    /// unique.
    pub title: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProjectRef {
    /// The project's hash.
    pub project: String,
    /// Its title, with the hash when the title is not unique.
    pub title: String,
}

/// Sets `impact` on every group or tag deletion and user deletion or replacement.
pub(super) fn attach(
    changes: &mut [Change],
    live: &Org,
    held: &Footprints<'_>,
    titles: &Titles<'_>,
) {
    let restored = Restored::of(changes);
    for c in changes.iter_mut() {
        let impact = match (&c.target, c.action) {
            (Target::Group { name }, Action::Delete) => group_deleted(live, held, titles, name),
            (Target::User { email }, Action::Delete) => user_removed(held, titles, email, None),
            (Target::User { email }, Action::Replace) => {
                user_removed(held, titles, email, Some(&restored))
            }
            (Target::ProjectTag { name }, Action::Delete) => tag_deleted(live, titles, name),
            _ => continue,
        };
        c.impact = (!impact.is_empty()).then_some(impact);
    }
}

fn group_deleted(live: &Org, held: &Footprints<'_>, titles: &Titles<'_>, name: &str) -> Impact {
    let Some(group) = live.groups.get(name) else {
        return Impact::default();
    };
    let who = Principal::Group(name.to_string());
    Impact {
        members: Capped::of(group.members.iter().cloned()),
        managers: Capped::of(group.managers.iter().cloned()),
        access: Capped::of(access_lost(held, titles, &who, |_, _| false)),
        ..Impact::default()
    }
}

/// What a removed user loses; for a replacement, less what the plan adds back.
fn user_removed(
    held: &Footprints<'_>,
    titles: &Titles<'_>,
    email: &str,
    restored: Option<&Restored>,
) -> Impact {
    let kept_group = |group: &str, manager: bool| {
        restored.is_some_and(|r| {
            let name = r.renamed.get(group).map_or(group, String::as_str);
            r.memberships
                .contains(&(name.to_string(), email.to_string(), manager))
        })
    };
    let places = held.places_of(email);
    let groups = places.iter().flat_map(|p| {
        let member = p.member && !kept_group(p.group, false);
        let manager = p.manager && !kept_group(p.group, true);
        [
            member.then(|| p.group.to_string()),
            manager.then(|| format!("{} (manager)", p.group)),
        ]
        .into_iter()
        .flatten()
    });
    let who = Principal::User(email.to_string());
    let kept_access = |kind: ResourceKind, hash: &str| {
        restored.is_some_and(|r| {
            r.access
                .contains(&(kind, hash.to_string(), email.to_string()))
        })
    };
    Impact {
        groups: Capped::of(groups),
        access: Capped::of(access_lost(held, titles, &who, kept_access)),
        ..Impact::default()
    }
}

fn tag_deleted(live: &Org, titles: &Titles<'_>, name: &str) -> Impact {
    let projects = live
        .projects
        .iter()
        .filter(|(_, p)| p.tags.contains(name))
        .map(|(hash, _)| ProjectRef {
            project: hash.clone(),
            title: titles.label(ResourceKind::Project, hash),
        });
    Impact {
        projects: Capped::of(projects),
        ..Impact::default()
    }
}

/// The live access entries of `who`, except those `skip` says stay.
fn access_lost(
    held: &Footprints<'_>,
    titles: &Titles<'_>,
    who: &Principal,
    skip: impl Fn(ResourceKind, &str) -> bool,
) -> Vec<AccessLost> {
    held.access_of(who)
        .iter()
        .filter(|a| !skip(a.kind, a.hash))
        .map(|a| AccessLost {
            resource_kind: a.kind,
            resource: a.hash.to_string(),
            title: titles.label(a.kind, a.hash),
            role: a.role.to_string(),
        })
        .collect()
}

/// What the plan adds back: memberships (group as after the plan, email, manager) and
/// access entries of users, and group renames (live name → new name).
struct Restored {
    memberships: BTreeSet<(String, String, bool)>,
    access: BTreeSet<(ResourceKind, String, String)>,
    renamed: BTreeMap<String, String>,
}

impl Restored {
    fn of(changes: &[Change]) -> Self {
        let mut r = Restored {
            memberships: BTreeSet::new(),
            access: BTreeSet::new(),
            renamed: BTreeMap::new(),
        };
        for c in changes {
            match (&c.target, c.action) {
                (Target::GroupMember { group, email }, Action::Create) => {
                    r.memberships.insert((group.clone(), email.clone(), false));
                }
                // A manager added by hand (manual) is added back too.
                (Target::GroupManager { group, email }, Action::Create | Action::Manual)
                    if c.danger == super::Danger::Safe =>
                {
                    r.memberships.insert((group.clone(), email.clone(), true));
                }
                (
                    Target::Access {
                        resource_kind,
                        resource,
                        principal: Principal::User(email),
                        ..
                    },
                    Action::Create,
                ) => {
                    r.access
                        .insert((*resource_kind, resource.clone(), email.clone()));
                }
                (Target::Group { name }, Action::Rename) if c.kind == Kind::Group => {
                    if let Some(new) = c.after("name").and_then(|v| v.as_str()) {
                        r.renamed.insert(name.clone(), new.to_string());
                    }
                }
                _ => {}
            }
        }
        r
    }
}
