//! Role references inside statements: owners become the target login role,
//! grants/policies/default privileges lose platform roles, roles the target
//! needs are collected so the rewrite can create them.

use std::collections::BTreeSet;

use pg_query::protobuf::{node::Node as N, Node, RoleSpec, RoleSpecType};

use crate::mapping::rules::{RoleAction, SchemaRules};

/// Who owns what the rewrite creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRole {
    /// `CURRENT_USER`: whoever applies the output (offline rewrite).
    CurrentUser,
    Named(String),
}

impl TargetRole {
    fn spec(&self) -> RoleSpec {
        match self {
            TargetRole::CurrentUser => RoleSpec {
                roletype: RoleSpecType::RolespecCurrentUser as i32,
                rolename: String::new(),
                location: -1,
            },
            TargetRole::Named(n) => RoleSpec {
                roletype: RoleSpecType::RolespecCstring as i32,
                rolename: n.clone(),
                location: -1,
            },
        }
    }

    pub fn sql(&self) -> String {
        match self {
            TargetRole::CurrentUser => "CURRENT_USER".to_string(),
            TargetRole::Named(n) => crate::pg::quote_ident(n),
        }
    }
}

/// One role edit, with the rule that made it.
#[derive(Debug, Clone)]
pub struct RoleEdit {
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct RoleOutcome {
    pub edits: Vec<RoleEdit>,
    /// The statement has no role left to act for.
    pub drop: bool,
    /// Roles with action `create` the statement needs.
    pub needed: BTreeSet<String>,
}

struct Ctx<'a> {
    rules: &'a SchemaRules,
    target: &'a TargetRole,
    out: RoleOutcome,
}

impl Ctx<'_> {
    fn edit(&mut self, role: &str) {
        if let Some(r) = self.rules.role_rule(role) {
            if !self.out.edits.iter().any(|e| e.rule == r.id) {
                self.out.edits.push(RoleEdit {
                    rule: r.id.clone(),
                    reason: r.reason.clone(),
                });
            }
        }
    }

    fn action(&self, spec: &RoleSpec) -> Option<RoleAction> {
        if spec.roletype != RoleSpecType::RolespecCstring as i32 {
            return None;
        }
        self.rules.role_rule(&spec.rolename).map(|r| r.action)
    }

    /// An owner: remapped and dropped roles both become the target role.
    fn owner(&mut self, spec: &mut RoleSpec) {
        match self.action(spec) {
            Some(RoleAction::Remap | RoleAction::Drop) => {
                let name = spec.rolename.clone();
                *spec = self.target.spec();
                self.edit(&name);
            }
            Some(RoleAction::Create) => {
                self.out.needed.insert(spec.rolename.clone());
            }
            _ => {}
        }
    }

    /// A list of grantees: dropped roles leave it. A remapped role becomes
    /// the target role, or leaves too where `owner_has_it` (the target role
    /// owns what it creates, so granting to it is redundant, and granting
    /// it grant options on its own objects is an error). Returns whether
    /// any role is left.
    fn grantees(&mut self, list: &mut Vec<Node>, owner_has_it: bool) -> bool {
        let mut kept = Vec::with_capacity(list.len());
        for mut node in std::mem::take(list) {
            if let Some(N::RoleSpec(spec)) = &mut node.node {
                match self.action(spec) {
                    Some(RoleAction::Drop) => {
                        let name = spec.rolename.clone();
                        self.edit(&name);
                        continue;
                    }
                    Some(RoleAction::Remap) => {
                        let name = spec.rolename.clone();
                        self.edit(&name);
                        if owner_has_it {
                            continue;
                        }
                        *spec = self.target.spec();
                    }
                    Some(RoleAction::Create) => {
                        self.out.needed.insert(spec.rolename.clone());
                    }
                    _ => {}
                }
            }
            kept.push(node);
        }
        *list = kept;
        !list.is_empty()
    }
}

pub fn rewrite_roles(node: &mut Node, rules: &SchemaRules, target: &TargetRole) -> RoleOutcome {
    let mut c = Ctx {
        rules,
        target,
        out: RoleOutcome::default(),
    };
    match node.node.as_mut() {
        Some(N::AlterOwnerStmt(s)) => {
            if let Some(spec) = s.newowner.as_mut() {
                c.owner(spec);
            }
        }
        Some(N::AlterTableStmt(s)) => {
            for cmd in &mut s.cmds {
                if let Some(N::AlterTableCmd(cmd)) = cmd.node.as_mut() {
                    if let Some(spec) = cmd.newowner.as_mut() {
                        c.owner(spec);
                    }
                }
            }
        }
        Some(N::CreateSchemaStmt(s)) => {
            if let Some(spec) = s.authrole.as_mut() {
                c.owner(spec);
            }
        }
        Some(N::GrantStmt(s)) => {
            if let Some(spec) = s.grantor.as_mut() {
                c.owner(spec);
            }
            c.out.drop = !c.grantees(&mut s.grantees, true);
        }
        Some(N::GrantRoleStmt(s)) => {
            let granted_left = c.grantees(&mut s.grantee_roles, false);
            let mut roles_left = true;
            s.granted_roles.retain(|n| match &n.node {
                Some(N::AccessPriv(p)) => !matches!(
                    rules.role_rule(&p.priv_name).map(|r| r.action),
                    Some(RoleAction::Drop)
                ),
                _ => true,
            });
            if s.granted_roles.is_empty() {
                roles_left = false;
            }
            c.out.drop = !(granted_left && roles_left);
        }
        Some(N::AlterDefaultPrivilegesStmt(s)) => {
            for opt in &mut s.options {
                let Some(N::DefElem(d)) = opt.node.as_mut() else {
                    continue;
                };
                if d.defname != "roles" {
                    continue;
                }
                if let Some(N::List(l)) = d.arg.as_mut().and_then(|a| a.node.as_mut()) {
                    if !c.grantees(&mut l.items, false) {
                        c.out.drop = true;
                    }
                }
            }
            if let Some(action) = s.action.as_mut() {
                if !c.grantees(&mut action.grantees, true) {
                    c.out.drop = true;
                }
            }
        }
        Some(N::CreatePolicyStmt(s)) => {
            c.out.drop = !s.roles.is_empty() && !c.grantees(&mut s.roles, false)
        }
        Some(N::AlterPolicyStmt(s)) => {
            c.out.drop = !s.roles.is_empty() && !c.grantees(&mut s.roles, false)
        }
        _ => {}
    }
    c.out
}

/// Removes the `MAINTAIN` privilege (PostgreSQL 17) from a GRANT/REVOKE;
/// returns whether it was there and whether any privilege is left.
pub fn strip_maintain(node: &mut Node) -> Option<bool> {
    let Some(N::GrantStmt(s)) = node.node.as_mut() else {
        return None;
    };
    let before = s.privileges.len();
    s.privileges.retain(|p| {
        !matches!(&p.node, Some(N::AccessPriv(a)) if a.priv_name.eq_ignore_ascii_case("maintain"))
    });
    (s.privileges.len() != before).then_some(!s.privileges.is_empty())
}
