//! AKS: the ARM x-ms-examples of API version 2025-10-01.

use cloudops_cloud::wire::arm::{
    AgentPool, AgentPoolScaleRequest, ArmErrorResponse, ArmList, CredentialResults, ManagedCluster,
    Subscription, API_VERSION,
};
use serde_json::{json, Value};

use crate::support::{assert_round_trip, at, parse, read_json};

/// Every AKS example the fixtures README lists for these models.
const EXAMPLES: [&str; 8] = [
    "ManagedClustersList.json",
    "ManagedClustersListByResourceGroup.json",
    "ManagedClustersGet.json",
    "ManagedClustersListClusterUserCredentials.json",
    "AgentPoolsList.json",
    "AgentPoolsGet.json",
    "AgentPoolsCreate_Update.json",
    "AgentPools_Update.json",
];

fn example(file: &str) -> Value {
    read_json(&format!("azure/{file}"))
}

/// `responses["<code>"].body` of an example.
pub(crate) fn body(file: &str, code: &str) -> Value {
    at(&example(file), &format!("/responses/{code}/body"), file).clone()
}

#[test]
fn the_examples_are_for_our_api_version() {
    for file in EXAMPLES {
        assert_eq!(
            at(&example(file), "/parameters/api-version", file),
            API_VERSION,
            "{file}"
        );
    }
}

fn assert_clustername1(c: &ManagedCluster, what: &str) {
    assert_eq!(c.name, "clustername1", "{what}");
    assert_eq!(c.location, "location1", "{what}");
    assert!(
        c.id.ends_with("/providers/Microsoft.ContainerService/managedClusters/clustername1"),
        "{what}: {}",
        c.id
    );
    let tags = c.tags.as_ref().expect("tags");
    assert_eq!(tags.get("tier").map(String::as_str), Some("production"));
    assert_eq!(tags.get("archv2").map(String::as_str), Some(""));

    let p = &c.properties;
    assert_eq!(p.provisioning_state, "Succeeded");
    assert_eq!(p.kubernetes_version, "1.9.6");
    assert_eq!(p.current_kubernetes_version.as_deref(), Some("1.9.6"));
    assert_eq!(
        p.fqdn.as_deref(),
        Some("dnsprefix1-abcd1234.hcp.eastus.azmk8s.io")
    );
    assert_eq!(
        p.node_resource_group.as_deref(),
        Some("MC_rg1_clustername1_location1")
    );
    // Not in these examples: a public, non-Entra cluster with no power state.
    assert_eq!(p.private_fqdn, None);
    assert_eq!(p.aad_profile, None);
    assert_eq!(p.power_state, None);

    let pools = p.agent_pool_profiles.as_ref().expect("agentPoolProfiles");
    assert_eq!(pools.len(), 1);
    let pool = &pools[0];
    assert_eq!(pool.name, "nodepool1");
    assert_eq!(pool.count, Some(3));
    assert_eq!(pool.vm_size.as_deref(), Some("Standard_DS1_v2"));
    assert_eq!(pool.os_type.as_deref(), Some("Linux"));
    assert_eq!(pool.provisioning_state.as_deref(), Some("Succeeded"));
    assert_eq!(pool.enable_auto_scaling, None);
    assert_eq!((pool.min_count, pool.max_count), (None, None));
}

#[test]
fn managed_clusters_list() {
    for file in [
        "ManagedClustersList.json",
        "ManagedClustersListByResourceGroup.json",
    ] {
        let raw = body(file, "200");
        let list: ArmList<ManagedCluster> = parse(&raw, file);
        assert_eq!(list.value.len(), 1, "{file}");
        assert_clustername1(&list.value[0], file);
        // Single-page examples: no nextLink to follow.
        assert_eq!(list.next_link, None, "{file}");
        assert_round_trip(&list, &raw, file);
    }
}

#[test]
fn managed_cluster_get() {
    let raw = body("ManagedClustersGet.json", "200");
    let cluster: ManagedCluster = parse(&raw, "ManagedClustersGet");
    assert_clustername1(&cluster, "ManagedClustersGet");
    assert!(
        cluster.id.contains("/resourceGroups/rg1/"),
        "{}",
        cluster.id
    );
    assert_round_trip(&cluster, &raw, "ManagedClustersGet");
}

#[test]
fn list_cluster_user_credentials() {
    let file = "ManagedClustersListClusterUserCredentials.json";
    let raw = body(file, "200");
    let creds: CredentialResults = parse(&raw, file);
    assert_eq!(creds.kubeconfigs.len(), 1);
    let cred = &creds.kubeconfigs[0];
    assert_eq!(cred.name, "credentialName1");
    // The example's value is a placeholder, not a kubeconfig; what matters is
    // that it is decoded, not passed on as base64.
    assert_eq!(cred.kubeconfig().expect("base64"), b"credentialValue1");
    assert_round_trip(&creds, &raw, file);
}

