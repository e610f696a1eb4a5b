//! World files: a TOML description of a world other than the default one
//! (issue 3 item 5), e.g. 200 clusters for the discovery benchmark or 30k
//! pods in one cluster. `cloudops sandbox serve --world FILE` reads one.
//!
//! The schema (docs/sandbox-world.md has the long form and examples):
//!
//! ```toml
//! seed = 7                     # optional; default 42
//! readiness_delay_ms = 2000    # optional; how long new pods take to turn Ready
//! hpa_sync_period_ms = 15000   # optional; the HPA controller's period
//!
//! [generate]                   # optional: seeded clusters, as the default world
//! clusters = 200               # 1..=10000, dealt round-robin over the clouds
//! clouds = ["aws", "gcp", "azure", "do"]   # optional; default all four
//! regions_per_cloud = 10       # optional; 1..=12, default 2
//!
//! [[cluster]]                  # optional, repeatable: explicit clusters
//! name = "big"                 # unique in the world
//! cloud = "gcp"                # aws | gcp | azure | do
//! region = "us-central1"       # one of the cloud's regions (Cloud::regions)
//! version = "1.31.4"           # optional; 1.MINOR or 1.MINOR.PATCH, default 1.31.1
//! deployments = 100            # optional; app deployments, 1..=2000
//! replicas = 300               # optional; replicas of each, 0..=1000
//! checkout = true              # optional; runs the `checkout` service
//! node_pools = [{ name = "general", machine_type = "e2-standard-8", count = 300, min = 1, max = 400 }]
//! ```
//!
//! A pool's `machine_type` defaults to the cloud's first type, `min` to
//! `min(1, count)`, `max` to `max(10, count)`; `zone` may be given.
//!
//! Every error names the file, the line and column, and the field
//! (`world.toml:7:11: cluster[2].node_pools[0].count: invalid type: string
//! "three", expected u32`): syntax and type errors through toml's spans and
//! `serde_path_to_error`, semantic ones (duplicate names, unknown cloud, a
//! region the cloud does not have, counts out of range, `min > max`) through
//! the spans of the offending values. Unknown fields are errors too, so a
//! typo is not silently ignored.

use std::{collections::BTreeSet, ops::Range, path::Path, time::Duration};

use serde::Deserialize;
use toml::Spanned;

use super::{
    generate, uuid, zone, Cloud, Cluster, GenerateSpec, NodePool, ServicePlacement, WorkloadKnobs,
    World, CHECKOUT_SERVICE, DEFAULT_REGIONS_PER_CLOUD, DEFAULT_SEED,
};

/// The most clusters a world file may describe: enough for any benchmark,
/// small enough that a typo (`clusters = 2000000`) is an error, not an OOM.
pub const MAX_CLUSTERS: usize = 10_000;
/// The most nodes in one pool (every node becomes a Kubernetes object).
pub const MAX_POOL_NODES: u32 = 1_000;
/// The most app deployments in one cluster.
pub const MAX_DEPLOYMENTS: u32 = 2_000;
/// The most replicas per deployment.
pub const MAX_REPLICAS: u32 = 1_000;
/// The longest readiness delay or HPA period, in milliseconds (one hour).
pub const MAX_PERIOD_MS: u64 = 3_600_000;

/// A world file that could not be read or does not describe a valid world.
#[derive(Debug, thiserror::Error)]
pub enum WorldFileError {
    #[error("{file}: cannot read the world file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// `file:line:column: field: message`; `line`/`column` are 1-based, and
    /// absent only when the error has no place in the text.
    #[error("{}", invalid_text(.file, *.line, *.column, .field, .message))]
    Invalid {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
        /// The dotted path of the field, e.g. `cluster[2].node_pools[0].count`;
        /// empty for syntax errors.
        field: String,
        message: String,
    },
}

impl WorldFileError {
    /// The 1-based line the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            WorldFileError::Invalid { line, .. } => *line,
            WorldFileError::Read { .. } => None,
        }
    }

    /// The dotted path of the offending field, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            WorldFileError::Invalid { field, .. } if !field.is_empty() => Some(field),
            _ => None,
        }
    }
}

fn invalid_text(
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    field: &str,
    message: &str,
) -> String {
    let mut out = file.to_string();
    if let Some(line) = line {
        out.push_str(&format!(":{line}"));
        if let Some(column) = column {
            out.push_str(&format!(":{column}"));
        }
    }
    if !field.is_empty() {
        out.push_str(&format!(": {field}"));
    }
    out.push_str(&format!(": {message}"));
    out
}

