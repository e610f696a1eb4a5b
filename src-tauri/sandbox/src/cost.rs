//! The sandbox's cost model: costs follow node hours (BRIEF §6).
//!
//! A pool costs `nodes × hours × hourly list price` of its machine type. The
//! world keeps no history of pool sizes, so the model splits time in two:
//! before the current UTC day a pool ran at its size at creation
//! (`initial_count`); from the start of the current day it runs at its current
//! size (`count`), billed in started hours up to now. Past periods are thus
//! stable, and scaling a pool changes the open period's cost at once.

use crate::world::{rfc3339, Cloud, Cluster, NodePool};

/// A machine type and its on-demand list price (USD, Linux, the cloud's
/// cheapest US region), as published mid-2025.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MachinePrice {
    pub machine_type: &'static str,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub disk_gib: u64,
    pub hourly: f64,
}

const fn mp(
    machine_type: &'static str,
    vcpus: u32,
    memory_mib: u64,
    disk_gib: u64,
    hourly: f64,
) -> MachinePrice {
    MachinePrice {
        machine_type,
        vcpus,
        memory_mib,
        disk_gib,
        hourly,
    }
}

/// DigitalOcean Droplets: hourly = monthly / 672 (DO's 28-day hourly cap).
const DO_PRICES: &[MachinePrice] = &[
    mp("s-1vcpu-2gb", 1, 2048, 50, 0.01786),
    mp("s-2vcpu-4gb", 2, 4096, 80, 0.03571),
    mp("s-4vcpu-8gb", 4, 8192, 160, 0.07143),
    mp("s-8vcpu-16gb", 8, 16384, 320, 0.14286),
    mp("c-4", 4, 8192, 50, 0.125),
    mp("g-4vcpu-16gb", 4, 16384, 50, 0.1875),
];

const AWS_PRICES: &[MachinePrice] = &[
    mp("m6i.large", 2, 8192, 0, 0.096),
    mp("m6i.xlarge", 4, 16384, 0, 0.192),
    mp("c6i.xlarge", 4, 8192, 0, 0.17),
    mp("r6i.xlarge", 4, 32768, 0, 0.252),
];

const AZURE_PRICES: &[MachinePrice] = &[
    mp("Standard_D4s_v5", 4, 16384, 0, 0.192),
    mp("Standard_D8s_v5", 8, 32768, 0, 0.384),
    mp("Standard_E4s_v5", 4, 32768, 0, 0.252),
];

const GCP_PRICES: &[MachinePrice] = &[
    mp("e2-standard-4", 4, 16384, 0, 0.134),
    mp("e2-standard-8", 8, 32768, 0, 0.268),
    mp("n2-standard-4", 4, 16384, 0, 0.194),
];

/// The price of a machine type the table does not know (world files may
/// name any): a mid-size general-purpose node.
pub(crate) const FALLBACK_HOURLY: f64 = 0.10;

pub(crate) fn price_table(cloud: Cloud) -> &'static [MachinePrice] {
    match cloud {
        Cloud::Aws => AWS_PRICES,
        Cloud::Gcp => GCP_PRICES,
        Cloud::Azure => AZURE_PRICES,
        Cloud::DigitalOcean => DO_PRICES,
    }
}

pub(crate) fn hourly_price(cloud: Cloud, machine_type: &str) -> f64 {
    price_table(cloud)
        .iter()
        .find(|p| p.machine_type == machine_type)
        .map_or(FALLBACK_HOURLY, |p| p.hourly)
}

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

const HOUR: u64 = 3600;
pub(crate) const DAY: u64 = 86_400;

/// Node hours of `pool` over `[from, to)` as seen at `now`, per the model of
/// the module docs. Nothing is billed before `created_at` or after the
/// current started hour.
pub(crate) fn pool_node_hours(
    pool: &NodePool,
    created_at: u64,
    from: u64,
    to: u64,
    now: u64,
) -> f64 {
    let today = now - now % DAY;
    let billed_until = now - now % HOUR + HOUR;
    let start = from.max(created_at);
    let end = to.min(billed_until);
    if start >= end {
        return 0.0;
    }
    let closed = end.min(today).saturating_sub(start);
    let open = end.saturating_sub(start.max(today));
    (closed as f64 * f64::from(pool.initial_count) + open as f64 * f64::from(pool.count))
        / HOUR as f64
}

/// A pool's cost (USD) over `[from, to)`.
pub(crate) fn pool_cost(
    cloud: Cloud,
    c: &Cluster,
    pool: &NodePool,
    from: u64,
    to: u64,
    now: u64,
) -> f64 {
    pool_node_hours(pool, c.created_at, from, to, now) * hourly_price(cloud, &pool.machine_type)
}

/// A cluster's cost (USD) over `[from, to)`.
pub(crate) fn cluster_cost(c: &Cluster, from: u64, to: u64, now: u64) -> f64 {
    c.node_pools
        .iter()
        .map(|p| pool_cost(c.cloud, c, p, from, to, now))
        .sum()
}

