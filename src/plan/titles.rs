//! Live Projects, Datasets and Ontologies by title, and how people read one: its title,
//! with its hash when another resource of its kind has the same title. Built once per
//! plan: every access change and impact names its resource.

use std::collections::BTreeMap;

use crate::model::{Org, ResourceKind};

pub struct Titles<'a> {
    live: &'a Org,
    /// Kind → title → the hashes of the live resources with that title, in hash order.
    by_title: BTreeMap<ResourceKind, BTreeMap<&'a str, Vec<&'a str>>>,
}

impl<'a> Titles<'a> {
    pub fn of(live: &'a Org) -> Self {
        let mut by_title: BTreeMap<ResourceKind, BTreeMap<&'a str, Vec<&'a str>>> = BTreeMap::new();
        for kind in [
            ResourceKind::Project,
            ResourceKind::Dataset,
            ResourceKind::Ontology,
        ] {
            for (hash, title) in live.resources_of(kind) {
                by_title
                    .entry(kind)
                    .or_default()
                    .entry(title)
                    .or_default()
                    .push(hash);
            }
        }
        Titles { live, by_title }
    }

    /// The hashes of the live resources of a kind with this title.
    pub fn hashes(&self, kind: ResourceKind, title: &str) -> &[&'a str] {
        self.by_title
            .get(&kind)
            .and_then(|titles| titles.get(title))
            .map_or(&[], Vec::as_slice)
    }

    /// A resource as people read it: its title, with the hash when another live
    /// resource of its kind has the same title.
    pub fn label(&self, kind: ResourceKind, hash: &str) -> String {
        let title = self.live.title(kind, hash).unwrap_or(hash);
        if self.hashes(kind, title).len() > 1 {
            format!("{title} ({hash})")
        } else {
            title.to_string()
        }
    }
}
