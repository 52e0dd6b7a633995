//! The API key: an OpenSSH Ed25519 private key from `ENCORD_SSH_KEY_FILE` (a path,
//! checked first, as Encord's SDK does) or `ENCORD_SSH_KEY` (the key itself). Errors say
//! where the key was looked for and what is wrong with it, never what it holds.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use crate::encord::openssh::{self, KeyError};

pub const KEY_FILE_VAR: &str = "ENCORD_SSH_KEY_FILE";
pub const KEY_VAR: &str = "ENCORD_SSH_KEY";

/// A key that could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    #[error(
        "no Encord API key: set {KEY_FILE_VAR} to the path of an OpenSSH Ed25519 private key (or {KEY_VAR} to the key itself). Create one in the Encord web app: your profile → Settings → Public keys → New key"
    )]
    Missing,
    #[error("cannot read the Encord API key file {path} ({KEY_FILE_VAR}): {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("the Encord API key in {source_name} cannot be used: {problem}")]
    Invalid {
        source_name: String,
        problem: KeyError,
    },
}

/// Loads the key as the environment says: `key_file` and `key` are the values of
/// `ENCORD_SSH_KEY_FILE` and `ENCORD_SSH_KEY`.
pub fn load(key_file: Option<&str>, key: Option<&str>) -> Result<SigningKey, LoadError> {
    let (text, source_name) = match (key_file.filter(|f| !f.is_empty()), key) {
        (Some(file), _) => {
            let path = expand_home(file);
            let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            (text, format!("{} ({KEY_FILE_VAR})", path.display()))
        }
        (None, Some(key)) if !key.trim().is_empty() => (key.to_string(), KEY_VAR.to_string()),
        _ => return Err(LoadError::Missing),
    };
    openssh::parse_private_key(&text).map_err(|problem| LoadError::Invalid {
        source_name,
        problem,
    })
}

/// The key the process environment names.
pub fn from_env() -> Result<SigningKey, LoadError> {
    let file = std::env::var(KEY_FILE_VAR).ok();
    let key = std::env::var(KEY_VAR).ok();
    load(file.as_deref(), key.as_deref())
}

/// `~/…` as the SDK expands it.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_source_and_never_the_key() {
        assert_eq!(load(None, None), Err(LoadError::Missing));
        assert_eq!(load(Some(""), Some("  ")), Err(LoadError::Missing));
        let secret =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----";
        let e = load(None, Some(secret)).expect_err("PKCS#8 is refused");
        let text = e.to_string();
        assert!(
            text.contains("ENCORD_SSH_KEY") && text.contains("not an OpenSSH private key"),
            "{text}"
        );
        assert!(!text.contains("c2VjcmV0"), "{text}");
        let missing = load(Some("/nonexistent/orgform-key"), Some(secret)).expect_err("no file");
        assert!(
            matches!(&missing, LoadError::Unreadable { path, .. } if path == Path::new("/nonexistent/orgform-key")),
            "the file wins over the variable: {missing}"
        );
    }
}
