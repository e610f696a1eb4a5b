//! Kubernetes version risks for the health reasons (issue 9): a control
//! plane past its end of support, and kubelets skewed from their API server.
//!
//! **End of support** is upstream's (the date the last patch release of a
//! minor is published), from the table below. Managed providers often
//! support a minor longer (EKS/AKS extended support, GKE's own calendar),
//! so the reason says "upstream" and tells the user to check the
//! provider's calendar; it is a nudge, not an outage. A minor newer than the
//! table is treated as supported: it cannot be past a date we do not know.
//!
//! **Skew**, per the upstream version skew policy (since 1.28): a kubelet
//! may be up to three minors older than the API server, and never newer.

/// Upstream end-of-life dates per minor, as unix seconds (UTC midnight).
///
/// Source: <https://kubernetes.io/releases/patch-releases/> and
/// <https://kubernetes.io/releases/> ("End of Life" per release),
/// transcribed 2025-12. Add a row when a minor is released.
pub const UPSTREAM_END_OF_LIFE: &[(u32, &str, i64)] = &[
    (23, "2023-02-28", 1_677_542_400),
    (24, "2023-07-28", 1_690_502_400),
    (25, "2023-10-28", 1_698_451_200),
    (26, "2024-02-28", 1_709_078_400),
    (27, "2024-06-28", 1_719_532_800),
    (28, "2024-10-28", 1_730_073_600),
    (29, "2025-02-28", 1_740_700_800),
    (30, "2025-06-28", 1_751_068_800),
    (31, "2025-10-28", 1_761_609_600),
    (32, "2026-02-28", 1_772_236_800),
    (33, "2026-06-28", 1_782_604_800),
    (34, "2026-10-27", 1_793_059_200),
    (35, "2027-02-28", 1_803_772_800),
];

/// The oldest minor the table knows; anything older is past support too.
const OLDEST_IN_TABLE: u32 = 23;

/// How many minors a kubelet may lag its API server.
pub const MAX_KUBELET_LAG: u32 = 3;

/// `(major, minor)` of a version as clusters and providers write it:
/// `1.31`, `1.31.4`, `v1.31.4-eks-a737599`, `v1.30.2-gke.1587003`, `1.29+`.
pub fn parse_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The upstream end-of-life date of a 1.x minor, if the table knows it.
fn end_of_life(minor: u32) -> Option<(&'static str, i64)> {
    UPSTREAM_END_OF_LIFE
        .iter()
        .find(|(m, _, _)| *m == minor)
        .map(|(_, day, at)| (*day, *at))
}

/// Why this cluster's versions are a risk at `now`, if they are: the
/// control plane past upstream end of support, then kubelet skew. `None`
/// when the API server version is unknown or unparsable (no claim without
/// data).
pub fn version_issue(server: Option<&str>, kubelets: &[String], now: i64) -> Option<String> {
    let server_raw = server?;
    let (major, minor) = parse_minor(server_raw)?;
    let mut issues = Vec::new();
    if major == 1 {
        match end_of_life(minor) {
            Some((day, at)) if now >= at => issues.push(format!(
                "Kubernetes 1.{minor} is past upstream end of support ({day}); \
                 check your provider's support calendar and plan an upgrade"
            )),
            None if minor < OLDEST_IN_TABLE => issues.push(format!(
                "Kubernetes 1.{minor} is long past upstream end of support; upgrade the control plane"
            )),
            _ => {}
        }
    }
    let mut too_old = Vec::new();
    let mut too_new = Vec::new();
    for k in kubelets {
        let Some((km, kn)) = parse_minor(k) else {
            continue;
        };
        if km != major {
            continue;
        }
        if kn > minor {
            too_new.push(kn);
        } else if minor - kn > MAX_KUBELET_LAG {
            too_old.push(kn);
        }
    }
    if let Some(oldest) = too_old.iter().min() {
        issues.push(format!(
            "{} node(s) run kubelet 1.{oldest}, more than {MAX_KUBELET_LAG} minors behind the \
             API server 1.{minor}; upgrade those node pools",
            too_old.len()
        ));
    }
    if let Some(newest) = too_new.iter().max() {
        issues.push(format!(
            "{} node(s) run kubelet 1.{newest}, newer than the API server 1.{minor} \
             (unsupported skew); upgrade the control plane first",
            too_new.len()
        ));
    }
    if issues.is_empty() {
        None
    } else {
        Some(issues.join("; "))
    }
}

