//! The backlog: everything the nightly still owes, kept in the ledger rather than in a run
//! folder, so that an incremental night that does not bring a record back, or a `prune` that
//! deletes the run that showed it, cannot make it forgotten. One row per Autotask record: rows
//! waiting for review (with the night they first appeared and how many nights they waited),
//! creates decided or proposed but not yet made (failed, or whose outcome is unknown, with how
//! many attempts failed), and analysts' matches not yet applied. What a row means for a night is
//! decided by the stages (`stages::matching::backlog`, `stages::plan::backlog`); this module only
//! stores it.
//!
//! Added to older ledgers when they are opened: the table is created, and creates the write log
//! still owes (`intent` or `failed`, no link) are taken into it once, so nothing an older
//! version left owed is lost by the upgrade.

use super::{sql, Ledger, LedgerError};
use crate::model::entity::Entity;
use duckdb::params;
use std::collections::BTreeMap;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE backlog (
    entity VARCHAR NOT NULL,
    autotask_id BIGINT NOT NULL,
    kind VARCHAR NOT NULL,
    passportal_id BIGINT,
    first_run VARCHAR NOT NULL,
    last_run VARCHAR NOT NULL,
    nights INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    reason VARCHAR,
    PRIMARY KEY (entity, autotask_id)
);
INSERT INTO backlog
    SELECT w.entity, w.autotask_id, 'create', NULL, w.run_id, w.run_id, 1, 1, w.message
    FROM writes w
    WHERE w.operation = 'create' AND w.state <> 'done'
      AND NOT EXISTS (SELECT 1 FROM links l
                      WHERE l.entity = w.entity AND l.autotask_id = w.autotask_id);
";

/// What is owed for a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Owed {
    /// Waiting for an analyst's decision.
    Review,
    /// To be created in Passportal: decided (by an analyst or the pipeline's auto-create) and
    /// not yet made — not attempted yet, refused, or its outcome unknown.
    Create,
    /// An analyst's match to `passportal_id`, not yet applied.
    Match,
}

impl Owed {
    pub fn as_str(self) -> &'static str {
        match self {
            Owed::Review => "review",
            Owed::Create => "create",
            Owed::Match => "match",
        }
    }

    fn parse(s: &str) -> Owed {
        match s {
            "create" => Owed::Create,
            "match" => Owed::Match,
            _ => Owed::Review,
        }
    }
}

/// One owed record.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogRow {
    pub entity: Entity,
    pub autotask_id: i64,
    pub kind: Owed,
    /// For `Match`: the Passportal record an analyst chose.
    pub passportal_id: Option<i64>,
    /// The run (night) in which the record was first owed.
    pub first_run: String,
    /// The last run that carried it.
    pub last_run: String,
    /// Nights it has been owed, counting the first.
    pub nights: u32,
    /// Creates of it that were sent (or meant to be) and did not end in a link.
    pub attempts: u32,
    /// Why it is owed (the last failure's message, or the review reason).
    pub reason: Option<String>,
}

