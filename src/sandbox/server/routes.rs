//! Every endpoint the server answers, in one table: the router is built from it and the
//! OpenAPI document (schemas/encord-openapi.yaml) is checked against it.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodFilter, on};

use super::{Shared, auth, org, resources, storage};

/// Encord's v2 API lives under this prefix (encord-api.md §2).
pub const V2: &str = "/v2/public";
/// The legacy v1 RPC: `/public` (resources) and `/public/user` (the user client).
pub const V1: [&str; 2] = ["/public", "/public/user"];

pub fn is_v1(path: &str) -> bool {
    V1.contains(&path)
}

struct Table {
    router: Router<Shared>,
    routes: Vec<(Method, String)>,
}

impl Table {
    fn add<H, T>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, Shared>,
        T: 'static,
    {
        let full = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{V2}/{path}")
        };
        let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
        self.router = self.router.route(&full, on(filter, handler));
        self.routes.push((method, full));
        self
    }
}

fn table() -> Table {
    use Method as M;
    let t = Table {
        router: Router::new(),
        routes: Vec::new(),
    };
    t.add(M::GET, "user/bearer-token", auth::bearer_token)
        // Organisation users (§5.1).
        .add(M::GET, "organisation/users", org::list_users)
        .add(M::POST, "organisation/users", org::add_user)
        .add(M::DELETE, "organisation/users/{email}", org::remove_user)
        // Groups (§5.2).
        .add(M::GET, "user/current-organisation/groups", org::list_groups)
        .add(M::POST, "organisation/groups", org::create_group)
        .add(M::GET, "organisation/groups/{group}", org::get_group)
        .add(M::PATCH, "organisation/groups/{group}", org::update_group)
        .add(M::DELETE, "organisation/groups/{group}", org::delete_group)
        .add(
            M::GET,
            "organisation/groups/{group}/users",
            org::list_members,
        )
        .add(
            M::POST,
            "organisation/groups/{group}/users",
            org::add_members,
        )
        .add(
            M::POST,
            "organisation/groups/{group}/users/bulk-delete",
            org::remove_members,
        )
        // Organisation tags and project tags (§5.3); `project-tags` is 0.1.200's name.
        .add(M::GET, "organisation/organisation-tags", org::list_tags)
        .add(M::GET, "organisation/project-tags", org::list_tags)
        .add(M::POST, "organisation/organisation-tags", org::create_tag)
        .add(
            M::DELETE,
            "organisation/organisation-tags/{tag}",
            org::delete_tag,
        )
        .add(M::GET, "projects/{project}/tags", resources::project_tags)
        .add(
            M::PUT,
            "projects/{project}/tags/{tag}",
            resources::attach_tag,
        )
        .add(
            M::DELETE,
            "projects/{project}/tags/{tag}",
            resources::detach_tag,
        )
        // Client metadata schema (§5.4).
        .add(
            M::GET,
            "organisation/client-metadata-schema-v2",
            org::metadata_schema,
        )
        .add(
            M::POST,
            "organisation/client-metadata-schema-v2",
            org::replace_metadata_schema,
        )
        // Storage folders (§5.5).
        .add(M::GET, "storage/folders", storage::list_top)
        .add(M::POST, "storage/folders", storage::create)
        .add(M::PATCH, "storage/folders/patch-bulk", storage::patch_bulk)
        .add(M::POST, "storage/folders/move", storage::move_folders)
        .add(M::GET, "storage/folders/{folder}", storage::get)
        .add(M::PATCH, "storage/folders/{folder}", storage::update)
        .add(M::DELETE, "storage/folders/{folder}", storage::delete)
        .add(
            M::GET,
            "storage/folders/{folder}/folders",
            storage::list_children,
        )
        .add(M::GET, "storage/search/folders", storage::search)
        .add(
            M::GET,
            "storage/folders/{folder}/groups",
            storage::list_groups,
        )
        .add(
            M::POST,
            "storage/folders/{folder}/groups",
            storage::add_groups,
        )
        .add(
            M::DELETE,
            "storage/folders/{folder}/groups",
            storage::remove_groups,
        )
        // Projects, Datasets, Ontologies: listings, users, group access (§5.6, §5.7).
        .add(M::GET, "projects", resources::list_projects)
        .add(M::GET, "projects/{project}", resources::get_project)
        .add(M::GET, "projects/{project}/users", resources::project_users)
        .add(
            M::POST,
            "projects/{project}/users/bulk-delete",
            resources::remove_project_users,
        )
        .add(
            M::GET,
            "projects/{project}/groups",
            resources::project_groups,
        )
        .add(
            M::POST,
            "projects/{project}/groups",
            resources::add_project_groups,
        )
        .add(
            M::DELETE,
            "projects/{project}/groups",
            resources::remove_project_groups,
        )
        .add(M::GET, "datasets/list", resources::list_datasets)
        .add(M::GET, "datasets/{dataset}/users", resources::dataset_users)
        .add(
            M::POST,
            "datasets/{dataset}/users/bulk-delete",
            resources::remove_dataset_users,
        )
        .add(
            M::GET,
            "datasets/{dataset}/groups",
            resources::dataset_groups,
        )
        .add(
            M::POST,
            "datasets/{dataset}/groups",
            resources::add_dataset_groups,
        )
        .add(
            M::DELETE,
            "datasets/{dataset}/groups",
            resources::remove_dataset_groups,
        )
        .add(M::GET, "ontologies", resources::list_ontologies)
        .add(M::GET, "ontologies/{ontology}", resources::get_ontology)
        .add(
            M::GET,
            "ontologies/{ontology}/groups",
            resources::ontology_groups,
        )
        .add(
            M::POST,
            "ontologies/{ontology}/groups",
            resources::add_ontology_groups,
        )
        .add(
            M::DELETE,
            "ontologies/{ontology}/groups",
            resources::remove_ontology_groups,
        )
        // The legacy v1 RPC (§1.3): project and dataset users, dataset by hash.
        .add(M::POST, V1[0], resources::v1)
        .add(M::POST, V1[1], resources::v1)
}

/// Every (method, path) the server answers, paths as axum writes them (`{param}`).
pub fn registered() -> Vec<(Method, String)> {
    table().routes
}

/// The whole service, layers included (see the module docs of `server`).
pub fn router(app: Shared) -> Router {
    table()
        .router
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            super::latency_and_faults,
        ))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            super::rate_limit,
        ))
        .layer(middleware::from_fn(super::log))
        .with_state(app)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> super::error::ApiError {
    super::error::ApiError::not_found(format!(
        "no endpoint {method} {}: the sandbox server answers the endpoints in schemas/encord-openapi.yaml",
        uri.path()
    ))
}