fn assert_agentpool1(pool: &AgentPool, what: &str) {
    assert_eq!(pool.name, "agentpool1", "{what}");
    assert!(
        pool.id
            .ends_with("/managedClusters/clustername1/agentPools/agentpool1"),
        "{what}: {}",
        pool.id
    );
    let p = &pool.properties;
    assert_eq!(p.count, Some(3), "{what}");
    assert_eq!(p.vm_size.as_deref(), Some("Standard_DS1_v2"), "{what}");
    assert_eq!(p.orchestrator_version.as_deref(), Some("1.9.6"), "{what}");
    assert_eq!(p.os_type.as_deref(), Some("Linux"), "{what}");
}

#[test]
fn agent_pools_list_and_get() {
    let raw = body("AgentPoolsList.json", "200");
    let list: ArmList<AgentPool> = parse(&raw, "AgentPoolsList");
    assert_eq!(list.value.len(), 1);
    assert_eq!(list.next_link, None);
    assert_agentpool1(&list.value[0], "AgentPoolsList");
    assert_eq!(
        list.value[0].properties.provisioning_state.as_deref(),
        Some("Succeeded")
    );
    assert_round_trip(&list, &raw, "AgentPoolsList");

    let raw = body("AgentPoolsGet.json", "200");
    let pool: AgentPool = parse(&raw, "AgentPoolsGet");
    assert_agentpool1(&pool, "AgentPoolsGet");
    assert_eq!(pool.properties.enable_auto_scaling, None);
    assert_round_trip(&pool, &raw, "AgentPoolsGet");
}

#[test]
fn agent_pool_put_responses() {
    // (file, status code, provisioningState, mode, autoscaler (min, max))
    let cases = [
        (
            "AgentPoolsCreate_Update.json",
            "200",
            "Succeeded",
            Some("User"),
            None,
        ),
        (
            "AgentPoolsCreate_Update.json",
            "201",
            "Creating",
            Some("User"),
            None,
        ),
        (
            "AgentPools_Update.json",
            "200",
            "Succeeded",
            None,
            Some((2, 2)),
        ),
        (
            "AgentPools_Update.json",
            "201",
            "Updating",
            None,
            Some((2, 2)),
        ),
    ];
    for (file, code, state, mode, autoscale) in cases {
        let what = format!("{file} {code}");
        let raw = body(file, code);
        let pool: AgentPool = parse(&raw, &what);
        assert_agentpool1(&pool, &what);
        let p = &pool.properties;
        assert_eq!(p.provisioning_state.as_deref(), Some(state), "{what}");
        assert_eq!(p.mode.as_deref(), mode, "{what}");
        match autoscale {
            Some((min, max)) => {
                assert_eq!(p.enable_auto_scaling, Some(true), "{what}");
                assert_eq!((p.min_count, p.max_count), (Some(min), Some(max)), "{what}");
            }
            None => {
                assert_eq!(p.enable_auto_scaling, None, "{what}");
                assert_eq!((p.min_count, p.max_count), (None, None), "{what}");
            }
        }
        assert_round_trip(&pool, &raw, &what);
    }
}

#[test]
fn scale_request_round_trips_the_request_examples() {
    // (file, count, enableAutoScaling, minCount, maxCount)
    let cases = [
        ("AgentPoolsCreate_Update.json", Some(3), None, None, None),
        (
            "AgentPools_Update.json",
            Some(3),
            Some(true),
            Some(2),
            Some(2),
        ),
    ];
    for (file, count, auto, min, max) in cases {
        let raw = at(&example(file), "/parameters/parameters", file).clone();
        let req: AgentPoolScaleRequest = parse(&raw, file);
        let p = &req.properties;
        assert_eq!(
            (p.count, p.enable_auto_scaling, p.min_count, p.max_count),
            (count, auto, min, max),
            "{file}"
        );
        assert_eq!(p.other.get("vmSize"), Some(&json!("Standard_DS1_v2")));
        assert!(
            !p.other.contains_key("count"),
            "{file}: count leaked into other"
        );
        // Nothing is lost or added: the body we would send is the example.
        assert_eq!(serde_json::to_value(&req).unwrap(), raw, "{file}");
    }
}

#[test]
fn scale_request_built_from_a_read_pool() {
    let current = body("AgentPoolsCreate_Update.json", "200");
    let props = current["properties"].as_object().expect("properties");
    let sent = serde_json::to_value(AgentPoolScaleRequest::fixed(5).keeping(props)).unwrap();
    let sent = sent["properties"].as_object().expect("properties");
    assert_eq!(sent["count"], 5);
    assert_eq!(sent["enableAutoScaling"], false);
    for kept in [
        "vmSize",
        "mode",
        "nodeTaints",
        "nodeLabels",
        "scaleSetPriority",
    ] {
        assert_eq!(sent.get(kept), props.get(kept), "{kept}");
    }
    for dropped in [
        "provisioningState",
        "currentOrchestratorVersion",
        "nodeImageVersion",
        "minCount",
        "maxCount",
    ] {
        assert!(!sent.contains_key(dropped), "{dropped} was sent");
    }
}