// ---- The schema, as serde reads it ----------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldFile {
    seed: Option<u64>,
    readiness_delay_ms: Option<Spanned<u64>>,
    hpa_sync_period_ms: Option<Spanned<u64>>,
    generate: Option<GenerateTable>,
    #[serde(default)]
    cluster: Vec<ClusterTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateTable {
    clusters: Spanned<u64>,
    clouds: Option<Spanned<Vec<Spanned<String>>>>,
    regions_per_cloud: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterTable {
    name: Spanned<String>,
    cloud: Spanned<String>,
    region: Spanned<String>,
    version: Option<Spanned<String>>,
    node_pools: Spanned<Vec<PoolTable>>,
    deployments: Option<Spanned<u32>>,
    replicas: Option<Spanned<u32>>,
    #[serde(default)]
    checkout: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolTable {
    name: Spanned<String>,
    machine_type: Option<Spanned<String>>,
    zone: Option<String>,
    count: Spanned<u32>,
    min: Option<Spanned<u32>>,
    max: Option<Spanned<u32>>,
}

// ---- Reading ----------------------------------------------------------------

impl World {
    /// Reads a world file; errors name `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<World, WorldFileError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WorldFileError::Read {
            file: file.clone(),
            source,
        })?;
        parse(&text, &file)
    }

    /// A world from world-file text; errors name the file `<world>`.
    pub fn from_toml_str(text: &str) -> Result<World, WorldFileError> {
        parse(text, "<world>")
    }
}

/// Turns a byte span of `text` into 1-based (line, column), columns in
/// characters.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    // A span past the end (toml points at EOF for an unclosed table) or in
    // the middle of a character must not panic.
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Collects errors with their place; the first one is reported.
struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Option<Range<usize>>, field: String, message: String) -> WorldFileError {
        let (line, column) = match span.map(|s| line_col(self.text, s.start)) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        WorldFileError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            field,
            message,
        }
    }

    fn at<T>(&self, v: &Spanned<T>, field: String, message: String) -> WorldFileError {
        self.err(Some(v.span()), field, message)
    }
}

fn parse(text: &str, file: &str) -> Result<World, WorldFileError> {
    let ctx = Ctx { text, file };
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ctx.err(e.span(), String::new(), e.message().to_string()))?;
    let doc: WorldFile = serde_path_to_error::deserialize(de).map_err(|e| {
        // `toml::Spanned` wraps values in a private field that shows in the
        // path; the reader wants the field as written in the file.
        let field = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "")
            .replace("$__serde_spanned_private_value", "");
        let inner = e.into_inner();
        // The root path prints as `.`: say nothing rather than that.
        let field = if field == "." { String::new() } else { field };
        ctx.err(inner.span(), field, inner.message().to_string())
    })?;
    build(&ctx, doc)
}

fn range(
    ctx: &Ctx,
    v: &Spanned<u64>,
    field: &str,
    bounds: std::ops::RangeInclusive<u64>,
) -> Result<u64, WorldFileError> {
    let n = *v.get_ref();
    if bounds.contains(&n) {
        Ok(n)
    } else {
        Err(ctx.at(
            v,
            field.to_string(),
            format!("{n} is out of range {}..={}", bounds.start(), bounds.end()),
        ))
    }
}

fn cloud_of(ctx: &Ctx, v: &Spanned<String>, field: String) -> Result<Cloud, WorldFileError> {
    Cloud::parse(v.get_ref()).ok_or_else(|| {
        ctx.at(
            v,
            field,
            format!(
                "unknown cloud `{}`, expected one of `aws`, `gcp`, `azure`, `do`",
                v.get_ref()
            ),
        )
    })
}

