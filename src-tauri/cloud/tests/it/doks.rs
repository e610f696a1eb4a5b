//! DigitalOcean: the examples of the OpenAPI fragments (YAML).

use std::path::Path;

use cloudops_cloud::wire::doks::{
    Credentials, InvoiceItemList, InvoiceList, KubernetesCluster, KubernetesClusterList,
    KubernetesClusterResponse, NodePool, NodePoolList, NodePoolResponse, NodePoolUpdate, SizeList,
};
use serde_json::{json, Map, Value};

use crate::support::{assert_round_trip, at, parse, read_yaml};

/// The named examples of a response file, resolved. A response file holds its
/// example in one of three places: `content.application/json.example`,
/// `content.application/json.examples.<name>` (`value`, or a `$ref` to
/// `examples.yml#/<key>` whose target holds `value`), or, in some files,
/// `content.application/json.schema.example`.
fn examples(rel: &str) -> Vec<(String, Value)> {
    let doc = read_yaml(rel);
    let media = at(&doc, "/content/application~1json", rel);
    if let Some(e) = media.get("example") {
        return vec![("example".into(), e.clone())];
    }
    if let Some(e) = media.pointer("/schema/example") {
        return vec![("schema.example".into(), e.clone())];
    }
    let named = media
        .get("examples")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{rel}: no example, schema.example or examples"));
    named
        .iter()
        .map(|(name, ex)| {
            let ex = match ex.get("$ref").and_then(Value::as_str) {
                Some(r) => resolve(rel, r),
                None => ex.clone(),
            };
            let value = at(&ex, "/value", &format!("{rel} example {name}")).clone();
            (name.clone(), value)
        })
        .collect()
}

/// The one example of a response file.
pub(crate) fn example(rel: &str) -> Value {
    let mut all = examples(rel);
    assert_eq!(all.len(), 1, "{rel}: expected one example");
    all.remove(0).1
}

/// Resolves `file.yml#/key[/key…]` relative to the referring file. Only these
/// small local refs occur in the examples we read.
fn resolve(from: &str, reference: &str) -> Value {
    let (file, pointer) = reference
        .split_once('#')
        .unwrap_or_else(|| panic!("{from}: unsupported $ref {reference}"));
    assert!(
        !file.is_empty() && pointer.starts_with('/'),
        "{from}: unsupported $ref {reference}"
    );
    let dir = Path::new(from).parent().expect("a file in a directory");
    let target = dir.join(file);
    let target = target.to_str().expect("UTF-8 path");
    at(&read_yaml(target), pointer, reference).clone()
}

/// The two pools every Kubernetes example carries.
fn assert_example_pools(pools: &[NodePool], node_state: &str, what: &str) {
    assert_eq!(pools.len(), 2, "{what}");
    let front = &pools[0];
    assert_eq!(front.id, "cdda885e-7663-40c8-bc74-3a036c66545d", "{what}");
    assert_eq!(front.name, "frontend-pool", "{what}");
    assert_eq!(front.size, "s-1vcpu-2gb", "{what}");
    assert_eq!(front.count, 3, "{what}");
    assert!(!front.auto_scale, "{what}");
    assert_eq!((front.min_nodes, front.max_nodes), (0, 0), "{what}");
    assert!(
        front
            .tags
            .as_ref()
            .is_some_and(|t| t.iter().any(|t| t == "k8s:worker")),
        "{what}"
    );
    let nodes = front.nodes.as_ref().expect("nodes");
    assert_eq!(nodes.len(), 3, "{what}");
    assert_eq!(nodes[0].name, "adoring-newton-3niq", "{what}");
    assert_eq!(nodes[0].droplet_id.as_deref(), Some("205545370"), "{what}");
    assert_eq!(nodes[0].status.state, node_state, "{what}");
    assert_eq!(nodes[0].created_at, "2018-11-15T16:00:11Z", "{what}");

    let back = &pools[1];
    assert_eq!(back.name, "backend-pool", "{what}");
    assert_eq!(back.size, "g-4vcpu-16gb", "{what}");
    assert_eq!(back.count, 2, "{what}");
    assert!(back.auto_scale, "{what}");
    assert_eq!((back.min_nodes, back.max_nodes), (2, 5), "{what}");
    assert_eq!(back.nodes.as_ref().map(Vec::len), Some(2), "{what}");
}

