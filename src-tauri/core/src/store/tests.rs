use std::io::{Seek, SeekFrom, Write};

use super::*;
use crate::audit::{NewAuditEntry, Outcome};
use crate::model::{ClusterSummary, NodePoolSummary, Provider};

fn cluster(provider: Provider, name: &str, pools: &[(&str, u32)]) -> ClusterSummary {
    ClusterSummary {
        id: ClusterSummary::make_id(provider, "acct", "eu-west-1", name),
        provider,
        account: "acct".into(),
        name: name.into(),
        region: "eu-west-1".into(),
        version: Some("1.31".into()),
        status: "ACTIVE".into(),
        endpoint: Some(format!("https://{name}.example.test")),
        node_pools: pools
            .iter()
            .map(|(n, c)| NodePoolSummary {
                name: (*n).into(),
                count: *c,
                min: Some(1),
                max: Some(10),
                machine_type: Some("m6i.large".into()),
            })
            .collect(),
        collected_at: 1_700_000_000,
        gone_at: None,
    }
}

#[test]
fn migrations_apply_from_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        migrations::latest_version()
    );
    let report = store.check().unwrap();
    assert!(report.ok, "{:?}", report.integrity);
    assert_eq!(report.journal_mode, "wal");
    for table in ["accounts", "clusters", "node_pools", "audit_log"] {
        let n: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "table {table} missing");
    }
}

#[test]
fn reopening_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let written = vec![
        cluster(Provider::Aws, "payments", &[("general", 3), ("spot", 2)]),
        cluster(Provider::DigitalOcean, "edge", &[("pool-1", 1)]),
    ];
    {
        let mut store = Store::open_in(dir.path()).unwrap();
        store.upsert_clusters(&written).unwrap();
    }
    let store = Store::open_in(dir.path()).unwrap();
    let read = store.clusters(None).unwrap();
    assert_eq!(read, written);
    assert_eq!(
        store.clusters(Some(Provider::DigitalOcean)).unwrap(),
        written[1..]
    );
    assert_eq!(
        store.cluster(&written[0].id).unwrap().as_ref(),
        Some(&written[0])
    );
    assert_eq!(store.cluster("aws/none/none/none").unwrap(), None);
}

#[test]
fn upsert_replaces_node_pools_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    store
        .upsert_clusters(&[cluster(Provider::Gcp, "prod", &[("a", 1), ("b", 2)])])
        .unwrap();
    let mut updated = cluster(Provider::Gcp, "prod", &[("b", 5)]);
    updated.status = "RECONCILING".into();
    store
        .upsert_clusters(std::slice::from_ref(&updated))
        .unwrap();
    assert_eq!(store.clusters(None).unwrap(), vec![updated]);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CACHE_FILE_NAME);
    let content = b"these are somebody's notes, not a database\n".repeat(200);
    std::fs::write(&path, &content).unwrap();

    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert_eq!(err.kind(), "cache_not_a_database");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(err.hint().contains("Nothing was changed"));
    assert_eq!(std::fs::read(&path).unwrap(), content, "file was modified");
}

#[test]
fn a_corrupt_schema_page_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CACHE_FILE_NAME);
    {
        let mut store = Store::open(&path).unwrap();
        store
            .upsert_clusters(&[cluster(Provider::Azure, "aks-1", &[("system", 3)])])
            .unwrap();
        // Fold the WAL into the main file so the damage below hits real pages.
        store
            .conn()
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
    }
    // Page 1 holds the 100-byte header and then sqlite_schema's b-tree page:
    // overwrite the b-tree page header and cell pointers.
    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(100)).unwrap();
    f.write_all(&[0xFF; 64]).unwrap();
    drop(f);
    let before = std::fs::read(&path).unwrap();

    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert_eq!(err.kind(), "cache_corrupt");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(err.hint().contains("cloudops cache restore"));
    assert_eq!(std::fs::read(&path).unwrap(), before, "file was modified");
}

#[test]
fn a_corrupt_data_page_fails_the_check_and_the_query_not_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CACHE_FILE_NAME);
    {
        let mut store = Store::open(&path).unwrap();
        let many: Vec<_> = (0..300)
            .map(|i| cluster(Provider::Aws, &format!("c{i:03}"), &[("ng", i)]))
            .collect();
        store.upsert_clusters(&many).unwrap();
        store
            .conn()
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
    }
    // Damage every page after the schema page: the clusters b-tree is there.
    let len = std::fs::metadata(&path).unwrap().len();
    let page = 4096;
    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mut offset = page;
    while offset < len {
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(&[0xA5; 16]).unwrap();
        offset += page;
    }
    drop(f);

    match Store::open(&path) {
        Err(err) => assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}"),
        Ok(store) => {
            let report = store.check().unwrap();
            assert!(!report.ok);
            assert_ne!(report.integrity, vec!["ok".to_string()]);
            let err = store.clusters(None).unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        }
    }
}

