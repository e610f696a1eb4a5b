//! EKS: parsed with the sandbox's own EKS models (there is no shared wire
//! module; the SDK and moto check this path in a later slice).

use std::collections::BTreeSet;

use cloudops_sandbox::{
    eks::{
        DescribeClusterResponse, DescribeNodegroupResponse, EksErrorBody, ListClustersResponse,
        ListNodegroupsResponse, NodegroupScalingConfig, UpdateNodegroupConfigRequest,
        UpdateNodegroupConfigResponse,
    },
    Cloud, World,
};

use crate::{json, start};

fn sigv4(region: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=sandbox/20250601/{region}/eks/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
    )
}

/// A signed GET whose 2xx body parses as `T`.
async fn get_signed<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: String,
    auth: &str,
) -> T {
    json(
        http.get(url)
            .header("authorization", auth)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn clusters_per_region_add_up_to_the_world() {
    let world = World::default();
    let want: BTreeSet<String> = world
        .read()
        .clusters_of(Cloud::Aws)
        .map(|c| c.name.clone())
        .collect();
    let (sandbox, http) = start(world);
    let mut got = BTreeSet::new();
    for region in ["us-east-1", "eu-west-1", "ap-south-1"] {
        let resp = http
            .get(format!("{}/aws/clusters", sandbox.base_url()))
            .header("authorization", sigv4(region))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let list: ListClustersResponse = json(resp).await;
        assert_eq!(list.next_token, None);
        for name in list.clusters {
            let d: DescribeClusterResponse = json(
                http.get(format!("{}/aws/clusters/{name}", sandbox.base_url()))
                    .header("authorization", sigv4(region))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(d.cluster.status, "ACTIVE");
            assert!(d.cluster.arn.starts_with(&format!("arn:aws:eks:{region}:")));
            assert!(d.cluster.endpoint.contains("/k8s/"));
            got.insert(name);
        }
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn paging_with_max_results() {
    let world = World::generate_with(1, 40);
    let region_count = world
        .read()
        .clusters_of(Cloud::Aws)
        .filter(|c| c.region == "us-east-1")
        .count();
    assert!(region_count > 2);
    let (sandbox, http) = start(world);
    let (mut got, mut token) = (Vec::new(), None::<String>);
    loop {
        let mut url = format!("{}/aws/clusters?maxResults=2", sandbox.base_url());
        if let Some(t) = &token {
            url.push_str(&format!("&nextToken={t}"));
        }
        let list: ListClustersResponse = json(
            http.get(url)
                .header("authorization", sigv4("us-east-1"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(list.clusters.len() <= 2);
        got.extend(list.clusters);
        token = list.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(got.len(), region_count);
}

#[tokio::test]
async fn update_config_changes_the_desired_size() {
    let world = World::default();
    let c = world.read().clusters_of(Cloud::Aws).next().unwrap().clone();
    let (sandbox, http) = start(world);
    let base = format!("{}/aws/clusters/{}", sandbox.base_url(), c.name);
    let auth = sigv4(&c.region);

    let ngs: ListNodegroupsResponse = get_signed(&http, format!("{base}/node-groups"), &auth).await;
    assert_eq!(ngs.nodegroups.len(), c.node_pools.len());
    let ng = &ngs.nodegroups[0];
    let before: DescribeNodegroupResponse =
        get_signed(&http, format!("{base}/node-groups/{ng}"), &auth).await;
    assert_eq!(before.nodegroup.cluster_name, c.name);
    assert!(!before.nodegroup.instance_types.is_empty());
    let desired = before.nodegroup.scaling_config.desired_size.unwrap() + 1;

    let resp = http
        .post(format!("{base}/node-groups/{ng}/update-config"))
        .header("authorization", &auth)
        .json(&UpdateNodegroupConfigRequest {
            scaling_config: Some(NodegroupScalingConfig {
                min_size: None,
                max_size: None,
                desired_size: Some(desired),
            }),
            client_request_token: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let update: UpdateNodegroupConfigResponse = json(resp).await;
    assert_eq!(update.update.status, "InProgress");
    assert_eq!(update.update.kind, "ConfigUpdate");

    let after: DescribeNodegroupResponse =
        get_signed(&http, format!("{base}/node-groups/{ng}"), &auth).await;
    assert_eq!(after.nodegroup.scaling_config.desired_size, Some(desired));

    // desiredSize above maxSize is refused.
    let resp = http
        .post(format!("{base}/node-groups/{ng}/update-config"))
        .header("authorization", &auth)
        .body(r#"{"scalingConfig":{"maxSize":3,"desiredSize":5}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "InvalidParameterException"
    );
}

#[tokio::test]
async fn errors_have_the_eks_shape() {
    let (sandbox, http) = start(World::default());
    let resp = http
        .get(format!("{}/aws/clusters/nope", sandbox.base_url()))
        .header("authorization", sigv4("us-east-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "ResourceNotFoundException"
    );
    let e: EksErrorBody = json(resp).await;
    assert_eq!(e.message, "No cluster found for name: nope.");

    let resp = http
        .get(format!("{}/aws/clusters", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let _: EksErrorBody = json(resp).await;

    let resp = http
        .get(format!("{}/aws/clusters", sandbox.base_url()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAOTHER/20250601/us-east-1/eks/aws4_request, Signature=0",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "UnrecognizedClientException"
    );
}
