//! Mappings: declarative rules from `mappings/*.toml`, merged in order (the
//! user's own files last). Each file may hold a `[storage]` section (bucket
//! mapping, this module's `storage`) and schema rules (`schema::rules`);
//! every rule carries an id and a reason so that reports can say which rule
//! changed what. The shipped schema defaults are built in and always merged
//! first; listed files are merged after them.

pub mod rules;
pub mod scope;
pub mod storage;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::mapping::rules::SchemaRules;

pub use storage::{BucketRule, ExpiryRule, StorageRules};

/// All rules after merging.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    pub storage: StorageRules,
    pub schema: SchemaRules,
    /// Every file read, in order, for reports.
    pub files: Vec<PathBuf>,
}

/// Reads the given files in order; later files override earlier ones.
pub fn load(files: &[PathBuf]) -> Result<Mappings> {
    let mut m = Mappings {
        schema: SchemaRules::defaults()?,
        ..Mappings::default()
    };
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("mapping file {}: {e}", path.display()))
                .with_source(e)
                .with_fix("fix the path in [mapping] files")
        })?;
        m.merge_text(path, &text)?;
    }
    Ok(m)
}

impl Mappings {
    fn merge_text(&mut self, path: &Path, text: &str) -> Result<()> {
        // Also rejects unknown top-level sections, naming the line.
        self.schema.merge_str(path, text)?;
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            Error::config(format!("mapping file {}: {}", path.display(), e.message()))
        })?;
        if let Some(storage) = table.remove("storage") {
            let rules: storage::RawStorageRules =
                storage.try_into().map_err(|e: toml::de::Error| {
                    Error::config(format!(
                        "mapping file {}: [storage]: {}",
                        path.display(),
                        e.message()
                    ))
                })?;
            self.storage.merge(path, rules)?;
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }
}
