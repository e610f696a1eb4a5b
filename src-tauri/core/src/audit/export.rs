//! The audit log as people read it: flat rows, one filter, and CSV. The
//! app's Actions screen and export and the CLI's `audit` share these, so the
//! screen, the exported file and the terminal agree.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::AuditEntry;

/// One audit row, flat: the detail is JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditRow {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// `started`, `succeeded`, `failed` or `cancelled`.
    pub outcome: String,
    /// The row's detail as JSON text.
    pub detail: String,
}

impl From<AuditEntry> for AuditRow {
    fn from(e: AuditEntry) -> Self {
        AuditRow {
            id: e.id,
            at_ms: e.at_ms,
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: e.outcome.as_str().to_owned(),
            detail: e.detail.to_string(),
        }
    }
}

/// The newest `limit` rows of the log (which is oldest first), newest first.
pub fn newest_first(mut rows: Vec<AuditEntry>, limit: usize) -> Vec<AuditRow> {
    rows.reverse();
    rows.truncate(limit);
    rows.into_iter().map(AuditRow::from).collect()
}

/// A filter on audit rows; empty fields match everything. The UI filters
/// the same way (`ui/src/lib/audit.ts`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Case-insensitive, in the actor, target, action and detail.
    pub text: Option<String>,
}

impl AuditFilter {
    pub fn matches(&self, r: &AuditRow) -> bool {
        let some = |o: &Option<String>| o.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
        if some(&self.action).is_some_and(|a| a != r.action) {
            return false;
        }
        if some(&self.outcome).is_some_and(|o| o != r.outcome) {
            return false;
        }
        match some(&self.text) {
            Some(t) => {
                let t = t.to_lowercase();
                [&r.actor, &r.target, &r.action, &r.detail]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&t))
            }
            None => true,
        }
    }
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// The rows as CSV (RFC 4180 quoting) with a header line.
pub fn audit_csv(rows: &[AuditRow]) -> String {
    let mut out = String::from("id,at_ms,actor,action,target,outcome,detail\r\n");
    for r in rows {
        let fields = [
            r.id.to_string(),
            r.at_ms.to_string(),
            csv_field(&r.actor),
            csv_field(&r.action),
            csv_field(&r.target),
            csv_field(&r.outcome),
            csv_field(&r.detail),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: &str, outcome: &str, target: &str) -> AuditRow {
        AuditRow {
            id: 1,
            at_ms: 0,
            actor: "sre via aws account prod".into(),
            action: action.into(),
            target: target.into(),
            outcome: outcome.into(),
            detail: r#"{"to":3}"#.into(),
        }
    }

    #[test]
    fn the_audit_filter_matches_action_outcome_and_text() {
        let r = row("scale_deployment", "succeeded", "aws/prod/eu/pay/shop/web");
        assert!(AuditFilter::default().matches(&r));
        let f = |a: Option<&str>, o: Option<&str>, t: Option<&str>| AuditFilter {
            action: a.map(Into::into),
            outcome: o.map(Into::into),
            text: t.map(Into::into),
        };
        assert!(f(Some("scale_deployment"), None, None).matches(&r));
        assert!(!f(Some("rollout_undo"), None, None).matches(&r));
        assert!(!f(None, Some("failed"), None).matches(&r));
        assert!(f(None, Some("succeeded"), Some("SHOP/WEB")).matches(&r));
        assert!(f(None, None, Some("\"to\":3")).matches(&r));
        assert!(!f(None, None, Some("gke")).matches(&r));
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() {
        let mut r = row("scale_deployment", "failed", "a,b");
        r.detail = "say \"hi\"\nthere".into();
        let csv = audit_csv(&[r]);
        let mut lines = csv.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("id,at_ms,actor,action,target,outcome,detail")
        );
        assert_eq!(
            lines.next(),
            Some("1,0,sre via aws account prod,scale_deployment,\"a,b\",failed,\"say \"\"hi\"\"\nthere\"")
        );
    }

    #[test]
    fn newest_first_keeps_the_last_rows_and_names_outcomes() {
        use super::super::{AuditEntry, Outcome};
        let entry = |id: i64, outcome: Outcome| AuditEntry {
            id,
            at_ms: id * 1000,
            actor: "sre".into(),
            action: "scale_deployment".into(),
            target: "t".into(),
            detail: serde_json::json!({"to": id}),
            outcome,
        };
        let rows = newest_first(
            vec![
                entry(1, Outcome::Started),
                entry(2, Outcome::Succeeded),
                entry(3, Outcome::Cancelled),
            ],
            2,
        );
        let got: Vec<(i64, &str)> = rows.iter().map(|r| (r.id, r.outcome.as_str())).collect();
        assert_eq!(got, vec![(3, "cancelled"), (2, "succeeded")]);
        assert_eq!(rows[0].detail, r#"{"to":3}"#);
    }
}
