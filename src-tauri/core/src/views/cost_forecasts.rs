//! The month-end forecast alone (`cloudops cost --forecast`): the fleet's,
//! or one cluster's, per currency, without the rest of the Cost view.

use super::cost::{
    best_rows, currencies_by_spend, daily_totals, parse_day, CostForecastView, HISTORY_DAYS,
};
use super::ViewError;
use crate::analysis::cost_forecast::{month_end_forecast, ForecastConfig};
use crate::analysis::cost_series::{iso_date, month_bounds};
use crate::cost::CostDay;
use crate::store::Store;

/// The current month's forecast per currency (largest spend first), from
/// the cached daily rows of `cluster` (all clusters when `None`). A
/// currency whose history cannot be forecast gets a note instead.
pub fn cost_forecasts(
    store: &Store,
    now: i64,
    cluster: Option<&str>,
) -> Result<(Vec<CostForecastView>, Vec<String>), ViewError> {
    let today = now.div_euclid(86_400);
    let (first, _) = month_bounds(today);
    let history = best_rows(&store.cost_days(
        &iso_date(first - HISTORY_DAYS),
        &iso_date(today + 1),
        cluster,
    )?);
    let in_month: Vec<&CostDay> = history
        .iter()
        .filter(|d| parse_day(&d.day).is_some_and(|x| x >= first))
        .collect();
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for cur in currencies_by_spend(&in_month) {
        // Up to yesterday, as the Cost view does (today is partial).
        let mut series = daily_totals(history.iter().filter(|d| d.currency == cur));
        if series.iter().any(|d| d.day >= first && d.day < today) {
            series.retain(|d| d.day < today);
        }
        match month_end_forecast(&series, &ForecastConfig::default()) {
            Ok(f) if f.month_first_day == first => out.push(CostForecastView {
                currency: cur.clone(),
                through: iso_date(f.through),
                spent_to_date: f.actual_to_date + f.filled_to_date,
                total: f.total,
                low: f.low,
                high: f.high,
                level: f.level,
                method: format!("{:?}", f.method),
                notes: f.notes,
            }),
            Ok(_) => notes.push(format!("no {cur} cost this month yet")),
            Err(e) => notes.push(format!("no {cur} forecast: {e}")),
        }
    }
    if in_month.is_empty() {
        notes.push("no cost in the cache for this month: run `cloudops refresh` first".into());
    }
    Ok((out, notes))
}