fn assert_prod_cluster(c: &KubernetesCluster, state: &str, what: &str) {
    assert_eq!(c.id, "bd5f5959-5e1e-4205-a714-a914373942af", "{what}");
    assert_eq!(c.name, "prod-cluster-01", "{what}");
    assert_eq!(c.region, "nyc1", "{what}");
    assert_eq!(c.version, "1.18.6-do.0", "{what}");
    assert_eq!(c.status.state, state, "{what}");
    assert_eq!(c.ipv4.as_deref(), Some("68.183.121.157"), "{what}");
    assert_eq!(
        c.endpoint, "https://bd5f5959-5e1e-4205-a714-a914373942af.k8s.ondigitalocean.com",
        "{what}"
    );
    assert_eq!(
        c.vpc_uuid.as_deref(),
        Some("c33931f2-a26a-4e61-b85c-4e95a2ec431b"),
        "{what}"
    );
    assert_eq!(c.ha, Some(false), "{what}");
    assert_eq!(c.created_at, "2018-11-15T16:00:11Z", "{what}");
    assert_eq!(c.updated_at, "2018-11-15T16:00:11Z", "{what}");
    assert_eq!(c.tags.as_ref().map(|t| t[0].as_str()), Some("production"));
    assert_example_pools(&c.node_pools, state, what);
}

#[test]
fn all_clusters() {
    let rel = "digitalocean/kubernetes/responses/all_clusters.yml";
    let raw = example(rel);
    let list: KubernetesClusterList = parse(&raw, rel);
    assert_eq!(list.kubernetes_clusters.len(), 1);
    let c = &list.kubernetes_clusters[0];
    assert_prod_cluster(c, "provisioning", rel);
    assert_eq!(c.status.message.as_deref(), Some("provisioning"));
    assert_eq!(c.auto_upgrade, Some(false));
    assert_eq!(list.meta.as_ref().map(|m| m.total), Some(1));
    // This example has no `links`; the paging shape is proven on sizes and
    // invoices below.
    assert_eq!(list.links, None);
    assert_round_trip(&list, &raw, rel);
}

#[test]
fn existing_and_updated_cluster() {
    for (rel, auto_upgrade) in [
        (
            "digitalocean/kubernetes/responses/existing_cluster.yml",
            false,
        ),
        (
            "digitalocean/kubernetes/responses/updated_cluster.yml",
            true,
        ),
    ] {
        let raw = example(rel);
        let one: KubernetesClusterResponse = parse(&raw, rel);
        assert_prod_cluster(&one.kubernetes_cluster, "running", rel);
        assert_eq!(one.kubernetes_cluster.status.message, None, "{rel}");
        assert_eq!(one.kubernetes_cluster.auto_upgrade, Some(auto_upgrade));
        assert_round_trip(&one, &raw, rel);
    }
}

#[test]
fn cluster_create_responses() {
    let rel = "digitalocean/kubernetes/responses/cluster_create.yml";
    let all = examples(rel);
    assert_eq!(all.len(), 2, "{rel}");
    for (name, raw) in all {
        let what = format!("{rel} / {name}");
        // Upstream quirk: the multi-pool example nests its single cluster
        // under `kubernetes_clusters` (plural). The API and the other example
        // use `kubernetes_cluster`, which is what we parse.
        let cluster = match raw.get("kubernetes_clusters") {
            Some(inner) => parse::<KubernetesCluster>(inner, &what),
            None => parse::<KubernetesClusterResponse>(&raw, &what).kubernetes_cluster,
        };
        assert_eq!(cluster.name, "prod-cluster-01", "{what}");
        assert_eq!(cluster.status.state, "provisioning", "{what}");
        // A cluster being created has no address yet.
        assert_eq!(cluster.endpoint, "", "{what}");
        assert_eq!(cluster.ipv4.as_deref(), Some(""), "{what}");
        assert!(!cluster.node_pools.is_empty(), "{what}");
    }
}

#[test]
fn all_node_pools() {
    let rel = "digitalocean/kubernetes/responses/all_node_pools.yml";
    let raw = example(rel);
    let list: NodePoolList = parse(&raw, rel);
    assert_example_pools(&list.node_pools, "running", rel);
    assert_round_trip(&list, &raw, rel);
}

