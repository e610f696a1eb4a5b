//! DigitalOcean API v2, Kubernetes part (under `/do`), served with the
//! `cloudops_cloud::wire::doks` models.

use axum::{
    body::Bytes,
    extract::{Path, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::Response,
    routing::get,
    Router,
};
use cloudops_cloud::wire::doks::{
    Balance, ClusterStatus, Credentials, DoError, InvoiceItem, InvoiceItemList, InvoiceList,
    InvoicePreview, KubernetesCluster, KubernetesClusterList, KubernetesClusterResponse, Links,
    Meta, NodePool, NodePoolList, NodePoolResponse, NodePoolUpdate, Pages, Size, SizeList,
};

use crate::{
    chaos::{self, Place},
    cost,
    http::{bearer, json, page, placeholder_ca_b64, query, QueryMap},
    world::{self, rfc3339, Cloud, WorldError},
    AppState, DO_ACCESS_TOKEN,
};

const DEFAULT_PER_PAGE: usize = 20;
const MAX_PER_PAGE: usize = 200;
/// DigitalOcean caps a pool at 1000 nodes... the sandbox at far fewer.
const MAX_POOL_COUNT: u32 = 100;

type Reply = Result<Response, Response>;

/// Chaos: the v2 API is global, so only calls on a cluster of the region
/// fail; the list still answers.
static CHAOS: chaos::Hooks = chaos::Hooks {
    cloud: Cloud::DigitalOcean,
    place: chaos_place,
    error: chaos_error,
};

fn chaos_place(state: &AppState, req: &Request) -> Place {
    let mut segs = req.uri().path().split('/');
    let id = segs.by_ref().skip_while(|s| *s != "clusters").nth(1);
    match id {
        Some(id) if !id.is_empty() => state
            .world
            .read()
            .cluster(id)
            .filter(|c| c.cloud == Cloud::DigitalOcean)
            .map_or(Place::Global, |c| Place::Region(c.region.clone())),
        _ => Place::Global,
    }
}

fn chaos_error(status: StatusCode, message: String) -> Response {
    let id = match status {
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        _ => "server_error",
    };
    error(status, id, &message)
}

pub(crate) fn router(state: AppState) -> axum::Router<AppState> {
    Router::new()
        .route("/v2/kubernetes/clusters", get(list_clusters))
        .route("/v2/kubernetes/clusters/{id}", get(get_cluster))
        .route("/v2/kubernetes/clusters/{id}/node_pools", get(list_pools))
        .route(
            "/v2/kubernetes/clusters/{id}/node_pools/{pool_id}",
            get(get_pool).put(update_pool),
        )
        .route("/v2/kubernetes/clusters/{id}/credentials", get(credentials))
        .route("/v2/sizes", get(list_sizes))
        .route("/v2/customers/my/balance", get(balance))
        .route("/v2/customers/my/invoices", get(list_invoices))
        .route("/v2/customers/my/invoices/{uuid}", get(invoice_items))
        .fallback(|| async { not_found() })
        // A known path with another method: the provider's error shape, not
        // axum's empty 405.
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "The HTTP method is not allowed for this resource.",
            )
        })
        // A `%FF` in the path would make axum's `Path` extractor answer in
        // plain text; answer in the provider's shape instead.
        .layer(middleware::from_fn(|req: Request, next: Next| {
            crate::http::decodable_path(req, next, || {
                error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "The request path could not be decoded.",
                )
            })
        }))
        .layer(middleware::from_fn(auth))
        .layer(middleware::from_fn_with_state(
            (state, &CHAOS),
            chaos::guard,
        ))
}

fn error(status: StatusCode, id: &str, message: &str) -> Response {
    json(
        status,
        &DoError {
            id: id.to_string(),
            message: message.to_string(),
            request_id: None,
        },
    )
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "The resource you requested could not be found.",
    )
}

async fn auth(req: Request, next: Next) -> Response {
    if bearer(req.headers()) == Some(DO_ACCESS_TOKEN) {
        next.run(req).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unable to authenticate you",
        )
    }
}

fn node_pool(cluster_id: &str, p: &world::NodePool) -> NodePool {
    NodePool {
        id: p.id.clone(),
        name: p.name.clone(),
        size: p.machine_type.clone(),
        count: p.count,
        auto_scale: false,
        min_nodes: 0,
        max_nodes: 0,
        tags: Some(vec![
            "k8s".into(),
            format!("k8s:{cluster_id}"),
            "k8s:worker".into(),
        ]),
        // Individual nodes come with the per-cluster Kubernetes API.
        nodes: None,
    }
}

