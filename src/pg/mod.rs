//! PostgreSQL: connection strings, TLS, connecting with one-line errors,
//! pools, and the one place that quotes identifiers.

mod connect;
mod conninfo;
mod ident;
mod tls;

pub use connect::{classify, connect, pool, refuse_transaction_pooler, Side};
pub use conninfo::{ConnInfo, Endpoint, SslMode};
pub use ident::{quote_ident, quote_literal, quote_qualified};
