//! The sandbox's Cost Explorer slice through the official `aws-sdk-costexplorer`
//! client: `GetCostAndUsage` grouped by the `eks:cluster-name` tag, in the
//! wire format the SDK parses.

use std::net::SocketAddr;

use aws_sdk_costexplorer::{
    config::{BehaviorVersion, Credentials, Region},
    types::{DateInterval, Granularity, GroupDefinition, GroupDefinitionType},
    Client,
};
use cloudops_sandbox::{Cloud, Sandbox, World};

fn client(sandbox: &cloudops_sandbox::RunningSandbox, key: &str) -> Client {
    let conf = aws_sdk_costexplorer::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            key,
            cloudops_sandbox::AWS_SECRET_ACCESS_KEY,
            None,
            None,
            "sandbox",
        ))
        .endpoint_url(format!("{}/aws", sandbox.base_url()))
        .build();
    Client::from_conf(conf)
}

fn month_to_date() -> DateInterval {
    // The first of this month to tomorrow, as Cost Explorer dates.
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let first = now.date().first_of_month();
    let tomorrow = now.date().tomorrow().unwrap();
    DateInterval::builder()
        .start(first.to_string())
        .end(tomorrow.to_string())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_cost_and_usage_groups_by_cluster_tag_and_follows_node_count() {
    let world = World::generate(42);
    let sandbox =
        Sandbox::start("127.0.0.1:0".parse::<SocketAddr>().unwrap(), world.clone()).unwrap();
    let ce = client(&sandbox, cloudops_sandbox::AWS_ACCESS_KEY_ID);
    let query = || {
        ce.get_cost_and_usage()
            .time_period(month_to_date())
            .granularity(Granularity::Monthly)
            .metrics("UnblendedCost")
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Tag)
                    .key("eks:cluster-name")
                    .build(),
            )
    };
    let out = query().send().await.unwrap();
    let groups =
        |out: &aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageOutput| {
            let mut by_cluster = std::collections::BTreeMap::new();
            for period in out.results_by_time() {
                for g in period.groups() {
                    let key = g.keys()[0].clone();
                    let amount: f64 = g.metrics().unwrap()["UnblendedCost"]
                        .amount()
                        .unwrap()
                        .parse()
                        .unwrap();
                    *by_cluster.entry(key).or_insert(0.0) += amount;
                }
            }
            by_cluster
        };
    let before = groups(&out);
    let expected: Vec<String> = world
        .read()
        .clusters_of(Cloud::Aws)
        .map(|c| format!("eks:cluster-name${}", c.name))
        .collect();
    let mut names: Vec<_> = before.keys().cloned().collect();
    let mut want = expected.clone();
    names.sort();
    want.sort();
    assert_eq!(names, want);
    assert!(before.values().all(|v| *v > 0.0), "{before:?}");

    // Scaling a pool up raises that cluster's month-to-date cost.
    let (id, pool, count, name) = {
        let w = world.read();
        let c = w.clusters_of(Cloud::Aws).next().unwrap();
        (
            c.id.clone(),
            c.node_pools[0].name.clone(),
            c.node_pools[0].count,
            c.name.clone(),
        )
    };
    world.set_node_pool_count(&id, &pool, count + 10).unwrap();
    let after = groups(&query().send().await.unwrap());
    let key = format!("eks:cluster-name${name}");
    assert!(
        after[&key] > before[&key],
        "{} -> {}",
        before[&key],
        after[&key]
    );

    // Wrong keys: the SDK sees the AWS error code.
    let err = client(&sandbox, "AKIDWRONG")
        .get_cost_and_usage()
        .time_period(month_to_date())
        .granularity(Granularity::Daily)
        .metrics("UnblendedCost")
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert_eq!(service.meta().code(), Some("UnrecognizedClientException"));
}
