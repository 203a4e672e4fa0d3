//! Quoting for SQL we generate. Every identifier and literal we build into
//! SQL text goes through here, so a name like `select` or `Order Items`
//! cannot break or change a statement.

/// Quotes an identifier always; a quoted lower-case name means the same as
/// the bare one, so always quoting is safe and never ambiguous.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn quote_qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// Quotes a string literal with standard_conforming_strings semantics (the
/// default since 9.1, and we set it on every session).
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Quotes a string literal as an escape string (`E'...'`), which reads the
/// same whatever standard_conforming_strings is: for a message of several
/// statements, which is lexed whole before any SET in it could run.
pub fn quote_escaped_literal(value: &str) -> String {
    format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_embedded_quotes() {
        assert_eq!(quote_ident("Order \"Items\""), "\"Order \"\"Items\"\"\"");
        assert_eq!(quote_qualified("public", "select"), "\"public\".\"select\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn escaped_literals_escape_quotes_and_backslashes() {
        assert_eq!(quote_escaped_literal(r"it's a \d+"), r"E'it''s a \\d+'");
        assert_eq!(quote_escaped_literal(""), "E''");
    }
}
