//! Azure Resource Manager, AKS part (under `/arm`), served with the
//! `cloudops_cloud::wire::arm` models at API version `2025-10-01`.
//!
//! Scaling is the agent-pool PUT, long-running through `Azure-AsyncOperation`.

use std::collections::{BTreeMap, HashMap};

use axum::{
    extract::{rejection::JsonRejection, Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
    Json, Router,
};
use base64::Engine as _;
use cloudops_cloud::wire::arm::{
    AgentPool, AgentPoolProfile, AgentPoolProperties, AgentPoolScaleRequest, ArmError,
    ArmErrorResponse, ArmList, CredentialResult, CredentialResults, ManagedCluster,
    ManagedClusterProperties, PowerState, Subscription, API_VERSION,
};

use crate::{
    chaos::{self, Place},
    http::{bearer, json, page, placeholder_ca_b64, query, QueryMap},
    world::{self, Cloud, WorldState},
    AppState, AZURE_ACCESS_TOKEN,
};

/// The sandbox caps a pool well below AKS's own limit of 1000.
const MAX_POOL_COUNT: i32 = 100;
/// `managedClusters` list page size: small, so that paging is exercised.
pub(crate) const PAGE_SIZE: usize = 5;
/// The `api-version`s the sandbox accepts for `GET /subscriptions`.
const SUBSCRIPTIONS_API_VERSIONS: [&str; 4] =
    ["2016-06-01", "2020-01-01", "2021-01-01", "2022-12-01"];
const PROVIDER: &str = "providers/Microsoft.ContainerService/managedClusters";
const CLUSTER: &str =
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}";

type Reply = Result<Response, Response>;

/// Chaos: a managed cluster's location, or an operation's; the
/// subscription-wide list fails when any region is down (chaos.rs says why).
static CHAOS: chaos::Hooks = chaos::Hooks {
    cloud: Cloud::Azure,
    place: chaos_place,
    error: chaos_error,
};

fn chaos_place(state: &AppState, req: &Request) -> Place {
    let segs: Vec<&str> = req.uri().path().split('/').collect();
    let after = |key: &str| {
        segs.iter()
            .position(|s| s.eq_ignore_ascii_case(key))
            .and_then(|i| segs.get(i + 1))
            .copied()
    };
    if let Some(location) = after("locations") {
        return Place::Region(location.to_owned());
    }
    match after("managedClusters") {
        Some(name) if !name.is_empty() => state
            .world
            .read()
            .clusters_of(Cloud::Azure)
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map_or(Place::Global, |c| Place::Region(c.region.clone())),
        // `…/managedClusters` itself: the list.
        _ if segs
            .last()
            .is_some_and(|s| s.eq_ignore_ascii_case("managedClusters")) =>
        {
            Place::AnyRegion
        }
        _ => Place::Global,
    }
}

fn chaos_error(status: StatusCode, message: String) -> Response {
    let code = match status {
        StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
        StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
        StatusCode::GATEWAY_TIMEOUT => "GatewayTimeout",
        _ => "InternalServerError",
    };
    error(status, code, message)
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/subscriptions", get(list_subscriptions))
        .route(
            &format!("/subscriptions/{{sub}}/{PROVIDER}"),
            get(list_clusters),
        )
        .route(CLUSTER, get(get_cluster))
        .route(&format!("{CLUSTER}/agentPools"), get(list_pools))
        .route(
            &format!("{CLUSTER}/agentPools/{{pool}}"),
            get(get_pool).put(put_pool),
        )
        .route(
            "/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{location}/operations/{operation}",
            get(get_operation),
        )
        .route(
            &format!("{CLUSTER}/listClusterUserCredential"),
            post(credentials),
        )
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                "The requested resource type or path is not served by the sandbox.".into(),
            )
        })
        // A known path with another method: the provider's error shape, not
        // axum's empty 405.
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "The HTTP method is not supported for the requested resource.".into(),
            )
        })
        // A `%FF` in the path would make axum's `Path` extractor answer in
        // plain text; answer in the provider's shape instead.
        .layer(middleware::from_fn(|req: Request, next: Next| {
            crate::http::decodable_path(req, next, || {
                error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestUri",
                    "The request URI is invalid: its percent-encoding does not decode to UTF-8."
                        .into(),
                )
            })
        }))
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state((state, &CHAOS), chaos::guard))
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    json(
        status,
        &ArmErrorResponse {
            error: ArmError {
                code: code.to_string(),
                message,
                target: None,
                details: None,
            },
        },
    )
}