#[test]
fn existing_node_pool() {
    let rel = "digitalocean/kubernetes/responses/existing_node_pool.yml";
    let raw = example(rel);
    let one: NodePoolResponse = parse(&raw, rel);
    let p = &one.node_pool;
    assert_eq!(p.name, "frontend-pool");
    assert_eq!(p.count, 3);
    assert!(!p.auto_scale);
    assert_eq!(p.nodes.as_ref().map(Vec::len), Some(3));
    assert_round_trip(&one, &raw, rel);
}

#[test]
fn node_pool_create_has_blank_droplets() {
    let rel = "digitalocean/kubernetes/responses/node_pool_create.yml";
    let raw = example(rel);
    let one: NodePoolResponse = parse(&raw, rel);
    let p = &one.node_pool;
    assert_eq!(p.name, "new-pool");
    assert!(p.auto_scale);
    assert_eq!((p.min_nodes, p.max_nodes), (3, 6));
    let nodes = p.nodes.as_ref().expect("nodes");
    assert!(nodes
        .iter()
        .all(|n| n.status.state == "provisioning" && n.droplet_id.as_deref() == Some(" ")));
    assert_round_trip(&one, &raw, rel);
}

#[test]
fn node_pool_update() {
    let rel = "digitalocean/kubernetes/responses/node_pool_update.yml";
    let raw = example(rel);
    let one: NodePoolResponse = parse(&raw, rel);
    let p = &one.node_pool;
    assert_eq!(p.name, "renamed-pool");
    assert_eq!(p.count, 3);
    assert!(p.auto_scale);
    assert_eq!((p.min_nodes, p.max_nodes), (3, 6));
    assert!(p
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t == "new-tag")));
    assert_round_trip(&one, &raw, rel);

    // The PUT that produces this response, with the user's own tags only.
    let body = NodePoolUpdate {
        name: p.name.clone(),
        count: p.count,
        auto_scale: Some(p.auto_scale),
        min_nodes: Some(p.min_nodes),
        max_nodes: Some(p.max_nodes),
        tags: Some(vec![
            "production".into(),
            "web-team".into(),
            "front-end".into(),
            "new-tag".into(),
        ]),
    };
    let sent = serde_json::to_value(&body).unwrap();
    assert_eq!(
        sent,
        json!({
            "name": "renamed-pool", "count": 3, "auto_scale": true,
            "min_nodes": 3, "max_nodes": 6,
            "tags": ["production", "web-team", "front-end", "new-tag"]
        })
    );
    assert_eq!(parse::<NodePoolUpdate>(&sent, "update body"), body);
}

#[test]
fn credentials_from_the_per_field_examples() {
    // The response file has no example; the model gives one per property.
    let rel = "digitalocean/kubernetes/models/credentials.yml";
    let model = read_yaml(rel);
    let props = at(&model, "/properties", rel).as_object().expect("object");
    let raw: Map<String, Value> = props
        .iter()
        .filter_map(|(k, p)| p.get("example").map(|e| (k.clone(), e.clone())))
        .collect();
    let raw = Value::Object(raw);
    let creds: Credentials = parse(&raw, rel);
    assert_eq!(
        creds.server,
        "https://bd5f5959-5e1e-4205-a714-a914373942af.k8s.ondigitalocean.com"
    );
    assert_eq!(creds.token.as_deref(), Some("$DIGITALOCEAN_TOKEN"));
    assert_eq!(
        creds.expires_at.as_deref(),
        Some("2019-11-09T11:50:28.889080521Z")
    );
    let ca = creds.certificate_authority().expect("base64");
    let ca = String::from_utf8(ca).expect("PEM is text");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----\n"), "{ca}");
    assert!(ca.trim_end().ends_with("-----END CERTIFICATE-----"), "{ca}");
    assert_round_trip(&creds, &raw, rel);
}

#[test]
fn all_sizes_with_paging() {
    let rel = "digitalocean/sizes/responses/all_sizes.yml";
    let raw = example(rel);
    let list: SizeList = parse(&raw, rel);
    assert_eq!(list.sizes.len(), 1);
    let s = &list.sizes[0];
    assert_eq!(s.slug, "s-1vcpu-1gb");
    assert_eq!((s.memory, s.vcpus, s.disk), (1024, 1, 25));
    assert_eq!(s.price_monthly, 5.0);
    assert_eq!(s.price_hourly, 0.00743999984115362);
    assert_eq!(s.regions.len(), 13);
    assert!(s.regions.iter().any(|r| r == "nyc1"));
    assert!(s.available);
    let links = list.links.as_ref().expect("links");
    assert_eq!(
        links.next(),
        Some("https://api.digitalocean.com/v2/sizes?page=2&per_page=1")
    );
    let pages = links.pages.as_ref().expect("pages");
    assert_eq!(
        pages.last.as_deref(),
        Some("https://api.digitalocean.com/v2/sizes?page=64&per_page=1")
    );
    assert_eq!((pages.first.as_ref(), pages.prev.as_ref()), (None, None));
    assert_eq!(list.meta.as_ref().map(|m| m.total), Some(64));
    assert_round_trip(&list, &raw, rel);
}