fn build(ctx: &Ctx, doc: WorldFile) -> Result<World, WorldFileError> {
    let seed = doc.seed.unwrap_or(DEFAULT_SEED);

    let spec = match &doc.generate {
        Some(g) => {
            let clusters = range(
                ctx,
                &g.clusters,
                "generate.clusters",
                1..=MAX_CLUSTERS as u64,
            )?;
            let clouds = match &g.clouds {
                None => Cloud::ALL.to_vec(),
                Some(list) => {
                    if list.get_ref().is_empty() {
                        return Err(ctx.at(
                            list,
                            "generate.clouds".into(),
                            "needs at least one cloud".into(),
                        ));
                    }
                    let mut clouds = Vec::new();
                    for (i, word) in list.get_ref().iter().enumerate() {
                        let field = format!("generate.clouds[{i}]");
                        let cloud = cloud_of(ctx, word, field.clone())?;
                        if clouds.contains(&cloud) {
                            return Err(ctx.at(
                                word,
                                field,
                                format!("cloud `{}` is listed twice", cloud.as_str()),
                            ));
                        }
                        clouds.push(cloud);
                    }
                    clouds
                }
            };
            // Every cloud's catalog has at least this many regions.
            let max_regions = Cloud::ALL
                .iter()
                .map(|c| c.regions().len())
                .min()
                .unwrap_or(DEFAULT_REGIONS_PER_CLOUD) as u64;
            let regions_per_cloud = match &g.regions_per_cloud {
                Some(v) => range(ctx, v, "generate.regions_per_cloud", 1..=max_regions)?,
                None => DEFAULT_REGIONS_PER_CLOUD as u64,
            };
            Some(GenerateSpec {
                // In range above, so these conversions are lossless.
                clusters: clusters as usize,
                clouds,
                regions_per_cloud: regions_per_cloud as usize,
            })
        }
        None => None,
    };

    let mut state = match &spec {
        Some(spec) => generate(seed, spec),
        None => {
            // No generated part: the accounts still come from the seed.
            let mut s = generate(seed, &GenerateSpec::default());
            s.clusters.clear();
            s.services.clear();
            s
        }
    };

    // Explicit clusters draw from their own stream, so adding one never
    // changes the generated ones.
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed_f11e_5eed_f11e);
    let mut names: BTreeSet<String> = state.clusters.iter().map(|c| c.name.clone()).collect();
    let mut checkout_ids = Vec::new();
    if state.clusters.len() + doc.cluster.len() > MAX_CLUSTERS {
        return Err(ctx.err(
            None,
            "cluster".into(),
            format!("the world has more than {MAX_CLUSTERS} clusters"),
        ));
    }
    for (i, t) in doc.cluster.iter().enumerate() {
        let cluster = explicit_cluster(ctx, i, t, &mut rng)?;
        if !names.insert(cluster.name.clone()) {
            return Err(ctx.at(
                &t.name,
                format!("cluster[{i}].name"),
                format!(
                    "duplicate cluster name `{}`: names are unique in a world",
                    cluster.name
                ),
            ));
        }
        if t.checkout {
            checkout_ids.push(cluster.id.clone());
        }
        state.clusters.push(cluster);
    }
    if state.clusters.is_empty() {
        return Err(ctx.err(
            Some(0..0),
            String::new(),
            "the world has no clusters: add a [generate] table or [[cluster]] tables".into(),
        ));
    }
    // Explicit `checkout = true` clusters say where the service runs;
    // otherwise the generated placement (if any) stands.
    if !checkout_ids.is_empty() {
        state.services.retain(|s| s.name != CHECKOUT_SERVICE);
        state.services.push(ServicePlacement {
            name: CHECKOUT_SERVICE.to_string(),
            cluster_ids: checkout_ids,
        });
    }

    let mut world = World::from_state(state);
    if let Some(v) = &doc.readiness_delay_ms {
        let ms = range(ctx, v, "readiness_delay_ms", 0..=MAX_PERIOD_MS)?;
        world = world.with_readiness_delay(Duration::from_millis(ms));
    }
    if let Some(v) = &doc.hpa_sync_period_ms {
        // Zero would spin the controller.
        let ms = range(ctx, v, "hpa_sync_period_ms", 1..=MAX_PERIOD_MS)?;
        world = world.with_hpa_sync_period(Duration::from_millis(ms));
    }
    Ok(world)
}

/// `1.31` or `1.31.4` → (`1.31`, patch).
fn parse_version(v: &str) -> Option<(String, u32)> {
    let mut parts = v.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    let patch = match parts.next() {
        Some(p) => p.parse::<u32>().ok()?,
        None => 0,
    };
    if parts.next().is_some() || major != "1" || minor.parse::<u32>().is_err() {
        return None;
    }
    Some((format!("1.{minor}"), patch))
}

