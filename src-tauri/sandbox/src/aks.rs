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
    ArmErrorResponse, ArmList, CostQuery, CostQueryColumn, CostQueryProperties, CostQueryResult,
    CredentialResult, CredentialResults, ManagedCluster, ManagedClusterProperties, PowerState,
    Subscription, API_VERSION,
};

use crate::{
    chaos::{self, Place},
    cost,
    http::{bearer, json, page, placeholder_ca_b64, query, QueryMap},
    world::{self, Cloud, WorldState},
    AppState, AZURE_ACCESS_TOKEN,
};

/// The sandbox caps a pool well below AKS's own limit of 1000.
const MAX_POOL_COUNT: i32 = 100;
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
        .route(
            "/subscriptions/{sub}/providers/Microsoft.CostManagement/query",
            post(cost_query),
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

/// Where AKS puts the cluster's nodes (and so its node-hour costs).
fn node_resource_group(c: &world::Cluster) -> String {
    format!("MC_{}_{}_{}", resource_group(c), c.name, c.region)
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
            node_resource_group: Some(node_resource_group(c)),
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
    let size = state.world.arm_page_size();
    let (value, more) = page(&all, offset, size);
    let next_link = more.then(|| {
        format!(
            "{}/arm/subscriptions/{sub}/{PROVIDER}?api-version={API_VERSION}&$skipToken={}",
            state.base_url,
            offset + size
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

impl PoolPath {
    fn cluster(&self) -> ClusterPath {
        ClusterPath {
            sub: self.sub.clone(),
            rg: self.rg.clone(),
            name: self.name.clone(),
        }
    }
}

/// The agent pool a path names (ARM names are case-insensitive) with its
/// index in the cluster; `None` when the cluster has no such pool (GET and
/// PUT answer that differently).
fn pool_in<'c>(c: &'c world::Cluster, name: &str) -> Option<(usize, &'c world::NodePool)> {
    c.node_pools
        .iter()
        .enumerate()
        .find(|(_, pool)| pool.name.eq_ignore_ascii_case(name))
}

async fn get_pool(State(state): State<AppState>, Path(p): Path<PoolPath>, q: QueryMap) -> Reply {
    let cp = p.cluster();
    let c = find(&state, &cp, q)?;
    let (i, pool) = pool_in(&c, &p.pool)
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
    let cp = p.cluster();
    let c = find(&state, &cp, q)?;
    let (i, pool) = pool_in(&c, &p.pool).ok_or_else(|| {
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

/// The Cost Management `api-version`s the sandbox accepts.
const COST_API_VERSIONS: [&str; 3] = ["2025-03-01", "2024-08-01", "2023-11-01"];

fn cost_bad_request(message: String) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// `[from, to)` of a query's timeframe, at `now`.
fn cost_period(query: &CostQuery, now: u64) -> Result<(u64, u64), Response> {
    let today = now - now % cost::DAY;
    match query.timeframe.to_ascii_lowercase().as_str() {
        "monthtodate" | "billingmonthtodate" => Ok((cost::month_start(now, 0), now)),
        "thelastmonth" | "thelastbillingmonth" => {
            Ok((cost::month_start(now, -1), cost::month_start(now, 0)))
        }
        // 1970-01-01 was a Thursday: weeks start on Monday.
        "weektodate" => Ok((today - ((today / cost::DAY + 3) % 7) * cost::DAY, now)),
        "custom" => {
            let period = query.time_period.as_ref().ok_or_else(|| {
                cost_bad_request("timePeriod is required when timeframe is Custom.".into())
            })?;
            let from = cost::parse_time(&period.from);
            let to = cost::parse_time(&period.to);
            match (from, to) {
                (Some(from), Some(to)) if from < to => Ok((from, to)),
                _ => Err(cost_bad_request(format!(
                    "Invalid timePeriod: from '{}' must be an ISO 8601 time before to '{}'.",
                    period.from, period.to
                ))),
            }
        }
        other => Err(cost_bad_request(format!(
            "Invalid timeframe '{other}'. Supported: MonthToDate, BillingMonthToDate, TheLastMonth, TheLastBillingMonth, WeekToDate, Custom."
        ))),
    }
}

/// `POST /subscriptions/{sub}/providers/Microsoft.CostManagement/query`:
/// node-hour costs of the AKS clusters, by node resource group
/// (`MC_<rg>_<cluster>_<location>`, where AKS puts the nodes) when grouped
/// by `ResourceGroup`/`ResourceGroupName`, per day when `Daily`.
async fn cost_query(
    State(state): State<AppState>,
    Path(sub): Path<String>,
    q: QueryMap,
    body: Result<Json<CostQuery>, JsonRejection>,
) -> Reply {
    let q = query(q);
    check_api_version(&q, &COST_API_VERSIONS)?;
    check_subscription(&state.world.read(), &sub)?;
    let Json(body) = body.map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: {e}"),
        )
    })?;
    let now = cost::now();
    let (from, to) = cost_period(&body, now)?;
    let daily = match body.dataset.granularity.as_deref() {
        None => false,
        Some(g) if g.eq_ignore_ascii_case("none") => false,
        Some(g) if g.eq_ignore_ascii_case("daily") => true,
        Some(g) => return Err(cost_bad_request(format!("Invalid granularity '{g}'."))),
    };
    let cost_column = body
        .dataset
        .aggregation
        .as_ref()
        .and_then(|a| a.values().next())
        .map_or_else(|| "PreTaxCost".to_string(), |a| a.name.clone());
    let group_column = match body.dataset.grouping.as_deref().unwrap_or_default() {
        [] => None,
        [g] if g.kind.eq_ignore_ascii_case("Dimension")
            && (g.name.eq_ignore_ascii_case("ResourceGroup")
                || g.name.eq_ignore_ascii_case("ResourceGroupName")) =>
        {
            Some(g.name.clone())
        }
        _ => {
            return Err(cost_bad_request(
                "The sandbox groups only by the ResourceGroup or ResourceGroupName dimension."
                    .into(),
            ))
        }
    };
    let column = |name: &str, kind: &str| CostQueryColumn {
        name: name.to_string(),
        kind: kind.to_string(),
    };
    let mut columns = vec![column(&cost_column, "Number")];
    columns.extend(group_column.as_deref().map(|g| column(g, "String")));
    if daily {
        columns.push(column("UsageDate", "Number"));
    }
    columns.push(column("Currency", "String"));

    // Buckets: one per day, or the whole period.
    let buckets: Vec<(u64, u64)> = if daily {
        let first = from - from % cost::DAY;
        (0..)
            .map(|i| first + i * cost::DAY)
            .take_while(|&d| d < to)
            .map(|d| (d.max(from), (d + cost::DAY).min(to)))
            .collect()
    } else {
        vec![(from, to)]
    };
    let mut rows = Vec::new();
    {
        let world = state.world.read();
        for &(b_from, b_to) in &buckets {
            let mut per_group: Vec<(Option<String>, f64)> = Vec::new();
            for c in world.clusters_of(Cloud::Azure) {
                let amount = cost::cluster_cost(c, b_from, b_to, now);
                let key = group_column.as_ref().map(|_| node_resource_group(c));
                match per_group.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, sum)) => *sum += amount,
                    None => per_group.push((key, amount)),
                }
            }
            for (key, amount) in per_group.into_iter().filter(|(_, a)| *a > 0.0) {
                let mut row = vec![serde_json::json!(amount)];
                row.extend(key.map(serde_json::Value::String));
                if daily {
                    let d = cost::date(b_from).replace('-', "");
                    row.push(serde_json::json!(d.parse::<u64>().unwrap_or(0)));
                }
                row.push(serde_json::Value::String("USD".into()));
                rows.push(row);
            }
        }
    }
    // `$top` pages the rows; `$skiptoken` is the offset of the next page.
    let top = q
        .get("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|&t| t > 0);
    let skip = q
        .get("$skiptoken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let (rows, next_link) = match top {
        Some(top) => {
            let (rows, more) = page(&rows, skip, top);
            let next = more.then(|| {
                format!(
                    "{}/arm/subscriptions/{sub}/providers/Microsoft.CostManagement/query?api-version={}&$top={top}&$skiptoken={}",
                    state.base_url,
                    q.get("api-version").map_or("", String::as_str),
                    skip + top
                )
            });
            (rows, next)
        }
        None => (rows, None),
    };
    let id = format!("query-{}", state.next_id());
    Ok(json(
        StatusCode::OK,
        &CostQueryResult {
            id: Some(format!(
                "subscriptions/{sub}/providers/Microsoft.CostManagement/query/{id}"
            )),
            name: Some(id),
            kind: Some("Microsoft.CostManagement/query".into()),
            properties: CostQueryProperties {
                next_link,
                columns,
                rows,
            },
        },
    ))
}
