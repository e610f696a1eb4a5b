//! Bundled, dated list prices for the node-hour estimates (BRIEF §4): GKE
//! has no cost-query API, and EKS falls back to them when the
//! `eks:cluster-name` tag returns nothing. DigitalOcean's come live from
//! `/v2/sizes`; Azure's cost is always the Cost Management actual.
//!
//! The numbers are those of the sandbox's table (`sandbox/src/cost.rs`),
//! kept identical on purpose so the sandbox's "actual" and our estimate
//! agree where they should. Node hours only: control-plane fees, disks,
//! load balancers and egress are not in the estimate, and the UI labels it
//! an estimate for that reason.

use cloudops_core::model::Provider as ProviderKind;

/// Where a table's prices come from and when they were taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceTable {
    pub provider: ProviderKind,
    pub source: &'static str,
    /// When the prices were published (`YYYY-MM`).
    pub as_of: &'static str,
    pub currency: &'static str,
    /// `(machine type, USD per node hour)`.
    pub hourly: &'static [(&'static str, f64)],
}

impl PriceTable {
    pub fn hourly(&self, machine_type: &str) -> Option<f64> {
        self.hourly
            .iter()
            .find(|(m, _)| *m == machine_type)
            .map(|(_, p)| *p)
    }

    /// "source, as of date": the line every estimate carries in its notes.
    pub fn provenance(&self) -> String {
        format!(
            "{} list prices ({}, as of {})",
            self.provider, self.source, self.as_of
        )
    }
}

/// EC2 on-demand, Linux, us-east-1.
pub const AWS: PriceTable = PriceTable {
    provider: ProviderKind::Aws,
    source: "https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, us-east-1)",
    as_of: "2025-06",
    currency: "USD",
    hourly: &[
        ("m6i.large", 0.096),
        ("m6i.xlarge", 0.192),
        ("c6i.xlarge", 0.17),
        ("r6i.xlarge", 0.252),
    ],
};

/// Compute Engine on-demand, us-central1.
pub const GCP: PriceTable = PriceTable {
    provider: ProviderKind::Gcp,
    source: "https://cloud.google.com/compute/vm-instance-pricing (on-demand, us-central1)",
    as_of: "2025-06",
    currency: "USD",
    hourly: &[
        ("e2-standard-4", 0.134),
        ("e2-standard-8", 0.268),
        ("n2-standard-4", 0.194),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_record_source_and_date_and_price_known_types() {
        for t in [AWS, GCP] {
            assert!(t.source.starts_with("https://"), "{}", t.source);
            assert_eq!(t.as_of.len(), 7);
            assert!(t.provenance().contains(t.as_of));
            assert!(t.hourly.iter().all(|(_, p)| *p > 0.0));
        }
        assert_eq!(GCP.hourly("e2-standard-4"), Some(0.134));
        assert_eq!(AWS.hourly("t9.nano"), None);
    }
}
