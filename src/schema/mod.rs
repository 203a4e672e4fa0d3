//! The schema stage: dumps the source schema (`export`, pg_dump), rewrites
//! it with the shared engine in `sqlrewrite`, applies it on the target in
//! one transaction and records what it created for the undo journal
//! (`undo`), with the post-data steps `finalize` applies and the change
//! list verify reads, through `ledger`; `assess` is the dump and rewrite
//! that `plan` reports on, writing nothing.

pub mod assess;
pub mod export;
pub mod stage;
pub mod undo;

pub use assess::assessment;
