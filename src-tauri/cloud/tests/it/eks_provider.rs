//! The EKS provider against two witnesses (BRIEF §6, §10): moto, started by
//! the test, and the sandbox. The same provider calls run against both, and
//! a third test checks that they agree (issue 3's acceptance for EKS).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use aws_credential_types::Credentials;
use aws_sdk_eks::{
    config::{BehaviorVersion, Region},
    types::{NodegroupScalingConfig, VpcConfigRequest},
    Client,
};
use base64::Engine as _;
use cloudops_cloud::{
    providers::{
        aws::{AwsProvider, StaticKeys, TOKEN_PREFIX},
        AccessToken, ClusterLocator, DiscoveredCluster, Provider, Scope,
    },
    resilience::{Breakers, CallPolicy},
};
use cloudops_core::model::NodePoolSummary;
use cloudops_sandbox::{Cloud, RunningSandbox, Sandbox, World};

use crate::moto::Moto;

mod bad_input;
mod token;

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

fn policy() -> CallPolicy {
    CallPolicy {
        timeout: Duration::from_secs(15),
        retries: 1,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

fn keys(id: &str, secret: &str) -> StaticKeys {
    StaticKeys {
        access_key_id: id.into(),
        secret_access_key: secret.into(),
        session_token: None,
    }
}

fn provider(endpoint: &str, regions: &[&str], keys: StaticKeys) -> AwsProvider {
    AwsProvider::with_static_keys(
        "test",
        regions.iter().map(|r| r.to_string()).collect(),
        keys,
        Some(endpoint),
        policy(),
        Arc::new(Breakers::default()),
    )
    .expect("provider")
}

fn moto_provider(moto: &Moto, regions: &[&str]) -> AwsProvider {
    provider(moto.url(), regions, keys("testing", "testing"))
}

fn sandbox_provider(sandbox: &RunningSandbox, regions: &[&str]) -> AwsProvider {
    provider(
        &format!("{}/aws", sandbox.base_url()),
        regions,
        keys(
            cloudops_sandbox::AWS_ACCESS_KEY_ID,
            cloudops_sandbox::AWS_SECRET_ACCESS_KEY,
        ),
    )
}

/// A plain SDK client for setting moto up and for reading it back: the
/// witness is checked with a client that is not the code under test.
fn moto_admin(moto: &Moto, region: &str) -> Client {
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .endpoint_url(moto.url())
        .build();
    Client::from_conf(conf)
}

/// Unique names per test run, so that nothing depends on moto's state.
fn random_name(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:x}{nanos:x}{n}", std::process::id() & 0xfff)
}

struct PoolSpec<'a> {
    name: &'a str,
    min: i32,
    max: i32,
    desired: i32,
    instance: &'a str,
}

async fn moto_create(admin: &Client, cluster: &str, version: &str, pools: &[PoolSpec<'_>]) {
    admin
        .create_cluster()
        .name(cluster)
        .version(version)
        .role_arn("arn:aws:iam::123456789012:role/eks-cluster-role")
        .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("subnet-1").build())
        .send()
        .await
        .expect("moto CreateCluster");
    for p in pools {
        admin
            .create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(p.name)
            .node_role("arn:aws:iam::123456789012:role/eks-node-role")
            .subnets("subnet-1")
            .instance_types(p.instance)
            .scaling_config(
                NodegroupScalingConfig::builder()
                    .min_size(p.min)
                    .max_size(p.max)
                    .desired_size(p.desired)
                    .build(),
            )
            .send()
            .await
            .expect("moto CreateNodegroup");
    }
}

async fn moto_scaling(admin: &Client, cluster: &str, pool: &str) -> (i32, i32, i32) {
    let out = admin
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(pool)
        .send()
        .await
        .expect("moto DescribeNodegroup");
    let s = out.nodegroup().unwrap().scaling_config().unwrap();
    (
        s.min_size().unwrap(),
        s.desired_size().unwrap(),
        s.max_size().unwrap(),
    )
}

