//! The fingerprint of a live org: a digest that changes whenever anything orgform
//! manages changes, so a saved plan can tell it is stale. What orgform neither touches
//! nor reports (invitation status, unmanaged users and groups) is left out, so an
//! invitee accepting does not make a reviewed plan stale.
//!
//! The org is serialized straight into the hasher through a borrowed, filtered view:
//! no copy of the org and no JSON buffer, which matters for large orgs.

use std::collections::BTreeMap;
use std::io::Write;

use serde::ser::{Serialize, SerializeMap, Serializer};
use sha2::{Digest, Sha256};

use crate::config::Unmanaged;
use crate::model::{Org, Principal};

/// `sha256:<hex>` of the managed part of the org, as canonical JSON (ordered maps).
pub fn fingerprint(org: &Org, unmanaged: &Unmanaged) -> String {
    let mut hasher = HashWriter(Sha256::new());
    let view = Managed { org, unmanaged };
    // Writing to a hasher cannot fail, and the view only holds serializable data.
    let _ = serde_json::to_writer(&mut hasher, &view);
    let hex: String = hasher
        .0
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Managed<'a> {
    org: &'a Org,
    unmanaged: &'a Unmanaged,
}

impl Managed<'_> {
    fn keeps(&self, who: &Principal) -> bool {
        match who {
            Principal::User(e) => !self.unmanaged.user(e),
            Principal::Group(g) => !self.unmanaged.group(g),
        }
    }

    fn access<'b, R: Serialize>(
        &'b self,
        access: &'b BTreeMap<Principal, R>,
    ) -> impl Serialize + 'b {
        Filtered(access.iter().filter(|(w, _)| self.keeps(w)).collect())
    }
}

/// A map serialized from an already filtered list of entries.
struct Filtered<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Filtered<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl Serialize for Managed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let org = self.org;
        let u = self.unmanaged;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "users",
            &Filtered(
                org.users
                    .iter()
                    .filter(|(e, _)| !u.user(e))
                    .map(|(e, user)| (e, (user.role, user.user_type)))
                    .collect(),
            ),
        )?;
        map.serialize_entry(
            "groups",
            &Filtered(
                org.groups
                    .iter()
                    .filter(|(n, _)| !u.group(n))
                    .map(|(n, g)| {
                        let members: Vec<&String> =
                            g.members.iter().filter(|e| !u.user(e)).collect();
                        let managers: Vec<&String> =
                            g.managers.iter().filter(|e| !u.user(e)).collect();
                        (n, (&g.description, members, managers))
                    })
                    .collect(),
            ),
        )?;
        map.serialize_entry("project_tags", &org.project_tags)?;
        map.serialize_entry("metadata_schema", &org.metadata_schema)?;
        map.serialize_entry("folders", &org.folders)?;
        map.serialize_entry(
            "projects",
            &Filtered(
                org.projects
                    .iter()
                    .map(|(h, p)| (h, (&p.name, &p.tags, self.access(&p.access))))
                    .collect(),
            ),
        )?;
        for (key, resources) in [("datasets", &org.datasets), ("ontologies", &org.ontologies)] {
            map.serialize_entry(
                key,
                &Filtered(
                    resources
                        .iter()
                        .map(|(h, r)| (h, (&r.name, self.access(&r.access))))
                        .collect(),
                ),
            )?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::fingerprint;
    use crate::config::Unmanaged;
    use crate::diagnostic::{FileId, Origin};
    use crate::model::{InvitationStatus, Org, OrgRole, User, UserType};
    use crate::yaml::Spanned;

    fn org() -> Org {
        let mut org = Org::default();
        org.users.insert(
            "ada@acme.com".into(),
            User {
                role: OrgRole::Admin,
                user_type: UserType::Internal,
                status: Some(InvitationStatus::Joined),
            },
        );
        org
    }

    #[test]
    fn changes_with_what_orgform_manages_only() {
        let origin = Origin {
            file: FileId(0),
            line: 1,
            column: 1,
        };
        let unmanaged = Unmanaged {
            users: vec![Spanned::new("*@encord.com".into(), origin)],
            groups: vec![],
        };
        let base = fingerprint(&org(), &unmanaged);
        assert!(base.starts_with("sha256:") && base.len() == 71);

        let mut status = org();
        status.users.get_mut("ada@acme.com").expect("ada").status = Some(InvitationStatus::Invited);
        assert_eq!(
            fingerprint(&status, &unmanaged),
            base,
            "invitation status is ignored"
        );

        let mut bot = org();
        bot.users.insert(
            "bot@encord.com".into(),
            User {
                role: OrgRole::Member,
                user_type: UserType::External,
                status: None,
            },
        );
        assert_eq!(
            fingerprint(&bot, &unmanaged),
            base,
            "unmanaged users are ignored"
        );

        let mut role = org();
        role.users.insert(
            "bob@acme.com".into(),
            User {
                role: OrgRole::Member,
                user_type: UserType::Internal,
                status: None,
            },
        );
        assert_ne!(
            fingerprint(&role, &unmanaged),
            base,
            "a managed user changes it"
        );
    }
}