fn cluster(state: &AppState, c: &world::Cluster) -> KubernetesCluster {
    KubernetesCluster {
        id: c.id.clone(),
        name: c.name.clone(),
        region: c.region.clone(),
        version: format!("{}-do.0", c.k8s_version()),
        status: ClusterStatus {
            state: "running".into(),
            message: None,
        },
        endpoint: state.k8s_url(&c.id),
        ipv4: Some("127.0.0.1".into()),
        vpc_uuid: None,
        node_pools: c.node_pools.iter().map(|p| node_pool(&c.id, p)).collect(),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.created_at),
        ha: Some(false),
        auto_upgrade: Some(false),
        tags: Some(vec!["k8s".into(), format!("k8s:{}", c.id)]),
    }
}

fn positive(q: &std::collections::HashMap<String, String>, key: &str) -> Option<usize> {
    q.get(key)?.parse().ok().filter(|&n: &usize| n > 0)
}

async fn list_clusters(State(state): State<AppState>, q: QueryMap) -> Reply {
    let q = query(q);
    let page_no = positive(&q, "page").unwrap_or(1);
    let per_page = positive(&q, "per_page")
        .unwrap_or(DEFAULT_PER_PAGE)
        .min(MAX_PER_PAGE);
    let all: Vec<KubernetesCluster> = {
        let world = state.world.read();
        world
            .clusters_of(Cloud::DigitalOcean)
            .map(|c| cluster(&state, c))
            .collect()
    };
    let offset = (page_no - 1).saturating_mul(per_page);
    let (items, more) = page(&all, offset, per_page);
    let last_page = all.len().div_ceil(per_page).max(1);
    let url = |n: usize| {
        format!(
            "{}/do/v2/kubernetes/clusters?page={n}&per_page={per_page}",
            state.base_url
        )
    };
    let pages = Pages {
        first: (page_no > 1).then(|| url(1)),
        prev: (page_no > 1).then(|| url((page_no - 1).min(last_page))),
        next: more.then(|| url(page_no + 1)),
        last: more.then(|| url(last_page)),
    };
    let empty = pages.first.is_none() && pages.next.is_none();
    Ok(json(
        StatusCode::OK,
        &KubernetesClusterList {
            kubernetes_clusters: items,
            links: Some(Links {
                pages: (!empty).then_some(pages),
            }),
            meta: Some(Meta {
                total: all.len() as u64,
            }),
        },
    ))
}

fn find(state: &AppState, id: &str) -> Result<world::Cluster, Response> {
    state
        .world
        .read()
        .cluster(id)
        .filter(|c| c.cloud == Cloud::DigitalOcean)
        .cloned()
        .ok_or_else(not_found)
}

async fn get_cluster(State(state): State<AppState>, Path(id): Path<String>) -> Reply {
    let c = find(&state, &id)?;
    Ok(json(
        StatusCode::OK,
        &KubernetesClusterResponse {
            kubernetes_cluster: cluster(&state, &c),
        },
    ))
}

async fn list_pools(State(state): State<AppState>, Path(id): Path<String>) -> Reply {
    let c = find(&state, &id)?;
    Ok(json(
        StatusCode::OK,
        &NodePoolList {
            node_pools: c.node_pools.iter().map(|p| node_pool(&c.id, p)).collect(),
        },
    ))
}

async fn get_pool(
    State(state): State<AppState>,
    Path((id, pool_id)): Path<(String, String)>,
) -> Reply {
    let c = find(&state, &id)?;
    let p = c
        .node_pools
        .iter()
        .find(|p| p.id == pool_id)
        .ok_or_else(not_found)?;
    Ok(json(
        StatusCode::OK,
        &NodePoolResponse {
            node_pool: node_pool(&c.id, p),
        },
    ))
}

async fn update_pool(
    State(state): State<AppState>,
    Path((id, pool_id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let c = find(&state, &id)?;
    if !c.node_pools.iter().any(|p| p.id == pool_id) {
        return Err(not_found());
    }
    let update: NodePoolUpdate = serde_json::from_slice(&body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!("invalid request body: {e}"),
        )
    })?;
    if update.count > MAX_POOL_COUNT {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_entity",
            &format!("count must be at most {MAX_POOL_COUNT}"),
        ));
    }
    let pool = state
        .world
        .set_node_pool_count(&c.id, &pool_id, update.count)
        .map_err(|e| match e {
            WorldError::UnknownCluster(_) | WorldError::UnknownNodePool { .. } => not_found(),
        })?;
    Ok(json(
        StatusCode::ACCEPTED,
        &NodePoolResponse {
            node_pool: node_pool(&c.id, &pool),
        },
    ))
}

