//! `orgform init`: start an org repository that validates and plans from the first run.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;

use super::{Exit, Globals, export, provider};
use crate::config::{CONFIG_FILE, Config, ProviderKind};
use crate::sandbox::store::Access;
use crate::schema;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository folder (created if missing; default: the current one).
    #[arg(value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// The org the manifests describe: the embedded `sandbox`, or `encord`.
    #[arg(long, value_enum, default_value_t = InitProvider::Sandbox)]
    pub provider: InitProvider,
    /// Export the live org into org/ instead of writing a minimal manifest.
    #[arg(long)]
    pub from_live: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitProvider {
    Sandbox,
    Encord,
}

/// The manifests folder init creates (the config's default).
const MANIFESTS: &str = "org";
const GITIGNORE_LINE: &str = ".orgform/";

pub fn run(globals: &Globals, args: Args) -> anyhow::Result<Exit> {
    let root = match &args.path {
        Some(dir) => globals.dir.join(dir),
        None => globals.dir.clone(),
    };
    refuse_to_overwrite(&root)?;
    let kind = match args.provider {
        InitProvider::Sandbox => ProviderKind::Sandbox,
        InitProvider::Encord => ProviderKind::Encord,
    };
    let mut config = Config::default();
    config.provider.kind = kind;

    // Read the live org before writing anything, so a failure leaves no half repository.
    let live = if args.from_live {
        let mut provider = provider::open(&root, &config, Access::ReadOnly, globals)
            .context("--from-live: opening the live org (nothing was written)")?;
        let org = provider
            .read()
            .context("--from-live: reading the live org (nothing was written)")?;
        Some((org, provider.describe()))
    } else {
        None
    };

    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let mut wrote = Vec::new();
    write_new(&root.join(CONFIG_FILE), &config_text(kind))?;
    wrote.push(CONFIG_FILE.to_string());
    if ignore_state_dir(&root)? {
        wrote.push(".gitignore".to_string());
    }
    for (file, value) in schema::for_editors() {
        let path = root.join(schema::REPO_SCHEMAS_DIR).join(file);
        // Generated files: one already there (perhaps newer) is kept.
        if !path.exists() {
            export::write_schema(&path, &value)?;
            wrote.push(format!("{}/{file}", schema::REPO_SCHEMAS_DIR));
        }
    }
    let manifests = root.join(MANIFESTS);
    match &live {
        Some((org, source)) => {
            report(globals, &root, &wrote);
            wrote.clear();
            export::write(globals, &root, &manifests, org, &config, source, false)?;
        }
        None => {
            std::fs::create_dir_all(&manifests)
                .with_context(|| format!("creating {}", manifests.display()))?;
            for (name, text) in MINIMAL_MANIFESTS {
                write_new(&manifests.join(name), text)?;
                wrote.push(format!("{MANIFESTS}/{name}"));
            }
            report(globals, &root, &wrote);
        }
    }
    if !globals.quiet {
        eprintln!("{}", next_steps(&root, globals, kind, args.from_live));
    }
    Ok(Exit::Ok)
}

/// An org repository is never overwritten: not its config, not its manifests.
fn refuse_to_overwrite(root: &Path) -> anyhow::Result<()> {
    let config = root.join(CONFIG_FILE);
    if config.exists() {
        bail!(
            "{} already exists: `orgform init` never overwrites a repository. Edit it, or init another folder (`orgform init DIR`)",
            config.display()
        );
    }
    let manifests = root.join(MANIFESTS);
    if let Ok(listing) = std::fs::read_dir(&manifests) {
        let mut found: Vec<String> = listing
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
            .collect();
        found.sort();
        if !found.is_empty() {
            bail!(
                "{} already holds manifests ({}): `orgform init` never overwrites them. Move them away, or init another folder (`orgform init DIR`)",
                manifests.display(),
                found.join(", ")
            );
        }
    }
    Ok(())
}

