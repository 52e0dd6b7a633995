//! Access to existing Projects, Datasets and Ontologies, and project tag assignments.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::diagnostic::Rule;
use crate::model::{DesiredResource, Principal, ResourceKind, ResourceRef};
use crate::plan::{Action, Change, Danger, Kind, Target};

use super::{Planner, Resolved};

impl<'a> Planner<'a> {
    /// Live access of a resource as it will be after the plan's removals and renames.
    pub(super) fn project_access<R: Copy>(
        &self,
        access: &BTreeMap<Principal, R>,
    ) -> BTreeMap<Principal, R> {
        access
            .iter()
            .filter_map(|(who, role)| {
                let who = match who {
                    Principal::User(e) if self.removed_users.contains(e) => return None,
                    Principal::User(_) => who.clone(),
                    Principal::Group(g) => match self.group_map.get(g) {
                        Some(Some(new)) => Principal::Group(new.clone()),
                        Some(None) => return None,
                        None => who.clone(),
                    },
                };
                Some((who, *role))
            })
            .collect()
    }

    /// Indexes live resources by hash and maps each to its first declaration.
    pub(super) fn index_resources(&mut self) {
        let live = self.live;
        let hashes = live
            .projects
            .iter()
            .map(|(n, p)| (ResourceKind::Project, n, p.hash.as_str()))
            .chain(
                live.datasets
                    .iter()
                    .map(|(n, d)| (ResourceKind::Dataset, n, d.hash.as_str())),
            )
            .chain(
                live.ontologies
                    .iter()
                    .map(|(n, o)| (ResourceKind::Ontology, n, o.hash.as_str())),
            );
        for (kind, name, hash) in hashes {
            self.by_hash.entry((kind, hash)).or_default().push(name);
        }
        let desired = self.desired;
        for r in &desired.resources {
            for name in self.lookup(r) {
                self.declared_by_live.entry((r.kind, name)).or_insert(r);
            }
        }
    }

    /// The live names a declared resource matches (one, when all is well).
    pub(super) fn lookup(&self, r: &DesiredResource) -> Vec<String> {
        match &r.by {
            ResourceRef::Name(n) => {
                let exists = match r.kind {
                    ResourceKind::Project => self.live.projects.contains_key(n),
                    ResourceKind::Dataset => self.live.datasets.contains_key(n),
                    ResourceKind::Ontology => self.live.ontologies.contains_key(n),
                };
                if exists { vec![n.clone()] } else { Vec::new() }
            }
            ResourceRef::Hash(h) => self
                .by_hash
                .get(&(r.kind, h.as_str()))
                .map(|names| names.iter().map(|n| (*n).clone()).collect())
                .unwrap_or_default(),
        }
    }

