//! The GKE API, container v1 REST (under `/gke`), served with the
//! `cloudops_cloud::wire::gke` models.
//!
//! Every sandbox GKE cluster is regional (its location is its region) and each
//! node pool runs in a single zone, so `setSize`'s per-zone count is the
//! pool's total.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{Path, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::Response,
    routing::get,
    Router,
};
use cloudops_cloud::wire::gke::{
    Cluster, ClusterStatus, GoogleError, GoogleErrorResponse, ListClustersResponse,
    ListNodePoolsResponse, MasterAuth, MaxPodsConstraint, NodeConfig, NodePool, NodePoolStatus,
    Operation, OperationStatus, SetNodePoolSizeRequest,
};

use crate::{
    chaos::{self, Place},
    http::{bearer, json, placeholder_ca_b64},
    world::{self, Cloud},
    AppState, GCP_ACCESS_TOKEN,
};

/// The sandbox caps a pool well below GKE's own limits.
const MAX_POOL_COUNT: i32 = 100;

type Reply = Result<Response, Response>;

const CLUSTERS: &str = "/v1/projects/{project}/locations/{location}/clusters";

/// Chaos: the region is the path's location (a zone counts as its region);
/// `locations/-` is left to [`list_clusters`], which lists around an outage
/// the way GKE does, with `missingZones`.
static CHAOS: chaos::Hooks = chaos::Hooks {
    cloud: Cloud::Gcp,
    place: chaos_place,
    error: chaos_error,
};

fn chaos_place(_state: &AppState, req: &Request) -> Place {
    let mut segs = req.uri().path().split('/');
    let Some(location) = segs.by_ref().skip_while(|s| *s != "locations").nth(1) else {
        return Place::Global;
    };
    if location == "-" {
        return Place::Global;
    }
    Place::Region(region_of_location(location).to_owned())
}

/// `us-central1-a` → `us-central1`; a region is its own region.
fn region_of_location(location: &str) -> &str {
    match location.rsplit_once('-') {
        Some((region, zone)) if zone.len() == 1 && zone.bytes().all(|b| b.is_ascii_lowercase()) => {
            region
        }
        _ => location,
    }
}

fn chaos_error(status: StatusCode, message: String) -> Response {
    let canonical = match status {
        StatusCode::TOO_MANY_REQUESTS => "RESOURCE_EXHAUSTED",
        StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
        StatusCode::GATEWAY_TIMEOUT => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    error(status, canonical, message)
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(CLUSTERS, get(list_clusters))
        .route(&format!("{CLUSTERS}/{{cluster}}"), get(get_cluster))
        .route(
            &format!("{CLUSTERS}/{{cluster}}/nodePools"),
            get(list_pools),
        )
        // `{pool}` also captures `pool:setSize`: the custom-method verb is
        // split off by hand.
        .route(
            &format!("{CLUSTERS}/{{cluster}}/nodePools/{{pool}}"),
            get(get_pool).post(pool_method),
        )
        .route(
            "/v1/projects/{project}/locations/{location}/operations/{operation}",
            get(get_operation),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found.".into()) })
        // A known path with another method: the provider's error shape, not
        // axum's empty 405.
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNIMPLEMENTED",
                "The HTTP method is not supported on this path.".into(),
            )
        })
        // A `%FF` in the path would make axum's `Path` extractor answer in
        // plain text; answer in the provider's shape instead.
        .layer(middleware::from_fn(|req: Request, next: Next| {
            crate::http::decodable_path(req, next, || {
                error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "Invalid request path: percent-encoding does not decode to UTF-8.".into(),
                )
            })
        }))
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state(
            (state, &CHAOS),
            chaos::guard,
        ))
}

fn error(status: StatusCode, canonical: &str, message: String) -> Response {
    json(
        status,
        &GoogleErrorResponse {
            error: GoogleError {
                code: i32::from(status.as_u16()),
                message,
                status: Some(canonical.to_string()),
            },
        },
    )
}

