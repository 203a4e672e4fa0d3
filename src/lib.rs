//! supamigrate moves a Supabase project onto Aurora PostgreSQL and S3 and
//! proves that nothing was lost. The binary (`main.rs`) only parses, runs and
//! maps errors to exit codes; everything else lives here, one module per stage
//! plus shared modules named by domain.

pub mod aws;
pub mod cli;
pub mod data;
pub mod error;
pub mod finalize;
pub mod ledger;
pub mod mapping;
pub mod pg;
pub mod plan;
pub mod progress;
pub mod ranges;
pub mod schema;
pub mod settings;
pub mod shutdown;
pub mod sqlrewrite;
pub mod stage;
pub mod verify;

pub use error::{Error, Kind, Result};
