//! The ledger on a real non-superuser target: it migrates, refuses a second
//! concurrent run, and survives a rerun.

mod support;

use supamigrate::ledger::{Ledger, Stage, StageState};
use supamigrate::pg::ConnInfo;
use supamigrate::Kind;

fn endpoint(url: &str) -> supamigrate::pg::Endpoint {
    ConnInfo::parse("target.url", url)
        .unwrap()
        .complete("target.url", &Default::default(), None)
        .unwrap()
}

#[tokio::test]
async fn migrates_locks_and_survives_a_rerun() {
    let db = support::target_db("ledger_lock");
    let ep = endpoint(&db.url);

    let mut first = Ledger::open(&ep, "postgres@src:5432/postgres")
        .await
        .unwrap();
    let run = first.run_id().to_string();
    first
        .set_stage(Stage::Data, StageState::Running, serde_json::json!({}))
        .await
        .unwrap();

    let second = Ledger::open(&ep, "postgres@src:5432/postgres").await;
    let err = second
        .err()
        .expect("a second concurrent run must be refused");
    assert_eq!(err.kind(), Kind::Refused);
    assert!(err.to_string().contains("another supamigrate run"), "{err}");

    first
        .set_stage(
            Stage::Data,
            StageState::Done,
            serde_json::json!({"chunks": 3}),
        )
        .await
        .unwrap();
    drop(first);

    // Rerun: the schema is already there, the same run is resumed.
    let again = Ledger::open(&ep, "postgres@src:5432/postgres")
        .await
        .unwrap();
    assert_eq!(again.run_id(), run);
    assert_eq!(
        again
            .stage_state(Stage::Data)
            .await
            .unwrap()
            .map(StageState::as_str),
        Some("done")
    );
    drop(again);

    let history = support::psql(
        &db.url,
        "SELECT string_agg(state, ',' ORDER BY id) || '|' || count(*) FILTER (WHERE is_current)
         FROM supamigrate.stage_states",
    );
    assert_eq!(
        history, "running,done|1",
        "stage history keeps every state, one current"
    );
    let versions = support::psql(&db.url, "SELECT count(*) FROM supamigrate.schema_history");
    assert_eq!(
        versions,
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .count()
            .to_string()
    );
    let owner_is_us = support::psql(
        &db.url,
        "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'supamigrate'",
    );
    assert_eq!(owner_is_us, "matbakh_admin");
}

/// A run whose server process has not let go of the lock yet (as after a
/// stage that touched thousands of tables, started again at once) is waited
/// for, not reported as a concurrent run.
#[tokio::test]
async fn a_run_still_letting_go_of_the_lock_is_waited_for() {
    let db = support::target_db("ledger_lock_wait");
    let ep = endpoint(&db.url);
    let ending = Ledger::open(&ep, "postgres@src:5432/postgres")
        .await
        .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        drop(ending);
    });
    let next = Ledger::open(&ep, "postgres@src:5432/postgres").await;
    assert!(next.is_ok(), "{:?}", next.err());
    release.await.unwrap();
}
