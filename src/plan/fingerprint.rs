//! The fingerprint of a live org: a digest that changes whenever anything orgform
//! manages changes, so a saved plan can tell it is stale. What orgform neither touches
//! nor reports (invitation status, unmanaged users and groups) is left out, so an
//! invitee accepting does not make a reviewed plan stale.

use sha2::{Digest, Sha256};

use crate::config::Unmanaged;
use crate::model::{Org, Principal};

/// `sha256:<hex>` of the managed part of the org, as canonical JSON (ordered maps).
pub fn fingerprint(org: &Org, unmanaged: &Unmanaged) -> String {
    let mut managed = org.clone();
    managed.users.retain(|email, _| !unmanaged.user(email));
    for user in managed.users.values_mut() {
        user.status = None;
    }
    managed.groups.retain(|name, _| !unmanaged.group(name));
    for group in managed.groups.values_mut() {
        group.members.retain(|e| !unmanaged.user(e));
        group.managers.retain(|e| !unmanaged.user(e));
    }
    let keep = |who: &Principal| match who {
        Principal::User(e) => !unmanaged.user(e),
        Principal::Group(g) => !unmanaged.group(g),
    };
    for p in managed.projects.values_mut() {
        p.access.retain(|w, _| keep(w));
    }
    for r in managed
        .datasets
        .values_mut()
        .chain(managed.ontologies.values_mut())
    {
        r.access.retain(|w, _| keep(w));
    }
    let json = serde_json::to_vec(&managed).unwrap_or_default();
    let hex: String = Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}
