//! The Cost screen's CSV export: the cached daily rows of one month, one
//! line per account, cluster, day, source and currency (never netted across
//! currencies or sources, so a spreadsheet can pivot them either way).

use super::cost::month_days;
use super::ViewError;
use crate::store::Store;

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// The daily cost rows of `month` (`YYYY-MM`), optionally of one cluster,
/// as CSV (RFC 4180 quoting) with a header line.
pub fn cost_csv(store: &Store, month: &str, cluster: Option<&str>) -> Result<String, ViewError> {
    let (since, until) = month_days(month)?;
    if let Some(c) = cluster {
        if store.cluster(c)?.is_none() {
            return Err(ViewError::UnknownCluster(c.to_owned()));
        }
    }
    let rows = store.cost_days(&since, &until, cluster)?;
    let mut out = String::from(
        "day,provider,account,cluster_id,cluster_name,source,currency,amount,final\r\n",
    );
    let clusters = store.clusters(None)?;
    for r in rows {
        let name = r
            .cluster_id
            .as_deref()
            .and_then(|id| clusters.iter().find(|c| c.id == id))
            .map(|c| c.name.as_str())
            .unwrap_or("");
        let fields = [
            csv_field(&r.day),
            r.provider.as_str().to_owned(),
            csv_field(&r.account),
            csv_field(r.cluster_id.as_deref().unwrap_or("")),
            csv_field(name),
            r.source.as_str().to_owned(),
            csv_field(&r.currency),
            format!("{:.6}", r.amount),
            r.is_final.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}