#[test]
fn next_link_is_read_and_written_as_arm_spells_it() {
    // No fixture spans two pages, so this is the documented shape.
    let raw = json!({
        "value": [],
        "nextLink": "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/managedClusters?api-version=2025-10-01&%24skipToken=abc"
    });
    let page: ArmList<ManagedCluster> = parse(&raw, "page");
    assert!(page
        .next_link
        .as_deref()
        .is_some_and(|l| l.contains("%24skipToken=abc")));
    assert_round_trip(&page, &raw, "page");
}

#[test]
fn arm_error_response() {
    let raw = json!({"error": {
        "code": "InvalidParameter",
        "message": "The value of parameter agentPoolProfile.count is invalid.",
        "target": "agentPoolProfile.count",
        "details": [{"code": "OutOfRange", "message": "count must be between 0 and 1000"}]
    }});
    let e: ArmErrorResponse = parse(&raw, "error");
    assert_eq!(e.error.code, "InvalidParameter");
    assert_eq!(e.error.target.as_deref(), Some("agentPoolProfile.count"));
    let details = e.error.details.as_ref().expect("details");
    assert_eq!(details[0].code, "OutOfRange");
    assert_eq!(details[0].details, None);
    assert_round_trip(&e, &raw, "error");

    let bare: ArmErrorResponse = parse(
        &json!({"error": {"code": "AuthorizationFailed", "message": "denied"}}),
        "bare error",
    );
    assert_eq!((bare.error.target, bare.error.details), (None, None));
}

#[test]
fn subscriptions_list() {
    // The shape of GET /subscriptions?api-version=2022-12-01.
    let raw = json!({
        "value": [{
            "id": "/subscriptions/11111111-2222-3333-4444-555555555555",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": "11111111-2222-3333-4444-555555555555",
            "tenantId": "66666666-7777-8888-9999-000000000000",
            "displayName": "Production",
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"}
        }],
        "count": {"type": "Total", "value": 1}
    });
    let list: ArmList<Subscription> = parse(&raw, "subscriptions");
    let s = &list.value[0];
    assert_eq!(s.subscription_id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(s.display_name, "Production");
    assert_eq!(s.state, "Enabled");
    assert_round_trip(&list, &raw, "subscriptions");
}

/// The Cost Management query examples (API version 2025-03-01).
const COST_EXAMPLES: [&str; 3] = [
    "SubscriptionQuery.json",
    "SubscriptionQueryGrouping.json",
    "ResourceGroupQuery.json",
];

#[test]
fn cost_query_requests_and_responses_round_trip() {
    use cloudops_cloud::wire::arm::{CostQuery, CostQueryResult, COST_API_VERSION};
    for file in COST_EXAMPLES {
        let doc = example(file);
        assert_eq!(
            at(&doc, "/parameters/api-version", file),
            COST_API_VERSION,
            "{file}"
        );
        let request = at(&doc, "/parameters/parameters", file).clone();
        let query: CostQuery = parse(&request, file);
        assert_round_trip(&query, &request, file);
        let response = body(file, "200");
        let result: CostQueryResult = parse(&response, file);
        assert_round_trip(&result, &response, file);
        let p = &result.properties;
        assert_eq!(p.next_link, None, "{file}");
        assert!(!p.rows.is_empty(), "{file}");
        for row in &p.rows {
            assert_eq!(row.len(), p.columns.len(), "{file}");
        }
    }
}

#[test]
fn cost_query_grouping_reads_amounts_by_resource_group() {
    use cloudops_cloud::wire::arm::{CostQuery, CostQueryResult};
    let file = "SubscriptionQueryGrouping.json";
    let doc = example(file);
    let query: CostQuery = parse(at(&doc, "/parameters/parameters", file), file);
    assert_eq!(query.kind, "Usage");
    assert_eq!(query.timeframe, "TheLastMonth");
    let agg = &query.dataset.aggregation.as_ref().unwrap()["totalCost"];
    assert_eq!(
        (agg.name.as_str(), agg.function.as_str()),
        ("PreTaxCost", "Sum")
    );
    let grouping = query.dataset.grouping.as_ref().unwrap();
    assert_eq!(grouping[0].kind, "Dimension");
    assert_eq!(grouping[0].name, "ResourceGroup");

    let result: CostQueryResult = parse(&body(file, "200"), file);
    let p = &result.properties;
    assert_eq!(p.column("pretaxcost"), Some(0));
    assert_eq!(p.column("Currency"), Some(2));
    let amounts = p.amounts_by("ResourceGroup", "PreTaxCost");
    assert_eq!(amounts.len(), 4);
    assert_eq!(amounts[1].0, "Ict_StratAndPlan_GoldSprova_Prod_1");
    assert!((amounts[1].1 - 218.687_957_419_354_86).abs() < 1e-9);
    assert!(p.amounts_by("NoSuchColumn", "PreTaxCost").is_empty());

    // The daily example has a `UsageDate` column of yyyymmdd numbers.
    let file = "SubscriptionQuery.json";
    let result: CostQueryResult = parse(&body(file, "200"), file);
    let day = result.properties.column("UsageDate").unwrap();
    assert_eq!(result.properties.rows[0][day], json!(20180331));
}
