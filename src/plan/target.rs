//! `plan --target KIND[/KEY]`: which changes a targeted plan keeps, and which objects a
//! target can name. Keys compare the way their kind does (emails and project tag names
//! ignoring case, everything else exactly), so a target never silently misses its object.

use std::fmt;

use super::{Blocked, Change, Kind, Target};
use crate::model::{Desired, Org, ResourceRef, email};

/// One `--target`: a kind, and optionally one object of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub kind: Kind,
    pub key: Option<String>,
}

impl Selector {
    /// Parses `KIND` or `KIND/KEY` (the kind as in plans: `user`, `group_member`, …).
    /// The error is written for the clap usage message.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let (kind, key) = match text.split_once('/') {
            Some((kind, key)) => (kind, Some(key)),
            None => (text, None),
        };
        let kinds = Kind::ALL.map(Kind::as_str).join(", ");
        if kind.is_empty() {
            return Err(format!(
                "the kind is missing: a target is KIND or KIND/KEY, with KIND one of: {kinds}"
            ));
        }
        let Some(kind) = Kind::ALL.into_iter().find(|k| k.as_str() == kind) else {
            let hint = closest(kind, Kind::ALL.map(Kind::as_str))
                .map(|k| format!("Did you mean `{k}`? "))
                .unwrap_or_default();
            return Err(format!(
                "`{kind}` is not a kind of change. {hint}The kinds are: {kinds}"
            ));
        };
        match key {
            Some("") => Err(format!(
                "the key after `{kind}/` is empty: name one {kind} (e.g. `{}`), or drop `/` to target every {kind}",
                example(kind)
            )),
            key => Ok(Selector {
                kind,
                key: key.map(str::to_string),
            }),
        }
    }

    /// Whether this target selects the change or blocked item with this kind, key and
    /// (for changes) target. A rename matches by its new name (`key`) and its old one
    /// (the target's key).
    pub fn selects(&self, kind: Kind, key: &str, target: Option<&Target>) -> bool {
        if kind != self.kind {
            return false;
        }
        let Some(wanted) = &self.key else {
            return true;
        };
        let wanted = canonical(kind, wanted);
        wanted == canonical(kind, key)
            || target.is_some_and(|t| {
                wanted == canonical(kind, &t.key())
                    || by_hash(t).is_some_and(|k| wanted == canonical(kind, &k))
            })
    }

    pub fn selects_change(&self, c: &Change) -> bool {
        self.selects(c.kind, &c.key, Some(&c.target))
    }

    pub fn selects_blocked(&self, b: &Blocked) -> bool {
        self.selects(b.kind, &b.key, None)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "{}/{key}", self.kind),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

/// A resource's access entry or tag assignment keyed by the resource's hash instead of
/// its title (`--target` accepts either, SPEC §7.6).
fn by_hash(target: &Target) -> Option<String> {
    match target {
        Target::Access {
            resource_kind,
            resource,
            principal,
            ..
        } => Some(format!("{resource_kind}:{resource}/{principal}")),
        Target::ProjectTagAssignment { project, tag, .. } => Some(format!("{project}/{tag}")),
        _ => None,
    }
}

/// A key in the form it is compared in: email parts and project tag names lower-case.
fn canonical(kind: Kind, key: &str) -> String {
    // The email (or tag) is the last part of a composite key: emails and tag names
    // hold no `/user:` and rarely a `/`, while group and resource names may.
    let lower_after = |sep: &str| match key.rfind(sep) {
        Some(at) => format!("{}{}", &key[..at], key[at..].to_lowercase()),
        None => key.to_string(),
    };
    match kind {
        Kind::User => email::normalize(key),
        Kind::ProjectTag => key.to_lowercase(),
        Kind::GroupMember | Kind::GroupManager | Kind::ProjectTagAssignment => lower_after("/"),
        Kind::Access => lower_after("/user:"),
        Kind::Group | Kind::MetadataKey | Kind::Folder => key.to_string(),
    }
}

fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::User => "user/bob@vendor.io",
        Kind::Group => "group/labelers",
        Kind::GroupMember => "group_member/labelers/bob@vendor.io",
        Kind::GroupManager => "group_manager/labelers/bob@vendor.io",
        Kind::ProjectTag => "project_tag/gold",
        Kind::ProjectTagAssignment => "project_tag_assignment/Road signs/gold",
        Kind::MetadataKey => "metadata_key/camera",
        Kind::Folder => "folder/raw/2024",
        Kind::Access => "access/project:Road signs/user:bob@vendor.io",
    }
}

/// The nearest of `candidates` to a misspelt `word`, if one is near enough to suggest.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Every object a target can name: what the manifests declare and what is live.
pub fn objects(desired: &Desired, live: &Org) -> Vec<Target> {
    let mut all = org_objects(&desired.org);
    all.extend(org_objects(live));
    for r in &desired.resources {
        let ResourceRef { name, hash } = &r.by;
        let hash = hash.clone().or_else(|| name.clone()).unwrap_or_default();
        let title = name.clone().unwrap_or_else(|| hash.clone());
        all.extend(
            r.tags
                .iter()
                .flatten()
                .map(|tag| Target::ProjectTagAssignment {
                    project: hash.clone(),
                    title: title.clone(),
                    tag: tag.clone(),
                }),
        );
        let principals = r
            .project_access
            .iter()
            .flat_map(|a| a.keys())
            .chain(r.resource_access.iter().flat_map(|a| a.keys()));
        all.extend(principals.map(|p| Target::Access {
            resource_kind: r.kind,
            resource: hash.clone(),
            title: title.clone(),
            principal: p.clone(),
        }));
    }
    all
}

