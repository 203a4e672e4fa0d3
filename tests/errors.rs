//! The error policy on real server errors: a state every call site would
//! fix the same way carries that fix, a call site's own fix replaces it, and
//! the kept driver error decides whether another attempt may succeed.

mod support;

use supamigrate::pg::{connect, ConnInfo, Side};
use supamigrate::Error;

async fn target_error(sql: &str) -> tokio_postgres::Error {
    let db = support::target_db("errors_policy");
    let ep = ConnInfo::parse("target.url", &db.url)
        .unwrap()
        .complete("target.url", &Default::default(), None)
        .unwrap();
    let client = connect(Side::Target, &ep).await.unwrap();
    client.batch_execute(sql).await.unwrap_err()
}

#[tokio::test]
async fn a_known_state_carries_the_table_s_fix_unless_the_call_site_has_one() {
    let cancelled = target_error("SET statement_timeout = 10; SELECT pg_sleep(2)").await;
    let err = Error::db("target: reading rows", cancelled);
    let line = err.to_string();
    assert!(
        line.starts_with("target: reading rows: canceling statement due to statement timeout"),
        "{line}"
    );
    assert!(
        line.contains("; fix: a statement_timeout or an operator cancelled it"),
        "{line}"
    );
    assert!(!err.is_transient());

    let again = target_error("SET statement_timeout = 10; SELECT pg_sleep(2)").await;
    let err = Error::db("target: reading rows", again).with_fix("do this instead");
    assert_eq!(err.fix(), Some("do this instead"));
    assert_eq!(err.to_string().matches("fix:").count(), 1);

    // A state the table does not know gets no fix from it.
    let missing = target_error("SELECT * FROM no_such_table").await;
    assert_eq!(Error::db("target: reading", missing).fix(), None);
}
