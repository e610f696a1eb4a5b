//! Saved cost budgets (issue 7; table `budgets`, migration V12_BUDGETS).
//! What a budget means and how it alerts is in `analysis::cost_budget`;
//! here they are only kept. A budget is validated before it is written.

use rusqlite::{params, OptionalExtension, Row};

use super::{Store, StoreError};
use crate::analysis::cost_budget::{Budget, BudgetScope};
use crate::audit::{NewAuditEntry, Outcome};

fn scope_columns(scope: &BudgetScope) -> (&'static str, &str, &str) {
    match scope {
        BudgetScope::Fleet => ("fleet", "", ""),
        BudgetScope::Cloud { cloud } => ("cloud", cloud, ""),
        BudgetScope::Cluster { cluster_id } => ("cluster", cluster_id, ""),
        BudgetScope::Tag { key, value } => ("tag", key, value),
    }
}

const COLUMNS: &str = "id, name, scope_kind, scope_key, scope_value, amount, currency, \
                       thresholds_json";

/// A row back into a budget. The table's CHECK keeps `scope_kind` to the
/// four kinds; thresholds that do not parse (a hand-edited cache) fall back
/// to the defaults rather than hiding the budget.
fn budget_of(r: &Row<'_>) -> rusqlite::Result<Budget> {
    let kind: String = r.get(2)?;
    let key: String = r.get(3)?;
    let value: String = r.get(4)?;
    let scope = match kind.as_str() {
        "cloud" => BudgetScope::Cloud { cloud: key },
        "cluster" => BudgetScope::Cluster { cluster_id: key },
        "tag" => BudgetScope::Tag { key, value },
        _ => BudgetScope::Fleet,
    };
    let thresholds: String = r.get(7)?;
    Ok(Budget {
        id: Some(r.get(0)?),
        name: r.get(1)?,
        scope,
        amount: r.get(5)?,
        currency: r.get(6)?,
        thresholds_pct: serde_json::from_str(&thresholds)
            .unwrap_or(crate::analysis::cost_budget::DEFAULT_THRESHOLDS_PCT),
    })
}

impl Store {
    /// Saves `budget`: a new one (no id) is inserted, an existing one
    /// replaced. Returns its id. A name already used by another budget, an
    /// unknown id, or an invalid budget is refused with a clear message.
    pub fn put_budget(&mut self, budget: &Budget, now: i64) -> Result<i64, StoreError> {
        self.write_budget(budget, now)
    }

    /// `put_budget` on a shared borrow, so it can run inside a transaction.
    fn write_budget(&self, budget: &Budget, now: i64) -> Result<i64, StoreError> {
        budget.validate().map_err(|e| StoreError::InvalidInput {
            detail: e.to_string(),
        })?;
        let (kind, key, value) = scope_columns(&budget.scope);
        let thresholds = serde_json::to_string(&budget.thresholds_pct).map_err(|e| {
            StoreError::InvalidInput {
                detail: format!("thresholds: {e}"),
            }
        })?;
        let taken: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM budgets WHERE name = ?1",
                [&budget.name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(other) = taken.filter(|other| Some(*other) != budget.id) {
            return Err(StoreError::InvalidInput {
                detail: format!(
                    "a budget named {:?} already exists (id {other})",
                    budget.name
                ),
            });
        }
        match budget.id {
            None => {
                self.conn()
                    .execute(
                        "INSERT INTO budgets (name, scope_kind, scope_key, scope_value, amount,
                             currency, thresholds_json, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                        params![
                            budget.name,
                            kind,
                            key,
                            value,
                            budget.amount,
                            budget.currency,
                            thresholds,
                            now
                        ],
                    )
                    .map_err(|e| self.err(e))?;
                Ok(self.conn().last_insert_rowid())
            }
            Some(id) => {
                let n = self
                    .conn()
                    .execute(
                        "UPDATE budgets SET name = ?2, scope_kind = ?3, scope_key = ?4,
                             scope_value = ?5, amount = ?6, currency = ?7, thresholds_json = ?8,
                             updated_at = ?9
                         WHERE id = ?1",
                        params![
                            id,
                            budget.name,
                            kind,
                            key,
                            value,
                            budget.amount,
                            budget.currency,
                            thresholds,
                            now
                        ],
                    )
                    .map_err(|e| self.err(e))?;
                if n == 0 {
                    return Err(StoreError::InvalidInput {
                        detail: format!("no budget with id {id}"),
                    });
                }
                Ok(id)
            }
        }
    }

    /// Every budget, by name.
    pub fn budgets(&self) -> Result<Vec<Budget>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM budgets ORDER BY name"))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], budget_of)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e));
        rows
    }

    pub fn budget_by_name(&self, name: &str) -> Result<Option<Budget>, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM budgets WHERE name = ?1"),
                [name],
                budget_of,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Removes a budget; `false` when there was none with that id.
    pub fn delete_budget(&mut self, id: i64) -> Result<bool, StoreError> {
        self.remove_budget(id)
    }

    fn remove_budget(&self, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("DELETE FROM budgets WHERE id = ?1", [id])
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }
}

/// What the audit log records of a budget (it is local config, not a
/// cluster write, but a change to what alerts is worth a trail).
fn audit_detail(b: &Budget) -> serde_json::Value {
    serde_json::json!({
        "name": b.name,
        "scope": b.scope,
        "amount": b.amount,
        "currency": b.currency,
        "thresholds_pct": b.thresholds_pct,
    })
}

