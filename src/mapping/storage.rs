//! Storage rules: Supabase bucket → S3 bucket and key prefix, expiry by key
//! prefix (from the target buckets' lifecycle rules), and the CDN domain for
//! buckets served through CloudFront.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorageRules {
    #[serde(default)]
    pub buckets: Vec<RawBucket>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBucket {
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub prefix: String,
    pub cdn_domain: Option<String>,
    #[serde(default)]
    pub expiry: Vec<ExpiryRule>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpiryRule {
    /// Key prefix the rule applies to; empty means every object.
    #[serde(default)]
    pub prefix: String,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRule {
    pub source: String,
    pub target: String,
    pub prefix: String,
    pub cdn_domain: Option<String>,
    pub expiry: Vec<ExpiryRule>,
    /// The mapping file the rule came from, for messages.
    pub file: String,
}

#[derive(Debug, Clone, Default)]
pub struct StorageRules {
    pub buckets: Vec<BucketRule>,
}

impl StorageRules {
    pub(super) fn merge(&mut self, path: &Path, raw: RawStorageRules) -> Result<()> {
        for b in raw.buckets {
            if b.source.is_empty() || b.target.is_empty() {
                return Err(Error::config(format!(
                    "mapping file {}: a [[storage.buckets]] entry has an empty source or target",
                    path.display()
                )));
            }
            let rule = BucketRule {
                source: b.source,
                target: b.target,
                prefix: b.prefix,
                cdn_domain: b.cdn_domain,
                expiry: b.expiry,
                file: path.display().to_string(),
            };
            // A later file overrides an earlier rule for the same bucket.
            self.buckets.retain(|r| r.source != rule.source);
            self.buckets.push(rule);
        }
        Ok(())
    }

    pub fn for_source(&self, bucket: &str) -> Option<&BucketRule> {
        self.buckets.iter().find(|b| b.source == bucket)
    }
}

/// Days until an object expires under the first rule whose prefix matches
/// its key (the longest prefix wins, as lifecycle rules are usually nested).
pub fn expiry_days(rules: &[ExpiryRule], key: &str) -> Option<u32> {
    rules
        .iter()
        .filter(|r| key.starts_with(&r.prefix))
        .max_by_key(|r| r.prefix.len())
        .map(|r| r.days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_matching_prefix_wins() {
        let rules = vec![
            ExpiryRule {
                prefix: String::new(),
                days: 30,
            },
            ExpiryRule {
                prefix: "temp/".into(),
                days: 7,
            },
        ];
        assert_eq!(expiry_days(&rules, "temp/a.txt"), Some(7));
        assert_eq!(expiry_days(&rules, "reports/a.pdf"), Some(30));
        assert_eq!(expiry_days(&rules[1..], "reports/a.pdf"), None);
    }
}