#[test]
fn invoices_with_preview() {
    let rel = "digitalocean/billing/responses/invoices.yml";
    let raw = example(rel);
    let list: InvoiceList = parse(&raw, rel);
    assert_eq!(list.invoices.len(), 2);
    assert_eq!(
        list.invoices[0].invoice_uuid,
        "22737513-0ea7-4206-8ceb-98a575af7681"
    );
    assert_eq!(list.invoices[0].invoice_id.as_deref(), Some("12345678"));
    assert_eq!(list.invoices[0].amount, "12.34");
    assert_eq!(list.invoices[0].invoice_period, "2019-12");
    assert_eq!(list.invoices[0].updated_at, None);
    let preview = list.invoice_preview.as_ref().expect("invoice_preview");
    assert_eq!(preview.invoice_uuid, "1afe95e6-0958-4eb0-8d9a-9c5060d3ef03");
    assert_eq!(preview.amount, "34.56");
    assert_eq!(preview.invoice_period, "2020-02");
    assert_eq!(preview.updated_at.as_deref(), Some("2020-02-23T06:31:50Z"));
    assert_eq!(
        list.links.as_ref().and_then(|l| l.next()),
        Some("https://api.digitalocean.com/v2/customers/my/invoices?page=2&per_page=2")
    );
    assert_eq!(list.meta.as_ref().map(|m| m.total), Some(70));
    assert_round_trip(&list, &raw, rel);
}

#[test]
fn invoice_items() {
    let rel = "digitalocean/billing/responses/invoice.yml";
    let raw = example(rel);
    let list: InvoiceItemList = parse(&raw, rel);
    assert_eq!(list.invoice_items.len(), 2);
    let doks = &list.invoice_items[0];
    assert_eq!(doks.product, "Kubernetes Clusters");
    assert_eq!(doks.group_description.as_deref(), Some("my-doks-cluster"));
    assert_eq!(
        doks.resource_uuid.as_deref(),
        Some("711157cb-37c8-4817-b371-44fa3504a39c")
    );
    assert_eq!(doks.amount, "12.34");
    assert_eq!(doks.duration.as_deref(), Some("744"));
    assert_eq!(doks.duration_unit.as_deref(), Some("Hours"));
    assert_eq!(doks.start_time.as_deref(), Some("2020-01-01T00:00:00Z"));
    assert_eq!(doks.end_time.as_deref(), Some("2020-02-01T00:00:00Z"));
    let spaces = &list.invoice_items[1];
    assert_eq!(spaces.product, "Spaces Subscription");
    assert_eq!(spaces.amount, "34.45");
    assert_eq!(
        (
            spaces.group_description.as_ref(),
            spaces.resource_uuid.as_ref()
        ),
        (None, None)
    );
    assert!(list.links.as_ref().and_then(|l| l.next()).is_some());
    assert_eq!(list.meta.as_ref().map(|m| m.total), Some(6));
    assert_round_trip(&list, &raw, rel);
}

#[test]
fn invoice_item_model_examples_include_project_and_resource_id() {
    // The only place `resource_id` and `project_name` have example values.
    let rel = "digitalocean/billing/models/invoice_item.yml";
    let model = read_yaml(rel);
    let props = at(&model, "/properties", rel).as_object().expect("object");
    let raw = Value::Object(
        props
            .iter()
            .filter_map(|(k, p)| p.get("example").map(|e| (k.clone(), e.clone())))
            .collect(),
    );
    let item: cloudops_cloud::wire::doks::InvoiceItem = parse(&raw, rel);
    assert_eq!(item.resource_id.as_deref(), Some("2353624"));
    assert_eq!(item.project_name.as_deref(), Some("web"));
    assert_round_trip(&item, &raw, rel);
}