impl Store {
    /// [`Store::put_budget`] with an audit row (`budget.set`) in the same
    /// transaction; the row keeps the previous version when there was one.
    pub fn put_budget_audited(
        &mut self,
        budget: &Budget,
        by: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        let before = match budget.id {
            Some(id) => self.budgets()?.into_iter().find(|b| b.id == Some(id)),
            None => None,
        };
        let id = self.write_budget(budget, now)?;
        self.append_audit(&NewAuditEntry {
            actor: by.to_owned(),
            action: "budget.set".into(),
            target: format!("budget/{}", budget.name),
            detail: serde_json::json!({
                "id": id,
                "budget": audit_detail(budget),
                "before": before.as_ref().map(audit_detail),
            }),
            outcome: Outcome::Succeeded,
        })?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(id)
    }

    /// Deletes the budget named `name` with an audit row (`budget.delete`)
    /// in the same transaction; `None` when there was none.
    pub fn delete_budget_audited(
        &mut self,
        name: &str,
        by: &str,
    ) -> Result<Option<Budget>, StoreError> {
        let tx = self
            .conn()
            .unchecked_transaction()
            .map_err(|e| self.err(e))?;
        let Some(b) = self.budget_by_name(name)? else {
            return Ok(None);
        };
        if let Some(id) = b.id {
            self.remove_budget(id)?;
        }
        self.append_audit(&NewAuditEntry {
            actor: by.to_owned(),
            action: "budget.delete".into(),
            target: format!("budget/{}", b.name),
            detail: audit_detail(&b),
            outcome: Outcome::Succeeded,
        })?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Some(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cost_budget::BudgetScope;

    #[test]
    fn budgets_round_trip_through_a_real_cache() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        assert!(store.budgets().unwrap().is_empty());
        let mut tag = Budget::new(
            "team-shop",
            BudgetScope::Tag {
                key: "team".into(),
                value: "shop".into(),
            },
            250.0,
            "USD",
        );
        tag.thresholds_pct = [40.0, 75.0, 90.0];
        let cloud = Budget::new(
            "aws",
            BudgetScope::Cloud {
                cloud: "aws".into(),
            },
            1000.0,
            "USD",
        );
        let id = store.put_budget(&tag, 100).unwrap();
        store.put_budget(&cloud, 100).unwrap();
        let all = store.budgets().unwrap();
        assert_eq!(
            all.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["aws", "team-shop"]
        );
        let back = store.budget_by_name("team-shop").unwrap().unwrap();
        assert_eq!(
            back,
            Budget {
                id: Some(id),
                ..tag.clone()
            }
        );

        // Update in place; a second budget may not take the same name.
        let mut raised = back.clone();
        raised.amount = 400.0;
        assert_eq!(store.put_budget(&raised, 200).unwrap(), id);
        assert_eq!(
            store.budget_by_name("team-shop").unwrap().unwrap().amount,
            400.0
        );
        let dup = Budget::new("aws", BudgetScope::Fleet, 5.0, "USD");
        let e = store.put_budget(&dup, 300).unwrap_err();
        assert_eq!(e.kind(), "cache_invalid_input");
        assert!(e.to_string().contains("already exists"), "{e}");

        // Invalid budgets and unknown ids are refused; nothing changes.
        let mut bad = cloud.clone();
        bad.name = "other".into();
        bad.amount = -1.0;
        assert_eq!(
            store.put_budget(&bad, 300).unwrap_err().kind(),
            "cache_invalid_input"
        );
        let mut ghost = cloud.clone();
        ghost.id = Some(9_999);
        ghost.name = "ghost".into();
        assert!(store.put_budget(&ghost, 300).is_err());
        assert_eq!(store.budgets().unwrap().len(), 2);

        assert!(store.delete_budget(id).unwrap());
        assert!(!store.delete_budget(id).unwrap());
        assert!(store.budget_by_name("team-shop").unwrap().is_none());
        // The table survives a reopen (the migration ran on a real file).
        drop(store);
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(store.budgets().unwrap().len(), 1);
    }

    #[test]
    fn budget_changes_are_audited_with_the_change() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open_in(dir.path()).unwrap();
        let b = Budget::new("fleet", BudgetScope::Fleet, 100.0, "USD");
        let id = store.put_budget_audited(&b, "alice", 10).unwrap();
        let mut raised = store.budget_by_name("fleet").unwrap().unwrap();
        raised.amount = 250.0;
        store.put_budget_audited(&raised, "alice", 20).unwrap();
        // A refused change writes no audit row either.
        let mut bad = raised.clone();
        bad.amount = 0.0;
        assert!(store.put_budget_audited(&bad, "alice", 30).is_err());
        assert_eq!(
            store
                .delete_budget_audited("fleet", "bob")
                .unwrap()
                .unwrap()
                .id,
            Some(id)
        );
        assert!(store
            .delete_budget_audited("fleet", "bob")
            .unwrap()
            .is_none());
        let rows = store.audit_log().unwrap();
        let budget_rows: Vec<_> = rows
            .iter()
            .filter(|r| r.action.starts_with("budget."))
            .collect();
        assert_eq!(budget_rows.len(), 3, "{budget_rows:?}");
        let update = budget_rows
            .iter()
            .find(|r| r.detail["before"]["amount"] == 100.0)
            .expect("the update keeps the previous amount");
        assert_eq!(update.detail["budget"]["amount"], 250.0);
        assert!(budget_rows
            .iter()
            .any(|r| r.action == "budget.delete" && r.actor == "bob"));
    }
}
