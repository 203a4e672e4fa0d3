//! The test servers themselves: both clusters start, the source is seeded
//! like Supabase, and on the target our role is not superuser, so
//! superuser-only statements fail there as they do on Aurora.

mod support;

use std::process::Command;

#[test]
fn source_is_seeded_like_supabase() {
    let db = support::source_db("servers_source_seeded");
    let roles = support::psql(
        &db.url,
        "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles
         WHERE rolname IN ('anon','authenticated','service_role','authenticator','supabase_admin',
                           'supabase_auth_admin','supabase_storage_admin','dashboard_user')",
    );
    assert_eq!(
        roles,
        "anon,authenticated,authenticator,dashboard_user,service_role,supabase_admin,supabase_auth_admin,supabase_storage_admin"
    );
    let users: i64 = support::psql(&db.url, "SELECT count(*) FROM auth.users")
        .parse()
        .unwrap();
    let profiles: i64 = support::psql(&db.url, "SELECT count(*) FROM public.profiles")
        .parse()
        .unwrap();
    assert!(users > 0);
    assert_eq!(
        users, profiles,
        "the auth.users trigger creates one profile per user"
    );
    let exts = support::psql(
        &db.url,
        "SELECT string_agg(e.extname, ',' ORDER BY e.extname) FROM pg_extension e
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE n.nspname = 'extensions'",
    );
    for e in ["citext", "pg_trgm", "pgcrypto", "uuid-ossp"] {
        assert!(
            exts.contains(e),
            "{e} missing from extensions schema: {exts}"
        );
    }
}

#[test]
fn target_role_is_not_superuser_and_superuser_statements_fail() {
    let db = support::target_db("servers_target_role");
    assert_eq!(
        support::psql(
            &db.url,
            "SELECT current_user, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ),
        "matbakh_admin|f|t|t"
    );
    let out = Command::new("psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-c"])
        .arg("CREATE FUNCTION f() RETURNS event_trigger LANGUAGE plpgsql AS 'begin end'; CREATE EVENT TRIGGER t ON ddl_command_end EXECUTE FUNCTION f();")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("permission denied to create event trigger"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn target_allows_the_extensions_aurora_offers_and_refuses_others() {
    let db = support::target_db("servers_target_extensions");
    support::psql(
        &db.url,
        "CREATE SCHEMA extensions; CREATE EXTENSION pg_stat_statements WITH SCHEMA extensions;
         CREATE EXTENSION pgcrypto WITH SCHEMA extensions",
    );
    let out = Command::new("psql")
        .args([
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &db.url,
            "-c",
            "CREATE EXTENSION file_fdw",
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "file_fdw is not on Aurora and must stay untrusted"
    );
}
