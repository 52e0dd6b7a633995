//! Users: invite, change roles, replace on a type change, remove; admins stay.

use crate::diagnostic::Rule;
use crate::model::{OrgRole, Principal, UserType};
use crate::plan::{Change, Danger, KeyUser, Kind, Op, Target};

use super::{Planner, footprint_note};

impl<'a> Planner<'a> {
    pub(super) fn users(&mut self) {
        let (desired, live) = (&self.desired.org.users, &self.live.users);
        for (email, want) in desired {
            if self.unmanaged_user(email) {
                self.block_unmanaged(Kind::User, email);
                continue;
            }
            let Some(have) = live.get(email) else {
                if want.role == OrgRole::Admin && want.user_type != UserType::Internal {
                    self.block(
                        Kind::User,
                        email,
                        Rule::AdminMustBeInternal,
                        format!("`{email}` would be an admin of type {}; only internal users can be admins", want.user_type),
                    );
                    continue;
                }
                if want.user_type == UserType::Workforce && !self.caps.add_workforce_user {
                    self.manual_users.insert(email.clone());
                    let op = Op::Manual {
                        target: Target::User {
                            email: email.clone(),
                        },
                        rename_to: None,
                    };
                    self.changes.push(Change::from_op(op, Danger::Safe).rule(Rule::UnsupportedByProvider).note(format!(
                        "the API cannot add a workforce user: they join the org when a workforce manager adds them to a project or dataset in the web app (My organisation → Settings → Users → User details → Assign to); then `orgform plan` sets their role ({}) and memberships",
                        want.role
                    )));
                    continue;
                }
                self.changes.push(Change::from_op(
                    Op::InviteUser {
                        email: email.clone(),
                        role: want.role,
                        user_type: want.user_type,
                    },
                    Danger::Safe,
                ));
                continue;
            };
            let type_changes = have.user_type != want.user_type;
            let role_changes = have.role != want.role;
            if !type_changes && !role_changes {
                continue;
            }
            if have.role == OrgRole::Admin {
                let (rule, message) = if role_changes {
                    (
                        Rule::AdminRoleLocked,
                        format!(
                            "`{email}` is an admin; an admin's role cannot be changed (wanted {}). Ask Encord support, or declare `role: admin`",
                            want.role
                        ),
                    )
                } else {
                    (
                        Rule::AdminUnremovable,
                        format!(
                            "`{email}` is an admin; changing its type to {} means removing and re-adding it, and admins cannot be removed",
                            want.user_type
                        ),
                    )
                };
                self.block(Kind::User, email, rule, message);
                continue;
            }
            if want.role == OrgRole::Admin && want.user_type != UserType::Internal {
                self.block(
                    Kind::User,
                    email,
                    Rule::AdminMustBeInternal,
                    format!("`{email}` would become an admin of type {}; only internal users can be admins", want.user_type),
                );
                continue;
            }
            // Anything but a promotion takes something away.
            let lowered = role_changes && want.role.rank() <= have.role.rank();
            if lowered && self.caps.key_user == KeyUser::Known(email.clone()) {
                self.block(
                    Kind::User,
                    email,
                    Rule::KeyUserProtected,
                    format!(
                        "`{email}` is provider.key_user, the user orgform's key acts as: a plan never demotes it (wanted {}). Declare `role: {}`, or change it in the web app with another admin's account",
                        want.role, have.role
                    ),
                );
                continue;
            }
            if type_changes && self.keep_held_user(email) {
                continue;
            }
            let change = if type_changes {
                // The platform re-adds the user: memberships and access are dropped.
                self.removed_users.insert(email.clone());
                self.replaced_users.insert(email.clone());
                let op = Op::ReplaceUser {
                    email: email.clone(),
                    from_role: have.role,
                    from_type: have.user_type,
                    role: want.role,
                    user_type: want.user_type,
                };
                Change::from_op(op, Danger::Destructive)
                    .rule(Rule::UserTypeChange)
                    .note("removed and re-added with the new type: drops their group memberships and resource access; the declared ones are added back")
            } else if !self.caps.change_org_role {
                let op = Op::Manual {
                    target: Target::User {
                        email: email.clone(),
                    },
                    rename_to: None,
                };
                let danger = if lowered {
                    Danger::Disruptive
                } else {
                    Danger::Safe
                };
                Change::from_op(op, danger)
                    .rule(Rule::UnsupportedByProvider)
                    .note(format!(
                        "the API cannot change an org role ({} → {}): in the web app, My organisation → Settings → Users, search for `{email}`, open the user role dropdown and select {}",
                        have.role, want.role, want.role
                    ))
            } else {
                let danger = if lowered {
                    Danger::Disruptive
                } else {
                    Danger::Safe
                };
                let op = Op::SetOrgRole {
                    email: email.clone(),
                    from: have.role,
                    to: want.role,
                };
                Change::from_op(op, danger)
            };
            self.changes.push(change);
        }
        for (email, have) in live {
            if desired.contains_key(email) || self.unmanaged_user(email) || !self.policy.prune.users
            {
                continue;
            }
            if have.role == OrgRole::Admin {
                self.block(
                    Kind::User,
                    email,
                    Rule::AdminUnremovable,
                    format!("admin `{email}` is not in the manifests, but admins cannot be removed by orgform: add it back to `users:` (or ask Encord support to remove it)"),
                );
                continue;
            }
            if self.keep_held_user(email) {
                continue;
            }
            self.removed_users.insert(email.clone());
            let (groups, access) = self.user_footprint(email);
            let op = Op::RemoveUser {
                email: email.clone(),
                role: have.role,
                user_type: have.user_type,
            };
            self.changes.push(
                Change::from_op(op, Danger::Destructive).note(footprint_note(groups, access)),
            );
        }
    }

    /// A user this plan must keep (see `Held`): blocked with the reason, not removed.
    fn keep_held_user(&mut self, email: &str) -> bool {
        let Some((rule, message)) = self.held.users.get(email) else {
            return false;
        };
        let (rule, message) = (*rule, message.clone());
        self.block(Kind::User, email, rule, message);
        true
    }

    /// How many groups a live user is in, and on how many resources they have access.
    pub(super) fn user_footprint(&self, email: &str) -> (usize, usize) {
        let held = &self.lookups.footprints;
        let who = Principal::User(email.to_string());
        (held.places_of(email).len(), held.access_of(&who).len())
    }
}