async fn auth(req: Request, next: Next) -> Response {
    let (code, message) = match bearer(req.headers()) {
        Some(AZURE_ACCESS_TOKEN) => return next.run(req).await,
        Some(_) => ("InvalidAuthenticationToken", "The access token is invalid."),
        None => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ),
    };
    let mut resp = error(StatusCode::UNAUTHORIZED, code, message.into());
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\""),
    );
    resp
}

/// 400 unless `api-version` is one of `allowed`.
fn check_api_version(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), Response> {
    match q.get("api-version") {
        None => Err(error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.".into(),
        )),
        Some(v) if allowed.contains(&v.as_str()) => Ok(()),
        Some(v) => Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                allowed.join(",")
            ),
        )),
    }
}

fn check_subscription(world: &WorldState, sub: &str) -> Result<(), Response> {
    if sub.eq_ignore_ascii_case(&world.accounts.azure_subscription_id) {
        Ok(())
    } else {
        Err(error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            format!("The subscription '{sub}' could not be found."),
        ))
    }
}

/// Every cluster of a region shares one resource group.
fn resource_group(c: &world::Cluster) -> String {
    format!("rg-fleet-{}", c.region)
}

fn cluster_id(sub: &str, c: &world::Cluster) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{}/{PROVIDER}/{}",
        resource_group(c),
        c.name
    )
}

fn pool_mode(i: usize) -> String {
    if i == 0 { "System" } else { "User" }.to_string()
}

fn managed_cluster(sub: &str, c: &world::Cluster) -> ManagedCluster {
    ManagedCluster {
        id: cluster_id(sub, c),
        name: c.name.clone(),
        location: c.region.clone(),
        tags: Some(BTreeMap::from([(
            "cloudops-sandbox".to_string(),
            "true".to_string(),
        )])),
        properties: ManagedClusterProperties {
            provisioning_state: "Succeeded".into(),
            power_state: Some(PowerState {
                code: "Running".into(),
            }),
            kubernetes_version: c.k8s_minor.clone(),
            current_kubernetes_version: Some(c.k8s_version()),
            // The API server is reached through the kubeconfig of
            // listClusterUserCredential; a loopback URL is no FQDN.
            fqdn: None,
            private_fqdn: None,
            node_resource_group: Some(format!("MC_{}_{}_{}", resource_group(c), c.name, c.region)),
            // The embedded profiles are the agent pools' own properties, so
            // the two views of a pool cannot disagree.
            agent_pool_profiles: Some(
                c.node_pools
                    .iter()
                    .enumerate()
                    .map(|(i, p)| profile_of(agent_pool(sub, c, i, p)))
                    .collect(),
            ),
            aad_profile: None,
        },
    }
}

/// `agentPoolProfiles[]` entry for a pool: the same values, in the shape ARM
/// embeds in the cluster.
fn profile_of(pool: AgentPool) -> AgentPoolProfile {
    let p = pool.properties;
    AgentPoolProfile {
        name: pool.name,
        count: p.count,
        vm_size: p.vm_size,
        min_count: p.min_count,
        max_count: p.max_count,
        enable_auto_scaling: p.enable_auto_scaling,
        mode: p.mode,
        os_type: p.os_type,
        provisioning_state: p.provisioning_state,
    }
}

fn agent_pool(sub: &str, c: &world::Cluster, i: usize, p: &world::NodePool) -> AgentPool {
    AgentPool {
        id: format!("{}/agentPools/{}", cluster_id(sub, c), p.name),
        name: p.name.clone(),
        properties: AgentPoolProperties {
            count: i32::try_from(p.count).ok(),
            vm_size: Some(p.machine_type.clone()),
            min_count: None,
            max_count: None,
            enable_auto_scaling: Some(false),
            mode: Some(pool_mode(i)),
            provisioning_state: Some("Succeeded".into()),
            orchestrator_version: Some(c.k8s_version()),
            os_type: Some("Linux".into()),
            power_state: Some(PowerState {
                code: "Running".into(),
            }),
        },
    }
}

