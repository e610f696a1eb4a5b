//! The simulated world the sandbox serves (BRIEF §6): a fleet of clusters over
//! the four clouds, generated from a seed.
//!
//! Generation is deterministic: the same seed (and cluster count) gives the
//! same world, field for field. The provider-level state (node pool sizes,
//! which the provider scale calls change) lives behind one `RwLock` in a
//! cheaply cloneable [`World`] handle shared by every handler. Each cluster's
//! Kubernetes objects live beside it, in [`crate::kube::Workloads`], built
//! from the same seed on first use.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, RwLock, RwLockReadGuard, RwLockWriteGuard,
    },
    time::Duration,
};

use crate::kube::{KubeConfig, Workloads};

// The world file (TOML) reader; kept in its own file, declared here so that
// it sits beside the world it builds.
#[path = "world_file.rs"]
mod file;

pub use file::WorldFileError;

/// The seed of the default world.
pub const DEFAULT_SEED: u64 = 42;
/// The default world's size: three clusters per cloud.
pub const DEFAULT_CLUSTER_COUNT: usize = 12;
/// The default world's regions per cloud: eight regions in all.
pub const DEFAULT_REGIONS_PER_CLOUD: usize = 2;
/// The service deployed on three clouds, for the failover work (BRIEF §8).
pub const CHECKOUT_SERVICE: &str = "checkout";
/// ARM's `managedClusters` list page size. ARM does not document it, and
/// resource providers answer with large pages (hundreds of items; the
/// generic resource list pages at 1000), so a realistic fleet comes back in
/// one page. A test that must prove `nextLink` paging asks for small pages
/// with [`World::with_arm_page_size`]; a five-per-page default once made the
/// discovery benchmark measure the sandbox's paging rather than the client.
pub const DEFAULT_ARM_PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
    DigitalOcean,
}