async fn credentials(State(state): State<AppState>, Path(id): Path<String>) -> Reply {
    let c = find(&state, &id)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(json(
        StatusCode::OK,
        &Credentials {
            server: state.k8s_url(&c.id),
            certificate_authority_data: placeholder_ca_b64(&c.id),
            token: Some(format!("sandbox-k8s-{}", c.id)),
            expires_at: Some(rfc3339(now + 7 * 86_400)),
        },
    ))
}

/// Past invoices listed: this many months before the current one.
const PAST_INVOICES: u64 = 3;

/// `page` and `per_page` of the query, clamped.
fn paging(q: &std::collections::HashMap<String, String>) -> (usize, usize) {
    let page_no = positive(q, "page").unwrap_or(1);
    let per_page = positive(q, "per_page")
        .unwrap_or(DEFAULT_PER_PAGE)
        .min(MAX_PER_PAGE);
    (page_no, per_page)
}

/// One page of `all`, with DigitalOcean's `links.pages` (absolute URLs of
/// `path` under `/do`) and `meta.total`.
fn paged<T: Clone>(
    state: &AppState,
    path: &str,
    all: &[T],
    (page_no, per_page): (usize, usize),
) -> (Vec<T>, Links, Meta) {
    let offset = (page_no - 1).saturating_mul(per_page);
    let (items, more) = page(all, offset, per_page);
    let last_page = all.len().div_ceil(per_page).max(1);
    let url = |n: usize| format!("{}/do{path}?page={n}&per_page={per_page}", state.base_url);
    let pages = Pages {
        first: (page_no > 1).then(|| url(1)),
        prev: (page_no > 1).then(|| url((page_no - 1).min(last_page))),
        next: more.then(|| url(page_no + 1)),
        last: more.then(|| url(last_page)),
    };
    let empty = pages.first.is_none() && pages.next.is_none();
    let links = Links {
        pages: (!empty).then_some(pages),
    };
    let meta = Meta {
        total: all.len() as u64,
    };
    (items, links, meta)
}

/// `GET /v2/sizes`: the price table, plus any machine type of the world the
/// table does not know (at the fallback price).
async fn list_sizes(State(state): State<AppState>, q: QueryMap) -> Reply {
    let q = query(q);
    let regions: Vec<String> = Cloud::DigitalOcean
        .regions()
        .iter()
        .map(|r| (*r).to_string())
        .collect();
    let size = |slug: &str, vcpus: u32, memory: u64, disk: u64, hourly: f64| Size {
        slug: slug.to_string(),
        memory,
        vcpus,
        disk,
        // DigitalOcean caps a month at 672 hours.
        price_monthly: (hourly * 672.0).round(),
        price_hourly: hourly,
        regions: regions.clone(),
        available: true,
    };
    let mut all: Vec<Size> = cost::price_table(Cloud::DigitalOcean)
        .iter()
        .map(|p| size(p.machine_type, p.vcpus, p.memory_mib, p.disk_gib, p.hourly))
        .collect();
    {
        let world = state.world.read();
        for p in world
            .clusters_of(Cloud::DigitalOcean)
            .flat_map(|c| &c.node_pools)
        {
            if !all.iter().any(|s| s.slug == p.machine_type) {
                all.push(size(&p.machine_type, 2, 4096, 80, cost::FALLBACK_HOURLY));
            }
        }
    }
    let (sizes, links, meta) = paged(&state, "/v2/sizes", &all, paging(&q));
    Ok(json(
        StatusCode::OK,
        &SizeList {
            sizes,
            links: Some(links),
            meta: Some(meta),
        },
    ))
}

/// The invoice uuid of the month starting at `month_start` (the preview's
/// is the current month's), stable for a world.
fn invoice_uuid(seed: u64, month_start: u64) -> String {
    format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        month_start / cost::DAY,
        seed & 0xffff,
        seed & 0xffff_ffff_ffff
    )
}

fn invoice_period(month_start: u64) -> String {
    let (year, month) = cost::year_month(month_start);
    format!("{year:04}-{month:02}")
}

