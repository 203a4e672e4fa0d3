//! AWS parts against moto's real HTTP server on 127.0.0.1: target credentials
//! from Secrets Manager end to end, and S3 with both checksum policies.

mod support;

use aws_sdk_s3::primitives::ByteStream;
use supamigrate::settings::{RequestChecksum, S3Settings};
use support::TARGET_PASSWORD;

async fn put_secret(name: &str, value: serde_json::Value) {
    support::set_aws_env();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&support::moto().endpoint)
        .load()
        .await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    client
        .create_secret()
        .name(name)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap();
}

fn assert_no_secret(out: &std::process::Output) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(TARGET_PASSWORD), "password leaked: {all}");
    assert!(
        !all.contains(support::AWS_SECRET_KEY),
        "AWS secret leaked: {all}"
    );
}

#[tokio::test]
async fn target_credentials_come_from_secrets_manager() {
    let tgt = support::target_db("aws_secret_tgt");
    let moto = support::moto();
    put_secret(
        "matbakh/rds/master-plan",
        serde_json::json!({
            "username": "matbakh_admin", "password": TARGET_PASSWORD, "engine": "postgres",
            "host": "127.0.0.1", "port": tgt.port, "dbname": "aws_secret_tgt"
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    // Only the secret: user, password, host, port and database all come from it.
    std::fs::write(
        dir.path().join("supamigrate.toml"),
        "[target]\nsecret_id = \"matbakh/rds/master-plan\"\n",
    )
    .unwrap();
    let out = support::cmd_in(dir.path())
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint)
        .args(["plan", "--json"])
        .output()
        .unwrap();
    assert_no_secret(&out);
    support::assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["target"]["credentials"], "secrets_manager");
    assert_eq!(
        v["target"]["endpoint"],
        format!("matbakh_admin@127.0.0.1:{}/aws_secret_tgt", tgt.port)
    );

    // status connects the same way.
    let out = support::cmd_in(dir.path())
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint)
        .arg("status")
        .output()
        .unwrap();
    assert_no_secret(&out);
    support::assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no ledger on the target yet"));
}

#[tokio::test]
async fn url_parts_win_over_the_secret_and_a_missing_secret_is_one_line() {
    let tgt = support::target_db("aws_secret_url");
    let moto = support::moto();
    put_secret(
        "matbakh/rds/master-url",
        serde_json::json!({
            "username": "matbakh_admin", "password": TARGET_PASSWORD,
            "host": "db.invalid", "port": "1", "dbname": "elsewhere"
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = |id: &str| {
        format!(
            "[target]\nurl = \"postgres://127.0.0.1:{}/aws_secret_url?sslmode=require\"\nsecret_id = \"{id}\"\nsecret_endpoint = \"{}\"\n",
            tgt.port, moto.endpoint
        )
    };
    std::fs::write(
        dir.path().join("supamigrate.toml"),
        config("matbakh/rds/master-url"),
    )
    .unwrap();
    let out = support::cmd_in(dir.path()).arg("plan").output().unwrap();
    assert_no_secret(&out);
    support::assert_exit(&out, 0);

    std::fs::write(
        dir.path().join("supamigrate.toml"),
        config("matbakh/rds/nope"),
    )
    .unwrap();
    let out = support::cmd_in(dir.path()).arg("plan").output().unwrap();
    assert_no_secret(&out);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("matbakh/rds/nope: secret not found"),
        "{stderr}"
    );
}

async fn round_trip(mode: RequestChecksum, bucket: &str) {
    support::set_aws_env();
    let settings = S3Settings {
        endpoint: Some(support::moto().endpoint.clone()),
        region: Some("us-east-1".to_string()),
        access_key_id: Some(support::AWS_KEY_ID.to_string()),
        secret_access_key: Some(supamigrate::settings::Secret::new(support::AWS_SECRET_KEY)),
        force_path_style: true,
        request_checksum: mode,
        dir: None,
    };
    let client = supamigrate::aws::s3::client("storage.target", &settings)
        .await
        .unwrap();
    client.create_bucket().bucket(bucket).send().await.unwrap();
    supamigrate::aws::s3::check_bucket(&client, "storage.target", bucket)
        .await
        .unwrap();
    let body: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    client
        .put_object()
        .bucket(bucket)
        .key("u1/photo 1.png")
        .content_type("image/png")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_object()
        .bucket(bucket)
        .key("u1/photo 1.png")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("image/png"));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(blake3::hash(&bytes), blake3::hash(&body));
}

#[tokio::test]
async fn s3_round_trip_with_default_checksums() {
    round_trip(RequestChecksum::WhenSupported, "checksums-default").await;
}

#[tokio::test]
async fn s3_round_trip_with_checksums_only_when_required() {
    round_trip(RequestChecksum::WhenRequired, "checksums-when-required").await;
}
