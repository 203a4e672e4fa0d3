//! Post-data steps as the schema stage stored them in the ledger
//! (`supamigrate.post_data`): the rewritten statements, in dump order. When
//! they exist they win over reading the source catalog, because only they
//! carry the rewrite's changes and pg_dump's deferred statements (such as
//! the real definition of a view that needs a primary key to exist).
//!
//! Touches: target ledger table `post_data`, read only.

use tokio_postgres::Client;

use super::{PostDataStep, StepKind};
use crate::error::Result;

/// The run's stored steps, or `None` when the schema stage stored none
/// (data copied into a schema made elsewhere).
pub async fn stored_steps(client: &Client, run_id: &str) -> Result<Option<Vec<PostDataStep>>> {
    let steps = crate::schema::post_data::steps(client, run_id).await?;
    if steps.is_empty() {
        return Ok(None);
    }
    Ok(Some(steps.into_iter().map(convert).collect()))
}

fn convert(step: crate::schema::post_data::PostDataStep) -> PostDataStep {
    let attach = step.sql.contains("ATTACH PARTITION");
    let kind = match step.kind.as_str() {
        // Attaching a partition's index must follow both indexes (and, for
        // keys, both constraints) in dump order, so it runs in the
        // sequential constraint phase, never among the parallel index builds.
        "index" if attach => StepKind::Constraint,
        "index" => StepKind::Index,
        "constraint" => StepKind::Constraint,
        "foreign_key" => StepKind::ForeignKey,
        "trigger" => StepKind::Trigger,
        "policy" => StepKind::Policy,
        _ => StepKind::Other,
    };
    PostDataStep {
        kind,
        // The resume key must be unique per kind; the dump position is.
        object: format!(
            "#{} {}",
            step.ordinal,
            step.object.as_deref().unwrap_or_default()
        ),
        sql: step.sql,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(kind: &str, sql: &str) -> crate::schema::post_data::PostDataStep {
        crate::schema::post_data::PostDataStep {
            id: 1,
            ordinal: 7,
            kind: kind.to_string(),
            object: Some("public.events_pkey".to_string()),
            sql: sql.to_string(),
            done: false,
        }
    }

    #[test]
    fn partition_attaches_run_in_the_sequential_phase() {
        let s = convert(step(
            "index",
            "ALTER INDEX public.events_pkey ATTACH PARTITION public.events_2025_01_pkey;",
        ));
        assert_eq!(s.kind, StepKind::Constraint);
        let s = convert(step("index", "CREATE INDEX i ON public.t USING btree (a);"));
        assert_eq!(s.kind, StepKind::Index);
        assert_eq!(s.object, "#7 public.events_pkey");
        assert_eq!(
            convert(step("other", "CREATE OR REPLACE VIEW v AS SELECT 1;")).kind,
            StepKind::Other
        );
    }
}