async fn auth(req: Request, next: Next) -> Response {
    if bearer(req.headers()) == Some(GCP_ACCESS_TOKEN) {
        next.run(req).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.".into(),
        )
    }
}

fn gke_version(c: &world::Cluster) -> String {
    format!("{}-gke.{}000", c.k8s_version(), 1000 + c.k8s_patch * 37)
}

fn cluster_link(state: &AppState, project: &str, c: &world::Cluster) -> String {
    format!(
        "{}/gke/v1/projects/{project}/locations/{}/clusters/{}",
        state.base_url, c.region, c.name
    )
}

fn node_pool(project: &str, c: &world::Cluster, p: &world::NodePool) -> NodePool {
    NodePool {
        name: p.name.clone(),
        config: Some(NodeConfig {
            machine_type: Some(p.machine_type.clone()),
            disk_size_gb: Some(100),
            preemptible: None,
            spot: None,
        }),
        initial_node_count: i32::try_from(p.initial_count).ok(),
        autoscaling: None,
        max_pods_constraint: Some(MaxPodsConstraint {
            max_pods_per_node: Some(110),
        }),
        status: Some(NodePoolStatus::Running),
        version: Some(gke_version(c)),
        instance_group_urls: vec![format!(
            "https://www.googleapis.com/compute/v1/projects/{project}/zones/{}/instanceGroupManagers/gke-{}-{}-grp",
            p.zone, c.name, p.name
        )],
        locations: vec![p.zone.clone()],
    }
}

fn cluster(state: &AppState, project: &str, c: &world::Cluster) -> Cluster {
    Cluster {
        name: c.name.clone(),
        self_link: Some(cluster_link(state, project, c)),
        location: c.region.clone(),
        zone: None,
        // GKE sends a bare IP here; the sandbox sends the URL of its
        // per-cluster API so that the one process can serve them all.
        endpoint: Some(state.k8s_url(&c.id)),
        current_master_version: Some(gke_version(c)),
        current_node_version: Some(gke_version(c)),
        current_node_count: i32::try_from(c.node_count()).ok(),
        status: ClusterStatus::Running,
        status_message: None,
        master_auth: Some(MasterAuth {
            cluster_ca_certificate: Some(placeholder_ca_b64(&c.id)),
        }),
        node_pools: c
            .node_pools
            .iter()
            .map(|p| node_pool(project, c, p))
            .collect(),
        resource_labels: BTreeMap::from([("cloudops-sandbox".to_string(), "true".to_string())]),
    }
}

fn check_project(state: &AppState, project: &str) -> Result<(), Response> {
    if state.world.read().accounts.gcp_project == project {
        Ok(())
    } else {
        Err(error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("Permission denied on resource project {project}."),
        ))
    }
}

fn find(
    state: &AppState,
    project: &str,
    location: &str,
    name: &str,
) -> Result<world::Cluster, Response> {
    check_project(state, project)?;
    let found = state
        .world
        .read()
        .clusters_of(Cloud::Gcp)
        .find(|c| c.name == name && (location == "-" || c.region == location))
        .cloned()
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("Not found: projects/{project}/locations/{location}/clusters/{name}."),
            )
        })?;
    // Chaos: through `locations/-` the chaos guard could not see the region.
    if location == "-" && state.chaos.regions_down(Cloud::Gcp).contains(&found.region) {
        return Err(chaos_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The service is unavailable in region {}.", found.region),
        ));
    }
    Ok(found)
}

fn find_pool<'a>(
    c: &'a world::Cluster,
    project: &str,
    pool: &str,
) -> Result<&'a world::NodePool, Response> {
    c.node_pools.iter().find(|p| p.name == pool).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!(
                "Not found: projects/{project}/locations/{}/clusters/{}/nodePools/{pool}.",
                c.region, c.name
            ),
        )
    })
}

