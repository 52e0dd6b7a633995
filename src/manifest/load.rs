//! Reading `orgform.yaml` and the manifest files.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::types::{ManifestFile, MetadataSchemaSpec, SECTIONS};
use crate::config::{CONFIG_FILE, Config};
use crate::diagnostic::{Diagnostic, Rule, Sources, one_of};
use crate::yaml::{self, Node, NodeKind, Spanned, from_node};

/// Manifest files larger than this are refused before parsing (an XL org is ~20 MB).
const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// Problems that stop loading before any manifest can be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "no {CONFIG_FILE} in {0}: run orgform in an org repository, or pass -C DIR to point at one"
    )]
    NoConfig(PathBuf),
    #[error(
        "manifests directory {dir} (set by `manifests:` in {CONFIG_FILE}) does not exist: create it or fix the setting"
    )]
    NoManifestsDir { dir: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LoadError {
    /// The file or folder the problem is about, relative to `root` when it lies inside.
    pub fn file(&self, root: &Path) -> String {
        match self {
            LoadError::NoConfig(_) => CONFIG_FILE.to_string(),
            LoadError::NoManifestsDir { dir } => dir.clone(),
            LoadError::Io { path, .. } => path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string(),
        }
    }
}

/// An org repository as loaded: config, merged manifests, and what went wrong.
#[derive(Debug, Default)]
pub struct Repo {
    pub config: Config,
    pub manifests: ManifestFile,
    /// Manifest files read, as shown in messages (e.g. `org/people.yaml`).
    pub files: Vec<String>,
    pub sources: Sources,
    /// Loader diagnostics (syntax, unknown fields, wrong types); validation adds more.
    pub diagnostics: Vec<Diagnostic>,
    /// Keys of entries that failed to load, so references to them are not reported too.
    pub salvaged: Salvaged,
}

/// The natural keys of entries that could not be read (already reported).
#[derive(Debug, Default, Clone)]
pub struct Salvaged {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub project_tags: Vec<String>,
    /// Files that could not be parsed at all (as shown): what they declare is unknown,
    /// so checks of references to declarations are skipped rather than cascade.
    pub unparsed_files: Vec<String>,
}

/// Loads `orgform.yaml` alone (for commands that do not read the manifests).
pub fn load_config_only(root: &Path) -> Result<Repo, LoadError> {
    let config_path = root.join(CONFIG_FILE);
    if !config_path.is_file() {
        return Err(LoadError::NoConfig(root.to_path_buf()));
    }
    let config_bytes = read(&config_path)?;
    let mut repo = Repo::default();
    repo.config = load_config(
        CONFIG_FILE,
        config_bytes,
        &mut repo.sources,
        &mut repo.diagnostics,
    );
    Ok(repo)
}

/// Loads `orgform.yaml` and the manifests from the working tree at `root`.
pub fn load_repo(root: &Path) -> Result<Repo, LoadError> {
    let mut repo = load_config_only(root)?;
    let dir_name = repo.config.manifests.clone();
    let dir = root.join(&dir_name);
    if !dir.is_dir() {
        return Err(LoadError::NoManifestsDir { dir: dir_name });
    }
    let mut names = Vec::new();
    let mut ignored = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|source| LoadError::Io {
        path: dir.clone(),
        source,
    })? {
        let entry = entry.map_err(|source| LoadError::Io {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_file() {
            continue;
        }
        if name.ends_with(".yaml") {
            names.push(name);
        } else if name.ends_with(".yml") {
            ignored.push(name);
        }
    }
    names.sort();
    ignored.sort();
    for name in &ignored {
        let stem = name.trim_end_matches(".yml");
        repo.diagnostics.push(
            Diagnostic::warning(
                Rule::ManifestFileIgnored,
                format!(
                    "{} is not read: only `*.yaml` files in the manifests folder are manifests",
                    display_path(&dir_name, name)
                ),
            )
            .help(format!(
                "rename it to {stem}.yaml, or move it out of {dir_name} if it is not a manifest"
            )),
        );
    }
    if names.is_empty() {
        repo.diagnostics.push(
            Diagnostic::warning(
                Rule::NoManifests,
                format!("0 manifest files loaded: {dir_name} holds no `*.yaml` file"),
            )
            .help(
                "a plan from no manifests deletes every user and group that `policy.prune` allows: add manifests (`orgform export` writes them from the live org), or check `manifests:` in orgform.yaml",
            ),
        );
    }
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(&name);
        files.push((display_path(&dir_name, &name), read(&path)?));
    }
    load_files_into(&mut repo, files);
    Ok(repo)
}

/// Loads a repository whose files come from elsewhere (a git ref): the config text and
/// the manifest files as (display path, bytes), already sorted.
pub fn load_repo_files(config: Vec<u8>, files: Vec<(String, Vec<u8>)>) -> Repo {
    load_repo_named(CONFIG_FILE, config, files)
}

/// As [`load_repo_files`], with the config shown as `config_display` (e.g.
/// `main:orgform.yaml`).
pub fn load_repo_named(
    config_display: &str,
    config: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
) -> Repo {
    let mut repo = Repo::default();
    repo.config = load_config(
        config_display,
        config,
        &mut repo.sources,
        &mut repo.diagnostics,
    );
    load_files_into(&mut repo, files);
    repo
}

fn load_files_into(repo: &mut Repo, files: Vec<(String, Vec<u8>)>) {
    for (display, bytes) in files {
        load_manifest_text(
            &display,
            bytes,
            &mut repo.sources,
            &mut repo.manifests,
            &mut repo.diagnostics,
            &mut repo.salvaged,
        );
        repo.files.push(display);
    }
}

pub(crate) fn display_path(dir: &str, name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn load_config(
    display: &str,
    bytes: Vec<u8>,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Config {
    let Some(node) = parse_file(display, bytes, sources, diags) else {
        return Config::default();
    };
    match from_node::<Config>(&node) {
        Ok(config) => config,
        Err(e) => {
            diags.push(e.into_diagnostic());
            Config::default()
        }
    }
}

/// Reads, decodes and parses one file; reports and returns `None` on failure.
fn parse_file(
    display: &str,
    bytes: Vec<u8>,
    sources: &mut Sources,
    diags: &mut Vec<Diagnostic>,
) -> Option<Node> {
    let size = bytes.len();
    let file = sources.add(display, String::new());
    if size > MAX_FILE_BYTES {
        diags.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!(
                    "{display} is {size} bytes; manifest files may be at most {MAX_FILE_BYTES}"
                ),
            )
            .at(crate::diagnostic::Origin {
                file,
                line: 1,
                column: 1,
            })
            .help("split it into several files in the same directory"),
        );
        return None;
    }
    let text = match yaml::decode(bytes, file) {
        Ok(text) => text,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    sources.set_text(file, text);
    match yaml::parse(sources.text(file), file) {
        Ok(Some(node)) => Some(node),
        Ok(None) => {
            diags.push(
                Diagnostic::error(Rule::InvalidValue, format!("{display} holds no YAML document"))
                    .at(crate::diagnostic::Origin {
                        file,
                        line: 1,
                        column: 1,
                    })
                    .help("add a section such as `users:` (or `{}` for an intentionally empty file), or delete the file"),
            );
            None
        }
        Err(d) => {
            diags.push(d);
            None
        }
    }
}

/// Loads one manifest file's sections into `out`, entry by entry.
pub fn load_manifest_text(
    display: &str,
    bytes: Vec<u8>,
    sources: &mut Sources,
    out: &mut ManifestFile,
    diags: &mut Vec<Diagnostic>,
    salvaged: &mut Salvaged,
) {
    let Some(node) = parse_file(display, bytes, sources, diags) else {
        salvaged.unparsed_files.push(display.to_string());
        return;
    };
    let NodeKind::Map(entries) = &node.kind else {
        salvaged.unparsed_files.push(display.to_string());
        diags.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!(
                    "a manifest file must be a mapping of sections, found {}",
                    node.describe()
                ),
            )
            .at(node.origin)
            .help(format!(
                "start the file with a section such as `users:`; sections: {}",
                SECTIONS.join(", ")
            )),
        );
        return;
    };
    for (key, value) in entries {
        let NodeKind::Scalar { value: section, .. } = &key.kind else {
            continue;
        };
        match section.as_str() {
            "users" => entries_of(value, &mut out.users, diags, |n| {
                salvage(n, "email", &mut salvaged.users)
            }),
            "groups" => entries_of(value, &mut out.groups, diags, |n| {
                salvage(n, "name", &mut salvaged.groups)
            }),
            "project_tags" => entries_of(value, &mut out.project_tags, diags, |n| {
                salvage(n, "name", &mut salvaged.project_tags)
            }),
            "folders" => entries_of(value, &mut out.folders, diags, |_| {}),
            "projects" => entries_of(value, &mut out.projects, diags, |_| {}),
            "datasets" => entries_of(value, &mut out.datasets, diags, |_| {}),
            "ontologies" => entries_of(value, &mut out.ontologies, diags, |_| {}),
            "metadata_schema" => metadata_entries(value, &mut out.metadata_schema, diags),
            "organization" => {
                if value.is_null() {
                    continue;
                }
                match from_node::<Spanned<super::OrganizationSpec>>(value) {
                    Ok(org) => match &mut out.organization {
                        // Sections merge across files: domains add up.
                        Some(existing) => {
                            existing.value.email_domains.extend(org.value.email_domains)
                        }
                        None => out.organization = Some(org),
                    },
                    Err(e) => diags.push(e.into_diagnostic()),
                }
            }
            other => diags.push(
                Diagnostic::error(Rule::UnknownField, format!("unknown section `{other}`"))
                    .at(key.origin)
                    .help(one_of(other, SECTIONS)),
            ),
        }
    }
}