/// The DOKS lines of `[from, to)`: one per node pool, grouped by cluster
/// name in `group_description` (the fixtures' shape).
fn invoice_lines(state: &AppState, from: u64, to: u64, now: u64) -> Vec<InvoiceItem> {
    let world = state.world.read();
    world
        .clusters_of(Cloud::DigitalOcean)
        .flat_map(|c| {
            c.node_pools.iter().filter_map(move |p| {
                let hours = cost::pool_node_hours(p, c.created_at, from, to, now);
                let amount = hours * cost::hourly_price(Cloud::DigitalOcean, &p.machine_type);
                (hours > 0.0).then(|| InvoiceItem {
                    product: "Kubernetes Clusters".into(),
                    resource_id: None,
                    resource_uuid: Some(c.id.clone()),
                    group_description: Some(c.name.clone()),
                    description: Some(format!(
                        "{} ({}) - {} nodes",
                        p.name, p.machine_type, p.count
                    )),
                    amount: cost::usd2(amount),
                    duration: Some(format!("{hours:.0}")),
                    duration_unit: Some("Hours".into()),
                    start_time: Some(rfc3339(from.max(c.created_at))),
                    end_time: Some(rfc3339(to.min(now))),
                    project_name: Some("CloudOps Sandbox".into()),
                })
            })
        })
        .collect()
}

fn invoice_total(items: &[InvoiceItem]) -> String {
    let cents: i64 = items
        .iter()
        .filter_map(|i| i.amount.replace('.', "").parse::<i64>().ok())
        .sum();
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `GET /v2/customers/my/balance`: the month's usage so far is the invoice
/// preview's total; the sandbox account has no prior balance.
async fn balance(State(state): State<AppState>) -> Reply {
    let now = cost::now();
    let usage = invoice_total(&invoice_lines(&state, cost::month_start(now, 0), now, now));
    Ok(json(
        StatusCode::OK,
        &Balance {
            month_to_date_balance: usage.clone(),
            account_balance: "0.00".into(),
            month_to_date_usage: usage,
            generated_at: rfc3339(now),
        },
    ))
}

/// `GET /v2/customers/my/invoices`: the last months' invoices and the
/// month-to-date preview.
async fn list_invoices(State(state): State<AppState>, q: QueryMap) -> Reply {
    let q = query(q);
    let now = cost::now();
    let seed = state.world.read().seed;
    let this_month = cost::month_start(now, 0);
    let preview_items = invoice_lines(&state, this_month, now, now);
    let preview = InvoicePreview {
        invoice_uuid: invoice_uuid(seed, this_month),
        invoice_id: None,
        amount: invoice_total(&preview_items),
        invoice_period: invoice_period(this_month),
        updated_at: Some(rfc3339(now)),
    };
    let past: Vec<InvoicePreview> = (1..=PAST_INVOICES as i64)
        .map(|back| {
            let from = cost::month_start(now, -back);
            let to = cost::month_start(now, 1 - back);
            let items = invoice_lines(&state, from, to, now);
            InvoicePreview {
                invoice_uuid: invoice_uuid(seed, from),
                invoice_id: Some(format!("{}", from / cost::DAY)),
                amount: invoice_total(&items),
                invoice_period: invoice_period(from),
                updated_at: None,
            }
        })
        .collect();
    let (invoices, links, meta) = paged(&state, "/v2/customers/my/invoices", &past, paging(&q));
    Ok(json(
        StatusCode::OK,
        &InvoiceList {
            invoices,
            invoice_preview: Some(preview),
            links: Some(links),
            meta: Some(meta),
        },
    ))
}

/// `GET /v2/customers/my/invoices/{uuid}` (`preview` or the preview's uuid:
/// month to date).
async fn invoice_items(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    q: QueryMap,
) -> Reply {
    let q = query(q);
    let now = cost::now();
    let seed = state.world.read().seed;
    let (from, to) = (0..=PAST_INVOICES as i64)
        .map(|back| {
            (
                cost::month_start(now, -back),
                cost::month_start(now, 1 - back),
            )
        })
        .find(|(from, _)| invoice_uuid(seed, *from) == uuid)
        .or_else(|| (uuid == "preview").then(|| (cost::month_start(now, 0), now)))
        .ok_or_else(not_found)?;
    let all = invoice_lines(&state, from, to.min(now), now);
    let path = format!("/v2/customers/my/invoices/{uuid}");
    let (invoice_items, links, meta) = paged(&state, &path, &all, paging(&q));
    Ok(json(
        StatusCode::OK,
        &InvoiceItemList {
            invoice_items,
            links: Some(links),
            meta: Some(meta),
        },
    ))
}
