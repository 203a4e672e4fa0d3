//! Token-level facts about a statement or a function body, from
//! PostgreSQL's own lexer: the qualified names it mentions (`schema.name`;
//! dumps qualify everything because they run with an empty search_path) and
//! syntax that only PostgreSQL 16 and later understand.

use pg_query::protobuf::{KeywordKind, ScanToken, Token};

/// A `schema.name` mention, with whether a `(` follows (a call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedRef {
    pub schema: String,
    pub name: String,
    pub call: bool,
}

#[derive(Debug, Default)]
pub struct Scan {
    pub refs: Vec<QualifiedRef>,
    /// Each construct newer than PostgreSQL 15 found, as written.
    pub newer_syntax: Vec<String>,
}

/// Scans SQL text. Text the lexer cannot read (an odd function body) yields
/// nothing rather than an error: the parser already accepted the statement.
pub fn scan(sql: &str, newer_functions: &[String]) -> Scan {
    let Ok(tokens) = pg_query::scan_tokens(sql) else {
        return Scan::default();
    };
    let tokens: Vec<&ScanToken> = tokens
        .iter()
        .filter(|t| !matches!(token(t), Token::SqlComment | Token::CComment))
        .collect();
    let text = |t: &ScanToken| &sql[t.start as usize..t.end as usize];
    let mut out = Scan::default();
    for (i, t) in tokens.iter().enumerate() {
        let next = |k: usize| tokens.get(i + k).map(|t| token(t));
        if is_name(t)
            && next(1) == Some(Token::Ascii46)
            && tokens.get(i + 2).is_some_and(|t| is_name(t))
            && (i == 0 || token(tokens[i - 1]) != Token::Ascii46)
        {
            out.refs.push(QualifiedRef {
                schema: ident(text(t)),
                name: ident(text(tokens[i + 2])),
                call: next(3) == Some(Token::Ascii40),
            });
        }
        let newer = match token(t) {
            Token::JsonArray
            | Token::JsonArrayagg
            | Token::JsonExists
            | Token::JsonObjectagg
            | Token::JsonQuery
            | Token::JsonScalar
            | Token::JsonSerialize
            | Token::JsonTable
            | Token::JsonValue
            | Token::SystemUser => true,
            Token::Is => {
                next(1) == Some(Token::Json)
                    || (next(1) == Some(Token::Not) && next(2) == Some(Token::Json))
            }
            Token::JsonObject => json_object_constructor(&tokens[i + 1..]),
            Token::Ident => {
                next(1) == Some(Token::Ascii40)
                    && (i == 0
                        || token(tokens[i - 1]) != Token::Ascii46
                        || text(tokens[i - 2]).eq_ignore_ascii_case("pg_catalog"))
                    && newer_functions
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(&ident(text(t))))
            }
            _ => false,
        };
        if newer {
            let end = tokens.get(i + 1).map_or(t.end, |n| n.end) as usize;
            out.newer_syntax
                .push(sql[t.start as usize..end].to_string());
        }
    }
    out
}

/// `JSON_OBJECT(k : v)` or `JSON_OBJECT(k VALUE v ...)` is PostgreSQL 16's
/// constructor; `json_object(text[])` is the old function.
fn json_object_constructor(rest: &[&ScanToken]) -> bool {
    if rest.first().map(|t| token(t)) != Some(Token::Ascii40) {
        return false;
    }
    let mut depth = 0;
    for t in rest {
        match token(t) {
            Token::Ascii40 => depth += 1,
            Token::Ascii41 => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            Token::Ascii58 | Token::ValueP | Token::Absent | Token::Returning | Token::Keys
                if depth == 1 =>
            {
                return true
            }
            _ => {}
        }
    }
    false
}

fn token(t: &ScanToken) -> Token {
    Token::try_from(t.token).unwrap_or(Token::Nul)
}

fn is_name(t: &ScanToken) -> bool {
    token(t) == Token::Ident
        || KeywordKind::try_from(t.keyword_kind).is_ok_and(|k| {
            matches!(
                k,
                KeywordKind::UnreservedKeyword
                    | KeywordKind::ColNameKeyword
                    | KeywordKind::TypeFuncNameKeyword
            )
        })
}

/// An identifier as PostgreSQL stores it: quoted names as written, others
/// folded to lower case.
pub fn ident(raw: &str) -> String {
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => raw.to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newer(sql: &str) -> Vec<String> {
        scan(sql, &["any_value".to_string()]).newer_syntax
    }

    #[test]
    fn finds_qualified_calls() {
        let s = scan(
            "SELECT net.http_post(url := 'x'), \"Auth\".\"Users\".id FROM public.t",
            &[],
        );
        let refs: Vec<_> = s
            .refs
            .iter()
            .map(|r| format!("{}.{}{}", r.schema, r.name, if r.call { "()" } else { "" }))
            .collect();
        assert_eq!(refs, ["net.http_post()", "Auth.Users", "public.t"]);
    }

    #[test]
    fn flags_postgres_16_and_17_syntax_only() {
        assert_eq!(newer("SELECT x IS JSON OBJECT FROM t"), ["IS JSON"]);
        assert_eq!(newer("SELECT JSON_OBJECT('a' : 1)"), ["JSON_OBJECT("]);
        assert!(newer("SELECT json_object('{a,1}'::text[])").is_empty());
        assert_eq!(newer("SELECT any_value(x) FROM t"), ["any_value("]);
        assert!(newer("SELECT t.any_value(x) FROM t").is_empty());
        assert!(newer("SELECT data::json, path FROM t").is_empty());
        assert_eq!(
            newer("SELECT * FROM JSON_TABLE(j, '$' COLUMNS (a int))"),
            ["JSON_TABLE("]
        );
    }
}
