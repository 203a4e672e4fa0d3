//! `supamigrate verify` against tampered copies of a migrated fixture: every
//! tamper is found, localised to its key and reported with exit 3, and no
//! value other than key values reaches the report.

mod support;
mod verify_fixture;

use serde_json::Value;
use verify_fixture::*;

#[test]
fn every_tamper_is_found_and_localised_to_its_key() {
    let (src, tgt) = migrated("verify_tamper");
    let ids: Vec<String> = [5, 7, 10, 11, 12, 14, 16]
        .iter()
        .map(|g| uuid_of(&src, *g))
        .collect();
    // The same seven cells in both matrices: text, numeric scale 1.5 ->
    // 1.50, timestamptz by 1 µs, a jsonb value, an array element, NULL -> ''
    // and -0 -> 0.
    let cells: String = ["Type Matrix", "Binary Matrix"]
        .iter()
        .flat_map(|t| {
            [
                "t = t || 'x'",
                "n = 1.50",
                "tstz = tstz + interval '1 microsecond'",
                "jsb = jsonb_set(jsb, '{n}', '999')",
                "arr[3] = 12",
                "t = ''",
                "f8 = 0",
            ]
            .iter()
            .zip(&ids)
            .map(move |(set, id)| format!("UPDATE public.\"{t}\" SET {set} WHERE id = '{id}';"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    support::psql(
        &tgt,
        &format!(
            "SET search_path = '';
             -- another collation on the target: text keys must then be
             -- compared in \"C\" on both sides to land in the same ranges
             ALTER TABLE public.slugs ALTER COLUMN slug TYPE text COLLATE \"POSIX\";
             -- one cell each, in seven rows of the type matrix (read as text)
             -- and of the binary matrix (read as binary COPY)
             {cells}
             -- rows, in tables read as several ranges
             DELETE FROM public.measurements WHERE id = 20000;
             UPDATE public.measurements SET value = value + 1e-9 WHERE id = 35001;
             INSERT INTO public.measurements VALUES (50000, 'dev-x', 1, now(), 'new');
             DELETE FROM public.slugs WHERE slug = 'ÄÖ-10';
             INSERT INTO public.slugs VALUES ('new-Slug', 'Title', 'b');
             UPDATE public.memberships SET role = 'sad' WHERE org = 8 AND member = 'user7';
             DELETE FROM public.events WHERE id = 300;
             -- a table without a key
             UPDATE public.audit_log SET action = 'logout'
               WHERE ctid = (SELECT ctid FROM public.audit_log LIMIT 1);
             -- a table made unlogged (lost on a crash or failover)
             ALTER TABLE public.memberships SET UNLOGGED;
             -- a sequence behind, an index and a policy missing
             SELECT setval('public.invoice_seq', 1000);
             DROP INDEX public.measurements_device_idx;
             DROP POLICY profiles_write ON public.profiles;
             -- grants: one revoked, one widened, a column's narrowed, a
             -- function opened to everyone, a default privilege dropped
             REVOKE SELECT ON public.slugs FROM verify_api;
             GRANT INSERT ON public.profiles TO verify_api;
             REVOKE UPDATE (value) ON public.measurements FROM verify_api;
             GRANT EXECUTE ON FUNCTION public.touch() TO PUBLIC;
             ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM verify_api;
             -- a materialized view left unpopulated
             REFRESH MATERIALIZED VIEW public.device_counts WITH NO DATA;
             -- an aggregate that now starts from '' instead of NULL
             DROP AGGREGATE public.csv_of(text);
             CREATE AGGREGATE public.csv_of(text) (SFUNC = public.csv_step, STYPE = text, INITCOND = '');
             -- an extension gone
             DROP EXTENSION pg_trgm;
             -- a domain that now fills in a default
             ALTER DOMAIN public.positive SET DEFAULT 1;
             -- a difference the change list explains
             CREATE INDEX slugs_extra_idx ON public.slugs (body);",
        ),
    );
    // An index left invalid, as by a failed CREATE INDEX CONCURRENTLY.
    support::target_cluster().superuser_psql(
        "verify_tamper",
        "UPDATE pg_catalog.pg_index SET indisvalid = false
         WHERE indexrelid = 'public.slugs_title_idx'::regclass",
    );
    let changes = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        changes.path(),
        r#"{"changes": [{"object": "index public.slugs_extra_idx", "rule": "extra-search-index",
                          "reason": "added for the new search page"},
                         {"object": "column public.slugs.slug", "rule": "posix-keys",
                          "reason": "byte order for slugs"}]}"#,
    )
    .unwrap();
    let run = verify_with(
        &src,
        &tgt,
        &["--changes", changes.path().to_str().unwrap()],
        &[("SUPAMIGRATE_LOG", "supamigrate=debug")],
    );
    assert_eq!(
        run.code, 3,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let r = &run.report;
    assert_eq!(r["ok"], false);

    let mut expected: Vec<(String, Value)> = ids
        .iter()
        .map(|id| ("different".to_string(), serde_json::json!({ "id": id })))
        .collect();
    expected.sort_by_key(|(k, v)| format!("{k}{v}"));
    assert_eq!(mismatches(r, "Type Matrix"), expected);
    assert_eq!(table(r, "Binary Matrix")["format"], "binary");
    assert_eq!(mismatches(r, "Binary Matrix"), expected);

    let key = |pairs: &[(&str, &str)]| {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        )
    };
    // measurements' differing ranges (1 MiB chunks) were narrowed in parts
    // of an eighth, the keys still found exactly.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("narrowing a range in parts") && l.contains("table=measurements")),
        "{}",
        run.stderr
    );
    assert_eq!(
        mismatches(r, "measurements"),
        vec![
            ("different".into(), key(&[("id", "35001")])),
            ("extra".into(), key(&[("id", "50000")])),
            ("missing".into(), key(&[("id", "20000")])),
        ]
    );
    assert_eq!(
        mismatches(r, "slugs"),
        vec![
            ("extra".into(), key(&[("slug", "new-Slug")])),
            ("missing".into(), key(&[("slug", "ÄÖ-10")])),
        ]
    );
    assert_eq!(
        mismatches(r, "memberships"),
        vec![(
            "different".into(),
            key(&[("org", "8"), ("member", "user7")])
        )]
    );
    assert_eq!(
        mismatches(r, "events_2024"),
        vec![(
            "missing".into(),
            key(&[("id", "300"), ("occurred_at", "2024-03-27 00:00:00+00")])
        )]
    );
    let audit = table(r, "audit_log");
    assert_eq!(
        (&audit["missing"], &audit["extra"]),
        (&Value::from(1), &Value::from(1))
    );
    assert_eq!(audit["mismatches"], serde_json::json!([]));
    for clean in ["profiles", "events_default"] {
        assert_eq!(table(r, clean)["match"], true, "{clean}");
    }

    let seq = r["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "public.invoice_seq")
        .unwrap();
    assert_eq!(
        (&seq["source"], &seq["target"]),
        (&Value::from(1015), &Value::from(1005))
    );
    assert_eq!(seq["match"], false);

    let diffs: Vec<(String, String, bool)> = r["schema"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["object"].as_str().unwrap().to_string(),
                d["difference"].as_str().unwrap().to_string(),
                d["explained"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        diffs,
        vec![
            ("column public.slugs.slug".into(), "changed".into(), true),
            ("domain public.positive".into(), "changed".into(), false),
            ("extension pg_trgm".into(), "missing".into(), false),
            (
                "function public.csv_of(text)".into(),
                "changed".into(),
                false
            ),
            (
                "index public.measurements_device_idx".into(),
                "missing".into(),
                false
            ),
            (
                "index public.slugs_title_idx".into(),
                "changed".into(),
                false
            ),
            (
                "materialized view public.device_counts".into(),
                "changed".into(),
                false
            ),
            (
                "policy public.profiles.profiles_write".into(),
                "missing".into(),
                false
            ),
            ("table public.memberships".into(), "changed".into(), false),
            ("index public.slugs_extra_idx".into(), "extra".into(), true),
            (
                "privilege column public.measurements.value to verify_api".into(),
                "changed".into(),
                false
            ),
            (
                "privilege function public.touch() to public".into(),
                "extra".into(),
                false
            ),
            (
                "privilege table public.profiles to verify_api".into(),
                "changed".into(),
                false
            ),
            (
                "privilege table public.slugs to verify_api".into(),
                "missing".into(),
                false
            ),
            (
                "default privileges for postgres on tables in schema public to verify_api".into(),
                "missing".into(),
                false
            ),
        ]
    );

    // Key values only: no other column value reaches the report or stderr.
    let json = serde_json::to_string(r).unwrap();
    for leaked in ["ünïcødé", "xxxxxxxxxx", "Title 1", "dev-x", "very happy"] {
        assert!(!json.contains(leaked), "report leaks `{leaked}`");
        assert!(!run.html.contains(leaked), "html leaks `{leaked}`");
        assert!(!run.stderr.contains(leaked), "stderr leaks `{leaked}`");
    }
    assert!(
        run.stderr.contains("difference: table public.measurements"),
        "{}",
        run.stderr
    );
    assert!(run.html.contains("FAIL"));
    // The failures come first in the HTML, before what rules explain.
    assert!(run
        .html
        .contains("<p>13 unexplained, 2 explained by a rule (listed after).</p>"));
    let at = |s: &str| {
        run.html
            .find(s)
            .unwrap_or_else(|| panic!("{s} not in the html"))
    };
    assert!(at("default privileges for postgres") < at("column public.slugs.slug"));
    assert_self_contained(&run.html);
    let red = verdict_pixels(&run.dir.join("out/report.html"), [0xfb, 0xdc, 0xdc]);
    assert!(red > 5_000, "only {red} verdict pixels in the screenshot");
    assert_eq!(
        support::psql(&tgt, "SELECT ok FROM supamigrate.verifications"),
        "f"
    );
}
