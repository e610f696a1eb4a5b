//! The Amazon EKS REST-JSON API (under `/aws`), as `aws-sdk-eks` speaks it.
//!
//! The serde models below are the sandbox's own, for now: the EKS client side
//! is the official SDK, which has its own (generated) types, so there is no
//! `cloudops_cloud::wire::eks` to share. They hold only what the product
//! reads. The later slice that runs `aws-sdk-eks` against both the sandbox and
//! moto is what holds this module honest.
//!
//! The region comes from the SigV4 credential scope of the `Authorization`
//! header (`Credential=AKID/date/<region>/eks/aws4_request`); the signature
//! itself is not checked, only the access key id.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{Extension, Path, Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::Response,
    routing::{get, post, MethodRouter},
    Router,
};
use serde::{Deserialize, Serialize};

use crate::{
    chaos::{self, Place},
    http::{json, page, placeholder_ca_b64, query, QueryMap},
    world::{self, Cloud},
    AppState, AWS_ACCESS_KEY_ID,
};

/// `GET /clusters`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListClustersResponse {
    pub clusters: Vec<String>,
    /// `null` on the last page.
    pub next_token: Option<String>,
}

/// `GET /clusters/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescribeClusterResponse {
    pub cluster: EksCluster,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EksCluster {
    pub name: String,
    pub arn: String,
    /// Epoch seconds, as a JSON number (the REST-JSON timestamp format).
    pub created_at: f64,
    /// `major.minor`.
    pub version: String,
    pub endpoint: String,
    pub role_arn: String,
    /// `CREATING`, `ACTIVE`, `DELETING`, `FAILED`, `UPDATING` or `PENDING`.
    pub status: String,
    pub certificate_authority: CertificateAuthority,
    pub platform_version: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateAuthority {
    /// Base64 of the PEM bundle.
    pub data: String,
}

/// `GET /clusters/{name}/node-groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListNodegroupsResponse {
    pub nodegroups: Vec<String>,
    pub next_token: Option<String>,
}

/// `GET /clusters/{name}/node-groups/{ng}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DescribeNodegroupResponse {
    pub nodegroup: Nodegroup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nodegroup {
    pub nodegroup_name: String,
    pub nodegroup_arn: String,
    pub cluster_name: String,
    pub version: String,
    pub created_at: f64,
    pub modified_at: f64,
    /// `ACTIVE`, `UPDATING`, `DEGRADED`, …
    pub status: String,
    /// `ON_DEMAND` or `SPOT`.
    pub capacity_type: String,
    pub scaling_config: NodegroupScalingConfig,
    pub instance_types: Vec<String>,
    pub subnets: Vec<String>,
    pub ami_type: String,
    pub node_role: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupScalingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_size: Option<u32>,
}

/// The body of `POST /clusters/{name}/node-groups/{ng}/update-config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateNodegroupConfigRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<NodegroupScalingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateNodegroupConfigResponse {
    pub update: Update,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    pub id: String,
    /// `InProgress`, `Failed`, `Cancelled` or `Successful`.
    pub status: String,
    /// e.g. `ConfigUpdate`.
    #[serde(rename = "type")]
    pub kind: String,
    pub params: Vec<UpdateParam>,
    pub created_at: f64,
    pub errors: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateParam {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// The body of an EKS error; the error's type is in the `x-amzn-ErrorType`
/// header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EksErrorBody {
    pub message: String,
}

/// The header that carries the error type.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-ErrorType";

/// The region of the request, from its SigV4 credential scope.
#[derive(Debug, Clone)]
struct Region(String);

type Reply = Result<Response, Response>;

const NODE_GROUP: &str = "/clusters/{name}/node-groups/{ng}";

/// Chaos: the region is the SigV4 scope's; errors are EKS's.
static CHAOS: chaos::Hooks = chaos::Hooks {
    cloud: Cloud::Aws,
    place: chaos_place,
    error: chaos_error,
};

fn chaos_place(_state: &AppState, req: &Request) -> Place {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(credential_scope)
        .map_or(Place::Global, |(_, region)| {
            Place::Region(region.to_owned())
        })
}

fn chaos_error(status: StatusCode, message: String) -> Response {
    let kind = match status {
        StatusCode::TOO_MANY_REQUESTS => "TooManyRequestsException",
        StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailableException",
        _ => "ServerException",
    };
    error(status, kind, message)
}