    /// The declared resource whose access the manifests give for a live resource.
    pub(super) fn declared(
        &self,
        kind: ResourceKind,
        live_name: &str,
    ) -> Option<&'a DesiredResource> {
        self.declared_by_live
            .get(&(kind, live_name.to_string()))
            .copied()
    }

    pub(super) fn resolve(&mut self, r: &DesiredResource) -> Option<String> {
        let names = self.lookup(r);
        if let [name] = names.as_slice() {
            return Some(name.clone());
        }
        let origin = self.sources.locate(r.origin);
        self.block(
            Kind::Access,
            format!("{}:{}", r.kind, r.by),
            Rule::ResourceUnknown,
            format!(
                "{} `{}` (declared at {origin}) does not exist in the live org: orgform manages access to existing {}s only; create it in Encord first or fix the name",
                r.kind, r.by, r.kind
            ),
        );
        None
    }

    pub(super) fn resources(&mut self) {
        let desired = self.desired;
        let mut resolved: Vec<Resolved> = Vec::new();
        let mut found: Vec<(&'a DesiredResource, String)> = Vec::new();
        for r in &desired.resources {
            if let Some(name) = self.resolve(r) {
                found.push((r, name));
            }
        }
        // Declarations per live resource: the same resource declared twice (by name and
        // by hash) is planned for neither.
        let mut declarations: BTreeMap<(ResourceKind, &str), Vec<&'a DesiredResource>> =
            BTreeMap::new();
        for (r, name) in &found {
            declarations
                .entry((r.kind, name.as_str()))
                .or_default()
                .push(*r);
        }
        for (r, name) in &found {
            let (r, name) = (*r, name.clone());
            let twins = &declarations[&(r.kind, name.as_str())];
            if twins.len() > 1 {
                if std::ptr::eq(twins[0], r) {
                    let places: Vec<String> = twins
                        .iter()
                        .map(|x| format!("`{}` at {}", x.by, self.sources.locate(x.origin)))
                        .collect();
                    self.block(
                        Kind::Access,
                        format!("{}:{name}", r.kind),
                        Rule::InvalidValue,
                        format!(
                            "{} `{name}` is declared {} times ({}): merge them into one entry; until then its access and tags are left as they are",
                            r.kind,
                            twins.len(),
                            places.join(", ")
                        ),
                    );
                }
                continue;
            }
            match r.kind {
                ResourceKind::Project => {
                    let live = &self.live.projects[&name];
                    self.access_changes(r.kind, &name, &live.access, &r.project_access, |a, b| {
                        a.rank() <= b.rank()
                    });
                    let have_tags: BTreeSet<String> = live
                        .tags
                        .iter()
                        .filter_map(|t| match self.tag_map.get(t) {
                            Some(new) => new.clone(),
                            None => Some(t.clone()),
                        })
                        .collect();
                    for tag in r.tags.difference(&have_tags) {
                        if self
                            .blocked_names
                            .contains(&(Kind::ProjectTag, tag.clone()))
                        {
                            continue;
                        }
                        self.changes.push(Change::new(
                            Target::ProjectTagAssignment {
                                project: name.clone(),
                                tag: tag.clone(),
                            },
                            Action::Create,
                            Danger::Safe,
                        ));
                    }
                    if self.policy.prune.memberships {
                        for tag in have_tags.difference(&r.tags) {
                            if self.frozen_names.contains(&(Kind::ProjectTag, tag.clone())) {
                                continue;
                            }
                            self.changes.push(Change::new(
                                Target::ProjectTagAssignment {
                                    project: name.clone(),
                                    tag: tag.clone(),
                                },
                                Action::Delete,
                                Danger::Disruptive,
                            ));
                        }
                    }
                }
                kind => {
                    let map = if kind == ResourceKind::Dataset {
                        &self.live.datasets
                    } else {
                        &self.live.ontologies
                    };
                    self.access_changes(
                        kind,
                        &name,
                        &map[&name].access,
                        &r.resource_access,
                        |a, b| a.rank() <= b.rank(),
                    );
                }
            }
            resolved.push(Resolved { kind: r.kind, name });
        }
        self.restore_undeclared_access(&resolved);
    }

    /// Re-grants replaced users their access on resources the manifests do not manage:
    /// re-adding a user drops it, and orgform must not lose what it does not own.
    pub(super) fn restore_undeclared_access(&mut self, resolved: &[Resolved]) {
        let declared = |kind: ResourceKind, name: &str| {
            resolved.iter().any(|r| r.kind == kind && r.name == name)
        };
        let mut restore = Vec::new();
        for (kind, name, who, role) in self.live.access_entries() {
            if let Principal::User(email) = who
                && self.replaced_users.contains(email)
                && !declared(kind, name)
            {
                restore.push((kind, name.to_string(), who.clone(), role));
            }
        }
        for (kind, name, who, role) in restore {
            self.changes.push(
                Change::new(
                    Target::Access {
                        resource_kind: kind,
                        resource: name,
                        principal: who,
                    },
                    Action::Create,
                    Danger::Safe,
                )
                .field("role", None, json!(role))
                .note("restored after the user is re-added"),
            );
        }
    }

    pub(super) fn access_changes<R: Copy + PartialEq + serde::Serialize>(
        &mut self,
        kind: ResourceKind,
        resource: &str,
        live: &BTreeMap<Principal, R>,
        want: &BTreeMap<Principal, R>,
        lower: impl Fn(R, R) -> bool,
    ) {
        let have = &self.project_access(live);
        let target = |who: &Principal| Target::Access {
            resource_kind: kind,
            resource: resource.to_string(),
            principal: who.clone(),
        };
        for (who, role) in want {
            if matches!(who, Principal::Group(g) if self.blocked_names.contains(&(Kind::Group, g.clone())))
            {
                continue; // its rename is blocked; the blocked item says why
            }
            let exists = match who {
                Principal::User(e) => self.user_exists_after(e),
                Principal::Group(g) => {
                    self.desired.org.groups.contains_key(g)
                        || self
                            .group_map
                            .values()
                            .any(|v| v.as_deref() == Some(g.as_str()))
                }
            };
            if !exists {
                match who {
                    Principal::User(e) => self.block_unknown_user(target(who), e),
                    Principal::Group(g) => self.block(
                        Kind::Access,
                        target(who).key(),
                        Rule::UserUnknown,
                        format!("group `{g}` does not exist in the live org and is not declared"),
                    ),
                }
                continue;
            }
            match have.get(who) {
                None => self.changes.push(
                    Change::new(target(who), Action::Create, Danger::Safe).field(
                        "role",
                        None,
                        json!(role),
                    ),
                ),
                Some(old) if old != role => {
                    let danger = if lower(*role, *old) || !self.caps.change_access_role {
                        Danger::Disruptive
                    } else {
                        Danger::Safe
                    };
                    let mut change = Change::new(target(who), Action::Update, danger).field(
                        "role",
                        json!(old),
                        json!(role),
                    );
                    if !self.caps.change_access_role {
                        change.action = Action::Replace;
                        change = change
                            .rule(Rule::UnsupportedByProvider)
                            .note("the API cannot change a role in place: removed and re-added");
                    }
                    self.changes.push(change);
                }
                Some(_) => {}
            }
        }
        if !self.policy.prune.memberships {
            // Nothing is pruned, so a replaced user gets back what they had.
            for (who, role) in live {
                if matches!(who, Principal::User(e) if self.replaced_users.contains(e))
                    && !want.contains_key(who)
                {
                    self.changes.push(
                        Change::new(target(who), Action::Create, Danger::Safe)
                            .field("role", None, json!(role))
                            .note("restored after the user is re-added"),
                    );
                }
            }
            return;
        }
        for (who, role) in have {
            if want.contains_key(who) {
                continue;
            }
            let unmanaged = match who {
                Principal::User(e) => self.unmanaged_user(e),
                Principal::Group(g) => {
                    self.policy.unmanaged.group(g)
                        || self.frozen_names.contains(&(Kind::Group, g.clone()))
                }
            };
            if !unmanaged {
                self.changes.push(
                    Change::new(target(who), Action::Delete, Danger::Disruptive).field(
                        "role",
                        json!(role),
                        None,
                    ),
                );
            }
        }
    }
}
