//! `orgform.yaml`: where the manifests live, which provider holds the live org, and the
//! policy that bounds what a plan may do (SPEC §2).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::yaml::Spanned;

pub const CONFIG_FILE: &str = "orgform.yaml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "orgform repository config",
    description = "orgform.yaml at the root of an org repository."
)]
pub struct Config {
    /// Directory of manifest files (`*.yaml`, read in sorted order).
    #[serde(default = "default_manifests")]
    pub manifests: String,
    #[serde(default)]
    pub provider: ProviderConfig,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub audit: AuditConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            manifests: default_manifests(),
            provider: ProviderConfig::default(),
            policy: Policy::default(),
            audit: AuditConfig::default(),
        }
    }
}

fn default_manifests() -> String {
    "org/".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// The embedded sandbox org in a local SQLite file.
    #[default]
    Sandbox,
    /// The Encord platform over HTTPS.
    Encord,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    #[serde(default)]
    pub kind: ProviderKind,
    /// Sandbox: the SQLite file, relative to the repository root.
    #[serde(default = "default_sandbox_path")]
    pub path: String,
    /// Encord: the API domain, e.g. `https://api.encord.com` (ENCORD_DOMAIN overrides).
    /// The key comes from ENCORD_SSH_KEY_FILE or ENCORD_SSH_KEY.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Encord: the email of the user the key acts as. A plan never removes, demotes or
    /// replaces this user (`key-user-protected`); without it, plans warn once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_user: Option<String>,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            kind: ProviderKind::Sandbox,
            path: default_sandbox_path(),
            domain: None,
            key_user: None,
        }
    }
}

fn default_sandbox_path() -> String {
    ".orgform/sandbox.db".to_string()
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub prune: Prune,
    #[serde(default)]
    pub max_deletions: MaxDeletions,
    #[serde(default)]
    pub unmanaged: Unmanaged,
    #[serde(default)]
    pub offboarding: Offboarding,
}

/// Which live objects absent from the manifests are deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Prune {
    #[serde(default = "yes")]
    pub users: bool,
    #[serde(default = "yes")]
    pub groups: bool,
    /// Group members/managers, access entries and tag assignments.
    #[serde(default = "yes")]
    pub memberships: bool,
    #[serde(default)]
    pub project_tags: bool,
    #[serde(default)]
    pub metadata_keys: bool,
    #[serde(default)]
    pub folders: bool,
}

impl Default for Prune {
    fn default() -> Self {
        Prune {
            users: true,
            groups: true,
            memberships: true,
            project_tags: false,
            metadata_keys: false,
            folders: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Deletions allowed per kind in one run; `default` covers kinds not named.
/// `--allow-destroy` does not lift these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaxDeletions {
    #[serde(default = "default_max_deletions")]
    pub default: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_members: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_managers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_tags: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_tag_assignments: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_keys: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folders: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<u32>,
}

impl Default for MaxDeletions {
    fn default() -> Self {
        MaxDeletions {
            default: default_max_deletions(),
            users: None,
            groups: None,
            group_members: None,
            group_managers: None,
            project_tags: None,
            project_tag_assignments: None,
            metadata_keys: None,
            folders: None,
            access: None,
        }
    }
}

fn default_max_deletions() -> u32 {
    10
}

/// Live objects orgform never touches nor reports. Patterns use `*` as a wildcard.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unmanaged {
    /// Email patterns, e.g. `*@encord.com` (case-insensitive).
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// Group name patterns.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Offboarding {
    /// Who takes over Projects/Datasets whose only admin is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// JSON-lines audit log appended by every apply, relative to the repository root.
    #[serde(default = "default_audit_path")]
    pub path: String,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            path: default_audit_path(),
        }
    }
}

fn default_audit_path() -> String {
    ".orgform/audit.jsonl".to_string()
}

/// `*` matches any run of characters; everything else matches itself, case-insensitively.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    // Both ends match before slicing between them: the cuts then fall on characters.
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

impl Unmanaged {
    pub fn user(&self, email: &str) -> bool {
        self.users.iter().any(|p| pattern_matches(p, email))
    }
    pub fn group(&self, name: &str) -> bool {
        self.groups.iter().any(|p| pattern_matches(p, name))
    }
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    /// Found by the fuzz run: the suffix was cut off before it was known to match, in
    /// the middle of a character.
    #[test]
    fn patterns_never_cut_a_character() {
        assert!(!pattern_matches("*@vendor.io", "newhire00000😀@acme.com"));
        assert!(pattern_matches("*@vendor.io", "😀@vendor.io"));
        assert!(pattern_matches("a*é", "aé"));
        assert!(!pattern_matches("é*é", "é"));
        assert!(pattern_matches("ü*😀", "ü-😀"));
    }

    #[test]
    fn wildcard_patterns() {
        assert!(pattern_matches("*@encord.com", "Joe@Encord.com"));
        assert!(!pattern_matches("*@encord.com", "joe@encord.com.evil"));
        assert!(pattern_matches("bot-*@*.io", "bot-1@x.io"));
        assert!(!pattern_matches("bot-*@*.io", "bot@x.io"));
        assert!(pattern_matches("exact@a.com", "EXACT@a.com"));
        assert!(!pattern_matches("a*a", "a"));
    }
}
