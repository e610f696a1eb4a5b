//! The cost slice (issue 3): each provider's cost API answers in the real
//! shape, parsed with the models that parse the official fixtures, and the
//! amounts follow node hours.

use cloudops_cloud::wire::doks::{InvoiceItemList, InvoiceList, SizeList};
use cloudops_sandbox::{Cloud, World};

use crate::{json, start};

const DO_TOKEN: &str = "sandbox-do";

/// The DOKS lines of the month-to-date preview, summed per cluster name.
async fn do_preview_by_cluster(
    http: &reqwest::Client,
    base: &str,
) -> std::collections::BTreeMap<String, f64> {
    let mut by_cluster = std::collections::BTreeMap::new();
    let mut url = Some(format!(
        "{base}/do/v2/customers/my/invoices/preview?per_page=2"
    ));
    while let Some(u) = url {
        let resp = http.get(&u).bearer_auth(DO_TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let list: InvoiceItemList = json(resp).await;
        for item in &list.invoice_items {
            assert_eq!(item.product, "Kubernetes Clusters");
            assert_eq!(item.duration_unit.as_deref(), Some("Hours"));
            let amount: f64 = item.amount.parse().unwrap();
            *by_cluster
                .entry(item.group_description.clone().unwrap())
                .or_insert(0.0) += amount;
        }
        url = list
            .links
            .as_ref()
            .and_then(|l| l.next())
            .map(str::to_string);
    }
    by_cluster
}

#[tokio::test]
async fn do_sizes_page_through_the_world_machine_types_with_prices() {
    let world = World::default();
    let types: Vec<String> = world
        .read()
        .clusters_of(Cloud::DigitalOcean)
        .flat_map(|c| c.node_pools.iter().map(|p| p.machine_type.clone()))
        .collect();
    let (sandbox, http) = start(world);
    let mut url = Some(format!("{}/do/v2/sizes?per_page=4", sandbox.base_url()));
    let mut sizes = Vec::new();
    let mut pages = 0;
    while let Some(u) = url {
        let resp = http.get(&u).bearer_auth(DO_TOKEN).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let list: SizeList = json(resp).await;
        pages += 1;
        let total = list.meta.as_ref().unwrap().total;
        sizes.extend(list.sizes);
        url = list
            .links
            .as_ref()
            .and_then(|l| l.next())
            .map(str::to_string);
        if url.is_none() {
            assert_eq!(sizes.len() as u64, total);
        }
    }
    assert!(pages >= 2, "paging is exercised");
    for t in &types {
        let s = sizes.iter().find(|s| &s.slug == t).unwrap();
        assert!(
            s.price_hourly > 0.0 && s.price_monthly > s.price_hourly,
            "{s:?}"
        );
        assert!(s.available);
    }
    // Unauthenticated: DO's error.
    let resp = http
        .get(format!("{}/do/v2/sizes", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn do_invoice_preview_groups_by_cluster_and_follows_node_counts() {
    let world = World::default();
    let (names, cluster_id, pool_id, count) = {
        let w = world.read();
        let names: std::collections::BTreeSet<String> = w
            .clusters_of(Cloud::DigitalOcean)
            .map(|c| c.name.clone())
            .collect();
        let c = w.clusters_of(Cloud::DigitalOcean).next().unwrap();
        (
            names,
            c.id.clone(),
            c.node_pools[0].id.clone(),
            c.node_pools[0].count,
        )
    };
    let (sandbox, http) = start(world);
    let base = sandbox.base_url().to_string();

    let list: InvoiceList = json(
        http.get(format!("{base}/do/v2/customers/my/invoices"))
            .bearer_auth(DO_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let preview = list.invoice_preview.unwrap();
    assert!(preview.amount.parse::<f64>().unwrap() > 0.0);
    assert!(preview.updated_at.is_some());
    assert_eq!(list.invoices.len(), 3);
    for inv in &list.invoices {
        assert!(inv.amount.parse::<f64>().unwrap() > 0.0, "{inv:?}");
        // A past invoice's items are served under its uuid.
        let items: InvoiceItemList = json(
            http.get(format!(
                "{base}/do/v2/customers/my/invoices/{}",
                inv.invoice_uuid
            ))
            .bearer_auth(DO_TOKEN)
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert!(!items.invoice_items.is_empty());
    }

    let before = do_preview_by_cluster(&http, &base).await;
    let got: std::collections::BTreeSet<String> = before.keys().cloned().collect();
    assert_eq!(got, names, "grouped by the world's cluster names");
    assert!(before.values().all(|&v| v > 0.0), "{before:?}");

    // Scale a pool up: the open period costs more; other clusters do not move.
    let resp = http
        .put(format!(
            "{base}/do/v2/kubernetes/clusters/{cluster_id}/node_pools/{pool_id}"
        ))
        .bearer_auth(DO_TOKEN)
        .json(&serde_json::json!({"name": "x", "count": count + 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let after = do_preview_by_cluster(&http, &base).await;
    let name = sandbox
        .world()
        .read()
        .cluster(&cluster_id)
        .unwrap()
        .name
        .clone();
    assert!(after[&name] > before[&name], "{before:?} -> {after:?}");
    for (n, v) in &before {
        if n != &name {
            assert_eq!(after[n], *v);
        }
    }

    let resp = http
        .get(format!(
            "{base}/do/v2/customers/my/invoices/no-such-invoice"
        ))
        .bearer_auth(DO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

const AZ_TOKEN: &str = "sandbox-azure";

async fn az_query(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> cloudops_cloud::wire::arm::CostQueryResult {
    let resp = http
        .post(url)
        .bearer_auth(AZ_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    json(resp).await
}

/// Every page of a query, by node resource group.
async fn az_costs(
    http: &reqwest::Client,
    first: &str,
    body: &serde_json::Value,
) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    let mut url = Some(first.to_string());
    while let Some(u) = url {
        let result = az_query(http, &u, body).await;
        let p = &result.properties;
        assert_eq!(p.column("Currency"), Some(p.columns.len() - 1));
        for (group, amount) in p.amounts_by("ResourceGroupName", "Cost") {
            *out.entry(group).or_insert(0.0) += amount;
        }
        url = p.next_link.clone();
    }
    out
}

#[tokio::test]
async fn azure_cost_query_groups_by_node_resource_group_and_follows_node_counts() {
    let world = World::default();
    let (sub, groups, cluster, pool, count) = {
        let w = world.read();
        let groups: std::collections::BTreeSet<String> = w
            .clusters_of(Cloud::Azure)
            .map(|c| format!("MC_rg-fleet-{}_{}_{}", c.region, c.name, c.region))
            .collect();
        let c = w.clusters_of(Cloud::Azure).next().unwrap();
        (
            w.accounts.azure_subscription_id.clone(),
            groups,
            c.id.clone(),
            c.node_pools[0].name.clone(),
            c.node_pools[0].count,
        )
    };
    let (sandbox, http) = start(world);
    let url = format!(
        "{}/arm/subscriptions/{sub}/providers/Microsoft.CostManagement/query?api-version=2025-03-01",
        sandbox.base_url()
    );
    let body = serde_json::json!({
        "type": "ActualCost",
        "timeframe": "MonthToDate",
        "dataset": {
            "granularity": "None",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": "ResourceGroupName"}]
        }
    });
    let result = az_query(&http, &url, &body).await;
    let names: Vec<&str> = result
        .properties
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Cost", "ResourceGroupName", "Currency"]);
    assert_eq!(result.properties.next_link, None);

    // Paged with `$top`: the same rows, through `nextLink`.
    let before = az_costs(&http, &url, &body).await;
    let paged = az_costs(&http, &format!("{url}&$top=1"), &body).await;
    assert_eq!(before, paged);
    let got: std::collections::BTreeSet<String> = before.keys().cloned().collect();
    assert_eq!(got, groups);
    assert!(before.values().all(|&v| v > 0.0), "{before:?}");

    // Daily rows carry a yyyymmdd `UsageDate`.
    let mut daily = body.clone();
    daily["dataset"]["granularity"] = "Daily".into();
    let result = az_query(&http, &url, &daily).await;
    let day = result.properties.column("UsageDate").unwrap();
    assert!(result
        .properties
        .rows
        .iter()
        .all(|r| r[day].as_u64().unwrap() > 20_200_000));

    // The last month is closed: scaling does not move it; this month's does.
    let mut last = body.clone();
    last["timeframe"] = "TheLastMonth".into();
    let last_before = az_costs(&http, &url, &last).await;
    sandbox
        .world()
        .set_node_pool_count(&cluster, &pool, count + 10)
        .unwrap();
    let after = az_costs(&http, &url, &body).await;
    let name = {
        let w = sandbox.world().read();
        let c = w.cluster(&cluster).unwrap();
        format!("MC_rg-fleet-{}_{}_{}", c.region, c.name, c.region)
    };
    assert!(after[&name] > before[&name], "{before:?} -> {after:?}");
    assert_eq!(az_costs(&http, &url, &last).await, last_before);

    // Bad input: the ARM error shape.
    for (bad, code) in [
        (
            serde_json::json!({"type": "Usage"}),
            "InvalidRequestContent",
        ),
        (
            serde_json::json!({"type": "Usage", "timeframe": "Custom", "dataset": {}}),
            "BadRequest",
        ),
        (
            serde_json::json!({"type": "Usage", "timeframe": "MonthToDate",
                "dataset": {"grouping": [{"type": "TagKey", "name": "env"}]}}),
            "BadRequest",
        ),
    ] {
        let resp = http
            .post(&url)
            .bearer_auth(AZ_TOKEN)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let e: cloudops_cloud::wire::arm::ArmErrorResponse = json(resp).await;
        assert_eq!(e.error.code, code, "{bad}");
    }
    let resp = http
        .post(url.replace("2025-03-01", "1999-01-01"))
        .bearer_auth(AZ_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
