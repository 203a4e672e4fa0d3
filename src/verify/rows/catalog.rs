//! What verify compares: the tables of one side, their columns and their row
//! key, read from the catalog inside the verify snapshot.

use std::collections::{BTreeMap, HashMap};

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::mapping::scope::Scope;
use crate::pg::Side;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `format_type` under `search_path = ''`, so user types are qualified.
    pub type_sql: String,
    /// What decides the column's sort order: provider, locale and library
    /// version of its collation (the database's for `default`); `None` when
    /// the type is not collatable.
    pub collation: Option<String>,
    /// Its binary COPY form is the same bytes on any server for the same
    /// value (see [`binary_safe`]).
    pub binary_safe: bool,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub bytes: i64,
    /// Heap size in blocks, read under the session's snapshot: every row
    /// the snapshot sees lies below it.
    pub blocks: u64,
    /// The planner's row estimate; negative when never analyzed.
    pub est_rows: f32,
    pub columns: Vec<Column>,
    /// The row key: the primary key, else the smallest unique index over NOT
    /// NULL columns without expressions or predicate; empty when neither.
    pub key: Vec<String>,
    /// How closely the first key column follows physical row order
    /// (`pg_stats.correlation`, -1 to 1); `None` without statistics.
    pub key_correlation: Option<f32>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

pub type Tables = BTreeMap<(String, String), Table>;

/// Every ordinary table (leaf partitions included, partitioned parents not:
/// their rows live in the leaves) in scope, without extension-owned tables.
pub async fn tables(client: &Client, side: Side, scope: &Scope) -> Result<Tables> {
    let rows = client
        .query(
            &format!(
                "SELECT c.oid, n.nspname::text, c.relname::text, pg_catalog.pg_table_size(c.oid), c.reltuples,
                        pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int8
                 FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind = 'r' AND {}",
                scope.relation_sql("c", "n")
            ),
            &[],
        )
        .await
        .map_err(|e| catalog_err(side, "listing tables", e))?;
    let mut by_oid = BTreeMap::new();
    for r in rows {
        let oid: u32 = r.get(0);
        by_oid.insert(
            oid,
            Table {
                schema: r.get(1),
                name: r.get(2),
                bytes: r.get(3),
                est_rows: r.get(4),
                blocks: u64::try_from(r.get::<_, i64>(5)).unwrap_or(0),
                columns: Vec::new(),
                key: Vec::new(),
                key_correlation: None,
            },
        );
    }
    let oids: Vec<u32> = by_oid.keys().copied().collect();
    let cols = client
        .query(
            // Through to_jsonb because the locale columns differ between
            // PostgreSQL 15 and 17 (colliculocale / colllocale).
            "SELECT a.attrelid, a.attname::text,
                    pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid,
                    CASE WHEN a.attcollation = 0 THEN NULL
                         WHEN co.collname = 'default' THEN
                           (SELECT concat_ws(':', j->>'datlocprovider', j->>'datcollate',
                                             j->>'daticulocale', j->>'datlocale', j->>'datcollversion')
                            FROM pg_catalog.pg_database AS d, to_jsonb(d) AS j
                            WHERE d.datname = pg_catalog.current_database())
                         ELSE concat_ws(':', j->>'collprovider', j->>'collcollate', j->>'colliculocale',
                                        j->>'colllocale', j->>'collversion')
                    END
             FROM pg_catalog.pg_attribute a
             LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
             LEFT JOIN LATERAL to_jsonb(co) AS j ON true
             WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attrelid, a.attnum",
            &[&oids],
        )
        .await
        .map_err(|e| catalog_err(side, "listing columns", e))?;
    let types = types(client, side).await?;
    for r in cols {
        let oid: u32 = r.get(0);
        if let Some(t) = by_oid.get_mut(&oid) {
            t.columns.push(Column {
                name: r.get(1),
                type_sql: r.get(2),
                binary_safe: binary_safe(&types, r.get(3)),
                collation: r.get(4),
            });
        }
    }
    let keys = client
        .query(
            "SELECT DISTINCT ON (i.indrelid) i.indrelid,
                    array_agg(a.attname::text ORDER BY k.ord)
             FROM pg_catalog.pg_index i
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = ANY($1) AND i.indisunique AND i.indisvalid
               AND i.indexprs IS NULL AND i.indpred IS NULL AND k.ord <= i.indnkeyatts
             GROUP BY i.indrelid, i.indexrelid, i.indisprimary, i.indnkeyatts
             HAVING bool_and(a.attnotnull) AND count(*) = i.indnkeyatts
             ORDER BY i.indrelid, i.indisprimary DESC, i.indnkeyatts, i.indexrelid",
            &[&oids],
        )
        .await
        .map_err(|e| catalog_err(side, "reading primary keys", e))?;
    for r in keys {
        let oid: u32 = r.get(0);
        if let Some(t) = by_oid.get_mut(&oid) {
            t.key = r.get(1);
        }
    }
    let stats = client
        .query(
            "SELECT c.oid, s.attname::text, s.correlation
             FROM pg_catalog.pg_stats s
             JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
             JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
             WHERE c.oid = ANY($1) AND NOT s.inherited AND s.correlation IS NOT NULL",
            &[&oids],
        )
        .await
        .map_err(|e| catalog_err(side, "reading column statistics", e))?;
    for r in stats {
        let oid: u32 = r.get(0);
        if let Some(t) = by_oid.get_mut(&oid) {
            if t.key.first().map(String::as_str) == Some(r.get::<_, &str>(1)) {
                t.key_correlation = Some(r.get(2));
            }
        }
    }
    Ok(by_oid
        .into_values()
        .map(|t| ((t.schema.clone(), t.name.clone()), t))
        .collect())
}