/// Creates `path`; refuses if something appeared there meanwhile.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {} (init never overwrites)", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Adds `.orgform/` (the sandbox, journals, audit log) to .gitignore unless it is
/// there; returns whether the file changed.
fn ignore_state_dir(root: &Path) -> anyhow::Result<bool> {
    let path = root.join(".gitignore");
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let ignored = existing.lines().any(|l| {
        matches!(
            l.trim(),
            ".orgform" | ".orgform/" | "/.orgform" | "/.orgform/"
        )
    });
    if ignored {
        return Ok(false);
    }
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# orgform's local state: the sandbox org, apply journals, the audit log\n");
    text.push_str(GITIGNORE_LINE);
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

fn report(globals: &Globals, root: &Path, wrote: &[String]) {
    if globals.quiet {
        return;
    }
    for file in wrote {
        eprintln!("wrote {}", root.join(file).display());
    }
}

/// What to run next, from where the user is.
fn next_steps(root: &Path, globals: &Globals, kind: ProviderKind, from_live: bool) -> String {
    let cd = match root.strip_prefix(&globals.dir) {
        Ok(rel) if rel.as_os_str().is_empty() => String::new(),
        Ok(rel) => format!("cd {} && ", rel.display()),
        Err(_) => format!("cd {} && ", root.display()),
    };
    match (kind, from_live) {
        (_, true) => format!(
            "Initialised an org repository from the live org. Next: `{cd}orgform plan` (no changes), then commit it."
        ),
        (ProviderKind::Sandbox, false) => format!(
            "Initialised an org repository. Next: `{cd}orgform sandbox init && orgform plan` (a sandbox org with one admin, admin@example.com: no changes). To start from an existing org, `orgform export --force` writes its manifests over the minimal ones."
        ),
        (ProviderKind::Encord, false) => format!(
            "Initialised an org repository for Encord. Next: set ENCORD_SSH_KEY_FILE, then `{cd}orgform export --force` to write your live org into {MANIFESTS}/ (the minimal manifests there only show the format), and `orgform plan`."
        ),
    }
}

/// orgform.yaml, every knob explained; the values are the defaults unless said.
fn config_text(kind: ProviderKind) -> String {
    let provider = match kind {
        ProviderKind::Sandbox => {
            "provider:
  # sandbox: an org kept in a local SQLite file, to try everything without an account
  # (`orgform sandbox init` creates it). encord: the real platform over HTTPS.
  kind: sandbox
  # The sandbox file, relative to this folder (.orgform/ is git-ignored).
  path: .orgform/sandbox.db
"
        }
        ProviderKind::Encord => {
            "provider:
  # encord: the real platform over HTTPS. sandbox: an org kept in a local SQLite file.
  kind: encord
  # The API is https://api.encord.com (https://api.us.encord.com for the US
  # deployment; ENCORD_DOMAIN overrides it). The key comes from ENCORD_SSH_KEY_FILE (a
  # path) or ENCORD_SSH_KEY (the key itself): an OpenSSH Ed25519 key registered with
  # Encord, as for its SDK. Never commit a key.
"
        }
    };
    format!(
        "# yaml-language-server: $schema=schemas/config.schema.json
# orgform.yaml: where this org's manifests are, which org they describe, and the
# policy that bounds what `orgform plan` and `orgform apply` may do.

# The folder of manifests: every *.yaml file in it is read (in sorted order), and any
# file may hold any section.
manifests: {MANIFESTS}/

{provider}
policy:
  # Live objects missing from the manifests are deleted when true, left alone when false.
  prune:
    users: true          # undeclared users are removed (admins never are: that is blocked)
    groups: true         # undeclared groups are deleted, revoking their access
    memberships: true    # undeclared group members/managers, access entries, tag assignments
    project_tags: false  # deleting a tag removes it from every project
    metadata_keys: false # deleting a key can orphan existing metadata values
    folders: false       # deleting a folder deletes the files in it
  # At most this many deletions of a kind in one plan; more are blocked, and
  # --allow-destroy does not lift it. `default` covers the kinds not named: users,
  # groups, group_members, group_managers, project_tags, project_tag_assignments,
  # metadata_keys, folders, access.
  max_deletions:
    default: 10          # every kind not named here
    users: 5             # users are harder to bring back: a lower limit
  # Live objects orgform never creates, changes, renames, deletes nor reports (`*` is a
  # wildcard), e.g. users: [\"*@encord.com\"] for Encord's support staff.
  unmanaged:
    users: []
    groups: []
  # When a removed user is the last admin of a Project or Dataset whose access the
  # manifests do not manage, this (declared, internal) user becomes its admin first;
  # without it, such a removal is blocked (sole-resource-admin).
  # offboarding:
  #   replacement: admin@example.com

audit:
  # Every apply appends a JSON line here: who, when, which commit, each change's result.
  path: .orgform/audit.jsonl
"
    )
}

/// The smallest valid org: the sandbox's default admin, internal by its domain.
const MINIMAL_MANIFESTS: [(&str, &str); 2] = [
    (
        "organization.yaml",
        "# yaml-language-server: $schema=../schemas/manifest.schema.json
# Users whose email is in one of these domains default to `type: internal`.
organization:
  email_domains: [example.com]
",
    ),
    (
        "people.yaml",
        "# yaml-language-server: $schema=../schemas/manifest.schema.json
# The org's users, by email. role: admin, member, workforce_manager or collaborator.
# type: internal, external or workforce (default: internal when the email's domain is
# in organization.email_domains, else external). Only internal users can be admins.
#
# Any file in this folder may also hold groups:, project_tags:, metadata_schema:,
# folders:, and the access to existing projects:, datasets: and ontologies: (your
# editor completes them from the schema above; `orgform schema manifest` prints it).
users:
  - { email: admin@example.com, role: admin }
",
    ),
];