impl Ledger {
    /// Open a ledger for reading only (for `status`): nothing is created or migrated, and a
    /// ledger without a backlog reads as owing nothing there.
    pub fn open_read_only(path: &Path) -> Result<Ledger, LedgerError> {
        let config = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .map_err(sql("open read-only"))?;
        let conn = duckdb::Connection::open_with_flags(path, config).map_err(|source| {
            LedgerError::Open {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Create the backlog table in a ledger that lacks it (a new one, or an older version's).
    pub(super) fn migrate_backlog(&self) -> Result<(), LedgerError> {
        let exists: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'backlog'",
                [],
                |r| r.get(0),
            )
            .map_err(sql("read schema"))?;
        if exists == 0 {
            self.conn
                .execute_batch(SCHEMA)
                .map_err(sql("create the backlog"))?;
        }
        Ok(())
    }

    /// The backlog of one entity, by Autotask id.
    pub fn backlog(&self, entity: Entity) -> Result<BTreeMap<i64, BacklogRow>, LedgerError> {
        Ok(self
            .backlog_rows(Some(entity))?
            .into_iter()
            .map(|r| (r.autotask_id, r))
            .collect())
    }

    /// The whole backlog, by entity then Autotask id.
    pub fn backlog_all(&self) -> Result<Vec<BacklogRow>, LedgerError> {
        self.backlog_rows(None)
    }

    fn backlog_rows(&self, entity: Option<Entity>) -> Result<Vec<BacklogRow>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT entity, autotask_id, kind, passportal_id, first_run, last_run, nights,
                        attempts, reason
                 FROM backlog WHERE ? IS NULL OR entity = ? ORDER BY entity, autotask_id",
            )
            .map_err(sql("read the backlog"))?;
        let filter = entity.map(|e| e.as_str());
        let rows = stmt
            .query_map(params![filter, filter], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    BacklogRow {
                        entity: Entity::Companies,
                        autotask_id: r.get(1)?,
                        kind: Owed::parse(&r.get::<_, String>(2)?),
                        passportal_id: r.get(3)?,
                        first_run: r.get(4)?,
                        last_run: r.get(5)?,
                        nights: r.get(6)?,
                        attempts: r.get(7)?,
                        reason: r.get(8)?,
                    },
                ))
            })
            .map_err(sql("read the backlog"))?;
        let mut out = Vec::new();
        for row in rows {
            let (entity, mut row) = row.map_err(sql("read the backlog"))?;
            // A row of an entity this version does not know is kept in the table, not shown.
            let Some(e) = Entity::parse(&entity) else {
                continue;
            };
            row.entity = e;
            out.push(row);
        }
        Ok(out)
    }

    /// Record (or replace) backlog rows.
    pub fn put_backlog(&self, rows: &[BacklogRow]) -> Result<(), LedgerError> {
        use duckdb::types::Value;
        let values = rows.iter().map(|r| {
            vec![
                Value::Text(r.entity.as_str().into()),
                Value::BigInt(r.autotask_id),
                Value::Text(r.kind.as_str().into()),
                r.passportal_id.map_or(Value::Null, Value::BigInt),
                Value::Text(r.first_run.clone()),
                Value::Text(r.last_run.clone()),
                Value::Int(r.nights as i32),
                Value::Int(r.attempts as i32),
                r.reason.clone().map_or(Value::Null, Value::Text),
            ]
        });
        self.insert_rows(
            "INSERT OR REPLACE INTO backlog (entity, autotask_id, kind, passportal_id, first_run, \
             last_run, nights, attempts, reason)",
            values,
            "write the backlog",
        )
    }

    /// Take records out of the backlog: applied, or decided exclude.
    pub fn drop_backlog(&self, entity: Entity, ids: &[i64]) -> Result<(), LedgerError> {
        for id in ids {
            self.conn
                .execute(
                    "DELETE FROM backlog WHERE entity = ? AND autotask_id = ?",
                    params![entity.as_str(), id],
                )
                .map_err(sql("write the backlog"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{AutotaskId, PassportalId};
    use crate::store::ledger::{WriteKey, WriteState};

    #[test]
    fn an_older_ledger_gains_the_backlog_with_the_creates_it_still_owed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.duckdb");
        {
            let ledger = Ledger::open(&path).expect("new ledger");
            // As an older version left it: no backlog table, two creates not done, one done.
            ledger
                .conn
                .execute_batch("DROP TABLE backlog")
                .expect("drop");
            let key = |id| WriteKey {
                entity: Entity::Contacts,
                autotask_id: AutotaskId(id),
                operation: "create",
            };
            ledger
                .record_write(key(1), WriteState::Intent, None, "r1", None)
                .expect("intent");
            ledger
                .record_write(key(2), WriteState::Failed, None, "r2", Some("refused"))
                .expect("failed");
            ledger
                .record_created(key(3), PassportalId(30), "create", "r2")
                .expect("done");
        }
        let ledger = Ledger::open(&path).expect("reopened");
        let owed = ledger.backlog(Entity::Contacts).expect("backlog");
        assert_eq!(owed.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(owed[&2].kind, Owed::Create);
        assert_eq!(owed[&2].reason.as_deref(), Some("refused"));
        // Opening again takes nothing twice, and a dropped row stays dropped.
        ledger.drop_backlog(Entity::Contacts, &[1]).expect("drop");
        drop(ledger);
        let ledger = Ledger::open(&path).expect("reopened again");
        let owed = ledger.backlog(Entity::Contacts).expect("backlog");
        assert_eq!(owed.keys().copied().collect::<Vec<_>>(), vec![2]);
    }
}
