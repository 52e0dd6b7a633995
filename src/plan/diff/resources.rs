//! Access to existing Projects, Datasets and Ontologies, and project tag assignments.
//!
//! Live resources are keyed by hash (titles are not unique on the platform). A
//! declaration names one by hash, or by title while exactly one live resource has it.
//! Without an `access:` key a resource's access is not managed (likewise `tags:`).

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Rule;
use crate::model::{DesiredResource, Principal, ResourceKind};
use crate::plan::{AccessRole, Action, Change, Danger, Kind, Op, ResourceId, Target};

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

    /// The live resource a declaration names: its hash, or the hashes of every live
    /// resource with the declared title (none, or several).
    pub(super) fn lookup(&self, r: &DesiredResource) -> Result<String, Vec<String>> {
        self.lookups.lookup(r)
    }

    /// The declaration of a live resource, if the manifests declare it.
    pub(super) fn declared(&self, kind: ResourceKind, hash: &str) -> Option<&'a DesiredResource> {
        self.lookups.declared(kind, hash)
    }

    /// A resource as people read it: its title, with the hash when another live
    /// resource of its kind has the same title.
    pub(super) fn label(&self, kind: ResourceKind, hash: &str) -> String {
        self.lookups.titles.label(kind, hash)
    }

    /// The live resource a declaration names, or a blocked item saying why there is none.
    pub(super) fn resolve(&mut self, r: &DesiredResource) -> Option<String> {
        let candidates = match self.lookup(r) {
            Ok(hash) => {
                let live_title = self.live.title(r.kind, &hash).unwrap_or_default();
                if let Some(name) = r.by.name.as_deref().filter(|n| *n != live_title) {
                    let origin = self.sources.locate(r.origin);
                    self.warnings.push(crate::plan::Warning {
                        rule: Rule::ResourceUnknown,
                        message: format!(
                            "{} hash `{hash}` is titled `{live_title}` in the live org, not `{name}`: the hash identifies it; update `name:` to avoid confusion",
                            r.kind
                        ),
                        origin: Some(origin),
                    });
                }
                return Some(hash);
            }
            Err(candidates) => candidates,
        };
        let origin = self.sources.locate(r.origin);
        let key = format!("{}:{}", r.kind, r.by);
        if candidates.len() > 1 {
            self.block(
                Kind::Access,
                key,
                Rule::ResourceNameAmbiguous,
                format!(
                    "{} `{}` (declared at {origin}) matches {} live {}s with that title (hashes {}): name it by `hash:` instead",
                    r.kind,
                    r.by,
                    candidates.len(),
                    r.kind,
                    candidates.join(", ")
                ),
            );
            return None;
        }
        let titles = self.live.resources_of(r.kind);
        let near = r.by.name.as_deref().and_then(|name| {
            crate::diagnostic::closest_spelling(name, titles.iter().map(|(_, t)| *t))
        });
        let fix = match near {
            Some(title) => format!("did you mean `{title}`? Otherwise create it in Encord first"),
            None => "create it in Encord first or fix the name".to_string(),
        };
        self.block(
            Kind::Access,
            key,
            Rule::ResourceUnknown,
            format!(
                "{} `{}` (declared at {origin}) does not exist in the live org: orgform manages access to existing {}s only; {fix}",
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
            if let Some(hash) = self.resolve(r) {
                found.push((r, hash));
            }
        }
        // Declarations per live resource: the same resource declared twice (by name and
        // by hash) is planned for neither.
        let mut declarations: BTreeMap<(ResourceKind, &str), Vec<&'a DesiredResource>> =
            BTreeMap::new();
        for (r, hash) in &found {
            declarations
                .entry((r.kind, hash.as_str()))
                .or_default()
                .push(*r);
        }
        for (r, hash) in &found {
            let (r, hash) = (*r, hash.clone());
            let label = self.label(r.kind, &hash);
            let twins = &declarations[&(r.kind, hash.as_str())];
            if twins.len() > 1 {
                if std::ptr::eq(twins[0], r) {
                    let places: Vec<String> = twins
                        .iter()
                        .map(|x| format!("`{}` at {}", x.by, self.sources.locate(x.origin)))
                        .collect();
                    self.block(
                        Kind::Access,
                        format!("{}:{label}", r.kind),
                        Rule::InvalidValue,
                        format!(
                            "{} `{label}` is declared {} times ({}): merge them into one entry; until then its access and tags are left as they are",
                            r.kind,
                            twins.len(),
                            places.join(", ")
                        ),
                    );
                }
                continue;
            }
            let res = Resolved {
                kind: r.kind,
                hash,
                label,
            };
            match r.kind {
                ResourceKind::Project => {
                    let live = &self.live.projects[&res.hash];
                    if let Some(want) = &r.project_access {
                        self.access_changes(&res, &live.access, want, |a, b| a.rank() <= b.rank());
                    }
                    if let Some(want) = &r.tags {
                        self.tag_assignments(&res, &live.tags, want);
                    }
                }
                kind => {
                    let map = if kind == ResourceKind::Dataset {
                        &self.live.datasets
                    } else {
                        &self.live.ontologies
                    };
                    if let Some(want) = &r.resource_access {
                        self.access_changes(&res, &map[&res.hash].access, want, |a, b| {
                            a.rank() <= b.rank()
                        });
                    }
                }
            }
            if r.manages_access() {
                resolved.push(res);
            }
        }
        self.restore_undeclared_access(&resolved);
    }

    /// Tag assignments of a project whose `tags:` the manifests give.
    fn tag_assignments(
        &mut self,
        res: &Resolved,
        live: &BTreeSet<String>,
        want: &BTreeSet<String>,
    ) {
        let target = |tag: &String| Target::ProjectTagAssignment {
            project: res.hash.clone(),
            title: res.label.clone(),
            tag: tag.clone(),
        };
        let have: BTreeSet<String> = live
            .iter()
            .filter_map(|t| match self.tag_map.get(t) {
                Some(new) => new.clone(),
                None => Some(t.clone()),
            })
            .collect();
        for tag in want.difference(&have) {
            if self
                .blocked_names
                .contains(&(Kind::ProjectTag, tag.clone()))
            {
                continue;
            }
            self.changes
                .push(Change::new(target(tag), Action::Create, Danger::Safe));
        }
        if self.policy.prune.memberships {
            for tag in have.difference(want) {
                if self.frozen_names.contains(&(Kind::ProjectTag, tag.clone())) {
                    continue;
                }
                self.changes
                    .push(Change::new(target(tag), Action::Delete, Danger::Disruptive));
            }
        }
    }

    /// Re-grants replaced users their access on resources whose access the manifests
    /// do not manage: re-adding a user drops it, and orgform must not lose what it does
    /// not own.
    pub(super) fn restore_undeclared_access(&mut self, managed: &[Resolved]) {
        if self.replaced_users.is_empty() {
            return;
        }
        let managed: BTreeSet<(ResourceKind, &str)> =
            managed.iter().map(|r| (r.kind, r.hash.as_str())).collect();
        // In the order of the live org's access entries: by resource, then user.
        let mut restore = Vec::new();
        for email in &self.replaced_users {
            let who = Principal::User(email.clone());
            for a in self.lookups.footprints.access_of(&who).iter() {
                if !managed.contains(&(a.kind, a.hash)) {
                    restore.push((a.kind, a.hash, email.clone(), a.role));
                }
            }
        }
        restore.sort();
        for (kind, hash, email, role) in restore {
            // Roles read from the org are the platform's own: they always parse.
            let Some(role) = AccessRole::parse(kind, role) else {
                continue;
            };
            let op = Op::GrantAccess {
                resource: ResourceId {
                    kind,
                    title: self.label(kind, hash),
                    hash: hash.to_string(),
                },
                principal: Principal::User(email),
                role,
            };
            self.changes.push(
                Change::from_op(op, Danger::Safe).note("restored after the user is re-added"),
            );
        }
    }

    pub(super) fn access_changes<R: Copy + PartialEq + Into<AccessRole>>(
        &mut self,
        res: &Resolved,
        live: &BTreeMap<Principal, R>,
        want: &BTreeMap<Principal, R>,
        lower: impl Fn(R, R) -> bool,
    ) {
        let have = &self.project_access(live);
        let target = |who: &Principal| Target::Access {
            resource_kind: res.kind,
            resource: res.hash.clone(),
            title: res.label.clone(),
            principal: who.clone(),
        };
        let resource = || ResourceId {
            kind: res.kind,
            hash: res.hash.clone(),
            title: res.label.clone(),
        };
        let grant = |who: &Principal, role: R| Op::GrantAccess {
            resource: resource(),
            principal: who.clone(),
            role: role.into(),
        };
        // Users on Ontologies cannot be read or written by some providers (SPEC §7.1).
        let hidden_users = res.kind == ResourceKind::Ontology && !self.caps.ontology_user_access;
        let unobservable = move |who: &Principal| hidden_users && matches!(who, Principal::User(_));
        for (who, role) in want {
            if matches!(who, Principal::Group(g) if self.blocked_names.contains(&(Kind::Group, g.clone())))
            {
                continue; // its rename is blocked; the blocked item says why
            }
            if let Principal::User(email) = who
                && self.manual_users.contains(email)
            {
                let change = self.waits_for_user(target(who), email.clone());
                self.changes.push(change);
                continue;
            }
            if unobservable(who) {
                self.ontology_user_entry(res, who, (*role).into());
                continue;
            }
            let exists = match who {
                Principal::User(e) => self.user_exists_after(e),
                Principal::Group(g) => self.group_exists_after(g),
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
                None => self
                    .changes
                    .push(Change::from_op(grant(who, *role), Danger::Safe)),
                Some(old) if old != role => {
                    // A user's role is replaced where it cannot change in place; adding a
                    // group again sets its role.
                    let in_place =
                        self.caps.change_access_role || matches!(who, Principal::Group(_));
                    let danger = if lower(*role, *old) || !in_place {
                        Danger::Disruptive
                    } else {
                        Danger::Safe
                    };
                    let (principal, from, to) = (who.clone(), (*old).into(), (*role).into());
                    let change = if in_place {
                        let op = Op::SetAccessRole {
                            resource: resource(),
                            principal,
                            from,
                            to,
                        };
                        Change::from_op(op, danger)
                    } else {
                        let op = Op::ReplaceAccess {
                            resource: resource(),
                            principal,
                            from,
                            to,
                        };
                        Change::from_op(op, danger)
                            .rule(Rule::UnsupportedByProvider)
                            .note("the API cannot change a role in place: removed and re-added")
                    };
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
                        Change::from_op(grant(who, *role), Danger::Safe)
                            .note("restored after the user is re-added"),
                    );
                }
            }
            return;
        }
        for (who, role) in have {
            if want.contains_key(who) || unobservable(who) {
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
                let op = Op::RemoveAccess {
                    resource: resource(),
                    principal: who.clone(),
                    role: (*role).into(),
                };
                self.changes.push(Change::from_op(op, Danger::Disruptive));
            }
        }
    }

    /// A declared user entry on an Ontology the provider cannot observe: a manual step
    /// when the plan makes the user (so they certainly lack it), else a warning.
    fn ontology_user_entry(&mut self, res: &Resolved, who: &Principal, role: AccessRole) {
        let Principal::User(email) = who else {
            return;
        };
        let arrives = !self.live.users.contains_key(email) || self.replaced_users.contains(email);
        let steps = format!(
            "in the web app, My organisation → Settings → Users → User details of `{email}` → Ontologies → Assign to `{}` as {role}",
            res.label
        );
        if arrives {
            let op = Op::Manual {
                target: Target::Access {
                    resource_kind: res.kind,
                    resource: res.hash.clone(),
                    title: res.label.clone(),
                    principal: who.clone(),
                },
                rename_to: None,
            };
            self.changes.push(
                Change::from_op(op, Danger::Safe)
                    .rule(Rule::UnsupportedByProvider)
                    .note(format!(
                        "the API cannot give a user access to an ontology: {steps}"
                    )),
            );
            return;
        }
        self.warnings.push(crate::plan::Warning {
            rule: Rule::UnsupportedByProvider,
            message: format!(
                "the API cannot read users' access to ontologies: `{email}` as {role} on ontology `{}` is not checked and never changed; if it is missing: {steps}",
                res.label
            ),
            origin: None,
        });
    }
}
