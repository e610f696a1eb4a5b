//! The cost refresh's bookkeeping with scripted providers: one account's
//! bad answer fails that account only, a source with no billing API says
//! so, and the good accounts are written.

use std::sync::Arc;

use async_trait::async_trait;
use cloudops_cloud::{
    cost::{
        refresh::{refresh_costs, CostOutcome, CostPolicy},
        CostReport, CostRequest,
    },
    providers::{
        ClusterConnection, ClusterLocator, DiscoveredCluster, Provider, ScaleOutcome, Scope,
    },
    ProviderError,
};
use cloudops_core::{
    cost::{CostLine, CostSource},
    model::Provider as ProviderKind,
    Store,
};

/// Answers `daily_costs` with one line per requested day, or (`bad`) with
/// a line on a day it was not asked for.
struct Scripted {
    kind: ProviderKind,
    account: &'static str,
    bad: bool,
}

#[async_trait]
impl Provider for Scripted {
    fn kind(&self) -> ProviderKind {
        self.kind
    }
    fn account(&self) -> &str {
        self.account
    }
    fn endpoint(&self) -> &str {
        "scripted"
    }
    async fn scopes(&self) -> Result<Vec<Scope>, ProviderError> {
        Ok(Vec::new())
    }
    async fn discover(&self, _: &Scope) -> Result<Vec<DiscoveredCluster>, ProviderError> {
        Ok(Vec::new())
    }
    async fn describe(&self, c: &ClusterLocator) -> Result<DiscoveredCluster, ProviderError> {
        Err(ProviderError::NotFound {
            provider: self.kind,
            what: c.name.clone(),
        })
    }
    async fn scale_node_pool(
        &self,
        c: &ClusterLocator,
        _: &str,
        _: u32,
    ) -> Result<ScaleOutcome, ProviderError> {
        Err(ProviderError::NotFound {
            provider: self.kind,
            what: c.name.clone(),
        })
    }
    async fn connect(&self, c: &ClusterLocator) -> Result<ClusterConnection, ProviderError> {
        Err(ProviderError::NotFound {
            provider: self.kind,
            what: c.name.clone(),
        })
    }
    async fn daily_costs(&self, req: &CostRequest) -> Result<CostReport, ProviderError> {
        if self.kind == ProviderKind::Kubeconfig {
            return Err(ProviderError::Unsupported {
                provider: self.kind,
                what: "cost".into(),
                hint: "none".into(),
            });
        }
        let day = |d: jiff::civil::Date| CostLine {
            cluster_id: Some("c".into()),
            day: d.to_string(),
            category: "nodes".into(),
            amount: 1.0,
            currency: "USD".into(),
            source: CostSource::Estimate,
            is_final: false,
        };
        let mut lines: Vec<CostLine> = req.days().into_iter().map(day).collect();
        if self.bad {
            lines.push(day(req.end_day));
        }
        Ok(CostReport {
            lines,
            windows: vec![req.window(CostSource::Estimate)],
            api_calls: 1,
            pages: 1,
            ..CostReport::default()
        })
    }
}

#[tokio::test]
async fn a_bad_answer_fails_its_account_only_and_kubeconfig_has_no_cost_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    let providers: Vec<Arc<dyn Provider>> = vec![
        Arc::new(Scripted {
            kind: ProviderKind::Gcp,
            account: "good",
            bad: false,
        }),
        Arc::new(Scripted {
            kind: ProviderKind::DigitalOcean,
            account: "bad",
            bad: true,
        }),
        Arc::new(Scripted {
            kind: ProviderKind::Kubeconfig,
            account: "kube",
            bad: false,
        }),
    ];
    let policy = CostPolicy {
        history_days: 2,
        ..CostPolicy::default()
    };
    let now: jiff::Timestamp = "2025-06-10T12:00:00Z".parse().unwrap();
    let done = refresh_costs(&mut store, &providers, &policy, now)
        .await
        .unwrap();
    let outcome = |k: ProviderKind| &done.iter().find(|a| a.provider == k).unwrap().outcome;
    assert!(matches!(
        outcome(ProviderKind::Gcp),
        CostOutcome::Fetched { lines: 3, .. }
    ));
    match outcome(ProviderKind::DigitalOcean) {
        CostOutcome::Failed { kind, message, .. } => {
            assert_eq!(kind, "bad_reply");
            assert!(message.contains("outside the fetched days"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        outcome(ProviderKind::Kubeconfig),
        CostOutcome::NoCostSource { .. }
    ));
    let days = store.cost_days("2025-06-01", "2025-07-01", None).unwrap();
    assert_eq!(days.len(), 3);
    assert!(days.iter().all(|d| d.provider == ProviderKind::Gcp));
    // The failed account is logged with its error; kubeconfig is not logged.
    let fetches = store.cost_fetches().unwrap();
    assert_eq!(fetches.len(), 2);
    assert!(fetches
        .iter()
        .any(|f| f.provider == ProviderKind::DigitalOcean && f.error.is_some()));
}