impl Cloud {
    pub const ALL: [Cloud; 4] = [Cloud::Aws, Cloud::Gcp, Cloud::Azure, Cloud::DigitalOcean];

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
            Cloud::DigitalOcean => "do",
        }
    }

    /// The cloud's word in world files and the CLI (`aws`, `gcp`, `azure`,
    /// `do`).
    pub fn parse(word: &str) -> Option<Cloud> {
        Cloud::ALL.into_iter().find(|c| c.as_str() == word)
    }

    /// The regions the sandbox knows for the cloud: real region names, the
    /// first [`DEFAULT_REGIONS_PER_CLOUD`] being the default world's. The
    /// catalog is longer than ten so that a benchmark world can spread over
    /// "4 clouds × 10 regions"; the default world only uses the head, so it
    /// stays what it was.
    pub fn regions(self) -> &'static [&'static str] {
        match self {
            Cloud::Aws => &[
                "us-east-1",
                "eu-west-1",
                "us-east-2",
                "us-west-2",
                "eu-central-1",
                "ap-southeast-1",
                "ap-northeast-1",
                "ap-south-1",
                "sa-east-1",
                "ca-central-1",
                "eu-north-1",
                "ap-southeast-2",
            ],
            Cloud::Gcp => &[
                "us-central1",
                "europe-west1",
                "us-east1",
                "us-west1",
                "europe-west4",
                "asia-east1",
                "asia-northeast1",
                "asia-southeast1",
                "australia-southeast1",
                "southamerica-east1",
                "europe-north1",
                "northamerica-northeast1",
            ],
            Cloud::Azure => &[
                "eastus",
                "westeurope",
                "eastus2",
                "westus2",
                "northeurope",
                "centralus",
                "southeastasia",
                "japaneast",
                "australiaeast",
                "uksouth",
                "canadacentral",
                "brazilsouth",
            ],
            Cloud::DigitalOcean => &[
                "nyc1", "fra1", "nyc3", "sfo3", "ams3", "sgp1", "lon1", "tor1", "blr1", "syd1",
                "sfo2", "nyc2",
            ],
        }
    }

    pub(crate) fn machine_types(self) -> &'static [&'static str] {
        match self {
            Cloud::Aws => &["m6i.large", "m6i.xlarge", "c6i.xlarge"],
            Cloud::Gcp => &["e2-standard-4", "e2-standard-8", "n2-standard-4"],
            Cloud::Azure => &["Standard_D4s_v5", "Standard_D8s_v5", "Standard_E4s_v5"],
            Cloud::DigitalOcean => &["s-4vcpu-8gb", "s-2vcpu-4gb", "g-4vcpu-16gb"],
        }
    }

    pub(crate) fn pool_name(self, role: &str) -> String {
        match self {
            Cloud::Aws => format!("ng-{role}"),
            Cloud::Gcp => format!("{role}-pool"),
            // AKS pool names: lowercase alphanumerics, at most 12 characters.
            Cloud::Azure => role.to_string(),
            Cloud::DigitalOcean => format!("pool-{role}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePool {
    /// A UUID (DigitalOcean addresses pools by it; the others by name).
    pub id: String,
    pub name: String,
    pub machine_type: String,
    /// The single zone the pool's nodes run in (GKE's `locations`).
    pub zone: String,
    /// The size at creation (GKE's `initialNodeCount`).
    pub initial_count: u32,
    /// The current size: what the scale calls change.
    pub count: u32,
    pub min_count: u32,
    pub max_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// A UUID: DigitalOcean's cluster id, and the sandbox's key for the
    /// per-cluster APIs (`/k8s/{id}`).
    pub id: String,
    /// Unique across the world.
    pub name: String,
    pub cloud: Cloud,
    pub region: String,
    /// `1.30` or `1.31`.
    pub k8s_minor: String,
    pub k8s_patch: u32,
    /// Unix seconds.
    pub created_at: u64,
    pub node_pools: Vec<NodePool>,
    /// Optional overrides of the generated workloads (world files set them;
    /// generated clusters leave them empty).
    pub workload: WorkloadKnobs,
}

/// Knobs the Kubernetes generator (`kube/generate.rs`) reads for one
/// cluster; `None` keeps the seeded choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkloadKnobs {
    /// App deployments (besides the two in `kube-system`).
    pub deployments: Option<u32>,
    /// Replicas of each app deployment. Set, they are kept even if the pods
    /// do not fit the nodes (those stay Pending), so that a world file can ask
    /// for e.g. 30k pods in one cluster; requests are still trimmed.
    pub replicas: Option<u32>,
}

impl Cluster {
    /// The full version, e.g. `1.31.4`.
    pub fn k8s_version(&self) -> String {
        format!("{}.{}", self.k8s_minor, self.k8s_patch)
    }

    pub fn node_count(&self) -> u32 {
        self.node_pools.iter().map(|p| p.count).sum()
    }

    /// A pool by its id or its name (ids are UUIDs, names are words: they
    /// never collide).
    pub fn node_pool(&self, key: &str) -> Option<&NodePool> {
        self.node_pools
            .iter()
            .find(|p| p.id == key || p.name == key)
    }
}

/// The account identifiers the provider APIs answer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    pub aws_account_id: String,
    pub gcp_project: String,
    pub azure_subscription_id: String,
    pub azure_subscription_name: String,
}

/// Where a service is deployed: data for the failover work, no Kubernetes
/// objects yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlacement {
    pub name: String,
    pub cluster_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldState {
    pub seed: u64,
    pub accounts: Accounts,
    pub clusters: Vec<Cluster>,
    pub services: Vec<ServicePlacement>,
}

