//! Names in parse trees: object types, qualified names and the object a
//! COMMENT/GRANT/OWNER statement names, as `ObjRef`s.

use pg_query::protobuf::{self, node::Node as N, Node, ObjectType};

use super::classify::ObjRef;

/// (family, object type name) for a parser ObjectType.
pub fn object_type(raw: i32) -> (&'static str, &'static str) {
    use ObjectType as O;
    match O::try_from(raw).unwrap_or(O::Undefined) {
        O::ObjectTable => ("relation", "table"),
        O::ObjectView => ("relation", "view"),
        O::ObjectMatview => ("relation", "matview"),
        O::ObjectSequence => ("relation", "sequence"),
        O::ObjectForeignTable => ("relation", "foreign_table"),
        O::ObjectIndex => ("relation", "index"),
        O::ObjectColumn => ("relation", "column"),
        O::ObjectFunction => ("function", "function"),
        O::ObjectProcedure => ("function", "procedure"),
        O::ObjectRoutine => ("function", "routine"),
        O::ObjectAggregate => ("function", "aggregate"),
        O::ObjectType => ("type", "type"),
        O::ObjectDomain => ("type", "domain"),
        O::ObjectSchema => ("schema", "schema"),
        O::ObjectExtension => ("extension", "extension"),
        O::ObjectPublication => ("publication", "publication"),
        O::ObjectEventTrigger => ("event_trigger", "event_trigger"),
        O::ObjectForeignServer => ("server", "server"),
        O::ObjectFdw => ("fdw", "fdw"),
        O::ObjectTrigger => ("relation", "trigger"),
        O::ObjectPolicy => ("relation", "policy"),
        O::ObjectRule => ("relation", "rule"),
        O::ObjectTabconstraint => ("relation", "tabconstraint"),
        O::ObjectDomconstraint => ("type", "domconstraint"),
        O::ObjectLanguage => ("language", "language"),
        O::ObjectCollation => ("collation", "collation"),
        O::ObjectOperator => ("operator", "operator"),
        O::ObjectTsconfiguration => ("tsconfig", "tsconfiguration"),
        O::ObjectTsdictionary => ("tsdict", "tsdictionary"),
        O::ObjectDatabase => ("database", "database"),
        O::ObjectRole => ("role", "role"),
        O::ObjectLargeobject => ("largeobject", "largeobject"),
        O::ObjectParameterAcl => ("parameter", "parameter"),
        O::ObjectSubscription => ("subscription", "subscription"),
        _ => ("other", "other"),
    }
}

/// The object a COMMENT/GRANT/OWNER statement names. Columns, triggers,
/// policies and constraints resolve to their table.
pub(super) fn object_ref(family: &'static str, node: &Node) -> Option<ObjRef> {
    match node.node.as_ref()? {
        N::String(s) => Some(ObjRef {
            family,
            schema: None,
            name: s.sval.clone(),
        }),
        N::List(l) => {
            let parts = strings(&l.items);
            let (schema, name) = match (family, parts.len()) {
                ("relation", 3) => (Some(parts[0].clone()), parts[1].clone()),
                ("relation", 2) if family == "relation" => {
                    (Some(parts[0].clone()), parts[1].clone())
                }
                (_, n) if n >= 2 => (Some(parts[n - 2].clone()), parts[n - 1].clone()),
                (_, 1) => (None, parts[0].clone()),
                _ => return None,
            };
            Some(ObjRef {
                family,
                schema,
                name,
            })
        }
        N::ObjectWithArgs(o) => qualified(family, &o.objname),
        N::TypeName(t) => qualified(family, &t.names),
        N::RangeVar(r) => range_ref(Some(r)).map(|r| ObjRef { family, ..r }),
        _ => None,
    }
}

pub(super) fn range_ref(r: Option<&protobuf::RangeVar>) -> Option<ObjRef> {
    let r = r?;
    Some(ObjRef {
        family: "relation",
        schema: (!r.schemaname.is_empty()).then(|| r.schemaname.clone()),
        name: r.relname.clone(),
    })
}

pub(super) fn qualified(family: &'static str, names: &[Node]) -> Option<ObjRef> {
    let parts = strings(names);
    let name = parts.last()?.clone();
    let schema = (parts.len() >= 2).then(|| parts[parts.len() - 2].clone());
    Some(ObjRef {
        family,
        schema,
        name,
    })
}

pub fn strings(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn first_string(node: &Node) -> Option<String> {
    match node.node.as_ref()? {
        N::List(l) => strings(&l.items).into_iter().next(),
        N::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

pub fn defelem(node: &Node) -> Option<&protobuf::DefElem> {
    match &node.node {
        Some(N::DefElem(d)) => Some(d),
        _ => None,
    }
}
