//! What the planner looks up again and again, built once per plan and shared by its
//! rounds (none of it depends on what a round keeps): live resources by title, the
//! declaration of each live resource, live tags by case-insensitive name, and what the
//! users and groups a plan may remove hold.

use std::collections::BTreeMap;

use crate::model::{Desired, DesiredResource, Org, ResourceKind};
use crate::plan::footprint::Footprints;
use crate::plan::titles::Titles;

pub(super) struct Lookups<'a> {
    live: &'a Org,
    pub titles: Titles<'a>,
    pub footprints: Footprints<'a>,
    /// The declaration (the first) of each live resource the manifests name.
    declared_by_live: BTreeMap<(ResourceKind, &'a str), &'a DesiredResource>,
    /// Live tag names by their lower-case form: the first in name order, as
    /// [`Org::tag_named`] finds it.
    tags_folded: BTreeMap<String, &'a str>,
}

impl<'a> Lookups<'a> {
    pub fn new(desired: &'a Desired, live: &'a Org) -> Self {
        // Only users who are not declared, or declared with another type, can be
        // removed or re-added; only undeclared groups can be deleted.
        let footprints = Footprints::of(
            live,
            |email| {
                let have = &live.users[email];
                desired
                    .org
                    .users
                    .get(email)
                    .is_none_or(|want| want.user_type != have.user_type)
            },
            |name| !desired.org.groups.contains_key(name),
        );
        let mut tags_folded = BTreeMap::new();
        for name in live.project_tags.keys() {
            tags_folded
                .entry(name.to_lowercase())
                .or_insert(name.as_str());
        }
        let mut lookups = Lookups {
            live,
            titles: Titles::of(live),
            footprints,
            declared_by_live: BTreeMap::new(),
            tags_folded,
        };
        let mut declared_by_live = BTreeMap::new();
        for r in &desired.resources {
            if let Ok(hash) = lookups.find(r) {
                declared_by_live.entry((r.kind, hash)).or_insert(r);
            }
        }
        lookups.declared_by_live = declared_by_live;
        lookups
    }

    /// The live resource a declaration names: its hash, or the hashes of every live
    /// resource with the declared title (none, or several).
    pub fn lookup(&self, r: &DesiredResource) -> Result<String, Vec<String>> {
        self.find(r)
            .map(str::to_string)
            .map_err(|many| many.iter().map(|h| h.to_string()).collect())
    }

    fn find(&self, r: &DesiredResource) -> Result<&'a str, &[&'a str]> {
        if let Some(hash) = &r.by.hash {
            return self.live_hash(r.kind, hash).ok_or(&[]);
        }
        let title = r.by.name.as_deref().unwrap_or_default();
        match self.titles.hashes(r.kind, title) {
            [hash] => Ok(hash),
            many => Err(many),
        }
    }

    /// The live resource's own hash (borrowed from the live org), if it exists.
    fn live_hash(&self, kind: ResourceKind, hash: &str) -> Option<&'a str> {
        let live = self.live;
        let key = match kind {
            ResourceKind::Project => live.projects.get_key_value(hash).map(|(k, _)| k),
            ResourceKind::Dataset => live.datasets.get_key_value(hash).map(|(k, _)| k),
            ResourceKind::Ontology => live.ontologies.get_key_value(hash).map(|(k, _)| k),
        };
        key.map(String::as_str)
    }

    /// The declaration of a live resource, if the manifests declare it.
    pub fn declared(&self, kind: ResourceKind, hash: &str) -> Option<&'a DesiredResource> {
        self.declared_by_live.get(&(kind, hash)).copied()
    }

    /// Case-insensitive live tag lookup, as [`Org::tag_named`].
    pub fn tag_named(&self, name: &str) -> Option<&'a str> {
        self.tags_folded.get(&name.to_lowercase()).copied()
    }
}
