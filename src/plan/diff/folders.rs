//! Index folders: matched by path under renamed parents, created parents first.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::FolderPath;
use crate::plan::{Change, Danger, Kind, Op};

use super::{Match, Planner};

impl<'a> Planner<'a> {
    pub(super) fn folders(&mut self) {
        // Declared path → live path it corresponds to. Parents come first in the map's
        // order, so a child is matched under its (possibly renamed) parent.
        let mut matched: BTreeMap<FolderPath, FolderPath> = BTreeMap::new();
        // Declared folders left alone (an ambiguous rename), and the live ones they keep.
        let mut skipped: BTreeSet<FolderPath> = BTreeSet::new();
        let mut untouchable: BTreeSet<FolderPath> = BTreeSet::new();
        for (path, want) in &self.desired.org.folders {
            if path.parent().is_some_and(|p| skipped.contains(&p)) {
                skipped.insert(path.clone());
                continue;
            }
            let live_parent = match path.parent() {
                Some(parent) => matched.get(&parent).cloned(),
                None => Some(FolderPath(Vec::new())),
            };
            let live_path = match live_parent {
                None => None,
                Some(parent) => match self.match_renamed(
                    Kind::Folder,
                    ("folder", path.to_string()),
                    path.name(),
                    self.desired.folder_renames.get(path),
                    |n| {
                        let candidate = parent.child(n);
                        self.live
                            .folders
                            .contains_key(&candidate)
                            .then(|| candidate.name().to_string())
                    },
                ) {
                    Match::Found(n) => Some(parent.child(&n)),
                    Match::Missing => None,
                    Match::Ambiguous(candidates) => {
                        skipped.insert(path.clone());
                        untouchable.extend(candidates.iter().map(|c| parent.child(c)));
                        continue;
                    }
                },
            };
            let Some(live_path) = live_path else {
                let op = Op::CreateFolder {
                    path: path.clone(),
                    description: want.description.clone(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
                continue;
            };
            matched.insert(path.clone(), live_path.clone());
            if live_path.name() != path.name() {
                // Parents are renamed first, so the folder is found under its new parent.
                let now = match path.parent() {
                    Some(parent) => parent.child(live_path.name()),
                    None => FolderPath(vec![live_path.name().to_string()]),
                };
                let op = Op::RenameFolder {
                    path: now,
                    to: path.name().to_string(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
            }
            let have = &self.live.folders[&live_path];
            if have.description != want.description {
                let op = Op::SetFolderDescription {
                    path: path.clone(),
                    from: have.description.clone(),
                    to: want.description.clone(),
                };
                self.changes.push(Change::from_op(op, Danger::Safe));
            }
        }
        if !self.policy.prune.folders {
            return;
        }
        let kept: BTreeSet<&FolderPath> = matched.values().collect();
        let untouchable = |p: &FolderPath| untouchable.iter().any(|u| p.starts_with(u));
        // Where a live folder will be once its ancestors are renamed.
        let renamed_prefixes: Vec<(&FolderPath, &FolderPath)> =
            matched.iter().map(|(new, old)| (old, new)).collect();
        for (path, have) in &self.live.folders {
            if kept.contains(path) || untouchable(path) {
                continue;
            }
            // The deepest kept ancestor decides where the folder is after the renames.
            let ancestor = renamed_prefixes
                .iter()
                .filter(|(old, _)| path.starts_with(old) && old.depth() < path.depth())
                .max_by_key(|(old, _)| old.depth());
            let now = match ancestor {
                Some((old, new)) => {
                    let mut p = new.0.clone();
                    p.extend_from_slice(&path.0[old.depth()..]);
                    FolderPath(p)
                }
                None => path.clone(),
            };
            let op = Op::DeleteFolder {
                path: now,
                description: have.description.clone(),
            };
            self.changes.push(
                Change::from_op(op, Danger::Destructive)
                    .note("deletes the folder and the files in it"),
            );
        }
    }
}