/// Cost Explorer (JSON 1.1) shares the AWS endpoint override
/// (`AWS_ENDPOINT_URL`), and the SDK posts to `{endpoint}/`: with the
/// override `…/aws` that is `/aws/`, which a nested `/` does not match in
/// axum 0.8. The outer router mounts this at `/aws/` (and the nest serves
/// `/aws`), with the same auth and chaos layers as the rest of EKS.
pub(crate) fn cost_explorer_route(state: AppState) -> MethodRouter<AppState> {
    post(cost_explorer)
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state(
            (state, &CHAOS),
            chaos::guard,
        ))
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", cost_explorer_route(state.clone()))
        .route("/clusters", get(list_clusters))
        .route("/clusters/{name}", get(describe_cluster))
        .route("/clusters/{name}/node-groups", get(list_nodegroups))
        .route(NODE_GROUP, get(describe_nodegroup))
        .route(&format!("{NODE_GROUP}/update-config"), post(update_config))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                "Unknown operation".into(),
            )
        })
        // A known path with another method: the provider's error shape, not
        // axum's empty 405.
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UnknownOperationException",
                "Unknown operation: the method is not supported on this path".into(),
            )
        })
        // A `%FF` in the path would make axum's `Path` extractor answer in
        // plain text; answer in the provider's shape instead.
        .layer(middleware::from_fn(|req: Request, next: Next| {
            crate::http::decodable_path(req, next, || {
                error(
                    StatusCode::BAD_REQUEST,
                    "InvalidRequestException",
                    "The request path is not valid UTF-8 once percent-decoded".into(),
                )
            })
        }))
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state(
            (state, &CHAOS),
            chaos::guard,
        ))
}

fn error(status: StatusCode, kind: &'static str, message: String) -> Response {
    let mut resp = json(status, &EksErrorBody { message });
    resp.headers_mut().insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_static(kind),
    );
    resp
}

/// `(access key id, region)` from `AWS4-HMAC-SHA256 Credential=AKID/date/region/eks/aws4_request, …`.
fn credential_scope(value: &str) -> Option<(&str, &str)> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let cred = rest
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Credential="))?;
    let mut parts = cred.split('/');
    let akid = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    (!region.is_empty()).then_some((akid, region))
}

async fn auth(mut req: Request, next: Next) -> Response {
    let scope = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(credential_scope)
        .map(|(akid, region)| (akid.to_string(), region.to_string()));
    match scope {
        None => error(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token".into(),
        ),
        Some((akid, _)) if akid != AWS_ACCESS_KEY_ID => error(
            StatusCode::FORBIDDEN,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".into(),
        ),
        Some((_, region)) => {
            req.extensions_mut().insert(Region(region));
            next.run(req).await
        }
    }
}

fn cluster_not_found(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        format!("No cluster found for name: {name}."),
    )
}

fn find(state: &AppState, region: &str, name: &str) -> Result<(world::Cluster, String), Response> {
    let world = state.world.read();
    let found = world
        .clusters_of(Cloud::Aws)
        .find(|c| c.name == name && c.region == region)
        .map(|c| (c.clone(), world.accounts.aws_account_id.clone()))
        .ok_or_else(|| cluster_not_found(name));
    found
}

fn find_nodegroup<'a>(c: &'a world::Cluster, ng: &str) -> Result<&'a world::NodePool, Response> {
    c.node_pools.iter().find(|p| p.name == ng).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("No node group found for name: {ng}."),
        )
    })
}

fn nodegroup(account: &str, c: &world::Cluster, p: &world::NodePool) -> Nodegroup {
    Nodegroup {
        nodegroup_name: p.name.clone(),
        nodegroup_arn: format!(
            "arn:aws:eks:{}:{account}:nodegroup/{}/{}/{}",
            c.region, c.name, p.name, p.id
        ),
        cluster_name: c.name.clone(),
        version: c.k8s_minor.clone(),
        created_at: c.created_at as f64,
        modified_at: c.created_at as f64,
        status: "ACTIVE".into(),
        capacity_type: "ON_DEMAND".into(),
        scaling_config: NodegroupScalingConfig {
            min_size: Some(p.min_count),
            max_size: Some(p.max_count),
            desired_size: Some(p.count),
        },
        instance_types: vec![p.machine_type.clone()],
        subnets: vec![format!("subnet-{}", &p.id[..8])],
        ami_type: "AL2023_x86_64_STANDARD".into(),
        node_role: format!("arn:aws:iam::{account}:role/eks-node-role"),
    }
}

async fn list_clusters(
    State(state): State<AppState>,
    Extension(Region(region)): Extension<Region>,
    q: QueryMap,
) -> Reply {
    let q = query(q);
    let max = q
        .get("maxResults")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| (1..=100).contains(n))
        .unwrap_or(100);
    let offset = q
        .get("nextToken")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let names: Vec<String> = state
        .world
        .read()
        .clusters_of(Cloud::Aws)
        .filter(|c| c.region == region)
        .map(|c| c.name.clone())
        .collect();
    let (clusters, more) = page(&names, offset, max);
    Ok(json(
        StatusCode::OK,
        &ListClustersResponse {
            clusters,
            next_token: more.then(|| (offset + max).to_string()),
        },
    ))
}