fn explicit_cluster(
    ctx: &Ctx,
    i: usize,
    t: &ClusterTable,
    rng: &mut fastrand::Rng,
) -> Result<Cluster, WorldFileError> {
    let f = |name: &str| format!("cluster[{i}].{name}");
    let name = t.name.get_ref().trim();
    if name.is_empty() {
        return Err(ctx.at(&t.name, f("name"), "must not be empty".into()));
    }
    let cloud = cloud_of(ctx, &t.cloud, f("cloud"))?;
    let region = t.region.get_ref();
    if !cloud.regions().contains(&region.as_str()) {
        return Err(ctx.at(
            &t.region,
            f("region"),
            format!(
                "region `{region}` is not a {} region the sandbox knows; expected one of {}",
                cloud.as_str(),
                cloud.regions().join(", ")
            ),
        ));
    }
    let (k8s_minor, k8s_patch) = match &t.version {
        None => ("1.31".to_string(), 1),
        Some(v) => parse_version(v.get_ref()).ok_or_else(|| {
            ctx.at(
                v,
                f("version"),
                format!(
                    "`{}` is not a Kubernetes version like `1.31` or `1.31.4`",
                    v.get_ref()
                ),
            )
        })?,
    };
    let mut workload = WorkloadKnobs::default();
    if let Some(v) = &t.deployments {
        let n = *v.get_ref();
        if !(1..=MAX_DEPLOYMENTS).contains(&n) {
            return Err(ctx.at(
                v,
                f("deployments"),
                format!("{n} is out of range 1..={MAX_DEPLOYMENTS}"),
            ));
        }
        workload.deployments = Some(n);
    }
    if let Some(v) = &t.replicas {
        let n = *v.get_ref();
        if n > MAX_REPLICAS {
            return Err(ctx.at(
                v,
                f("replicas"),
                format!("{n} is out of range 0..={MAX_REPLICAS}"),
            ));
        }
        workload.replicas = Some(n);
    }

    if t.node_pools.get_ref().is_empty() {
        return Err(ctx.at(
            &t.node_pools,
            f("node_pools"),
            "a cluster needs at least one node pool".into(),
        ));
    }
    let mut pools = Vec::new();
    let mut pool_names = BTreeSet::new();
    for (j, p) in t.node_pools.get_ref().iter().enumerate() {
        let pf = |name: &str| format!("cluster[{i}].node_pools[{j}].{name}");
        let pool_name = p.name.get_ref().trim();
        if pool_name.is_empty() {
            return Err(ctx.at(&p.name, pf("name"), "must not be empty".into()));
        }
        // AKS agent pool names are 1–12 lowercase letters and digits; the
        // ARM API would refuse anything else.
        if cloud == Cloud::Azure
            && (pool_name.len() > 12
                || !pool_name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        {
            return Err(ctx.at(
                &p.name,
                pf("name"),
                format!("`{pool_name}`: AKS pool names are 1-12 lowercase letters and digits"),
            ));
        }
        if !pool_names.insert(pool_name.to_string()) {
            return Err(ctx.at(
                &p.name,
                pf("name"),
                format!("duplicate node pool name `{pool_name}` in cluster `{name}`"),
            ));
        }
        let count = *p.count.get_ref();
        if count > MAX_POOL_NODES {
            return Err(ctx.at(
                &p.count,
                pf("count"),
                format!("{count} is out of range 0..={MAX_POOL_NODES}"),
            ));
        }
        let min = p.min.as_ref().map_or(count.min(1), |v| *v.get_ref());
        let max = p.max.as_ref().map_or(count.max(10), |v| *v.get_ref());
        if let Some(v) = p.max.as_ref().filter(|_| max > MAX_POOL_NODES) {
            return Err(ctx.at(
                v,
                pf("max"),
                format!("{max} is out of range 0..={MAX_POOL_NODES}"),
            ));
        }
        if min > max {
            // Point at `min` if given, else at `max` (one of them is).
            let (span, field) = match (&p.min, &p.max) {
                (Some(v), _) => (v.span(), pf("min")),
                (None, Some(v)) => (v.span(), pf("max")),
                (None, None) => (p.count.span(), pf("count")),
            };
            return Err(ctx.err(
                Some(span),
                field,
                format!("min {min} is greater than max {max}"),
            ));
        }
        if !(min..=max).contains(&count) {
            return Err(ctx.at(
                &p.count,
                pf("count"),
                format!("{count} is outside the pool's bounds min {min} ..= max {max}"),
            ));
        }
        let machine_type = match &p.machine_type {
            Some(v) if v.get_ref().trim().is_empty() => {
                return Err(ctx.at(v, pf("machine_type"), "must not be empty".into()));
            }
            Some(v) => v.get_ref().trim().to_string(),
            None => cloud.machine_types()[0].to_string(),
        };
        pools.push(NodePool {
            id: uuid(rng),
            name: pool_name.to_string(),
            machine_type,
            zone: p.zone.clone().unwrap_or_else(|| zone(cloud, region, rng)),
            initial_count: count,
            count,
            min_count: min,
            max_count: max,
        });
    }

    Ok(Cluster {
        id: uuid(rng),
        name: name.to_string(),
        cloud,
        region: region.clone(),
        k8s_minor,
        k8s_patch,
        // Within the year before 2025-06-01, as generated clusters.
        created_at: 1_748_736_000 - rng.u64(0..365 * 86_400),
        node_pools: pools,
        workload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        // `=` after the two-byte `é`.
        assert_eq!(line_col(text, 10), (2, 4));
        assert_eq!(line_col(text, 999), (3, 1));
        assert_eq!(line_col(text, 8), (2, 2));
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.31.4"), Some(("1.31".into(), 4)));
        assert_eq!(parse_version("1.30"), Some(("1.30".into(), 0)));
        assert_eq!(parse_version("2.1"), None);
        assert_eq!(parse_version("1.x"), None);
        assert_eq!(parse_version("1.31.4.5"), None);
    }
}