/// A list section: each entry is read on its own so one bad entry hides no other.
fn entries_of<T: DeserializeOwned>(
    node: &Node,
    out: &mut Vec<Spanned<T>>,
    diags: &mut Vec<Diagnostic>,
    mut on_broken: impl FnMut(&Node),
) {
    match &node.kind {
        _ if node.is_null() => {}
        NodeKind::Seq(items) => {
            for item in items {
                match from_node::<Spanned<T>>(item) {
                    Ok(v) => out.push(v),
                    Err(e) => {
                        diags.push(e.into_diagnostic());
                        on_broken(item);
                    }
                }
            }
        }
        _ => diags.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!("expected a list of entries, found {}", node.describe()),
            )
            .at(node.origin)
            .help("write each entry on its own line starting with `- `"),
        ),
    }
}

/// Keeps the `field` of a broken entry, if it has a readable one.
fn salvage(node: &Node, field: &str, into: &mut Vec<String>) {
    if let NodeKind::Map(entries) = &node.kind {
        for (k, v) in entries {
            if let (NodeKind::Scalar { value: key, .. }, NodeKind::Scalar { value, .. }) =
                (&k.kind, &v.kind)
                && key == field
            {
                into.push(value.clone());
            }
        }
    }
}

fn metadata_entries(node: &Node, out: &mut MetadataSchemaSpec, diags: &mut Vec<Diagnostic>) {
    match &node.kind {
        _ if node.is_null() => {}
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                let pair = from_node::<Spanned<String>>(key)
                    .and_then(|k| from_node(value).map(|v| (k, v)));
                match pair {
                    Ok(pair) => out.0.push(pair),
                    Err(e) => diags.push(e.into_diagnostic()),
                }
            }
        }
        _ => diags.push(
            Diagnostic::error(
                Rule::InvalidValue,
                format!(
                    "`metadata_schema` must map keys to types, found {}",
                    node.describe()
                ),
            )
            .at(node.origin)
            .help("write entries like `camera.model: varchar`"),
        ),
    }
}
