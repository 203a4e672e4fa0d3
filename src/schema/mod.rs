//! The schema stage: dumps the source schema (`export`, pg_dump), rewrites
//! it with the shared engine in `sqlrewrite`, applies it on the target in
//! one transaction and records what it created for the undo journal
//! (`undo`); `post_data` is the ledger API through which `finalize` applies
//! indexes, constraints, triggers and policies; `assess` is the dump and
//! rewrite that `plan` reports on, writing nothing.

pub mod assess;
pub mod export;
pub mod post_data;
pub mod stage;
pub mod undo;

pub use assess::assessment;
pub use post_data::{post_data_steps, PostDataStep};
