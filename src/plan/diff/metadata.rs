//! The metadata schema: new keys, retypes (destructive when data may break), removals.

use crate::diagnostic::Rule;
use crate::plan::{Change, Danger, Op};

use super::Planner;

impl<'a> Planner<'a> {
    pub(super) fn metadata(&mut self) {
        for (key, want) in &self.desired.org.metadata_schema {
            match self.live.metadata_schema.get(key) {
                None => {
                    let op = Op::CreateMetadataKey {
                        key: key.clone(),
                        ty: want.clone(),
                    };
                    self.changes.push(Change::from_op(op, Danger::Safe));
                }
                Some(have) if have != want => {
                    let op = Op::RetypeMetadataKey {
                        key: key.clone(),
                        from: have.clone(),
                        to: want.clone(),
                    };
                    let mut change = Change::from_op(op, Danger::Safe);
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
                let op = Op::DeleteMetadataKey {
                    key: key.clone(),
                    ty: have.clone(),
                };
                self.changes.push(
                    Change::from_op(op, Danger::Destructive)
                        .note("existing values of this key stop being part of the schema"),
                );
            }
        }
    }
}
