//! Project tags: create, rename (case-insensitively matched), describe, delete.

use std::collections::BTreeSet;

use serde_json::json;

use crate::diagnostic::Rule;
use crate::plan::{Action, Change, Danger, Kind, Target};

use super::{Match, Planner};

impl<'a> Planner<'a> {
    pub(super) fn tags(&mut self) {
        let mut claimed = BTreeSet::new();
        for (name, want) in &self.desired.org.project_tags {
            let found = self.match_renamed(
                Kind::ProjectTag,
                ("project_tag", name.clone()),
                name,
                self.desired.tag_renames.get(name),
                |n| self.live.tag_named(n).map(str::to_string),
            );
            let target = Target::ProjectTag { name: name.clone() };
            let live_name = match found {
                Match::Found(live_name) => Some(live_name),
                Match::Missing => None,
                Match::Ambiguous(candidates) => {
                    claimed.extend(self.freeze(Kind::ProjectTag, name, candidates));
                    continue;
                }
            };
            let Some(live_name) = live_name else {
                self.changes
                    .push(Change::new(target, Action::Create, Danger::Safe).field(
                        "description",
                        None,
                        json!(want.description),
                    ));
                continue;
            };
            claimed.insert(live_name.clone());
            self.tag_map.insert(live_name.clone(), Some(name.clone()));
            if live_name != *name {
                let mut change = Change::rename(
                    Target::ProjectTag {
                        name: live_name.clone(),
                    },
                    &live_name,
                    name,
                    name.clone(),
                );
                if !self.caps.rename_tag {
                    change.action = Action::Manual;
                    change = change.rule(Rule::UnsupportedByProvider).note(format!(
                        "the API cannot rename tags: in the web app, My organisation → Settings → Project tags, double-click `{live_name}`, type `{name}`, press Enter"
                    ));
                }
                self.changes.push(change);
            }
            let have = &self.live.project_tags[&live_name];
            if have.description != want.description {
                self.changes
                    .push(Change::new(target, Action::Update, Danger::Safe).field(
                        "description",
                        json!(have.description),
                        json!(want.description),
                    ));
            }
        }
        for (name, have) in &self.live.project_tags {
            if claimed.contains(name) {
                continue;
            }
            if !self.policy.prune.project_tags {
                self.tag_map.insert(name.clone(), Some(name.clone()));
                continue;
            }
            self.tag_map.insert(name.clone(), None);
            let used = self
                .live
                .projects
                .values()
                .filter(|p| p.tags.contains(name))
                .count();
            self.changes.push(
                Change::new(
                    Target::ProjectTag { name: name.clone() },
                    Action::Delete,
                    Danger::Destructive,
                )
                .field("description", json!(have.description), None)
                .note(format!("removes the tag from {used} project(s)")),
            );
        }
    }
}