#[test]
fn a_cache_from_a_newer_build_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CACHE_FILE_NAME);
    drop(Store::open(&path).unwrap());
    let newer = migrations::latest_version() + 1;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", newer).unwrap();
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();

    let err = Store::open(&path).unwrap_err();
    match &err {
        StoreError::NewerSchema {
            found, supported, ..
        } => {
            assert_eq!(*found, newer);
            assert_eq!(*supported, migrations::latest_version());
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert_eq!(err.kind(), "cache_newer_schema");
    assert!(err.hint().contains("Upgrade"));
    assert_eq!(std::fs::read(&path).unwrap(), before, "file was modified");
}

#[test]
fn an_unwritable_data_dir_is_an_io_error_naming_the_dir() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let err = Store::open_in(&blocker.join("data")).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"));
}

#[test]
fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let entry = NewAuditEntry {
        actor: "sre@laptop".into(),
        action: "scale".into(),
        target: "aws/acct/eu-west-1/payments:default/checkout".into(),
        detail: serde_json::json!({"from": 3, "to": 5}),
        outcome: Outcome::Started,
    };
    let first = store.append_audit(&entry).unwrap();
    let second = store
        .append_audit(&NewAuditEntry {
            outcome: Outcome::Succeeded,
            ..entry.clone()
        })
        .unwrap();
    assert!(second > first);

    let update = store.conn().execute(
        "UPDATE audit_log SET outcome = 'failed' WHERE id = ?1",
        [first],
    );
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = store.conn().execute("DELETE FROM audit_log", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));

    let log = store.audit_log().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].outcome, Outcome::Started);
    assert_eq!(log[1].outcome, Outcome::Succeeded);
    assert_eq!(log[0].detail, serde_json::json!({"from": 3, "to": 5}));
}

#[test]
fn data_dir_resolution_prefers_the_explicit_flag() {
    let explicit = std::path::Path::new("/tmp/explicit-cloudops");
    assert_eq!(resolve_data_dir(Some(explicit)).unwrap(), explicit);
}

fn row(name: &str, scope: &str) -> DiscoveredRow {
    DiscoveredRow {
        summary: cluster(Provider::Aws, name, &[("general", 2)]),
        native_id: format!("arn:aws:eks:eu-west-1:1:cluster/{name}"),
        scope: scope.into(),
    }
}

fn complete(scope: &str) -> CompleteScope {
    CompleteScope {
        provider: Provider::Aws,
        account: "acct".into(),
        scope: scope.into(),
    }
}

#[test]
fn discovery_marks_missing_clusters_gone_only_in_complete_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.last_discovery().unwrap(), None);
    let first = DiscoveryRun {
        started_ms: 1_000,
        finished_ms: 2_000,
        rows: vec![
            row("a", "eu-west-1"),
            row("b", "eu-west-1"),
            row("c", "us-east-1"),
        ],
        complete_scopes: vec![complete("eu-west-1"), complete("us-east-1")],
        errors: vec![],
    };
    assert_eq!(store.apply_discovery(&first).unwrap().marked_gone, 0);

    // Second run: `b` vanished from a complete scope; `us-east-1` failed, so
    // `c` (unseen) must stay as it was.
    let error = crate::model::SourceError {
        provider: Provider::Aws,
        account: "acct".into(),
        scope: "us-east-1".into(),
        kind: "server_error".into(),
        message: "aws: the API failed (HTTP 503)".into(),
        hint: "retry".into(),
    };
    let second = DiscoveryRun {
        started_ms: 10_000,
        finished_ms: 12_000,
        rows: vec![row("a", "eu-west-1")],
        complete_scopes: vec![complete("eu-west-1")],
        errors: vec![error.clone()],
    };
    let applied = store.apply_discovery(&second).unwrap();
    assert_eq!(
        applied,
        AppliedDiscovery {
            upserted: 1,
            marked_gone: 1
        }
    );
    let by_name = |store: &Store, n: &str| {
        store
            .clusters(None)
            .unwrap()
            .into_iter()
            .find(|c| c.name == n)
            .unwrap()
    };
    assert_eq!(by_name(&store, "a").gone_at, None);
    assert_eq!(by_name(&store, "b").gone_at, Some(12));
    assert_eq!(by_name(&store, "c").gone_at, None);
    assert_eq!(
        store.clusters(None).unwrap().len(),
        3,
        "gone clusters are kept"
    );
    let last = store.last_discovery().unwrap().unwrap();
    assert_eq!(
        (last.started_ms, last.finished_ms, last.cluster_count),
        (10_000, 12_000, 1)
    );
    assert_eq!(last.errors, vec![error]);
    assert_eq!(
        store.cluster_locator(&row("a", "").summary.id).unwrap(),
        Some((
            "arn:aws:eks:eu-west-1:1:cluster/a".into(),
            "eu-west-1".into()
        ))
    );

    // `b` comes back: no longer gone.
    let third = DiscoveryRun {
        started_ms: 20_000,
        finished_ms: 21_000,
        rows: vec![row("a", "eu-west-1"), row("b", "eu-west-1")],
        complete_scopes: vec![complete("eu-west-1")],
        errors: vec![],
    };
    store.apply_discovery(&third).unwrap();
    assert_eq!(by_name(&store, "b").gone_at, None);
    assert!(store.last_discovery().unwrap().unwrap().errors.is_empty());
    assert_eq!(
        store
            .fleet_overview()
            .unwrap()
            .last_discovery
            .unwrap()
            .finished_ms,
        21_000
    );
}