fn org_objects(org: &Org) -> Vec<Target> {
    let mut all: Vec<Target> = Vec::new();
    all.extend(org.users.keys().map(|email| Target::User {
        email: email.clone(),
    }));
    for (name, group) in &org.groups {
        all.push(Target::Group { name: name.clone() });
        all.extend(group.members.iter().map(|email| Target::GroupMember {
            group: name.clone(),
            email: email.clone(),
        }));
        all.extend(group.managers.iter().map(|email| Target::GroupManager {
            group: name.clone(),
            email: email.clone(),
        }));
    }
    all.extend(
        org.project_tags
            .keys()
            .map(|name| Target::ProjectTag { name: name.clone() }),
    );
    all.extend(
        org.metadata_schema
            .keys()
            .map(|key| Target::MetadataKey { key: key.clone() }),
    );
    all.extend(
        org.folders
            .keys()
            .map(|path| Target::Folder { path: path.clone() }),
    );
    for (hash, project) in &org.projects {
        all.extend(project.tags.iter().map(|tag| Target::ProjectTagAssignment {
            project: hash.clone(),
            title: project.name.clone(),
            tag: tag.clone(),
        }));
    }
    all.extend(
        org.access_entries()
            .into_iter()
            .map(|(resource_kind, resource, principal, _)| Target::Access {
                resource_kind,
                resource: resource.to_string(),
                title: org
                    .title(resource_kind, resource)
                    .unwrap_or(resource)
                    .to_string(),
                principal: principal.clone(),
            }),
    );
    all
}

/// Why a `--target` naming one object is a mistake, if no such object is declared or
/// live (a typo would otherwise read as "no changes").
pub fn unknown(selector: &Selector, objects: &[Target]) -> Option<String> {
    let key = selector.key.as_ref()?;
    let same_kind: Vec<String> = objects
        .iter()
        .filter(|t| t.kind() == selector.kind)
        .map(Target::key)
        .collect();
    if objects
        .iter()
        .any(|t| selector.selects(t.kind(), &t.key(), Some(t)))
    {
        return None;
    }
    let hint = closest(key, same_kind.iter().map(String::as_str))
        .map(|k| format!(" Did you mean `{}/{k}`?", selector.kind))
        .unwrap_or_default();
    Some(format!(
        "--target {selector} matches nothing: no {} `{key}` is declared in the manifests or exists in the live org.{hint} Target the kind alone (`--target {}`) to see all its changes.",
        selector.kind.as_str().replace('_', " "),
        selector.kind
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Principal, ResourceKind};

    #[test]
    fn kinds_parse_exactly_and_typos_get_a_suggestion() {
        assert_eq!(
            Selector::parse("user"),
            Ok(Selector {
                kind: Kind::User,
                key: None
            })
        );
        let err = Selector::parse("users").unwrap_err();
        assert!(err.contains("Did you mean `user`?"), "{err}");
        assert!(err.contains("group_member"), "lists the kinds: {err}");
        let err = Selector::parse("bogus").unwrap_err();
        assert!(!err.contains("Did you mean"), "{err}");
        assert!(Selector::parse("").is_err());
        assert!(Selector::parse("/bob@x.io").is_err());
        assert!(Selector::parse("user/").is_err());
    }

    #[test]
    fn keys_compare_the_way_their_kind_does() {
        let sel = |s: &str| Selector::parse(s).expect("parses");
        assert!(sel("user/OLGA@Acme.com").selects(Kind::User, "olga@acme.com", None));
        assert!(sel("project_tag/GOLD").selects(Kind::ProjectTag, "gold", None));
        assert!(sel("group_member/Team/Bob@X.io").selects(
            Kind::GroupMember,
            "Team/bob@x.io",
            None
        ));
        assert!(!sel("group_member/team/bob@x.io").selects(
            Kind::GroupMember,
            "Team/bob@x.io",
            None
        ));
        assert!(!sel("group/Team").selects(Kind::Group, "team", None));
        assert!(!sel("metadata_key/Camera").selects(Kind::MetadataKey, "camera", None));
        let access = Target::Access {
            resource_kind: ResourceKind::Project,
            resource: "h-17".to_string(),
            title: "Road/Signs".to_string(),
            principal: Principal::User("bob@x.io".to_string()),
        };
        assert!(sel("access/project:Road/Signs/user:BOB@x.io").selects(
            Kind::Access,
            &access.key(),
            Some(&access)
        ));
        // By hash too (SPEC §7.6).
        assert!(sel("access/project:h-17/user:bob@x.io").selects(
            Kind::Access,
            &access.key(),
            Some(&access)
        ));
        assert!(!sel("access/project:road/signs/user:bob@x.io").selects(
            Kind::Access,
            &access.key(),
            Some(&access)
        ));
        assert!(!sel("user/olga@acme.com").selects(Kind::Group, "olga@acme.com", None));
    }

    #[test]
    fn a_rename_is_selected_by_its_old_and_new_name() {
        let rename = Change::from_op(
            crate::plan::Op::RenameGroup {
                from: "old".to_string(),
                to: "new".to_string(),
            },
            crate::plan::Danger::Safe,
        );
        for s in ["group/old", "group/new", "group"] {
            assert!(
                Selector::parse(s).expect("parses").selects_change(&rename),
                "{s}"
            );
        }
        assert!(
            !Selector::parse("group/other")
                .expect("parses")
                .selects_change(&rename)
        );
    }
}
