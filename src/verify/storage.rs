//! Storage: every object in the source's `storage.objects` must exist in its
//! mapped S3 bucket with the source's size and have its row in the target's
//! file metadata table; with `--deep` the S3 bytes are read again and must
//! hash to the blake3 recorded when they were copied. No metadata row may
//! point at an object S3 does not have.
//!
//! The metadata table is found by its columns (`bucket_name`, `object_key`,
//! `file_size`), so verify does not depend on what the storage stage calls
//! it; the stored blake3 comes from its `checksum` column when it has one,
//! else from the ledger's `objects` table.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use tokio_postgres::Client;

use super::rows::catalog::catalog_err;
use crate::error::{Error, Result};
use crate::mapping::scope::Scope;
use crate::mapping::StorageRules;
use crate::pg::{quote_ident, quote_qualified, Side};
use crate::settings::Settings;

#[derive(Debug, Default, Serialize)]
pub struct ObjectsReport {
    /// False when no storage is configured, so nothing was compared.
    pub checked: bool,
    /// Why nothing was compared, when `checked` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The target table holding one row per stored object.
    pub metadata_table: Option<String>,
    pub source_count: u64,
    pub target_count: u64,
    pub bytes: u64,
    pub mismatches: Vec<ObjectMismatch>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectMismatch {
    pub bucket: String,
    pub key: String,
    pub problem: String,
}

struct SourceObject {
    bucket: String,
    name: String,
    size: Option<i64>,
}

struct MetaRow {
    size: Option<i64>,
    checksum: Option<String>,
}

/// Compares storage when the source has `storage.objects` and a target S3
/// is configured.
pub async fn check(
    settings: &Settings,
    rules: &StorageRules,
    scope: &Scope,
    source: &Client,
    target: &Client,
    deep: bool,
) -> Result<ObjectsReport> {
    let objects = source_objects(source).await?;
    let mut report = ObjectsReport {
        source_count: objects.len() as u64,
        bytes: objects
            .iter()
            .map(|o| u64::try_from(o.size.unwrap_or(0)).unwrap_or(0))
            .sum(),
        ..ObjectsReport::default()
    };
    if objects.is_empty() {
        report.note = Some("the source has no storage objects".into());
        return Ok(report);
    }
    let Some(s3_settings) = &settings.storage_target else {
        report.note = Some("no [storage.target] configured; storage objects not verified".into());
        tracing::warn!(
            objects = objects.len(),
            "storage objects not verified: no [storage.target] configured"
        );
        return Ok(report);
    };
    report.checked = true;
    let s3 = crate::aws::s3::client("storage.target", s3_settings).await?;
    let meta_table = metadata_table(target, scope).await?;
    report.metadata_table = meta_table.as_ref().map(|(s, t)| format!("{s}.{t}"));
    let meta = match &meta_table {
        Some((schema, table)) => metadata_rows(target, schema, table).await?,
        None => HashMap::new(),
    };
    let ledger_sums = crate::ledger::objects::checksums(target).await?;

    // What S3 holds under every mapped prefix, listed once per bucket.
    let mut listed: BTreeMap<(String, String), HashMap<String, i64>> = BTreeMap::new();
    for o in &objects {
        if let Some(rule) = rules.for_source(&o.bucket) {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                listed.entry((rule.target.clone(), rule.prefix.clone()))
            {
                slot.insert(list(&s3, &rule.target, &rule.prefix).await?);
            }
        }
    }
    report.target_count = listed.values().map(|m| m.len() as u64).sum();

    let mut to_hash = Vec::new();
    let mut problem = |bucket: &str, key: &str, what: String| {
        report.mismatches.push(ObjectMismatch {
            bucket: bucket.to_string(),
            key: key.to_string(),
            problem: what,
        })
    };
    for o in &objects {
        let Some(rule) = rules.for_source(&o.bucket) else {
            problem(
                &o.bucket,
                &o.name,
                "the source bucket has no bucket mapping".into(),
            );
            continue;
        };
        let key = format!("{}{}", rule.prefix, o.name);
        let in_s3 = listed
            .get(&(rule.target.clone(), rule.prefix.clone()))
            .and_then(|m| m.get(&key).copied());
        match (in_s3, o.size) {
            (None, _) => problem(&rule.target, &key, "missing in S3".into()),
            (Some(s), Some(want)) if s != want => problem(
                &rule.target,
                &key,
                format!("{s} bytes in S3, {want} on the source"),
            ),
            _ => {}
        }
        let row = meta.get(&(rule.target.clone(), key.clone()));
        match row {
            None => problem(&rule.target, &key, "no metadata row".into()),
            Some(m) if m.size != o.size => problem(
                &rule.target,
                &key,
                "metadata file_size differs from the source size".into(),
            ),
            _ => {}
        }
        if deep && in_s3.is_some() {
            let stored = row.and_then(|m| m.checksum.clone()).or_else(|| {
                ledger_sums
                    .get(&(rule.target.clone(), key.clone()))
                    .cloned()
            });
            match stored {
                Some(sum) => to_hash.push((rule.target.clone(), key, sum)),
                // Without its row the object is already reported.
                None if row.is_some() => problem(
                    &rule.target,
                    &key,
                    "no stored blake3 to compare with".into(),
                ),
                None => {}
            }
        }
    }
    for (bucket, key) in meta.keys() {
        let known = listed
            .iter()
            .any(|((b, _), m)| b == bucket && m.contains_key(key));
        let mapped = listed
            .keys()
            .any(|(b, prefix)| b == bucket && key.starts_with(prefix.as_str()));
        if !known && mapped {
            problem(bucket, key, "metadata row without its S3 object".into());
        } else if !known {
            // A bucket no source object maps to: ask S3 for this one key.
            if head_size(&s3, bucket, key).await?.is_none() {
                problem(bucket, key, "metadata row without its S3 object".into());
            }
        }
    }
    if deep {
        let jobs = settings.copy.jobs.max(1);
        let results: Vec<(String, String, String, String)> = futures::stream::iter(to_hash)
            .map(|(bucket, key, stored)| {
                let s3 = &s3;
                async move {
                    let actual = hash_object(s3, &bucket, &key).await?;
                    Ok::<_, Error>((bucket, key, stored, actual))
                }
            })
            .buffer_unordered(jobs)
            .try_collect()
            .await?;
        for (bucket, key, stored, actual) in results {
            if !stored.eq_ignore_ascii_case(&actual) {
                problem(
                    &bucket,
                    &key,
                    "the bytes in S3 do not hash to the stored blake3".into(),
                );
            }
        }
    }
    report
        .mismatches
        .sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
    Ok(report)
}

async fn source_objects(source: &Client) -> Result<Vec<SourceObject>> {
    let exists: bool = source
        .query_one("SELECT to_regclass('storage.objects') IS NOT NULL", &[])
        .await
        .map_err(|e| catalog_err(Side::Source, "looking for storage.objects", e))?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    let rows = source
        .query(
            "SELECT bucket_id::text, name::text, (metadata->>'size')::bigint
             FROM storage.objects WHERE bucket_id IS NOT NULL AND name IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| catalog_err(Side::Source, "reading storage.objects", e))?;
    Ok(rows
        .into_iter()
        .map(|r| SourceObject {
            bucket: r.get(0),
            name: r.get(1),
            size: r.get(2),
        })
        .collect())
}

/// The target table with one row per stored object, found by its columns
/// among the tables in scope (Supabase's own `storage` schema is not).
async fn metadata_table(target: &Client, scope: &Scope) -> Result<Option<(String, String)>> {
    let row = target
        .query_opt(
            &format!(
                "SELECT n.nspname::text, c.relname::text
                 FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 WHERE c.relkind IN ('r', 'p') AND {}
                   AND a.attname IN ('bucket_name', 'object_key', 'file_size')
                 GROUP BY n.nspname, c.relname HAVING count(*) = 3
                 ORDER BY 1, 2 LIMIT 1",
                scope.schema_sql("n.nspname")
            ),
            &[],
        )
        .await
        .map_err(|e| catalog_err(Side::Target, "looking for the file metadata table", e))?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

async fn metadata_rows(
    target: &Client,
    schema: &str,
    table: &str,
) -> Result<HashMap<(String, String), MetaRow>> {
    let has_checksum: bool = target
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                            WHERE attrelid = $1::text::regclass AND attname = 'checksum' AND NOT attisdropped)",
            &[&quote_qualified(schema, table)],
        )
        .await
        .map_err(|e| catalog_err(Side::Target, "reading the file metadata table", e))?
        .get(0);
    let checksum = if has_checksum {
        format!("{}::text", quote_ident("checksum"))
    } else {
        "NULL::text".to_string()
    };
    let rows = target
        .query(
            &format!(
                "SELECT bucket_name::text, object_key::text, file_size::bigint, {checksum} FROM {}",
                quote_qualified(schema, table)
            ),
            &[],
        )
        .await
        .map_err(|e| catalog_err(Side::Target, "reading the file metadata table", e))?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r.get(0), r.get(1)),
                MetaRow {
                    size: r.get(2),
                    checksum: r.get(3),
                },
            )
        })
        .collect())
}

