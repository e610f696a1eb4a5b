//! The budget commands (issue 7): list the budgets with where each stands
//! this month, save one, delete one. A budget is local config, not a
//! cluster write (read-only mode does not block it), but every change is
//! audited with the OS user, and the budget alerts are checked again at
//! once so that an edit resolves or raises them without waiting for the
//! next cost refresh.

use cloudops_core::analysis::cost_budget::Budget;
use cloudops_core::store::{now_ms, os_user};
use cloudops_core::views::cost::{budget_view, current_budget_checks, BudgetView};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::cluster::check_text;
use super::CommandError;
use crate::state::AppState;

/// One saved budget and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BudgetEntry {
    pub budget: Budget,
    pub view: BudgetView,
}

/// Every budget against the current month.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BudgetsList {
    /// `YYYY-MM`.
    pub month: String,
    pub budgets: Vec<BudgetEntry>,
}

/// What the dialog sends; the checks a user can fix come back as
/// `invalid_input` with the reason.
pub fn check_budget(b: &Budget) -> Result<(), CommandError> {
    check_text("the budget name", &b.name, 128)?;
    b.validate()
        .map_err(|e| CommandError::invalid(format!("{e} — {}", e.hint())))?;
    if let Some(id) = b.id {
        if id <= 0 {
            return Err(CommandError::invalid(format!(
                "budget id {id} is not valid"
            )));
        }
    }
    Ok(())
}

#[tauri::command]
pub async fn budgets_list(state: State<'_, AppState>) -> Result<BudgetsList, CommandError> {
    let now = now_ms() / 1000;
    state
        .with_store(move |store| {
            let (month, checks) = current_budget_checks(store, now)?;
            Ok::<_, CommandError>(BudgetsList {
                month,
                budgets: checks
                    .iter()
                    .map(|c| BudgetEntry {
                        budget: c.budget.clone(),
                        view: budget_view(c),
                    })
                    .collect(),
            })
        })
        .await
}

/// Saves a new budget (no id) or replaces one (its id); returns the id.
#[tauri::command]
pub async fn budget_set<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    budget: Budget,
) -> Result<i64, CommandError> {
    let mut budget = budget;
    budget.currency = budget.currency.trim().to_ascii_uppercase();
    budget.name = budget.name.trim().to_owned();
    check_budget(&budget)?;
    let now = now_ms() / 1000;
    let id = state
        .with_store(move |store| store.put_budget_audited(&budget, &os_user(), now))
        .await?;
    crate::fleet::evaluate_budget_alerts(&app, &state).await;
    Ok(id)
}

/// Deletes the budget named `name`; `false` when there was none.
#[tauri::command]
pub async fn budget_delete<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Result<bool, CommandError> {
    check_text("the budget name", &name, 128)?;
    let deleted = state
        .with_store(move |store| store.delete_budget_audited(&name, &os_user()))
        .await?
        .is_some();
    if deleted {
        crate::fleet::evaluate_budget_alerts(&app, &state).await;
    }
    Ok(deleted)
}
