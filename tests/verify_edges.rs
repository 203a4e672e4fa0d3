//! `supamigrate verify` on names, keys and types outside the main fixture
//! (testdata/verify/edges.sql): the untouched copy verifies clean, and one
//! changed row per table is found and reported under its own key.

mod support;
mod verify_fixture;

use serde_json::{json, Value};
use verify_fixture::*;

/// An empty source database `name` (dropped first if it was there).
fn fresh_source(name: &str) -> String {
    let sc = support::source_cluster();
    sc.superuser_psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE); CREATE DATABASE \"{name}\""),
    );
    sc.superuser_url(name)
}

/// The edge-case source and a target restored from its pg_dump by the
/// non-superuser target role.
fn edge_pair(name: &str) -> (String, String) {
    let src = fresh_source(name);
    support::psql_file(&src, &fixture("edges.sql"));
    let tgt = support::target_db(name).url;
    dump_into(&src, &tgt, &[]);
    (src, tgt)
}

fn table_in<'a>(report: &'a Value, schema: &str, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["schema"] == schema && t["name"] == name)
        .unwrap_or_else(|| panic!("{schema}.{name} not in the report"))
}

#[test]
fn edge_names_keys_and_types_verify_clean_and_tampers_are_localised() {
    let (src, tgt) = edge_pair("verify_edges");
    let clean = verify(&src, &tgt, &[]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    assert_eq!(clean.report["tables"].as_array().unwrap().len(), 20);
    assert_eq!(table(&clean.report, "parent_t")["source_rows"], 20);
    assert_eq!(table(&clean.report, "child_t")["key"], json!([]));
    assert_eq!(table(&clean.report, "no cols")["source_rows"], 2);
    assert_eq!(table(&clean.report, "exprkey")["key"], json!([]));
    assert_eq!(table(&clean.report, "inckey")["key"], json!(["a"]));

    support::psql(
        &tgt,
        r#"UPDATE "Odd.Schema"."tab""le
x" SET "line
break" = 'zz' WHERE "col""q" = 7;
           UPDATE public.types2 SET f4 = 0 WHERE id = 1;
           UPDATE public.enumkey SET v = 9 WHERE m = 'd"e';
           UPDATE public.domkey SET v = 5 WHERE k = 'y';
           UPDATE public.longkey SET v = -1 WHERE v = 50;
           UPDATE public.numkey SET v = 7 WHERE k = 'NaN';
           DELETE FROM public.floatkey WHERE k = '-0';
           UPDATE public.inckey SET c = 'x' WHERE a = 3;
           UPDATE public.tskey SET v = 0 WHERE v = 10;
           UPDATE public.exprkey SET b = 0 WHERE b = 5;
           DELETE FROM public."no cols" WHERE ctid = (SELECT min(ctid) FROM public."no cols");
           UPDATE public.compkey SET v = 0 WHERE k = ROW(1, 'b1')::public.pair;
           UPDATE public.arrkey SET v = 0 WHERE k = '{3,3}';
           UPDATE public.cikey SET k = 'KEY2' WHERE k = 'Key2';
           DELETE FROM ONLY public.parent_t WHERE id = 5;
           UPDATE public.child_t SET v = 'z' WHERE id = 30;
           UPDATE public.citextkey SET k = 'NAME3' WHERE k = 'Name3';
           UPDATE public.bytekey SET v = 0 WHERE v = 9;
           UPDATE public.charkey SET v = 0 WHERE k = 'c7';
           UPDATE public.docs SET price = '{"price": 10}' WHERE id = 4;
           -- the parent's queries no longer see the child's rows
           ALTER TABLE public.child_t NO INHERIT public.parent_t;"#,
    );
    // Three keyless tables differ, and narrowing them must not need a file
    // descriptor per partition (512 a table, before): small ones are held
    // in memory, so verify keeps within a hard limit far below Debian's
    // usual soft one of 1024.
    let run = verify_with_open_files(&src, &tgt, 128, 128);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let r = &run.report;
    let long_key = support::psql(&src, "SELECT k FROM public.longkey WHERE v = 50");
    let cases = [
        (
            "Odd.Schema",
            "tab\"le\nx",
            json!({"col\"q": "7"}),
            "different",
        ),
        ("public", "types2", json!({"id": "1"}), "different"),
        ("public", "enumkey", json!({"m": "d\"e"}), "different"),
        ("public", "domkey", json!({"k": "y"}), "different"),
        ("public", "longkey", json!({ "k": long_key }), "different"),
        ("public", "numkey", json!({"k": "NaN"}), "different"),
        ("public", "floatkey", json!({"k": "-0"}), "missing"),
        ("public", "inckey", json!({"a": "3"}), "different"),
        (
            "public",
            "tskey",
            json!({"at": "2024-01-01 10:00:00+00", "who": "w1"}),
            "different",
        ),
        ("public", "compkey", json!({"k": "(1,b1)"}), "different"),
        ("public", "arrkey", json!({"k": "{3,3}"}), "different"),
        ("public", "parent_t", json!({"id": "5"}), "missing"),
        (
            "public",
            "bytekey",
            json!({"k": "\\x45c48cce2e2d7fbdea1afc51c7c6ad26"}),
            "different",
        ),
        ("public", "charkey", json!({"k": "c7    "}), "different"),
        ("public", "docs", json!({"id": "4"}), "different"),
    ];
    for (schema, name, key, kind) in cases {
        let t = table_in(r, schema, name);
        assert_eq!(
            t["mismatches"],
            json!([{ "key": key, "kind": kind }]),
            "{schema}.{name}"
        );
    }
    // A key changed only in case is a different key, though the collation
    // calls the two equal: the old one is missing, the new one extra.
    assert_eq!(
        table(r, "cikey")["mismatches"],
        json!([{"key": {"k": "KEY2"}, "kind": "extra"}, {"key": {"k": "Key2"}, "kind": "missing"}])
    );
    assert_eq!(
        table(r, "citextkey")["mismatches"],
        json!([{"key": {"k": "NAME3"}, "kind": "extra"}, {"key": {"k": "Name3"}, "kind": "missing"}])
    );
    // Keyless: the changed row is one missing and one extra, without keys.
    for name in ["exprkey", "child_t"] {
        let t = table(r, name);
        assert_eq!(
            (&t["missing"], &t["extra"]),
            (&json!(1), &json!(1)),
            "{name}"
        );
    }
    let unexplained: Vec<(&str, &str)> = r["schema"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["explained"] == false)
        .map(|d| {
            (
                d["object"].as_str().unwrap(),
                d["difference"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(unexplained, vec![("table public.child_t", "changed")]);
    let none = table(r, "no cols");
    assert_eq!(
        (&none["missing"], &none["target_rows"]),
        (&json!(1), &json!(1))
    );
}

/// One key type: its SQL type, the key of row `g`, a key no row has, and
/// optionally a key changed in place to a value its type calls equal but
/// shows differently (from, to).
struct KeyType {
    table: &'static str,
    ty: &'static str,
    of_g: &'static str,
    new: &'static str,
    rekey: Option<(&'static str, &'static str)>,
}

const KEY_TYPES: &[KeyType] = &[
    KeyType {
        table: "k_int",
        ty: "int",
        of_g: "g",
        new: "100000",
        rekey: None,
    },
    KeyType {
        table: "k_bigint",
        ty: "bigint",
        of_g: "g * 10000000000",
        new: "5",
        rekey: None,
    },
    KeyType {
        table: "k_text",
        ty: "text",
        of_g: "'t' || g",
        new: "'zz new'",
        rekey: None,
    },
    KeyType {
        table: "k_uuid",
        ty: "uuid",
        of_g: "md5(g::text)::uuid",
        new: "'00000000-0000-0000-0000-000000000001'",
        rekey: None,
    },
    KeyType {
        table: "k_numeric",
        ty: "numeric",
        of_g: "round(g / 4.0, 2)",
        new: "1000.5",
        rekey: Some(("1.00", "1.0")),
    },
    KeyType {
        table: "k_float",
        ty: "float8",
        of_g: "g - 1",
        new: "1e300",
        rekey: Some(("0", "'-0'")),
    },
    KeyType {
        table: "k_interval",
        ty: "interval",
        of_g: "g * interval '1 hour'",
        new: "'100 years'",
        rekey: Some(("'24 hours'", "'1 day'")),
    },
    KeyType {
        table: "k_tstz",
        ty: "timestamptz",
        of_g: "'2024-01-01 00:00+00'::timestamptz + g * interval '1 minute'",
        new: "'infinity'",
        rekey: None,
    },
    KeyType {
        table: "k_date",
        ty: "date",
        of_g: "'2024-01-01'::date + g",
        new: "'-infinity'",
        rekey: None,
    },
    KeyType {
        table: "k_bytea",
        ty: "bytea",
        of_g: "decode(md5(g::text), 'hex')",
        new: "'\\x00'",
        rekey: None,
    },
    KeyType {
        table: "k_citext",
        ty: "citext",
        of_g: "'Name' || g",
        new: "'new'",
        rekey: Some(("'Name5'", "'NAME5'")),
    },
    KeyType {
        table: "k_jsonb",
        ty: "jsonb",
        of_g: "jsonb_build_object('n', g)",
        new: "'{\"n\": 1000}'",
        rekey: Some(("'{\"n\": 4}'", "'{\"n\": 4.0}'")),
    },
    KeyType {
        table: "k_array",
        ty: "int[]",
        of_g: "ARRAY[g % 7, g]",
        new: "'{}'",
        rekey: None,
    },
    KeyType {
        table: "k_inet",
        ty: "inet",
        of_g: "('10.0.' || g / 256 || '.' || g % 256)::inet",
        new: "'::1'",
        rekey: None,
    },
];

/// verify's own output settings, for reading expected keys with psql.
const VERIFY_SETTINGS: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD';
    SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex';";

#[test]
fn every_key_type_finds_a_deleted_an_added_and_a_rekeyed_row() {
    let name = "verify_key_types";
    let src = fresh_source(name);
    let mut seed = String::from("CREATE EXTENSION citext;\n");
    for k in KEY_TYPES {
        seed.push_str(&format!(
            "CREATE TABLE public.{t} (k {ty} PRIMARY KEY, v text NOT NULL);
             INSERT INTO public.{t} SELECT {of_g}, 'v' || g FROM generate_series(1, 300) g;\n",
            t = k.table,
            ty = k.ty,
            of_g = k.of_g
        ));
    }
    support::psql(&src, &seed);
    let tgt = support::target_db(name).url;
    dump_into(&src, &tgt, &[]);
    assert_eq!(verify(&src, &tgt, &[]).code, 0);

    let key_of = |url: &str, t: &str, cond: &str| {
        support::psql(
            url,
            &format!("{VERIFY_SETTINGS} SELECT k FROM public.{t} WHERE {cond}"),
        )
    };
    let mut expected = Vec::new();
    let mut tamper = String::new();
    for k in KEY_TYPES {
        let t = k.table;
        let mut want = vec![("missing", key_of(&src, t, "v = 'v7'"))];
        tamper.push_str(&format!(
            "DELETE FROM public.{t} WHERE v = 'v7';
             INSERT INTO public.{t} VALUES ({}, 'added');\n",
            k.new
        ));
        if let Some((from, to)) = k.rekey {
            want.push(("missing", key_of(&src, t, &format!("k = {from}"))));
            tamper.push_str(&format!(
                "UPDATE public.{t} SET k = {to} WHERE k = {from};\n"
            ));
        }
        expected.push((t, want));
    }
    support::psql(&tgt, &tamper);
    for (t, want) in &mut expected {
        want.push(("extra", key_of(&tgt, t, "v = 'added'")));
        let k = KEY_TYPES.iter().find(|k| k.table == *t).unwrap();
        if let Some((from, _)) = k.rekey {
            let v = support::psql(&src, &format!("SELECT v FROM public.{t} WHERE k = {from}"));
            want.push(("extra", key_of(&tgt, t, &format!("v = '{v}'"))));
        }
    }

    let run = verify(&src, &tgt, &[]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    for (t, want) in expected {
        let mut want: Vec<(String, Value)> = want
            .into_iter()
            .map(|(kind, key)| (kind.to_string(), json!({ "k": key })))
            .collect();
        want.sort_by_key(|(k, v)| format!("{k}{v}"));
        assert_eq!(mismatches(&run.report, t), want, "{t}");
    }
}

#[test]
fn a_large_keyless_table_that_differs_is_narrowed_under_a_low_soft_limit_of_open_files() {
    let name = "verify_keyless_big";
    let src = fresh_source(name);
    support::psql(
        &src,
        "CREATE TABLE public.log (n int, pad text);
         INSERT INTO public.log SELECT g % 100, md5(g::text) FROM generate_series(1, 150000) g;",
    );
    let tgt = support::target_db(name).url;
    dump_into(&src, &tgt, &[]);
    support::psql(
        &tgt,
        "DELETE FROM public.log WHERE ctid = (SELECT min(ctid) FROM public.log)",
    );
    // Past what memory holds, each side's hashes go to 256 partition files,
    // 512 descriptors at once: more than a soft limit of 300 allows, so
    // verify raises it to the hard limit before it starts.
    let run = verify_with_open_files(&src, &tgt, 300, 4096);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let t = table(&run.report, "log");
    assert_eq!(
        (&t["source_rows"], &t["missing"], &t["extra"]),
        (&json!(150000), &json!(1), &json!(0)),
        "{t}"
    );
}