async fn list_subscriptions(State(state): State<AppState>, q: QueryMap) -> Reply {
    check_api_version(&query(q), &SUBSCRIPTIONS_API_VERSIONS)?;
    let world = state.world.read();
    Ok(json(
        StatusCode::OK,
        &ArmList {
            value: vec![Subscription {
                subscription_id: world.accounts.azure_subscription_id.clone(),
                display_name: world.accounts.azure_subscription_name.clone(),
                state: "Enabled".into(),
            }],
            next_link: None,
        },
    ))
}

async fn list_clusters(
    State(state): State<AppState>,
    Path(sub): Path<String>,
    q: QueryMap,
) -> Reply {
    let q = query(q);
    check_api_version(&q, &[API_VERSION])?;
    let all: Vec<ManagedCluster> = {
        let world = state.world.read();
        check_subscription(&world, &sub)?;
        world
            .clusters_of(Cloud::Azure)
            .map(|c| managed_cluster(&sub, c))
            .collect()
    };
    let offset = q
        .get("$skipToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let (value, more) = page(&all, offset, PAGE_SIZE);
    let next_link = more.then(|| {
        format!(
            "{}/arm/subscriptions/{sub}/{PROVIDER}?api-version={API_VERSION}&$skipToken={}",
            state.base_url,
            offset + PAGE_SIZE
        )
    });
    Ok(json(StatusCode::OK, &ArmList { value, next_link }))
}

#[derive(serde::Deserialize)]
struct ClusterPath {
    sub: String,
    rg: String,
    name: String,
}

/// The cluster a path names, after the api-version and subscription checks.
/// ARM names are case-insensitive.
fn find(state: &AppState, p: &ClusterPath, q: QueryMap) -> Result<world::Cluster, Response> {
    check_api_version(&query(q), &[API_VERSION])?;
    let world = state.world.read();
    check_subscription(&world, &p.sub)?;
    let found = world
        .clusters_of(Cloud::Azure)
        .find(|c| c.name.eq_ignore_ascii_case(&p.name) && resource_group(c).eq_ignore_ascii_case(&p.rg))
        .cloned()
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.ContainerService/managedClusters/{}' under resource group '{}' was not found.",
                    p.name, p.rg
                ),
            )
        });
    found
}

async fn get_cluster(
    State(state): State<AppState>,
    Path(p): Path<ClusterPath>,
    q: QueryMap,
) -> Reply {
    let c = find(&state, &p, q)?;
    Ok(json(StatusCode::OK, &managed_cluster(&p.sub, &c)))
}

async fn list_pools(
    State(state): State<AppState>,
    Path(p): Path<ClusterPath>,
    q: QueryMap,
) -> Reply {
    let c = find(&state, &p, q)?;
    let value = c
        .node_pools
        .iter()
        .enumerate()
        .map(|(i, pool)| agent_pool(&p.sub, &c, i, pool))
        .collect();
    Ok(json(
        StatusCode::OK,
        &ArmList {
            value,
            next_link: None,
        },
    ))
}

#[derive(serde::Deserialize)]
struct PoolPath {
    sub: String,
    rg: String,
    name: String,
    pool: String,
}

async fn get_pool(State(state): State<AppState>, Path(p): Path<PoolPath>, q: QueryMap) -> Reply {
    let cp = ClusterPath {
        sub: p.sub,
        rg: p.rg,
        name: p.name,
    };
    let c = find(&state, &cp, q)?;
    let (i, pool) = c
        .node_pools
        .iter()
        .enumerate()
        .find(|(_, pool)| pool.name.eq_ignore_ascii_case(&p.pool))
        .ok_or_else(|| {
            error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.ContainerService/managedClusters/{}/agentPools/{}' under resource group '{}' was not found.",
                    cp.name, p.pool, cp.rg
                ),
            )
        })?;
    Ok(json(StatusCode::OK, &agent_pool(&cp.sub, &c, i, pool)))
}

