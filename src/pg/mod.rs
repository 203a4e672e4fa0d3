//! PostgreSQL: connection strings, TLS, connecting with one-line errors,
//! pools, the retry policy, the one place that quotes identifiers, and the
//! catalog reads stages share.

pub mod catalog;
mod connect;
mod conninfo;
mod ident;
pub mod preflight;
pub mod retry;
pub mod running;
mod tls;

pub use connect::{classify, connect, pool, refuse_transaction_pooler, Side};
pub use conninfo::{ConnInfo, Endpoint, SslMode};
pub use ident::{quote_escaped_literal, quote_ident, quote_literal, quote_qualified};

/// A driver error's text for a message: the server's own message without
/// the driver's `db error: ERROR:` prefix, else the driver's text.
pub fn db_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string())
}
