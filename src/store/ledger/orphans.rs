//! Orphans: linked records whose Autotask side is gone (deleted, or merged into another record).
//! They are never deleted in Passportal. The deletion sweep that finds them runs only now and
//! then (`sweep_every_days`), so the ledger keeps them, with the night each was first seen,
//! until their Passportal record is gone too; every load reports the whole list
//! (`load/orphans.csv`) and `status` counts them.

use super::{sql, Ledger, LedgerError};
use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use duckdb::params;

/// The table, created with the rest of the schema.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orphans (
    entity VARCHAR NOT NULL,
    autotask_id BIGINT NOT NULL,
    passportal_id BIGINT,
    first_seen_run VARCHAR NOT NULL,
    first_seen_at VARCHAR NOT NULL,
    last_seen_run VARCHAR NOT NULL,
    PRIMARY KEY (entity, autotask_id)
);
";

/// One orphan as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub entity: Entity,
    pub autotask_id: AutotaskId,
    pub passportal_id: Option<PassportalId>,
    /// The run whose plan first reported it, and when (UTC, RFC 3339).
    pub first_seen_run: String,
    pub first_seen_at: String,
    /// The latest run whose plan reported it.
    pub last_seen_run: String,
}

impl Ledger {
    /// Record orphans a run's plan reported: new ones with this run as their first night, known
    /// ones keep their first night and move their last.
    pub fn record_orphans(
        &self,
        entity: Entity,
        orphans: &[(AutotaskId, Option<PassportalId>)],
        run_id: &str,
    ) -> Result<(), LedgerError> {
        let now = chrono::Utc::now().to_rfc3339();
        let mut stmt = self
            .conn
            .prepare(
                "INSERT INTO orphans
                   (entity, autotask_id, passportal_id, first_seen_run, first_seen_at, last_seen_run)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (entity, autotask_id) DO UPDATE SET last_seen_run = excluded.last_seen_run",
            )
            .map_err(sql("record orphans"))?;
        for (at, pp) in orphans {
            stmt.execute(params![
                entity.as_str(),
                at.0,
                pp.map(|p| p.0),
                run_id,
                now,
                run_id
            ])
            .map_err(sql("record orphans"))?;
        }
        Ok(())
    }

    /// Drop orphans whose Passportal record is gone: someone dealt with them.
    pub fn settle_orphans(&self, entity: Entity, ids: &[AutotaskId]) -> Result<(), LedgerError> {
        let mut stmt = self
            .conn
            .prepare("DELETE FROM orphans WHERE entity = ? AND autotask_id = ?")
            .map_err(sql("settle orphans"))?;
        for id in ids {
            stmt.execute(params![entity.as_str(), id.0])
                .map_err(sql("settle orphans"))?;
        }
        Ok(())
    }

    /// Every orphan, oldest first.
    pub fn orphans(&self) -> Result<Vec<Orphan>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT entity, autotask_id, passportal_id, first_seen_run, first_seen_at,
                        last_seen_run
                 FROM orphans ORDER BY first_seen_at, entity, autotask_id",
            )
            .map_err(sql("read orphans"))?;
        let rows = stmt
            .query_map([], |r| {
                let entity: String = r.get(0)?;
                let pp: Option<i64> = r.get(2)?;
                Ok((
                    entity,
                    Orphan {
                        entity: Entity::Companies,
                        autotask_id: AutotaskId(r.get(1)?),
                        passportal_id: pp.map(PassportalId),
                        first_seen_run: r.get(3)?,
                        first_seen_at: r.get(4)?,
                        last_seen_run: r.get(5)?,
                    },
                ))
            })
            .map_err(sql("read orphans"))?;
        let mut out = Vec::new();
        for row in rows {
            let (entity, mut orphan) = row.map_err(sql("read orphans"))?;
            // A row of an entity this build does not know is skipped, not misread.
            let Some(entity) = Entity::parse(&entity) else {
                continue;
            };
            orphan.entity = entity;
            out.push(orphan);
        }
        Ok(out)
    }
}
