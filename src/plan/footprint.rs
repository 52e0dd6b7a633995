//! What live users and groups hold: the groups a user is in, and each one's access
//! entries. Removals, group deletions and their impacts ask this per change; scanning
//! the whole org for each made planning quadratic at scale, so it is indexed once per
//! plan for the users and groups a plan may remove. Anyone else is found by a scan,
//! with the same answer.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::model::{Org, Principal, ResourceKind};

/// One access entry of a principal: on which resource, with which role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access<'a> {
    pub kind: ResourceKind,
    /// The resource's hash.
    pub hash: &'a str,
    /// The role's name, as the platform spells it.
    pub role: &'static str,
}

/// A group a user is in, as a member, a manager or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub group: &'a str,
    pub member: bool,
    pub manager: bool,
}

pub struct Footprints<'a> {
    live: &'a Org,
    /// Indexed users (by email) and groups (by name) → their access entries, in
    /// [`Org::access_entries`] order.
    user_access: BTreeMap<&'a str, Vec<Access<'a>>>,
    group_access: BTreeMap<&'a str, Vec<Access<'a>>>,
    /// Indexed users → the groups they are in, in group order.
    places: BTreeMap<&'a str, Vec<Place<'a>>>,
}

impl<'a> Footprints<'a> {
    /// Indexes the live users and groups the predicates select (those a plan may remove).
    pub fn of(live: &'a Org, user: impl Fn(&str) -> bool, group: impl Fn(&str) -> bool) -> Self {
        let mut user_access: BTreeMap<&'a str, Vec<Access<'a>>> = BTreeMap::new();
        let mut group_access: BTreeMap<&'a str, Vec<Access<'a>>> = BTreeMap::new();
        let mut places: BTreeMap<&'a str, Vec<Place<'a>>> = BTreeMap::new();
        for email in live.users.keys().filter(|e| user(e)) {
            user_access.insert(email, Vec::new());
            places.insert(email, Vec::new());
        }
        for name in live.groups.keys().filter(|g| group(g)) {
            group_access.insert(name, Vec::new());
        }
        if !places.is_empty() {
            for (name, g) in &live.groups {
                for email in &g.members {
                    if let Some(list) = places.get_mut(email.as_str()) {
                        list.push(Place {
                            group: name,
                            member: true,
                            manager: g.managers.contains(email),
                        });
                    }
                }
                for email in g.managers.iter().filter(|e| !g.members.contains(*e)) {
                    if let Some(list) = places.get_mut(email.as_str()) {
                        list.push(Place {
                            group: name,
                            member: false,
                            manager: true,
                        });
                    }
                }
            }
            // A manager who is not a member comes after the group's members: back into
            // group order (stable, and one place per group).
            for list in places.values_mut() {
                list.sort_by_key(|p| p.group);
            }
        }
        if !user_access.is_empty() || !group_access.is_empty() {
            live.each_access(|kind, hash, who, role| {
                let list = match who {
                    Principal::User(e) => user_access.get_mut(e.as_str()),
                    Principal::Group(g) => group_access.get_mut(g.as_str()),
                };
                if let Some(list) = list {
                    list.push(Access { kind, hash, role });
                }
            });
        }
        Footprints {
            live,
            user_access,
            group_access,
            places,
        }
    }

    /// The live access entries of `who`, in [`Org::access_entries`] order.
    pub fn access_of(&self, who: &Principal) -> Cow<'_, [Access<'a>]> {
        let indexed = match who {
            Principal::User(e) => self.user_access.get(e.as_str()),
            Principal::Group(g) => self.group_access.get(g.as_str()),
        };
        if let Some(list) = indexed {
            return Cow::Borrowed(list);
        }
        let mut list = Vec::new();
        self.live.each_access(|kind, hash, p, role| {
            if p == who {
                list.push(Access { kind, hash, role });
            }
        });
        Cow::Owned(list)
    }

    /// The live groups `email` is in, in group order.
    pub fn places_of(&self, email: &str) -> Cow<'_, [Place<'a>]> {
        if let Some(list) = self.places.get(email) {
            return Cow::Borrowed(list);
        }
        let list = self
            .live
            .groups
            .iter()
            .filter_map(|(name, g)| {
                let (member, manager) = (g.members.contains(email), g.managers.contains(email));
                (member || manager).then_some(Place {
                    group: name.as_str(),
                    member,
                    manager,
                })
            })
            .collect();
        Cow::Owned(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Group, Project, ProjectRole};

    fn org() -> Org {
        let mut org = Org::default();
        for (name, members, managers) in [
            ("a", vec!["x@e.io", "y@e.io"], vec!["z@e.io"]),
            ("b", vec!["y@e.io"], vec!["y@e.io", "x@e.io"]),
            ("c", vec!["z@e.io"], vec![]),
        ] {
            org.groups.insert(
                name.to_string(),
                Group {
                    description: String::new(),
                    members: members.into_iter().map(String::from).collect(),
                    managers: managers.into_iter().map(String::from).collect(),
                },
            );
        }
        for hash in ["h1", "h2"] {
            let mut p = Project {
                name: "P".to_string(),
                ..Project::default()
            };
            p.access
                .insert(Principal::User("x@e.io".into()), ProjectRole::Admin);
            p.access
                .insert(Principal::Group("b".into()), ProjectRole::Viewer);
            org.projects.insert(hash.to_string(), p);
        }
        for e in ["x@e.io", "y@e.io", "z@e.io"] {
            org.users.insert(
                e.to_string(),
                crate::model::User {
                    role: crate::model::OrgRole::Member,
                    user_type: crate::model::UserType::Internal,
                    status: None,
                },
            );
        }
        org
    }

    /// Indexed or scanned, the answer is the same.
    #[test]
    fn indexed_and_scanned_agree() {
        let org = org();
        let all = Footprints::of(&org, |_| true, |_| true);
        let none = Footprints::of(&org, |_| false, |_| false);
        for who in [
            Principal::User("x@e.io".into()),
            Principal::User("z@e.io".into()),
            Principal::Group("b".into()),
            Principal::Group("zz".into()),
        ] {
            assert_eq!(all.access_of(&who), none.access_of(&who), "{who}");
        }
        for e in ["x@e.io", "y@e.io", "z@e.io", "nobody@e.io"] {
            assert_eq!(all.places_of(e), none.places_of(e), "{e}");
        }
        let x: Vec<(&str, bool, bool)> = all
            .places_of("x@e.io")
            .iter()
            .map(|p| (p.group, p.member, p.manager))
            .collect();
        assert_eq!(x, [("a", true, false), ("b", false, true)]);
        assert_eq!(all.access_of(&Principal::Group("b".into())).len(), 2);
    }
}
