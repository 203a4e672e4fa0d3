//! Verify's schema: what each side's catalog says (tables, columns,
//! constraints, indexes, policies, functions, types, extensions, ...) and
//! who may do what (privileges and default privileges), compared by name,
//! with the rules that explain each expected difference.
//!
//! Reads: both sides' catalogs. Writes nothing.

pub mod inventory;
pub mod privileges;
