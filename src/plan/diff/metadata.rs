//! The metadata schema: new keys, retypes (destructive when data may break), removals.

use serde_json::json;

use crate::diagnostic::Rule;
use crate::plan::{Action, Change, Danger, Target};

use super::Planner;

impl<'a> Planner<'a> {
    pub(super) fn metadata(&mut self) {
        for (key, want) in &self.desired.org.metadata_schema {
            let target = Target::MetadataKey { key: key.clone() };
            match self.live.metadata_schema.get(key) {
                None => self
                    .changes
                    .push(Change::new(target, Action::Create, Danger::Safe).field(
                        "type",
                        None,
                        json!(want),
                    )),
                Some(have) if have != want => {
                    let mut change = Change::new(target, Action::Update, Danger::Safe).field(
                        "type",
                        json!(have),
                        json!(want),
                    );
                    if have.retype_breaks_data(want) {
                        change.danger = Danger::Destructive;
                        change = change.rule(Rule::MetadataRetype).note(format!(
                            "changing `{key}` from {have} to {want} can break existing metadata values"
                        ));
                    }
                    self.changes.push(change);
                }
                Some(_) => {}
            }
        }
        if !self.policy.prune.metadata_keys {
            return;
        }
        for (key, have) in &self.live.metadata_schema {
            if !self.desired.org.metadata_schema.contains_key(key) {
                self.changes.push(
                    Change::new(
                        Target::MetadataKey { key: key.clone() },
                        Action::Delete,
                        Danger::Destructive,
                    )
                    .field("type", json!(have), None)
                    .note("existing values of this key stop being part of the schema"),
                );
            }
        }
    }
}