async fn describe_cluster(
    State(state): State<AppState>,
    Extension(Region(region)): Extension<Region>,
    Path(name): Path<String>,
) -> Reply {
    let (c, account) = find(&state, &region, &name)?;
    Ok(json(
        StatusCode::OK,
        &DescribeClusterResponse {
            cluster: EksCluster {
                arn: format!("arn:aws:eks:{}:{account}:cluster/{}", c.region, c.name),
                name: c.name.clone(),
                created_at: c.created_at as f64,
                version: c.k8s_minor.clone(),
                endpoint: state.k8s_url(&c.id),
                role_arn: format!("arn:aws:iam::{account}:role/eks-cluster-role"),
                status: "ACTIVE".into(),
                certificate_authority: CertificateAuthority {
                    data: placeholder_ca_b64(&c.id),
                },
                platform_version: "eks.12".into(),
                tags: BTreeMap::from([("cloudops-sandbox".to_string(), "true".to_string())]),
            },
        },
    ))
}

async fn list_nodegroups(
    State(state): State<AppState>,
    Extension(Region(region)): Extension<Region>,
    Path(name): Path<String>,
) -> Reply {
    let (c, _) = find(&state, &region, &name)?;
    Ok(json(
        StatusCode::OK,
        &ListNodegroupsResponse {
            nodegroups: c.node_pools.iter().map(|p| p.name.clone()).collect(),
            next_token: None,
        },
    ))
}

async fn describe_nodegroup(
    State(state): State<AppState>,
    Extension(Region(region)): Extension<Region>,
    Path((name, ng)): Path<(String, String)>,
) -> Reply {
    let (c, account) = find(&state, &region, &name)?;
    let p = find_nodegroup(&c, &ng)?;
    Ok(json(
        StatusCode::OK,
        &DescribeNodegroupResponse {
            nodegroup: nodegroup(&account, &c, p),
        },
    ))
}

fn invalid(message: String) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidParameterException",
        message,
    )
}