async fn list_clusters(
    State(state): State<AppState>,
    Path((project, location)): Path<(String, String)>,
) -> Reply {
    check_project(&state, &project)?;
    // Chaos: the aggregated list answers without the regions that are down
    // and names their zones in `missingZones`, as GKE does.
    let down = state.chaos.regions_down(Cloud::Gcp);
    let world = state.world.read();
    let mut missing_zones = Vec::new();
    let clusters = world
        .clusters_of(Cloud::Gcp)
        .filter(|c| location == "-" || c.region == location)
        .filter(|c| {
            let up = !down.contains(&c.region);
            if !up {
                missing_zones.extend(c.node_pools.iter().map(|p| p.zone.clone()));
            }
            up
        })
        .map(|c| cluster(&state, &project, c))
        .collect();
    missing_zones.sort();
    missing_zones.dedup();
    Ok(json(
        StatusCode::OK,
        &ListClustersResponse {
            clusters,
            missing_zones,
        },
    ))
}

async fn get_cluster(
    State(state): State<AppState>,
    Path((project, location, name)): Path<(String, String, String)>,
) -> Reply {
    let c = find(&state, &project, &location, &name)?;
    Ok(json(StatusCode::OK, &cluster(&state, &project, &c)))
}

async fn list_pools(
    State(state): State<AppState>,
    Path((project, location, name)): Path<(String, String, String)>,
) -> Reply {
    let c = find(&state, &project, &location, &name)?;
    Ok(json(
        StatusCode::OK,
        &ListNodePoolsResponse {
            node_pools: c
                .node_pools
                .iter()
                .map(|p| node_pool(&project, &c, p))
                .collect(),
        },
    ))
}

async fn get_pool(
    State(state): State<AppState>,
    Path((project, location, name, pool)): Path<(String, String, String, String)>,
) -> Reply {
    let c = find(&state, &project, &location, &name)?;
    let p = find_pool(&c, &project, &pool)?;
    Ok(json(StatusCode::OK, &node_pool(&project, &c, p)))
}

/// `POST …/nodePools/{pool}:{verb}`; only `setSize` so far.
async fn pool_method(
    State(state): State<AppState>,
    Path((project, location, name, pool_verb)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Reply {
    let Some((pool, "setSize")) = pool_verb.split_once(':') else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Method not found: {pool_verb}."),
        ));
    };
    let c = find(&state, &project, &location, &name)?;
    let p = find_pool(&c, &project, pool)?;
    let req: SetNodePoolSizeRequest = serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            format!("Invalid JSON payload received. {e}"),
        )
    })?;
    let count = u32::try_from(req.node_count)
        .ok()
        .filter(|_| req.node_count <= MAX_POOL_COUNT)
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                format!("nodeCount must be between 0 and {MAX_POOL_COUNT}."),
            )
        })?;
    let pool_id = p.id.clone();
    state
        .world
        .set_node_pool_count(&c.id, &pool_id, count)
        .map_err(|e| error(StatusCode::NOT_FOUND, "NOT_FOUND", e.to_string()))?;

    let op_name = format!("operation-{}-{:08x}", state.next_id(), fxhash(&pool_id));
    let key = format!(
        "projects/{project}/locations/{}/operations/{op_name}",
        c.region
    );
    let op = Operation {
        name: op_name,
        operation_type: Some("SET_NODE_POOL_SIZE".into()),
        status: Some(OperationStatus::Done),
        self_link: Some(format!("{}/gke/v1/{key}", state.base_url)),
        target_link: Some(format!(
            "{}/nodePools/{pool}",
            cluster_link(&state, &project, &c)
        )),
        status_message: None,
        error: None,
    };
    state
        .gke_operations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, op.clone());
    Ok(json(StatusCode::OK, &op))
}

/// A stable, dependency-free hash for operation-id suffixes.
fn fxhash(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

async fn get_operation(
    State(state): State<AppState>,
    Path((project, location, operation)): Path<(String, String, String)>,
) -> Reply {
    check_project(&state, &project)?;
    let key = format!("projects/{project}/locations/{location}/operations/{operation}");
    let op = state
        .gke_operations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    op.map(|op| json(StatusCode::OK, &op)).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Not found: {key}."),
        )
    })
}