impl WorldState {
    pub fn cluster(&self, id: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.id == id)
    }

    pub fn cluster_by_name(&self, cloud: Cloud, name: &str) -> Option<&Cluster> {
        self.clusters
            .iter()
            .find(|c| c.cloud == cloud && c.name == name)
    }

    pub fn clusters_of(&self, cloud: Cloud) -> impl Iterator<Item = &Cluster> {
        self.clusters.iter().filter(move |c| c.cloud == cloud)
    }

    pub fn service(&self, name: &str) -> Option<&ServicePlacement> {
        self.services.iter().find(|s| s.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorldError {
    #[error("no cluster with id `{0}`")]
    UnknownCluster(String),
    #[error("cluster `{cluster}` has no node pool `{pool}`")]
    UnknownNodePool { cluster: String, pool: String },
}

/// The shared handle: clones see (and change) the same world.
#[derive(Debug, Clone)]
pub struct World {
    state: Arc<RwLock<WorldState>>,
    /// The clusters' Kubernetes objects; not part of [`WorldState`], so that
    /// snapshots stay cheap and comparable.
    kube: Arc<Workloads>,
    /// How the provider APIs page their lists: a property of the served
    /// APIs, not of the fleet, so it stays out of [`WorldState`] as well.
    arm_page_size: Arc<AtomicUsize>,
}

impl Default for World {
    fn default() -> Self {
        Self::generate(DEFAULT_SEED)
    }
}

impl World {
    /// The default-sized world for `seed`.
    pub fn generate(seed: u64) -> Self {
        Self::generate_with(seed, DEFAULT_CLUSTER_COUNT)
    }

    /// A world of `clusters` clusters (at least four: one per cloud), spread
    /// round-robin over the clouds.
    pub fn generate_with(seed: u64, clusters: usize) -> Self {
        Self::from_state(generate(
            seed,
            &GenerateSpec {
                clusters: clusters.max(Cloud::ALL.len()),
                ..GenerateSpec::default()
            },
        ))
    }

    pub fn from_state(state: WorldState) -> Self {
        Self {
            state: Arc::new(RwLock::new(state)),
            kube: Arc::default(),
            arm_page_size: Arc::new(AtomicUsize::new(DEFAULT_ARM_PAGE_SIZE)),
        }
    }

    /// This world with ARM `managedClusters` lists paged `size` at a time
    /// (at least one), so that a small world still exercises `nextLink`.
    pub fn with_arm_page_size(self, size: usize) -> Self {
        self.set_arm_page_size(size);
        self
    }

    /// Changes the ARM page size for requests from now on.
    pub fn set_arm_page_size(&self, size: usize) {
        self.arm_page_size.store(size.max(1), Ordering::Relaxed);
    }

    /// The ARM `managedClusters` list page size in force.
    pub fn arm_page_size(&self) -> usize {
        self.arm_page_size.load(Ordering::Relaxed).max(1)
    }

    /// This world with pods that take `delay` to turn Ready (default
    /// [`crate::kube::DEFAULT_READINESS_DELAY`]).
    pub fn with_readiness_delay(self, delay: Duration) -> Self {
        self.set_readiness_delay(delay);
        self
    }

    /// Changes the readiness delay of pods created from now on.
    pub fn set_readiness_delay(&self, delay: Duration) {
        self.kube.set_config(|c| c.readiness_delay = delay);
    }

    /// This world with HPAs evaluated every `period` (default
    /// [`crate::kube::DEFAULT_HPA_SYNC_PERIOD`]).
    pub fn with_hpa_sync_period(self, period: Duration) -> Self {
        self.set_hpa_sync_period(period);
        self
    }

    pub fn set_hpa_sync_period(&self, period: Duration) {
        self.kube.set_config(|c| c.hpa_sync_period = period);
    }

    pub fn kube_config(&self) -> KubeConfig {
        self.kube.config()
    }

    pub(crate) fn workloads(&self) -> &Workloads {
        &self.kube
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> WorldState {
        self.read().clone()
    }

    /// A read guard. A poisoned lock still holds a consistent world (every
    /// write is a single field), so poisoning is ignored.
    pub fn read(&self) -> RwLockReadGuard<'_, WorldState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, WorldState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on one node pool (by id or name) under the write lock, and
    /// returns its result with a copy of the pool as `f` left it.
    pub fn update_node_pool<R>(
        &self,
        cluster_id: &str,
        pool_key: &str,
        f: impl FnOnce(&mut NodePool) -> R,
    ) -> Result<(R, NodePool), WorldError> {
        let mut state = self.write();
        let cluster = state
            .clusters
            .iter_mut()
            .find(|c| c.id == cluster_id)
            .ok_or_else(|| WorldError::UnknownCluster(cluster_id.to_string()))?;
        let pool = cluster
            .node_pools
            .iter_mut()
            .find(|p| p.id == pool_key || p.name == pool_key)
            .ok_or_else(|| WorldError::UnknownNodePool {
                cluster: cluster_id.to_string(),
                pool: pool_key.to_string(),
            })?;
        let r = f(pool);
        let pool = pool.clone();
        drop(state);
        // The cluster's nodes follow the pool (kube/nodes.rs).
        self.kube.wake();
        Ok((r, pool))
    }

    /// Sets a pool's size, widening its bounds if needed.
    pub fn set_node_pool_count(
        &self,
        cluster_id: &str,
        pool_key: &str,
        count: u32,
    ) -> Result<NodePool, WorldError> {
        self.update_node_pool(cluster_id, pool_key, |p| {
            p.count = count;
            p.min_count = p.min_count.min(count);
            p.max_count = p.max_count.max(count);
        })
        .map(|((), pool)| pool)
    }
}

pub(crate) fn uuid(rng: &mut fastrand::Rng) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        rng.u32(..),
        rng.u16(..),
        rng.u16(..0x1000),
        0x8000 | rng.u16(..0x4000),
        rng.u64(..1 << 48)
    )
}

const ENVIRONMENTS: [&str; 5] = ["prod", "shop", "edge", "data", "staging"];
const POOL_ROLES: [&str; 3] = ["system", "general", "batch"];
const ZONE_SUFFIXES: [&str; 3] = ["a", "b", "c"];

pub(crate) fn zone(cloud: Cloud, region: &str, rng: &mut fastrand::Rng) -> String {
    let suffix = ZONE_SUFFIXES[rng.usize(..ZONE_SUFFIXES.len())];
    match cloud {
        Cloud::Aws | Cloud::Gcp => format!("{region}-{suffix}"),
        // Azure zones are numbers; DigitalOcean regions have no zones.
        Cloud::Azure => format!("{region}-{}", rng.u8(1..=3)),
        Cloud::DigitalOcean => region.to_string(),
    }
}

/// What [`generate`] builds: `clusters` clusters dealt round-robin over
/// `clouds`, and within a cloud over its first `regions_per_cloud` regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GenerateSpec {
    pub clusters: usize,
    pub clouds: Vec<Cloud>,
    pub regions_per_cloud: usize,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            clusters: DEFAULT_CLUSTER_COUNT,
            clouds: Cloud::ALL.to_vec(),
            regions_per_cloud: DEFAULT_REGIONS_PER_CLOUD,
        }
    }
}