/// A simulated daily cost history of `c` for the cost forecast's backtest
/// (`cloudops bench cost-forecast`), per the same model (node hours × list
/// price) but with the history the world does not keep: each pool's size
/// follows demand hour by hour (a diurnal curve, weekends at about 60 % of
/// weekdays, a little noise), rounded to whole nodes within the pool's
/// bounds, and from a seeded day in the second half of the period demand
/// steps up by 40–80 % (a scale event: a launch, a migration). Day `i` is
/// the `i`-th of `days`; amounts in USD.
pub fn simulated_daily_costs(c: &Cluster, days: usize, seed: u64) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let scale_at = days / 2 + rng.usize(..(days / 3).max(1));
    let scale = 1.4 + 0.4 * rng.f64();
    // Which weekday day 0 is, so that clusters do not all start on Monday.
    let first_weekday = rng.usize(..7);
    (0..days)
        .map(|i| {
            let weekend = (first_weekday + i) % 7 >= 5;
            let step = if i >= scale_at { scale } else { 1.0 };
            let day_noise = 1.0 + 0.06 * (rng.f64() * 2.0 - 1.0);
            (0..24)
                .map(|hour| {
                    let diurnal = 0.75
                        + 0.35
                            * (std::f64::consts::PI * (f64::from(hour) - 6.0) / 12.0)
                                .sin()
                                .max(0.0);
                    let demand = diurnal * step * day_noise * if weekend { 0.6 } else { 1.0 };
                    c.node_pools
                        .iter()
                        .map(|p| {
                            let want = (f64::from(p.initial_count) * demand).round();
                            let nodes = want.clamp(
                                f64::from(p.min_count),
                                f64::from(p.max_count.max(p.min_count)),
                            );
                            nodes * hourly_price(c.cloud, &p.machine_type)
                        })
                        .sum::<f64>()
                })
                .sum()
        })
        .collect()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month)` of a unix time, UTC.
pub(crate) fn year_month(unix: u64) -> (i64, u32) {
    let s = rfc3339(unix);
    let year = s.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(1970);
    let month = s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    (year, month)
}

/// The first second of the month `offset` months after the one holding
/// `unix` (negative: before).
pub(crate) fn month_start(unix: u64, offset: i64) -> u64 {
    let (year, month) = year_month(unix);
    let index = year * 12 + i64::from(month) - 1 + offset;
    let days = days_from_civil(index.div_euclid(12), (index.rem_euclid(12) + 1) as u32, 1);
    u64::try_from(days).unwrap_or(0) * DAY
}

/// Parses `YYYY-MM-DD`, optionally followed by `THH:MM:SS` and anything
/// after (a zone suffix is ignored: the sandbox bills in UTC).
pub(crate) fn parse_time(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1970 {
        return None;
    }
    let mut secs = 0u64;
    if b.len() >= 19 && b[10] == b'T' {
        let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        secs = u64::from(h * 3600 + m * 60 + sec);
    } else if b.len() != 10 {
        return None;
    }
    let days = u64::try_from(days_from_civil(i64::from(year), month, day)).ok()?;
    Some(days * DAY + secs)
}

/// `YYYY-MM-DD` of a unix time.
pub(crate) fn date(unix: u64) -> String {
    rfc3339(unix)[..10].to_string()
}

/// USD with two decimals, as DigitalOcean writes amounts.
pub(crate) fn usd2(amount: f64) -> String {
    format!("{amount:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(initial: u32, count: u32) -> NodePool {
        NodePool {
            id: "p".into(),
            name: "p".into(),
            machine_type: "m6i.large".into(),
            zone: "z".into(),
            initial_count: initial,
            count,
            min_count: 1,
            max_count: 10,
        }
    }

    #[test]
    fn calendar_helpers_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2025, 6, 1) as u64 * DAY, 1_748_736_000);
        assert_eq!(parse_time("2025-06-01"), Some(1_748_736_000));
        assert_eq!(
            parse_time("2025-06-01T01:00:00+00:00"),
            Some(1_748_736_000 + 3600)
        );
        assert_eq!(parse_time("2025-13-01"), None);
        assert_eq!(parse_time("garbage"), None);
        assert_eq!(parse_time("2025-06-01x"), None);
        let mid_june = 1_748_736_000 + 10 * DAY;
        assert_eq!(month_start(mid_june, 0), 1_748_736_000);
        assert_eq!(rfc3339(month_start(mid_june, -6)), "2024-12-01T00:00:00Z");
        assert_eq!(rfc3339(month_start(mid_june, 7)), "2026-01-01T00:00:00Z");
    }

    #[test]
    fn simulated_history_has_a_week_and_a_scale_event() {
        let w = crate::World::generate(1).snapshot();
        let c = &w.clusters[0];
        let a = simulated_daily_costs(c, 120, 9);
        assert_eq!(a, simulated_daily_costs(c, 120, 9));
        assert_eq!(a.len(), 120);
        assert!(a.iter().all(|v| v.is_finite() && *v > 0.0));
        // Weekends are cheaper: the week's minimum is well under its max.
        let week = &a[..7];
        let (lo, hi) = week
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(lo < 0.85 * hi, "{week:?}");
        // The last month costs more than the first (the scale event).
        let first: f64 = a[..28].iter().sum();
        let last: f64 = a[92..].iter().sum();
        assert!(last > 1.2 * first, "{first} {last}");
        // At most one day's price for a day of the whole pool at its max.
        let cap: f64 = c
            .node_pools
            .iter()
            .map(|p| 24.0 * f64::from(p.max_count) * hourly_price(c.cloud, &p.machine_type))
            .sum();
        assert!(a.iter().all(|v| *v <= cap + 1e-9));
    }

    #[test]
    fn node_hours_split_at_the_current_day() {
        let day0 = 1_748_736_000;
        let now = day0 + 2 * DAY + 90 * 60; // 01:30 on day 2.
        let p = pool(2, 5);
        // A closed day: at the initial size.
        assert_eq!(pool_node_hours(&p, 0, day0, day0 + DAY, now), 48.0);
        // Today: two started hours at the current size.
        assert_eq!(
            pool_node_hours(&p, 0, day0 + 2 * DAY, day0 + 3 * DAY, now),
            10.0
        );
        // Nothing before creation, nothing in the future.
        assert_eq!(pool_node_hours(&p, day0 + DAY, day0, day0 + DAY, now), 0.0);
        assert_eq!(pool_node_hours(&p, 0, now + DAY, now + 2 * DAY, now), 0.0);
    }
}
