//! The fingerprint of a live org: a digest that changes whenever anything orgform
//! reads changes, so a saved plan can tell it is stale.

use sha2::{Digest, Sha256};

use crate::model::Org;

/// `sha256:<hex>` of the org's canonical JSON (ordered maps make it canonical).
pub fn fingerprint(org: &Org) -> String {
    let json = serde_json::to_vec(org).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
