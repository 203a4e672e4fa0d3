//! PostgreSQL: connection strings, TLS, connecting with one-line errors,
//! pools, the retry policy, and the one place that quotes identifiers.

mod connect;
mod conninfo;
mod ident;
pub mod retry;
mod tls;

pub use connect::{classify, connect, pool, refuse_transaction_pooler, Side};
pub use conninfo::{ConnInfo, Endpoint, SslMode};
pub use ident::{quote_escaped_literal, quote_ident, quote_literal, quote_qualified};