async fn update_config(
    State(state): State<AppState>,
    Extension(Region(region)): Extension<Region>,
    Path((name, ng)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let (c, _) = find(&state, &region, &name)?;
    let pool_id = find_nodegroup(&c, &ng)?.id.clone();
    let req: UpdateNodegroupConfigRequest =
        serde_json::from_slice(&body).map_err(|e| invalid(format!("Invalid request body: {e}")))?;
    let Some(scaling) = req.scaling_config else {
        return Err(invalid(
            "At least one configuration update is required.".into(),
        ));
    };
    let (result, _) = state
        .world
        .update_node_pool(&c.id, &pool_id, |p| {
            let min = scaling.min_size.unwrap_or(p.min_count);
            let max = scaling.max_size.unwrap_or(p.max_count);
            let desired = scaling.desired_size.unwrap_or(p.count);
            if max == 0 || min > max || desired < min || desired > max {
                return Err(format!(
                    "Invalid scaling config: minSize {min}, maxSize {max}, desiredSize {desired}."
                ));
            }
            (p.min_count, p.max_count, p.count) = (min, max, desired);
            Ok(())
        })
        .map_err(|_| cluster_not_found(&name))?;
    result.map_err(invalid)?;

    let mut params = Vec::new();
    for (kind, v) in [
        ("MinSize", scaling.min_size),
        ("MaxSize", scaling.max_size),
        ("DesiredSize", scaling.desired_size),
    ] {
        if let Some(v) = v {
            params.push(UpdateParam {
                kind: kind.into(),
                value: v.to_string(),
            });
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let n = state.next_id();
    Ok(json(
        StatusCode::OK,
        &UpdateNodegroupConfigResponse {
            update: Update {
                id: format!("{:08x}-0000-4000-8000-{n:012x}", n),
                status: "InProgress".into(),
                kind: "ConfigUpdate".into(),
                params,
                created_at: now,
                errors: Vec::new(),
            },
        },
    ))
}

/// The Cost Explorer target the sandbox answers (JSON 1.1 protocol: one
/// `POST /` with the operation in `X-Amz-Target`).
const GET_COST_AND_USAGE: &str = "AWSInsightsIndexService.GetCostAndUsage";
/// The cost-allocation tag EKS puts on its nodes (BRIEF §4).
const CLUSTER_TAG: &str = "eks:cluster-name";
/// Cost Explorer refuses longer daily ranges; so does the sandbox, which
/// also keeps a request's work bounded.
const MAX_PERIODS: u64 = 400;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CostRequest {
    time_period: CostPeriod,
    granularity: String,
    #[serde(default)]
    metrics: Vec<String>,
    #[serde(default)]
    group_by: Vec<CostGroupBy>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CostPeriod {
    start: String,
    end: String,
}

#[derive(Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct CostGroupBy {
    r#type: String,
    key: String,
}

/// `GetCostAndUsage` over the world's AWS clusters: node hours × list price
/// (`crate::cost`), per period, optionally grouped by the `eks:cluster-name`
/// tag (`Keys: ["eks:cluster-name$<name>"]`, as Cost Explorer writes tag
/// groups).
async fn cost_explorer(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Reply {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target != GET_COST_AND_USAGE {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Unknown operation {target:?}"),
        ));
    }
    let bad = |m: String| error(StatusCode::BAD_REQUEST, "ValidationException", m);
    let req: CostRequest =
        serde_json::from_slice(&body).map_err(|e| bad(format!("Invalid request body: {e}")))?;
    let start = crate::cost::parse_time(&req.time_period.start).ok_or_else(|| {
        bad(format!(
            "Invalid TimePeriod.Start {:?}",
            req.time_period.start
        ))
    })?;
    let end = crate::cost::parse_time(&req.time_period.end)
        .ok_or_else(|| bad(format!("Invalid TimePeriod.End {:?}", req.time_period.end)))?;
    if end <= start {
        return Err(bad("Start date must be before end date".into()));
    }
    let step = match req.granularity.as_str() {
        "DAILY" => crate::cost::DAY,
        "MONTHLY" => 0,
        other => return Err(bad(format!("Unsupported Granularity {other:?}"))),
    };
    let metric = req
        .metrics
        .first()
        .cloned()
        .unwrap_or_else(|| "UnblendedCost".into());
    if ![
        "UnblendedCost",
        "BlendedCost",
        "AmortizedCost",
        "NetUnblendedCost",
    ]
    .contains(&metric.as_str())
    {
        return Err(bad(format!("Unsupported metric {metric:?}")));
    }
    let is_tag = |g: &CostGroupBy| g.r#type == "TAG" && g.key == CLUSTER_TAG;
    let (grouped, by_service) = match req.group_by.as_slice() {
        [] => (false, false),
        [g] if is_tag(g) => (true, false),
        [g, s] if is_tag(g) && s.r#type == "DIMENSION" && s.key == "SERVICE" => (true, true),
        _ => {
            return Err(bad(format!(
                "The sandbox groups only by TAG {CLUSTER_TAG}, optionally then DIMENSION SERVICE"
            )))
        }
    };
    // Periods: days, or calendar months clipped to the range.
    let mut periods = Vec::new();
    let mut from = start;
    while from < end {
        let to = if step == 0 {
            crate::cost::month_start(from, 1).min(end)
        } else {
            (from + step).min(end)
        };
        periods.push((from, to));
        if periods.len() as u64 > MAX_PERIODS {
            return Err(bad(format!(
                "The time range spans more than {MAX_PERIODS} periods"
            )));
        }
        from = to;
    }
    let now = crate::cost::now();
    let clusters: Vec<world::Cluster> = state
        .world
        .read()
        .clusters_of(Cloud::Aws)
        .cloned()
        .collect();
    let amount = |v: f64| serde_json::json!({ "Amount": format!("{v:.10}"), "Unit": "USD" });
    let results: Vec<serde_json::Value> = periods
        .iter()
        .map(|&(from, to)| {
            let costs: Vec<(String, f64)> = clusters
                .iter()
                .map(|c| (c.name.clone(), crate::cost::cluster_cost(c, from, to, now)))
                .collect();
            let period = serde_json::json!({
                "Start": crate::cost::date(from),
                "End": crate::cost::date(to),
            });
            if grouped {
                let groups: Vec<serde_json::Value> = costs
                    .iter()
                    .map(|(name, v)| {
                        let tag = format!("{CLUSTER_TAG}${name}");
                        // Node hours are EC2 compute, whatever the cluster.
                        let keys = if by_service {
                            serde_json::json!([tag, "Amazon Elastic Compute Cloud - Compute"])
                        } else {
                            serde_json::json!([tag])
                        };
                        serde_json::json!({
                            "Keys": keys,
                            "Metrics": { metric.clone(): amount(*v) },
                        })
                    })
                    .collect();
                serde_json::json!({ "TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": to > now })
            } else {
                let total: f64 = costs.iter().map(|(_, v)| v).sum();
                serde_json::json!({
                    "TimePeriod": period,
                    "Total": { metric.clone(): amount(total) },
                    "Groups": [],
                    "Estimated": to > now,
                })
            }
        })
        .collect();
    let doc = serde_json::json!({
        "GroupDefinitions": req.group_by,
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
    });
    let mut resp = json(StatusCode::OK, &doc);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    Ok(resp)
}