/// What [`binary_safe`] needs to know of one type.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub name: String,
    /// `pg_type.typtype`: b base, e enum, d domain, r range, c composite, ...
    pub kind: char,
    /// `pg_type.typcategory`: A for arrays.
    pub category: char,
    /// Domains: the type they are over.
    pub base: u32,
    /// Arrays: the element type.
    pub elem: u32,
    /// The type has a binary send function.
    pub has_send: bool,
}

/// Types with OIDs below this are built into the server and have the same
/// OID on every PostgreSQL (`FirstNormalObjectId`).
const FIRST_NORMAL_OID: u32 = 16384;

async fn types(client: &Client, side: Side) -> Result<HashMap<u32, TypeInfo>> {
    let rows = client
        .query(
            "SELECT oid, typname::text, typtype::text, typcategory::text, typbasetype, typelem,
                    typsend <> 0
             FROM pg_catalog.pg_type",
            &[],
        )
        .await
        .map_err(|e| catalog_err(side, "listing types", e))?;
    let first = |s: String| s.chars().next().unwrap_or(' ');
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                TypeInfo {
                    name: r.get(1),
                    kind: first(r.get(2)),
                    category: first(r.get(3)),
                    base: r.get(4),
                    elem: r.get(5),
                    has_send: r.get(6),
                },
            )
        })
        .collect())
}

/// Whether a column of this type can be compared in binary COPY form: the
/// send function must not write anything server-specific. Arrays and
/// composites write their element and field type OIDs, which differ between
/// servers for user types; `reg*` types send bare OIDs where the text form
/// has names. Allowed: built-in base and range types, built-in arrays of
/// those, enums (sent as their label) and domains over any of these. The rest
/// is compared in text form, which never depends on the server.
pub fn binary_safe(types: &HashMap<u32, TypeInfo>, oid: u32) -> bool {
    let mut oid = oid;
    // Domains send as their base type; a chain of domains ends at a base.
    for _ in 0..32 {
        let Some(t) = types.get(&oid) else {
            return false;
        };
        if t.kind == 'd' {
            oid = t.base;
            continue;
        }
        if t.kind == 'e' {
            return true;
        }
        if !builtin_scalar(t, oid) {
            return false;
        }
        if t.category != 'A' {
            return true;
        }
        return types
            .get(&t.elem)
            .is_some_and(|e| builtin_scalar(e, t.elem) && e.category != 'A');
    }
    false
}

fn builtin_scalar(t: &TypeInfo, oid: u32) -> bool {
    oid < FIRST_NORMAL_OID
        && matches!(t.kind, 'b' | 'r')
        && t.has_send
        && !t.name.starts_with("reg")
}

pub fn catalog_err(side: Side, doing: &str, e: tokio_postgres::Error) -> Error {
    Error::db(format!("{side}: {doing}"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &str, kind: char, category: char, base: u32, elem: u32) -> TypeInfo {
        TypeInfo {
            name: name.into(),
            kind,
            category,
            base,
            elem,
            has_send: true,
        }
    }

    fn catalog() -> HashMap<u32, TypeInfo> {
        HashMap::from([
            (23, ty("int4", 'b', 'N', 0, 0)),
            (1007, ty("_int4", 'b', 'A', 0, 23)),
            (3904, ty("int4range", 'r', 'R', 0, 0)),
            (2205, ty("regclass", 'b', 'N', 0, 0)),
            (2210, ty("_regclass", 'b', 'A', 0, 2205)),
            (
                1033,
                TypeInfo {
                    has_send: false,
                    ..ty("aclitem", 'b', 'U', 0, 0)
                },
            ),
            (20000, ty("mood", 'e', 'E', 0, 0)),
            (20001, ty("_mood", 'b', 'A', 0, 20000)),
            (20002, ty("positive", 'd', 'N', 23, 0)),
            (20003, ty("small_positive", 'd', 'N', 20002, 0)),
            (20004, ty("address", 'c', 'C', 0, 0)),
            (20005, ty("citext", 'b', 'S', 0, 0)),
            (20006, ty("ints", 'd', 'A', 1007, 0)),
            (20007, ty("_positive", 'b', 'A', 0, 20002)),
        ])
    }

    #[test]
    fn builtin_scalars_enums_and_their_domains_are_binary_safe() {
        let t = catalog();
        for oid in [23, 1007, 3904, 20000, 20002, 20003, 20006] {
            assert!(binary_safe(&t, oid), "{}", t[&oid].name);
        }
    }

    #[test]
    fn types_whose_binary_form_names_oids_are_not() {
        let t = catalog();
        // Arrays of user types carry the element OID; composites their field
        // OIDs; reg* types bare OIDs; extension types are not trusted.
        for oid in [20001, 20004, 2205, 2210, 1033, 20005, 20007, 99999] {
            assert!(!binary_safe(&t, oid), "{oid}");
        }
    }
}
