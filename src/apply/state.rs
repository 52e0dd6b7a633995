//! Where applies keep their local state for an org — the lock, the journals and the
//! plan copies — computed from the org's identity (see [`OrgIdentity`]), so every
//! checkout on this machine applying to one org finds the same lock and journals.
//!
//! The lock is local: it keeps two applies on one machine apart. It cannot see an
//! apply running on another machine (two CI runners applying to one remote org): run
//! applies to one org from one place at a time, e.g. a CI concurrency group.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::provider::OrgIdentity;

/// The state directory of the org with this identity.
pub fn dir(identity: &OrgIdentity) -> PathBuf {
    match identity {
        // Beside the database, under its canonical name (`sandbox.db.apply/`).
        OrgIdentity::SandboxFile(file) => {
            let mut name = file.file_name().unwrap_or_default().to_os_string();
            name.push(".apply");
            file.with_file_name(name)
        }
        OrgIdentity::Remote { provider, id } => {
            // The id is free text (a domain, an organisation id): a digest names it safely.
            let digest = Sha256::digest(format!("{provider}\n{id}").as_bytes());
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            user_state_root()
                .join("orgs")
                .join(format!("{provider}-{hex}"))
        }
    }
}

/// orgform's per-user state directory (XDG base directories).
fn user_state_root() -> PathBuf {
    let from = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty());
    match (from("XDG_STATE_HOME"), from("HOME")) {
        (Some(state), _) => PathBuf::from(state).join("orgform"),
        (None, Some(home)) => PathBuf::from(home).join(".local/state/orgform"),
        (None, None) => std::env::temp_dir().join("orgform-state"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_keeps_its_state_beside_the_file() {
        let id = OrgIdentity::SandboxFile(PathBuf::from("/repo/.orgform/sandbox.db"));
        assert_eq!(dir(&id), PathBuf::from("/repo/.orgform/sandbox.db.apply"));
    }

    #[test]
    fn a_remote_org_has_one_state_dir_per_identity() {
        let org = |id: &str| OrgIdentity::Remote {
            provider: "encord".into(),
            id: id.into(),
        };
        let a = dir(&org("app.encord.com/org-1"));
        assert_eq!(a, dir(&org("app.encord.com/org-1")), "stable");
        assert_ne!(a, dir(&org("app.encord.com/org-2")));
        let name = a.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(
            name.starts_with("encord-") && name.len() == "encord-".len() + 16,
            "{name}"
        );
    }
}