fn scope(region: &str) -> Scope {
    Scope::new(region, format!("aws/{region}"))
}

fn pool(name: &str, count: u32, min: u32, max: u32, machine: &str) -> NodePoolSummary {
    NodePoolSummary {
        name: name.into(),
        count,
        min: Some(min),
        max: Some(max),
        machine_type: Some(machine.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_discovery_finds_every_cluster_in_two_regions_with_nodegroup_sizes() {
    let moto = Moto::start().await;
    let (us, eu) = (moto_admin(&moto, US), moto_admin(&moto, EU));
    let us_names: BTreeSet<String> = (0..3).map(|_| random_name("use")).collect();
    let eu_names: BTreeSet<String> = (0..2).map(|_| random_name("euw")).collect();
    for name in &us_names {
        moto_create(
            &us,
            name,
            "1.31",
            &[PoolSpec {
                name: "general",
                min: 1,
                max: 6,
                desired: 3,
                instance: "m6i.large",
            }],
        )
        .await;
    }
    for name in &eu_names {
        moto_create(
            &eu,
            name,
            "1.30",
            &[
                PoolSpec {
                    name: "system",
                    min: 2,
                    max: 4,
                    desired: 2,
                    instance: "t3.medium",
                },
                PoolSpec {
                    name: "batch",
                    min: 0,
                    max: 10,
                    desired: 5,
                    instance: "c6i.xlarge",
                },
            ],
        )
        .await;
    }

    // Pages of 2: three clusters in us-east-1 need a nextToken.
    let p = moto_provider(&moto, &[US, EU]).with_page_size(2);
    let scopes = p.scopes().await.unwrap();
    assert_eq!(
        scopes.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [US, EU]
    );

    let found_us = p.discover(&scopes[0]).await.unwrap();
    let found_eu = p.discover(&scopes[1]).await.unwrap();
    let names = |cs: &[DiscoveredCluster]| -> BTreeSet<String> {
        cs.iter().map(|c| c.locator.name.clone()).collect()
    };
    assert_eq!(names(&found_us), us_names);
    assert_eq!(names(&found_eu), eu_names);

    for c in &found_us {
        assert_eq!(c.locator.region, US);
        assert_eq!(c.locator.scope, US);
        assert!(
            c.locator.native_id.starts_with("arn:aws:eks:us-east-1:"),
            "{}",
            c.locator.native_id
        );
        assert_eq!(c.status, "ACTIVE");
        assert_eq!(c.version.as_deref(), Some("1.31"));
        assert!(c.endpoint.is_some());
        assert_eq!(c.node_pools, [pool("general", 3, 1, 6, "m6i.large")]);
    }
    for c in &found_eu {
        assert_eq!(c.version.as_deref(), Some("1.30"));
        let mut pools = c.node_pools.clone();
        pools.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(
            pools,
            [
                pool("batch", 5, 0, 10, "c6i.xlarge"),
                pool("system", 2, 2, 4, "t3.medium")
            ]
        );
    }

    // describe() is one cluster of the same shape.
    let one = &found_eu[0];
    assert_eq!(&p.describe(&one.locator).await.unwrap(), one);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_scale_node_pool_changes_desired_size_within_bounds() {
    let moto = Moto::start().await;
    let admin = moto_admin(&moto, EU);
    let cluster = random_name("scale");
    moto_create(
        &admin,
        &cluster,
        "1.31",
        &[PoolSpec {
            name: "workers",
            min: 1,
            max: 5,
            desired: 2,
            instance: "m6i.large",
        }],
    )
    .await;
    let p = moto_provider(&moto, &[EU]);
    let c = p
        .discover(&scope(EU))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.locator.name == cluster)
        .unwrap();

    let out = p.scale_node_pool(&c.locator, "workers", 4).await.unwrap();
    assert_eq!((out.pool.as_str(), out.requested), ("workers", 4));
    assert!(out.operation.as_deref().is_some_and(|id| !id.is_empty()));
    assert_eq!(moto_scaling(&admin, &cluster, "workers").await, (1, 4, 5));

    // Outside [min, max]: refused before the call, moto unchanged.
    let err = p
        .scale_node_pool(&c.locator, "workers", 9)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "rejected", "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("minSize 1") && msg.contains("maxSize 5"),
        "{msg}"
    );
    assert_eq!(moto_scaling(&admin, &cluster, "workers").await, (1, 4, 5));

    let err = p.scale_node_pool(&c.locator, "nope", 2).await.unwrap_err();
    assert_eq!(err.kind(), "not_found", "{err}");
    assert!(err.to_string().contains(EU), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_fake_ca_is_a_decode_error_not_a_panic() {
    // moto's certificateAuthority.data is random letters, not base64 PEM
    // (BRIEF §10: its endpoint and CA are fake).
    let moto = Moto::start().await;
    let cluster = random_name("ca");
    moto_create(&moto_admin(&moto, US), &cluster, "1.31", &[]).await;
    let p = moto_provider(&moto, &[US]);
    let c = p.discover(&scope(US)).await.unwrap();
    assert_eq!(c.len(), 1);
    assert!(c[0].node_pools.is_empty());
    let err = p.connect(&c[0].locator).await.unwrap_err();
    assert_eq!(err.kind(), "bad_reply", "{err}");
    assert!(err.to_string().contains(&cluster), "{err}");
}

fn world_aws(world: &World) -> Vec<cloudops_sandbox::Cluster> {
    world.read().clusters_of(Cloud::Aws).cloned().collect()
}

fn regions_of(clusters: &[cloudops_sandbox::Cluster]) -> Vec<String> {
    let set: BTreeSet<String> = clusters.iter().map(|c| c.region.clone()).collect();
    set.into_iter().collect()
}

async fn discover_all(p: &AwsProvider) -> Vec<DiscoveredCluster> {
    let mut all = Vec::new();
    for s in p.scopes().await.unwrap() {
        all.extend(p.discover(&s).await.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_discovery_returns_the_worlds_aws_clusters() {
    let world = World::generate(42);
    let want = world_aws(&world);
    assert!(!want.is_empty());
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world).unwrap();
    let mut regions = regions_of(&want);
    regions.push("sa-east-1".into()); // a region with no clusters is empty, not an error
    let region_refs: Vec<&str> = regions.iter().map(String::as_str).collect();
    let p = sandbox_provider(&sandbox, &region_refs).with_page_size(1);

    let got = discover_all(&p).await;
    let got: BTreeMap<&str, &DiscoveredCluster> =
        got.iter().map(|c| (c.locator.name.as_str(), c)).collect();
    assert_eq!(got.len(), want.len());
    for w in &want {
        let g = got[w.name.as_str()];
        assert_eq!(g.locator.region, w.region);
        assert_eq!(g.version.as_deref(), Some(w.k8s_minor.as_str()));
        assert_eq!(g.status, "ACTIVE");
        assert!(g
            .endpoint
            .as_deref()
            .is_some_and(|e| e.ends_with(&format!("/k8s/{}", w.id))));
        let want_pools: Vec<NodePoolSummary> = w
            .node_pools
            .iter()
            .map(|np| {
                pool(
                    &np.name,
                    np.count,
                    np.min_count,
                    np.max_count,
                    &np.machine_type,
                )
            })
            .collect();
        assert_eq!(g.node_pools, want_pools, "{}", w.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_scale_changes_the_worlds_pool_count() {
    let world = World::generate(42);
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world.clone()).unwrap();
    // A pool with room to grow or shrink.
    let (cluster, np) = world_aws(&world)
        .into_iter()
        .find_map(|c| {
            let np = c
                .node_pools
                .iter()
                .find(|p| p.min_count < p.max_count)?
                .clone();
            Some((c, np))
        })
        .expect("an AWS pool whose min < max");
    let target = if np.count < np.max_count {
        np.count + 1
    } else {
        np.count - 1
    };
    let p = sandbox_provider(&sandbox, &[&cluster.region]);
    let found = p.discover(&scope(&cluster.region)).await.unwrap();
    let c = found
        .iter()
        .find(|c| c.locator.name == cluster.name)
        .unwrap();

    let out = p
        .scale_node_pool(&c.locator, &np.name, target)
        .await
        .unwrap();
    assert!(out.operation.is_some());
    assert!(!out.completed, "the sandbox reports InProgress");
    let now = world
        .read()
        .cluster(&cluster.id)
        .unwrap()
        .node_pool(&np.name)
        .unwrap()
        .count;
    assert_eq!(now, target);
    let again = p.describe(&c.locator).await.unwrap();
    let pool = again.node_pools.iter().find(|p| p.name == np.name).unwrap();
    assert_eq!(pool.count, target);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_connect_gives_endpoint_ca_and_an_eks_token() {
    let world = World::generate(42);
    let first = world_aws(&world).remove(0);
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world).unwrap();
    let p = sandbox_provider(&sandbox, &[&first.region]);
    let locator = ClusterLocator {
        native_id: String::new(),
        scope: first.region.clone(),
        region: first.region.clone(),
        name: first.name.clone(),
    };
    let conn = p.connect(&locator).await.unwrap();
    assert_eq!(
        conn.endpoint,
        format!("{}/k8s/{}", sandbox.base_url(), first.id)
    );
    let ca = String::from_utf8(conn.ca_pem.clone().unwrap()).unwrap();
    assert!(ca.contains("-----BEGIN CERTIFICATE-----"));
    let token = conn.tokens.token().await.unwrap();
    assert!(token.secret().starts_with(TOKEN_PREFIX));
    let url = decode_token(&token);
    assert_eq!(
        url.host_str(),
        Some(format!("sts.{}.amazonaws.com", first.region).as_str())
    );

    // The cluster's API (the sandbox's Kubernetes emulation) takes the token.
    let http = reqwest::Client::new();
    let namespaces = format!("{}/api/v1/namespaces", conn.endpoint);
    let ok = http
        .get(&namespaces)
        .bearer_auth(token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let anonymous = http.get(&namespaces).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// Issue 3: the same aws-sdk-eks calls against moto and the sandbox give
/// equivalent results. moto is loaded with the sandbox world's AWS clusters
/// (names, regions, versions, node groups), then discovery, describe and a
/// scale run through the one provider implementation against both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_calls_agree_between_moto_and_the_sandbox() {
    let world = World::generate(42);
    let clusters = world_aws(&world);
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world.clone()).unwrap();
    let moto = Moto::start().await;
    for c in &clusters {
        let pools: Vec<PoolSpec<'_>> = c
            .node_pools
            .iter()
            .map(|p| PoolSpec {
                name: &p.name,
                min: p.min_count as i32,
                max: p.max_count as i32,
                desired: p.count as i32,
                instance: &p.machine_type,
            })
            .collect();
        moto_create(&moto_admin(&moto, &c.region), &c.name, &c.k8s_minor, &pools).await;
    }
    let regions = regions_of(&clusters);
    let region_refs: Vec<&str> = regions.iter().map(String::as_str).collect();
    let on_moto = moto_provider(&moto, &region_refs).with_page_size(2);
    let on_sandbox = sandbox_provider(&sandbox, &region_refs).with_page_size(2);

    // What must agree: everything but the endpoint (moto's is fake, the
    // sandbox's is its own Kubernetes API) and the account id in the ARN.
    fn shape(cs: &[DiscoveredCluster]) -> Vec<DiscoveredCluster> {
        let mut v: Vec<DiscoveredCluster> = cs
            .iter()
            .map(|c| {
                let mut c = c.clone();
                let arn: Vec<&str> = c.locator.native_id.split(':').collect();
                assert_eq!(arn.len(), 6, "{}", c.locator.native_id);
                c.locator.native_id = format!(
                    "{}:{}:{}:{}:<account>:{}",
                    arn[0], arn[1], arn[2], arn[3], arn[5]
                );
                c.endpoint = None;
                c.node_pools.sort_by(|a, b| a.name.cmp(&b.name));
                c
            })
            .collect();
        v.sort_by(|a, b| {
            (&a.locator.region, &a.locator.name).cmp(&(&b.locator.region, &b.locator.name))
        });
        v
    }
    let from_moto = discover_all(&on_moto).await;
    let from_sandbox = discover_all(&on_sandbox).await;
    assert_eq!(from_moto.len(), clusters.len());
    assert_eq!(shape(&from_moto), shape(&from_sandbox));

    // The same scale on both, then the same describe.
    let (cluster, np) = clusters
        .iter()
        .find_map(|c| Some((c, c.node_pools.iter().find(|p| p.min_count < p.max_count)?)))
        .expect("a pool with room");
    let target = if np.count < np.max_count {
        np.count + 1
    } else {
        np.count - 1
    };
    let find = |cs: &[DiscoveredCluster]| {
        cs.iter()
            .find(|c| c.locator.name == cluster.name)
            .unwrap()
            .locator
            .clone()
    };
    let (lm, ls) = (find(&from_moto), find(&from_sandbox));
    let om = on_moto
        .scale_node_pool(&lm, &np.name, target)
        .await
        .unwrap();
    let os = on_sandbox
        .scale_node_pool(&ls, &np.name, target)
        .await
        .unwrap();
    assert_eq!((om.pool, om.requested), (os.pool, os.requested));
    assert_eq!(om.operation.is_some(), os.operation.is_some());
    let dm = on_moto.describe(&lm).await.unwrap();
    let ds = on_sandbox.describe(&ls).await.unwrap();
    assert_eq!(shape(&[dm]), shape(&[ds]));

    // And the same refusal outside the bounds.
    let too_many = np.max_count + 1;
    let em = on_moto
        .scale_node_pool(&lm, &np.name, too_many)
        .await
        .unwrap_err();
    let es = on_sandbox
        .scale_node_pool(&ls, &np.name, too_many)
        .await
        .unwrap_err();
    assert_eq!((em.kind(), es.kind()), ("rejected", "rejected"));

    // Unknown cluster: NotFound from both.
    let missing = ClusterLocator {
        name: "no-such-cluster".into(),
        ..lm.clone()
    };
    assert_eq!(
        on_moto.describe(&missing).await.unwrap_err().kind(),
        "not_found"
    );
    let missing = ClusterLocator {
        name: "no-such-cluster".into(),
        ..ls.clone()
    };
    assert_eq!(
        on_sandbox.describe(&missing).await.unwrap_err().kind(),
        "not_found"
    );
}

fn decode_token(token: &AccessToken) -> url::Url {
    let raw = token
        .secret()
        .strip_prefix(TOKEN_PREFIX)
        .expect("k8s-aws-v1. prefix");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .expect("base64url without padding");
    url::Url::parse(std::str::from_utf8(&bytes).expect("UTF-8")).expect("a URL")
}

/// The sandbox's printed env lines configure the ambient AWS account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambient_variables_from_the_sandbox_env_lines_discover_its_clusters() {
    let world = World::generate(42);
    let want = world_aws(&world);
    let sandbox = Sandbox::start("127.0.0.1:0".parse().unwrap(), world).unwrap();
    let mut env: BTreeMap<String, String> = sandbox
        .env_lines()
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.insert("CLOUDOPS_AWS_REGIONS".into(), regions_of(&want).join(", "));
    let var = |k: &str| env.get(k).cloned();
    let p = AwsProvider::ambient_with(
        "env",
        &var,
        None,
        None,
        policy(),
        Arc::new(Breakers::default()),
    )
    .await
    .unwrap();
    assert_eq!(p.account(), "env");
    assert_eq!(p.endpoint(), format!("{}/aws", sandbox.base_url()));
    assert_eq!(p.regions(), regions_of(&want));
    assert_eq!(discover_all(&p).await.len(), want.len());
}
