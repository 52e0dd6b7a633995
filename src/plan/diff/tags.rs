//! Project tags: create, rename (case-insensitively matched), describe, delete.

use std::collections::BTreeSet;

use crate::diagnostic::Rule;
use crate::plan::{Change, Danger, Kind, Op, Target};

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
                |n| self.lookups.tag_named(n).map(str::to_string),
            );
            let live_name = match found {
                Match::Found(live_name) => Some(live_name),
                Match::Missing => None,
                Match::Ambiguous(candidates) => {
                    claimed.extend(self.freeze(Kind::ProjectTag, name, candidates));
                    continue;
                }
            };
            let Some(live_name) = live_name else {
                let op = Op::CreateTag {
                    name: name.clone(),
                    description: want.description.clone(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
                continue;
            };
            claimed.insert(live_name.clone());
            self.tag_map.insert(live_name.clone(), Some(name.clone()));
            if live_name != *name {
                let change = if self.caps.rename_tag {
                    Change::from_op(
                        Op::RenameTag {
                            from: live_name.clone(),
                            to: name.clone(),
                        },
                        Danger::Safe,
                    )
                } else {
                    let op = Op::Manual {
                        target: Target::ProjectTag {
                            name: live_name.clone(),
                        },
                        rename_to: Some(name.clone()),
                    };
                    Change::from_op(op, Danger::Safe).rule(Rule::UnsupportedByProvider).note(format!(
                        "the API cannot rename tags: in the web app, My organisation → Settings → Project tags, double-click `{live_name}`, type `{name}`, press Enter"
                    ))
                };
                self.changes.push(change);
            }
            let have = &self.live.project_tags[&live_name];
            if have.description != want.description {
                let change = if self.caps.tag_description {
                    let op = Op::SetTagDescription {
                        name: name.clone(),
                        from: have.description.clone(),
                        to: want.description.clone(),
                    };
                    Change::from_op(op, Danger::Safe)
                } else {
                    let op = Op::Manual {
                        target: Target::ProjectTag { name: name.clone() },
                        rename_to: None,
                    };
                    Change::from_op(op, Danger::Safe).rule(Rule::UnsupportedByProvider).note(format!(
                        "the API cannot change a tag's description: in the web app, My organisation → Settings → Project tags, edit `{live_name}` and set its description to {:?} (now {:?})",
                        want.description, have.description
                    ))
                };
                self.changes.push(change);
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
            let op = Op::DeleteTag {
                name: name.clone(),
                description: have.description.clone(),
            };
            self.changes.push(
                Change::from_op(op, Danger::Destructive)
                    .note(format!("removes the tag from {used} project(s)")),
            );
        }
    }
}
