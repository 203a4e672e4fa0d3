//! `verify` on storage: objects in `storage.objects` against the mapped S3
//! buckets (moto) and the target's file metadata table. A changed byte is
//! caught by `--deep`; a lost metadata row or S3 object always.

mod support;

use std::path::Path;

use serde_json::Value;

const OBJECTS: &[(&str, &str, &[u8])] = &[
    ("uploads", "u1/a.txt", b"hello world"),
    ("uploads", "u1/b.bin", &[7u8; 1000]),
    ("avatars", "x.png", b"\x89PNG!"),
];

fn setup(name: &str, buckets: (&str, &str)) -> (tempfile::TempDir, String) {
    let sc = support::source_cluster();
    sc.superuser_psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE); CREATE DATABASE \"{name}\""),
    );
    let src = sc.superuser_url(name);
    let tgt = support::target_db(name);
    let mut objects_sql = String::from(
        "CREATE SCHEMA storage;
         CREATE TABLE storage.objects (id integer PRIMARY KEY, bucket_id text, name text, metadata jsonb);\n",
    );
    for (i, (bucket, key, bytes)) in OBJECTS.iter().enumerate() {
        objects_sql.push_str(&format!(
            "INSERT INTO storage.objects VALUES ({i}, '{bucket}', '{key}', '{{\"size\": {}}}');\n",
            bytes.len()
        ));
    }
    support::psql(&src, &objects_sql);
    support::psql(&tgt.url, &objects_sql);
    let mut meta = String::from(
        "CREATE TABLE public.file_metadata (bucket_name text, object_key text, file_size bigint,
           content_type text, checksum text, PRIMARY KEY (bucket_name, object_key));\n",
    );
    for (bucket, key, bytes) in OBJECTS {
        let (tb, tk) = target_of(bucket, key, buckets);
        meta.push_str(&format!(
            "INSERT INTO public.file_metadata VALUES ('{tb}', '{tk}', {}, 'application/octet-stream', '{}');\n",
            bytes.len(),
            blake3::hash(bytes).to_hex()
        ));
    }
    support::psql(&tgt.url, &meta);

    let moto = support::moto();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s3 = support::moto_s3().await;
        for b in [buckets.0, buckets.1] {
            s3.create_bucket()
                .bucket(b)
                .create_bucket_configuration(
                    aws_sdk_s3::types::CreateBucketConfiguration::builder()
                        .location_constraint(
                            aws_sdk_s3::types::BucketLocationConstraint::EuCentral1,
                        )
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        for (bucket, key, bytes) in OBJECTS {
            let (tb, tk) = target_of(bucket, key, buckets);
            put(&s3, &tb, &tk, bytes).await;
        }
    });

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("buckets.toml"),
        format!(
            "[[storage.buckets]]\nsource = \"uploads\"\ntarget = \"{}\"\nprefix = \"migrated/\"\n\
             [[storage.buckets]]\nsource = \"avatars\"\ntarget = \"{}\"\n",
            buckets.0, buckets.1
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("supamigrate.toml"),
        format!(
            "[source]\nurl = \"{src}\"\n[target]\nurl = \"{}\"\n[storage.target]\nendpoint = \"{}\"\n\
             region = \"eu-central-1\"\n[mapping]\nfiles = [\"buckets.toml\"]\n",
            tgt.url, moto.endpoint
        ),
    )
    .unwrap();
    // The metadata table is the storage stage's own addition to the target.
    std::fs::write(
        dir.path().join("changes.json"),
        r#"[{"object": "*public.file_metadata*", "rule": "storage-metadata-table",
             "reason": "one row per stored object, written by the storage stage"}]"#,
    )
    .unwrap();
    (dir, tgt.url)
}

fn target_of(bucket: &str, key: &str, buckets: (&str, &str)) -> (String, String) {
    if bucket == "uploads" {
        (buckets.0.to_string(), format!("migrated/{key}"))
    } else {
        (buckets.1.to_string(), key.to_string())
    }
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: &[u8]) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(bytes.to_vec().into())
        .send()
        .await
        .unwrap();
}

fn verify(dir: &Path, deep: bool) -> (i32, Value) {
    let mut cmd = support::cmd_in(dir);
    cmd.args(["verify", "--report-dir", "out", "--changes", "changes.json"]);
    if deep {
        cmd.arg("--deep");
    }
    let out = cmd.output().unwrap();
    let report = std::fs::read_to_string(dir.join("out/report.json")).unwrap_or_default();
    let report: Value = serde_json::from_str(&report).unwrap_or_else(|_| {
        panic!(
            "no report; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn problems(report: &Value) -> Vec<(String, String, String)> {
    report["objects"]["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["bucket"].as_str().unwrap().to_string(),
                m["key"].as_str().unwrap().to_string(),
                m["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn storage_tampers_are_found_and_deep_catches_a_changed_byte() {
    let buckets = ("vs-uploads", "vs-avatars");
    let (dir, tgt) = setup("verify_storage", buckets);

    let (code, report) = verify(dir.path(), true);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["objects"]["checked"], true);
    assert_eq!(report["objects"]["source_count"], 3);
    assert_eq!(report["objects"]["metadata_table"], "public.file_metadata");

    // One byte changed (same size), one metadata row and one object lost.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s3 = support::moto_s3().await;
        let mut changed = vec![7u8; 1000];
        changed[500] = 8;
        put(&s3, buckets.0, "migrated/u1/b.bin", &changed).await;
        s3.delete_object()
            .bucket(buckets.0)
            .key("migrated/u1/a.txt")
            .send()
            .await
            .unwrap();
    });
    support::psql(
        &tgt,
        "DELETE FROM public.file_metadata WHERE object_key = 'x.png'",
    );

    let (code, report) = verify(dir.path(), false);
    assert_eq!(code, 3);
    let shallow = problems(&report);
    assert_eq!(
        shallow,
        vec![
            (
                "vs-avatars".into(),
                "x.png".into(),
                "no metadata row".into()
            ),
            (
                "vs-uploads".into(),
                "migrated/u1/a.txt".into(),
                "missing in S3".into()
            ),
            (
                "vs-uploads".into(),
                "migrated/u1/a.txt".into(),
                "metadata row without its S3 object".into()
            ),
        ]
    );

    let (code, report) = verify(dir.path(), true);
    assert_eq!(code, 3);
    let deep = problems(&report);
    assert!(
        deep.contains(&(
            "vs-uploads".into(),
            "migrated/u1/b.bin".into(),
            "the bytes in S3 do not hash to the stored blake3".into()
        )),
        "{deep:?}"
    );
    assert_eq!(deep.len(), shallow.len() + 1, "{deep:?}");
}
