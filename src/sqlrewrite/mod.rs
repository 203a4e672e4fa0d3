//! The pure rewrite engine: turns a Supabase schema dump into one that
//! applies on the target (Aurora PostgreSQL 15.5) as its non-superuser login
//! role, by the declarative rules of `mapping::rules`, and explains every
//! change. Works on text only; plan, the schema stage, the `rewrite` command
//! and verify share it.
//!
//! `parse` splits a dump with PostgreSQL's own grammar, `classify` says what
//! each statement is, `rewrite` applies the rules (with `roles`, `checks`,
//! `scan`, `prelude`, `names`); `assessment` is its summary for `plan`;
//! `offline` is the `rewrite` command.

pub mod affects;
pub mod assessment;
pub mod checks;
pub mod classify;
pub mod names;
pub mod offline;
pub mod parse;
pub mod prelude;
pub mod rewrite;
pub mod roles;
pub mod scan;

pub use assessment::Assessment;
pub use checks::Blocker;
pub use rewrite::{rewrite, Change, Options, Rewritten};
pub use roles::TargetRole;