fn s3_err(bucket: &str, doing: &str, detail: String) -> Error {
    Error::failure(format!(
        "storage.target bucket `{bucket}`: {doing}: {detail}"
    ))
    .with_fix("check the endpoint, region, AWS credentials and s3:ListBucket / s3:GetObject")
}

/// Every key under `prefix` with its size.
async fn list(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            s3_err(bucket, "listing objects", crate::aws::describe(&e)).with_source(e)
        })?;
        for o in page.contents() {
            if let Some(key) = o.key() {
                out.insert(key.to_string(), o.size().unwrap_or(0));
            }
        }
    }
    Ok(out)
}

async fn head_size(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<i64>> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(h) => Ok(Some(h.content_length().unwrap_or(0))),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
        Err(e) => {
            Err(s3_err(bucket, "reading an object's size", crate::aws::describe(&e)).with_source(e))
        }
    }
}

/// blake3 of an object's bytes, streamed.
async fn hash_object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<String> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            s3_err(bucket, "reading an object", crate::aws::describe(&e)).with_source(e)
        })?;
    let mut body = out.body;
    let mut hasher = blake3::Hasher::new();
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| s3_err(bucket, "reading an object", e.to_string()).with_source(e))?
    {
        hasher.update(&chunk);
    }
    Ok(hasher.finalize().to_hex().to_string())
}