/// Days from `now` until `not_after` (negative once expired).
pub fn days_left(not_after: i64, now: i64) -> f64 {
    (not_after - now) as f64 / 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn table_dates_match_their_unix_seconds() {
        for (minor, day, at) in UPSTREAM_END_OF_LIFE {
            let midnight = crate::analysis::nab::parse_timestamp(&format!("{day} 00:00:00"));
            assert_eq!(midnight, Some(*at), "1.{minor}");
        }
        // The table is ordered and contiguous, so a lookup cannot miss a minor.
        for w in UPSTREAM_END_OF_LIFE.windows(2) {
            assert_eq!(w[0].0 + 1, w[1].0);
            assert!(w[0].2 < w[1].2);
        }
        assert_eq!(UPSTREAM_END_OF_LIFE[0].0, OLDEST_IN_TABLE);
    }

    #[test]
    fn versions_parse_in_every_provider_spelling() {
        for (v, want) in [
            ("1.31", Some((1, 31))),
            ("1.31.4", Some((1, 31))),
            ("v1.31.4-eks-a737599", Some((1, 31))),
            ("v1.30.2-gke.1587003", Some((1, 30))),
            ("1.29+", Some((1, 29))),
            (" V1.28.0 ", Some((1, 28))),
            ("", None),
            ("latest", None),
            ("1", None),
            ("1.x", None),
        ] {
            assert_eq!(parse_minor(v), want, "{v:?}");
        }
    }

    #[test]
    fn end_of_support_is_judged_at_now_against_the_table() {
        let (_, _, eol31) = UPSTREAM_END_OF_LIFE
            .iter()
            .find(|(m, _, _)| *m == 31)
            .unwrap();
        assert_eq!(version_issue(Some("1.31.4"), &[], eol31 - DAY), None);
        let past = version_issue(Some("v1.31.4"), &[], *eol31).unwrap();
        assert!(
            past.contains("1.31 is past upstream end of support (2025-10-28)"),
            "{past}"
        );
        // Older than the table: still flagged; newer than the table: not.
        assert!(version_issue(Some("1.19"), &[], 0)
            .unwrap()
            .contains("long past"));
        assert_eq!(version_issue(Some("1.99.0"), &[], i64::MAX), None);
        // Unknown or garbage server version: no claim.
        assert_eq!(version_issue(None, &["1.10".into()], i64::MAX), None);
        assert_eq!(version_issue(Some("unknown"), &[], i64::MAX), None);
    }

    #[test]
    fn kubelet_skew_allows_three_minors_behind_and_none_ahead() {
        let before_any_eol = 0;
        let ok: Vec<String> = ["v1.35.1", "v1.32.9", "garbage"].map(String::from).to_vec();
        assert_eq!(version_issue(Some("1.35.0"), &ok, before_any_eol), None);
        let old: Vec<String> = ["v1.31.1", "v1.30.2", "v1.35.0"].map(String::from).to_vec();
        let got = version_issue(Some("1.35.0"), &old, before_any_eol).unwrap();
        assert!(got.starts_with("2 node(s) run kubelet 1.30"), "{got}");
        let new: Vec<String> = ["v1.34.0"].map(String::from).to_vec();
        let got = version_issue(Some("1.33.2"), &new, before_any_eol).unwrap();
        assert!(got.contains("newer than the API server 1.33"), "{got}");
    }

    #[test]
    fn both_problems_are_reported_together() {
        let kubelets = vec!["v1.25.0".to_string()];
        let got = version_issue(Some("1.29.1"), &kubelets, i64::MAX).unwrap();
        assert!(
            got.contains("1.29 is past upstream end of support"),
            "{got}"
        );
        assert!(got.contains("kubelet 1.25"), "{got}");
    }

    #[test]
    fn days_left_is_signed() {
        assert_eq!(days_left(10 * DAY, 0), 10.0);
        assert_eq!(days_left(0, DAY / 2), -0.5);
    }
}
