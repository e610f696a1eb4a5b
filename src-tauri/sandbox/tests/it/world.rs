use cloudops_sandbox::{world::CHECKOUT_SERVICE, Cloud, World};

#[test]
fn same_seed_same_world_other_seed_other_world() {
    let a = World::generate(7).snapshot();
    let b = World::generate(7).snapshot();
    assert_eq!(a, b);
    let c = World::generate(8).snapshot();
    assert_ne!(a.clusters, c.clusters);
    assert_eq!(World::default().snapshot(), World::generate(42).snapshot());
}

#[test]
fn checkout_runs_on_three_clouds() {
    for seed in 0..20 {
        let w = World::generate(seed).snapshot();
        let placement = w.service(CHECKOUT_SERVICE).unwrap();
        let clouds: std::collections::BTreeSet<Cloud> = placement
            .cluster_ids
            .iter()
            .map(|id| w.cluster(id).unwrap().cloud)
            .collect();
        assert_eq!(clouds.len(), 3, "seed {seed}");
    }
}

#[test]
fn machine_types_are_the_clouds_own() {
    let w = World::default().snapshot();
    for c in &w.clusters {
        for p in &c.node_pools {
            let ok = match c.cloud {
                Cloud::Aws => p.machine_type.starts_with('m') || p.machine_type.starts_with('c'),
                Cloud::Gcp => p.machine_type.contains("-standard-"),
                Cloud::Azure => p.machine_type.starts_with("Standard_"),
                Cloud::DigitalOcean => p.machine_type.contains("vcpu"),
            };
            assert!(ok, "{} on {:?}", p.machine_type, c.cloud);
        }
        assert!(["1.30", "1.31"].contains(&c.k8s_minor.as_str()));
    }
}

#[test]
fn scaling_a_pool_is_seen_through_every_clone() {
    let w = World::default();
    let other = w.clone();
    let (cid, pid) = {
        let s = w.read();
        (
            s.clusters[0].id.clone(),
            s.clusters[0].node_pools[0].id.clone(),
        )
    };
    w.set_node_pool_count(&cid, &pid, 9).unwrap();
    assert_eq!(
        other
            .read()
            .cluster(&cid)
            .unwrap()
            .node_pool(&pid)
            .unwrap()
            .count,
        9
    );
    assert!(w.set_node_pool_count("nope", &pid, 1).is_err());
    assert!(w.set_node_pool_count(&cid, "nope", 1).is_err());
}
