//! Schema: turns a Supabase schema dump into one that applies on the target
//! (Aurora PostgreSQL 15.5) as its non-superuser login role, by the
//! declarative rules in `mappings/`, and explains every change.
//!
//! The pure core works on text: `parse` splits a dump with PostgreSQL's own
//! grammar, `classify` says what each statement is, `rewrite` applies the
//! rules of `mapping::rules` (with `roles`, `checks`, `scan`,
//! `prelude`). The `schema` stage around it is in `stage` (with `export`
//! for pg_dump and `undo` for the undo journal); `post_data` is the ledger
//! API through which `finalize` applies indexes, constraints, triggers and
//! policies; `offline` is the `rewrite` command.

pub mod assess;
pub mod checks;
pub mod classify;
pub mod export;
pub mod names;
pub mod offline;
pub mod parse;
pub mod post_data;
pub mod prelude;
pub mod rewrite;
pub mod roles;
pub mod scan;
pub mod stage;
pub mod undo;

pub use assess::{assessment, Assessment};
pub use checks::Blocker;
pub use post_data::{post_data_steps, PostDataStep};
pub use rewrite::{rewrite, Change, Options, Rewritten};
pub use roles::TargetRole;
