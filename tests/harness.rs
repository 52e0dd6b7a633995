//! Planning in-process: manifests and a sandbox state, both as YAML text, against a real
//! in-memory SQLite sandbox store.

use orgform::diagnostic::{Diagnostic, Sources};
use orgform::manifest::{self, ManifestFile, Repo, Salvaged};
use orgform::model::{Desired, Org};
use orgform::plan::{self, Capabilities, Plan, Source};
use orgform::sandbox::{self, store::Store};
use orgform::validate::{self, Mode};

pub struct Planned {
    pub plan: Plan,
    pub store: Store,
    pub desired: Desired,
    pub live: Org,
    pub repo: Repo,
}

/// Loads `manifests` (as org/main.yaml) with `config`, and fails the test on any error.
pub fn load(config: &str, manifests: &str) -> Repo {
    let repo = manifest::load_repo_files(
        config.as_bytes().to_vec(),
        vec![("org/main.yaml".to_string(), manifests.as_bytes().to_vec())],
    );
    let mut diags: Vec<Diagnostic> = repo.diagnostics.clone();
    diags.extend(validate::validate(
        &repo.manifests,
        &repo.config,
        Mode::Manifests,
        &repo.salvaged,
    ));
    let errors: Vec<String> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.full_message(&repo.sources))
        .collect();
    assert!(
        errors.is_empty(),
        "manifests invalid: {errors:#?}\n{manifests}"
    );
    repo
}

/// A sandbox store holding the state described by `state` (manifest format).
pub fn store_from(state: &str) -> Store {
    let mut sources = Sources::default();
    let mut file = ManifestFile::default();
    let mut diags = Vec::new();
    manifest::load_manifest_text(
        "sandbox.yaml",
        state.as_bytes().to_vec(),
        &mut sources,
        &mut file,
        &mut diags,
        &mut Salvaged::default(),
    );
    assert!(diags.is_empty(), "state invalid: {diags:#?}");
    let mut store = Store::in_memory().expect("in-memory store");
    sandbox::load_state(&mut store, &file).expect("state loads");
    store
}

pub fn plan_with(config: &str, state: &str, manifests: &str, caps: Capabilities) -> Planned {
    plan_loaded(load(config, manifests), state, caps)
}

fn plan_loaded(repo: Repo, state: &str, caps: Capabilities) -> Planned {
    let store = store_from(state);
    let live = store.read().expect("read live org");
    let desired = Desired::from_manifests(&repo.manifests);
    let plan = plan::plan(
        &desired,
        &live,
        &repo.config.policy,
        caps,
        Source {
            manifests: "org/".to_string(),
            git_commit: None,
            dirty: false,
        },
        &repo.sources,
    );
    Planned {
        plan,
        store,
        desired,
        live,
        repo,
    }
}

/// Plans manifests that load but that validate would refuse (e.g. `unmanaged-declared`),
/// to check the planner holds on its own (defence in depth).
pub fn plan_unvalidated(config: &str, state: &str, manifests: &str) -> Planned {
    let repo = manifest::load_repo_files(
        config.as_bytes().to_vec(),
        vec![("org/main.yaml".to_string(), manifests.as_bytes().to_vec())],
    );
    let errors: Vec<String> = repo
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.full_message(&repo.sources))
        .collect();
    assert!(
        errors.is_empty(),
        "manifests do not load: {errors:#?}\n{manifests}"
    );
    plan_loaded(repo, state, Capabilities::ALL)
}

pub fn plan_case(config: &str, state: &str, manifests: &str) -> Planned {
    plan_with(config, state, manifests, Capabilities::ALL)
}

/// Plans again against the store as it is now.
pub fn replan(p: &mut Planned) -> Plan {
    let live = p.store.read().expect("read live org");
    plan::plan(
        &p.desired,
        &live,
        &p.repo.config.policy,
        Capabilities::ALL,
        Source {
            manifests: "org/".to_string(),
            git_commit: None,
            dirty: false,
        },
        &p.repo.sources,
    )
}

/// Whether a Project or Dataset has an admin (SPEC §7.3): a user of the org holds the
/// admin role on it, directly or through a group that has at least one member.
pub fn has_admin(org: &Org, kind: orgform::model::ResourceKind, hash: &str) -> bool {
    use orgform::model::Principal;
    org.access_of(kind, hash).is_some_and(|access| {
        access.iter().any(|(who, role)| {
            role == "admin"
                && match who {
                    Principal::User(e) => org.users.contains_key(e),
                    Principal::Group(g) => org.groups.get(g).is_some_and(|g| !g.members.is_empty()),
                }
        })
    })
}

/// The Projects and Datasets that have an admin, by (kind, hash).
pub fn administered(org: &Org) -> Vec<(orgform::model::ResourceKind, String)> {
    use orgform::model::ResourceKind;
    [ResourceKind::Project, ResourceKind::Dataset]
        .into_iter()
        .flat_map(|kind| {
            org.resources_of(kind)
                .into_iter()
                .filter(move |(h, _)| has_admin(org, kind, h))
                .map(move |(h, _)| (kind, h.to_string()))
        })
        .collect()
}
