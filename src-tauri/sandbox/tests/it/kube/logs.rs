//! Pod logs over plain HTTP: the kubelet's timestamp prefix, `tailLines`,
//! `sinceSeconds`, the 400/404 `Status` bodies, and a chunked `follow`.

use std::time::Duration;

use serde_json::Value;

use cloudops_sandbox::{kube::k8s_token, world::CHECKOUT_SERVICE, World};

use crate::start;

async fn get(url: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_logs_answer_like_the_kubelet() {
    let world = World::generate(5);
    let cluster = world.read().service(CHECKOUT_SERVICE).unwrap().cluster_ids[0].clone();
    let (sandbox, _) = start(world);
    let token = k8s_token(&cluster);
    let base = format!(
        "{}/k8s/{cluster}/api/v1/namespaces/shop/pods",
        sandbox.base_url()
    );
    let list: Value = get(&format!("{base}?labelSelector=app%3Dcheckout"), &token)
        .await
        .json()
        .await
        .unwrap();
    let pod = list["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let r = get(
        &format!("{base}/{pod}/log?timestamps=true&tailLines=3"),
        &token,
    )
    .await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for l in &lines {
        // `2026-11-23T03:12:05.123456789Z `: RFC 3339 with nine digits.
        let (ts, rest) = l.split_once(' ').unwrap();
        assert_eq!(ts.len(), 30, "{ts}");
        assert_eq!(&ts[19..20], ".");
        assert!(ts.ends_with('Z'));
        assert!(!rest.is_empty());
    }
    // Without timestamps the same lines come bare (lines are a function of
    // time: a later full read still has them, in the same order).
    let all = get(&format!("{base}/{pod}/log"), &token)
        .await
        .text()
        .await
        .unwrap();
    let all_lines: Vec<&str> = all.lines().collect();
    let stripped: Vec<&str> = lines.iter().map(|l| l.split_once(' ').unwrap().1).collect();
    let at = all_lines
        .iter()
        .position(|l| *l == stripped[0])
        .expect("the tail is in the full log");
    assert_eq!(&all_lines[at..at + 3], stripped.as_slice());
    // sinceSeconds=1 is a suffix of the whole log.
    let recent = get(&format!("{base}/{pod}/log?sinceSeconds=1"), &token)
        .await
        .text()
        .await
        .unwrap();
    assert!(all.len() >= recent.len());

    let r = get(&format!("{base}/{pod}/log?container=nope"), &token).await;
    assert_eq!(r.status(), 400);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(
        status["message"],
        format!("container nope is not valid for pod {pod}")
    );
    let r = get(&format!("{base}/ghost/log"), &token).await;
    assert_eq!(r.status(), 404);
    let status: Value = r.json().await.unwrap();
    assert_eq!(status["message"], "pods \"ghost\" not found");
    let r = get(&format!("{base}/{pod}/log?previous=true"), &token).await;
    assert_eq!(r.status(), 400);
    let r = get(&format!("{base}/{pod}/log?tailLines=-1"), &token).await;
    assert_eq!(r.status(), 400);

    // follow: chunks keep coming after the first.
    let mut r = get(&format!("{base}/{pod}/log?follow=true&tailLines=0"), &token).await;
    assert_eq!(r.status(), 200);
    let chunk = tokio::time::timeout(Duration::from_secs(10), r.chunk())
        .await
        .expect("a followed line within 10 s")
        .unwrap()
        .expect("the stream is open");
    assert!(chunk.ends_with(b"\n"));
    drop(r);
    sandbox.shutdown().await.unwrap();
}
