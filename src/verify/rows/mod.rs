//! Verify's rows: each table read on both sides from one snapshot each, in
//! key ranges (or heap blocks), digested row by row in a canonical form and
//! narrowed to the differing keys; and the sequences' values.
//!
//! Reads: both sides' catalogs and rows, the data stage's chunks in the
//! target's ledger. Writes: temporary spill files only.

pub mod canonical;
pub mod catalog;
pub mod ranges;
pub mod sequences;
pub mod session;
pub mod spill;
pub mod table;
pub mod tally;
