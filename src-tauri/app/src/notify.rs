//! Desktop notifications for alerts (issue 9, BRIEF §5: high and critical
//! alerts, and escalations). The collection loop hands the alerts of
//! `AlertChanges::to_notify` to [`notify_alerts`]; what it sends goes
//! through a [`Notifier`], so that a test can record the calls: Tauri's mock
//! runtime has no notification daemon to observe.
//!
//! Text comes from the alert's own fields (cluster id, rule, value,
//! threshold, subject), which the evaluation builds from metrics: no
//! credential or endpoint secret can reach a notification.

use std::sync::Arc;

use cloudops_core::analysis::alerts::AlertRule;
use cloudops_core::analysis::anomaly::Severity;
use cloudops_core::store::Alert;
use tauri::{AppHandle, Manager, Runtime};

/// One desktop notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopNotification {
    pub title: String,
    pub body: String,
}

/// Sends desktop notifications. `Err` carries a message for the log.
pub trait Notifier: Send + Sync {
    fn notify(&self, n: &DesktopNotification) -> Result<(), String>;
}

/// The notifier the app uses: managed state, so that a test can put a
/// recording one in its place. When none is managed, the plugin is used.
#[derive(Clone)]
pub struct Notifications(pub Arc<dyn Notifier>);

/// The real one: `tauri-plugin-notification` (D-Bus on Linux, the
/// notification centre on macOS, toasts on Windows).
pub struct PluginNotifier<R: Runtime>(pub AppHandle<R>);

impl<R: Runtime> Notifier for PluginNotifier<R> {
    fn notify(&self, n: &DesktopNotification) -> Result<(), String> {
        use tauri_plugin_notification::NotificationExt;
        self.0
            .notification()
            .builder()
            .title(&n.title)
            .body(&n.body)
            .show()
            .map_err(|e| e.to_string())
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

fn rule_words(rule: AlertRule) -> (&'static str, &'static str) {
    match rule {
        AlertRule::NodeCpu => ("CPU", "%"),
        AlertRule::NodeMemory => ("memory", "%"),
        AlertRule::NodeDisk => ("disk", "%"),
        AlertRule::ServiceP95 => ("p95 latency", " s"),
        AlertRule::ServiceErrorRate => ("error rate", "%"),
        AlertRule::LogNewPattern => ("new error log pattern", " lines"),
        AlertRule::LogPatternSpike => ("error log spike", "× usual rate"),
        AlertRule::BudgetActual => ("budget spent", "%"),
        AlertRule::BudgetForecast => ("budget forecast", "%"),
    }
}

/// `provider/account/region/name` → "name (region)"; other ids as they are.
fn cluster_label(cluster_id: &str) -> String {
    // Budgets over a cloud, a tag or the fleet belong to no cluster.
    if cluster_id.is_empty() {
        return "fleet".to_owned();
    }
    let parts: Vec<&str> = cluster_id.split('/').collect();
    match parts.as_slice() {
        [_, _, region, name] if !name.is_empty() => format!("{name} ({region})"),
        _ => cluster_id.to_owned(),
    }
}

fn number(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r}")
    }
}

/// Title: severity and cluster; body: the rule, its subject, the value
/// against the threshold, and how many firings and reminders so far.
pub fn notification_for(a: &Alert) -> DesktopNotification {
    let (what, unit) = rule_words(a.rule);
    let mut body = format!(
        "{what} {}{unit} on {} (threshold {}{unit})",
        number(a.value),
        a.subject,
        number(a.threshold)
    );
    if a.count > 1 {
        body.push_str(&format!(", seen {} times", a.count));
    }
    if a.escalations > 0 {
        body.push_str(&format!(
            ". Still unacknowledged (reminder {})",
            a.escalations
        ));
    }
    DesktopNotification {
        title: format!(
            "{} alert · {}",
            severity_word(a.severity),
            cluster_label(&a.cluster_id)
        ),
        body,
    }
}

/// Sends one notification per alert; returns how many were sent. A failed
/// send is logged and does not stop the others (a missing notification
/// daemon must not cost the user the rest).
pub fn send_all(notifier: &dyn Notifier, alerts: &[Alert]) -> usize {
    let mut sent = 0;
    for a in alerts {
        match notifier.notify(&notification_for(a)) {
            Ok(()) => sent += 1,
            Err(e) => tracing::warn!(alert = a.id, error = %e, "the desktop notification failed"),
        }
    }
    sent
}

/// Notifies `alerts` with the app's notifier (managed, or the plugin).
pub fn notify_alerts<R: Runtime>(app: &AppHandle<R>, alerts: &[Alert]) -> usize {
    if alerts.is_empty() {
        return 0;
    }
    match app.try_state::<Notifications>() {
        Some(n) => send_all(n.0.as_ref(), alerts),
        None => send_all(&PluginNotifier(app.clone()), alerts),
    }
}

/// Records notifications instead of showing them (tests).
#[cfg(test)]
#[derive(Default)]
pub struct RecordingNotifier(pub std::sync::Mutex<Vec<DesktopNotification>>);

#[cfg(test)]
impl Notifier for RecordingNotifier {
    fn notify(&self, n: &DesktopNotification) -> Result<(), String> {
        self.0.lock().map_err(|e| e.to_string())?.push(n.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudops_core::store::AlertState;

    fn alert(rule: AlertRule, severity: Severity, value: f64, threshold: f64) -> Alert {
        Alert {
            id: 7,
            key: "k".into(),
            cluster_id: "aws/prod/eu-west-1/payments".into(),
            subject: "service/checkout".into(),
            rule,
            severity,
            state: AlertState::Open,
            first_seen: 1,
            last_seen: 2,
            count: 1,
            value,
            threshold,
            message: "m".into(),
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            last_notified_at: None,
            escalations: 0,
        }
    }

    #[test]
    fn the_title_names_severity_and_cluster_and_the_body_the_rule_and_value() {
        let n = notification_for(&alert(AlertRule::ServiceP95, Severity::Critical, 5.5, 5.0));
        assert_eq!(n.title, "Critical alert · payments (eu-west-1)");
        assert_eq!(
            n.body,
            "p95 latency 5.5 s on service/checkout (threshold 5 s)"
        );
        let mut a = alert(AlertRule::NodeCpu, Severity::High, 97.456, 95.0);
        a.subject = "node/n1".into();
        a.count = 4;
        a.escalations = 2;
        a.cluster_id = "odd-id".into();
        let n = notification_for(&a);
        assert_eq!(n.title, "High alert · odd-id");
        assert_eq!(
            n.body,
            "CPU 97.46% on node/n1 (threshold 95%), seen 4 times. Still unacknowledged (reminder 2)"
        );
    }

    struct Failing;
    impl Notifier for Failing {
        fn notify(&self, _: &DesktopNotification) -> Result<(), String> {
            Err("no notification daemon".into())
        }
    }

    #[test]
    fn every_alert_is_sent_and_a_failure_is_counted_not_fatal() {
        let rec = RecordingNotifier::default();
        let alerts = [
            alert(AlertRule::ServiceP95, Severity::Critical, 6.0, 5.0),
            alert(AlertRule::ServiceErrorRate, Severity::High, 12.0, 10.0),
        ];
        assert_eq!(send_all(&rec, &alerts), 2);
        assert_eq!(rec.0.lock().unwrap().len(), 2);
        assert_eq!(send_all(&Failing, &alerts), 0);
    }
}