/// The agent-pool PUT that scales (ARM's only way to resize a pool). Like
/// ARM, it answers with the pool in `Updating` and an `Azure-AsyncOperation`
/// header to poll; the sandbox applies the change at once, so the operation
/// already reads `Succeeded`.
async fn put_pool(
    State(state): State<AppState>,
    Path(p): Path<PoolPath>,
    q: QueryMap,
    body: Result<Json<AgentPoolScaleRequest>, JsonRejection>,
) -> Reply {
    let Json(body) = body.map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!(
                "The request content was invalid and could not be deserialized: {}",
                e.body_text()
            ),
        )
    })?;
    let cp = ClusterPath {
        sub: p.sub.clone(),
        rg: p.rg.clone(),
        name: p.name.clone(),
    };
    let c = find(&state, &cp, q)?;
    let (i, pool) = c
        .node_pools
        .iter()
        .enumerate()
        .find(|(_, pool)| pool.name.eq_ignore_ascii_case(&p.pool))
        .ok_or_else(|| {
            // ARM would create the pool; the sandbox's world has fixed pools.
            error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                format!(
                    "The sandbox cannot create agent pool '{}'; only existing pools can be scaled.",
                    p.pool
                ),
            )
        })?;
    let props = &body.properties;
    let count = match (props.enable_auto_scaling, props.count, props.min_count, props.max_count) {
        (Some(true), _, Some(min), Some(max)) if min <= max => pool.count.clamp(min.max(0) as u32, max.max(0) as u32),
        (Some(true), ..) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "enableAutoScaling requires minCount <= maxCount.".into(),
            ))
        }
        (_, Some(n), ..) if (0..=MAX_POOL_COUNT).contains(&n) => n as u32,
        (_, Some(n), ..) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                format!("The value of parameter agentPoolProfile.count is invalid: {n}. It must be between 0 and {MAX_POOL_COUNT}."),
            ))
        }
        (_, None, ..) => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "properties.count is required when autoscaling is off.".into(),
            ))
        }
    };
    let updated = state
        .world
        .set_node_pool_count(&c.id, &pool.id, count)
        .map_err(|e| error(StatusCode::NOT_FOUND, "ResourceNotFound", e.to_string()))?;
    let op_id = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        state.next_id(),
        state.next_id()
    );
    let op_url = format!(
        "{}/arm/subscriptions/{}/providers/Microsoft.ContainerService/locations/{}/operations/{op_id}?api-version={API_VERSION}",
        state.base_url, cp.sub, c.region
    );
    let mut reply = agent_pool(&cp.sub, &c, i, &updated);
    reply.properties.provisioning_state = Some("Updating".into());
    let mut resp = json(StatusCode::OK, &reply);
    if let Ok(v) = HeaderValue::from_str(&op_url) {
        resp.headers_mut().insert("azure-asyncoperation", v);
    }
    Ok(resp)
}

#[derive(serde::Deserialize)]
struct OperationPath {
    sub: String,
    #[allow(dead_code)]
    location: String,
    operation: String,
}

/// The `Azure-AsyncOperation` status resource.
async fn get_operation(
    State(state): State<AppState>,
    Path(p): Path<OperationPath>,
    q: QueryMap,
) -> Reply {
    check_api_version(&query(q), &[API_VERSION])?;
    check_subscription(&state.world.read(), &p.sub)?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "name": p.operation, "status": "Succeeded" }),
    ))
}

async fn credentials(
    State(state): State<AppState>,
    Path(p): Path<ClusterPath>,
    q: QueryMap,
) -> Reply {
    let c = find(&state, &p, q)?;
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: clusterUser_{rg}_{name}\ncurrent-context: {name}\nusers:\n- name: clusterUser_{rg}_{name}\n  user:\n    token: sandbox-k8s-{id}\n",
        name = c.name,
        server = state.k8s_url(&c.id),
        ca = placeholder_ca_b64(&c.id),
        rg = resource_group(&c),
        id = c.id,
    );
    Ok(json(
        StatusCode::OK,
        &CredentialResults {
            kubeconfigs: vec![CredentialResult {
                name: "clusterUser".into(),
                value: base64::engine::general_purpose::STANDARD.encode(kubeconfig),
            }],
        },
    ))
}