/// Builds the world. With the default spec the draws from `rng` are exactly
/// those of the original two-region generator, so existing seeds give the
/// same worlds.
pub(crate) fn generate(seed: u64, spec: &GenerateSpec) -> WorldState {
    let count = spec.clusters;
    // Callers validate; these keep a bad spec from dividing by zero.
    let clouds: &[Cloud] = if spec.clouds.is_empty() {
        &Cloud::ALL
    } else {
        &spec.clouds
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let accounts = Accounts {
        aws_account_id: format!("{:012}", rng.u64(100_000_000_000..1_000_000_000_000)),
        gcp_project: format!("sandbox-fleet-{:06}", rng.u32(..1_000_000)),
        azure_subscription_id: uuid(&mut rng),
        azure_subscription_name: "CloudOps Sandbox".to_string(),
    };

    let mut clusters = Vec::with_capacity(count);
    for i in 0..count {
        let cloud = clouds[i % clouds.len()];
        let catalog = cloud.regions();
        let regions = &catalog[..spec.regions_per_cloud.clamp(1, catalog.len())];
        // Alternate regions per cloud so every region gets clusters.
        let region = regions[(i / clouds.len()) % regions.len()];
        let env = ENVIRONMENTS[rng.usize(..ENVIRONMENTS.len())];
        let name = format!("{env}-{region}-{:02}", i + 1);
        let total = rng.u32(2..=6);
        let pool_count = rng.u32(1..=3.min(total));
        // Each pool gets one node, the rest are dealt out at random.
        let mut sizes = vec![1u32; pool_count as usize];
        for _ in pool_count..total {
            let k = rng.usize(..sizes.len());
            sizes[k] += 1;
        }
        let types = cloud.machine_types();
        let node_pools = sizes
            .into_iter()
            .zip(POOL_ROLES)
            .map(|(size, role)| NodePool {
                id: uuid(&mut rng),
                name: cloud.pool_name(role),
                machine_type: types[rng.usize(..types.len())].to_string(),
                zone: zone(cloud, region, &mut rng),
                initial_count: size,
                count: size,
                min_count: 1,
                max_count: 10,
            })
            .collect();
        clusters.push(Cluster {
            id: uuid(&mut rng),
            name,
            cloud,
            region: region.to_string(),
            k8s_minor: if rng.bool() { "1.31" } else { "1.30" }.to_string(),
            k8s_patch: rng.u32(1..=9),
            // Within the year before 2025-06-01.
            created_at: 1_748_736_000 - rng.u64(0..365 * 86_400),
            node_pools,
            workload: WorkloadKnobs::default(),
        });
    }

    // `checkout` runs on three of the four clouds, one cluster on each (on
    // fewer when the spec leaves clouds out: only clouds with clusters count).
    let mut shuffled = Cloud::ALL;
    rng.shuffle(&mut shuffled);
    let cluster_ids = shuffled
        .iter()
        .filter_map(|&cloud| {
            let on_cloud: Vec<&Cluster> = clusters.iter().filter(|c| c.cloud == cloud).collect();
            (!on_cloud.is_empty()).then(|| on_cloud[rng.usize(..on_cloud.len())].id.clone())
        })
        .take(3)
        .collect();

    WorldState {
        seed,
        accounts,
        clusters,
        services: vec![ServicePlacement {
            name: CHECKOUT_SERVICE.to_string(),
            cluster_ids,
        }],
    }
}

/// Unix seconds as RFC 3339 UTC (`2025-05-31T12:00:00Z`), without a date
/// crate: the civil-from-days algorithm of Howard Hinnant.
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_748_736_000), "2025-06-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
    }

    #[test]
    fn default_world_has_the_promised_shape() {
        let w = World::default().snapshot();
        assert_eq!(w.clusters.len(), 12);
        for cloud in Cloud::ALL {
            assert_eq!(w.clusters_of(cloud).count(), 3);
        }
        let regions: std::collections::BTreeSet<_> =
            w.clusters.iter().map(|c| c.region.as_str()).collect();
        assert_eq!(regions.len(), 8);
        for c in &w.clusters {
            assert!((1..=3).contains(&c.node_pools.len()), "{}", c.name);
            assert!((2..=6).contains(&c.node_count()), "{}", c.name);
        }
        let checkout = w.service(CHECKOUT_SERVICE).unwrap();
        let clouds: std::collections::BTreeSet<_> = checkout
            .cluster_ids
            .iter()
            .map(|id| w.cluster(id).unwrap().cloud)
            .collect();
        assert_eq!(clouds.len(), 3);
    }
}
