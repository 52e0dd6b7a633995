//! `policy.unmanaged`: objects orgform never creates, changes, renames or deletes,
//! whatever the manifests say. Validate refuses declarations that touch them
//! (`unmanaged-declared`); the planner skips them as it goes, and this last pass keeps
//! any change to them out of the plan (defence in depth).

use crate::diagnostic::Rule;
use crate::model::Principal;
use crate::plan::{Action, Change, Kind, Target};

use super::Planner;

impl<'a> Planner<'a> {
    /// A declaration that names an unmanaged object: blocked, never planned.
    pub(super) fn block_unmanaged(&mut self, kind: Kind, key: &str) {
        self.block(
            kind,
            key,
            Rule::UnmanagedDeclared,
            format!(
                "{kind} `{key}` matches `policy.unmanaged`: orgform never changes it; remove it from the manifests or narrow the pattern"
            ),
        );
    }

    /// Whether a change would touch an unmanaged object (a managed group or resource
    /// may still grant an unmanaged user: that entry is managed like any other, but
    /// undeclared entries of unmanaged principals are never pruned).
    fn touches_unmanaged(&self, c: &Change) -> bool {
        let u = &self.policy.unmanaged;
        let renamed_to_unmanaged =
            || matches!(c.op(), Ok(op) if op.renamed_to().is_some_and(|n| u.group(n)));
        match &c.target {
            Target::User { email } => u.user(email),
            Target::Group { name } => {
                u.group(name) || (c.action == Action::Rename && renamed_to_unmanaged())
            }
            Target::GroupMember { group, email } | Target::GroupManager { group, email } => {
                // Re-adding a user (type change) drops their memberships, unmanaged
                // groups' too: putting them back leaves the group as it was.
                let restores = c.action == Action::Create && self.replaced_users.contains(email);
                (u.group(group) && !restores) || (c.action == Action::Delete && u.user(email))
            }
            Target::Access { principal, .. } => {
                c.action == Action::Delete
                    && match principal {
                        Principal::User(e) => u.user(e),
                        Principal::Group(g) => u.group(g),
                    }
            }
            _ => false,
        }
    }

    /// Drops every change that touches an unmanaged object, as a blocked item.
    pub(super) fn keep_out_unmanaged(&mut self) {
        let (out, keep): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|c| self.touches_unmanaged(c));
        self.changes = keep;
        for c in out {
            self.block_unmanaged(c.kind, &c.key);
        }
    }
}
