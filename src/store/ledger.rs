//! The ledger, `staging/state.duckdb`: the memory across runs. Links (Autotask id ↔ Passportal
//! id per entity), the write log that makes loads idempotent (an intent before each request, an
//! outcome after), remembered decisions, watermarks, run history, orphans (`orphans`), and the
//! backlog of what the nightly still owes (`backlog`).

use crate::model::decision::Action;
use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use chrono::{DateTime, Utc};
use duckdb::types::Value;
use duckdb::{params, params_from_iter, Connection, OptionalExt};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

mod backlog;
mod orphans;
mod recover;

pub use backlog::{BacklogRow, Owed};
pub use orphans::Orphan;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot open the ledger {path} (is another atpp run using it?)")]
    Open {
        path: PathBuf,
        #[source]
        source: duckdb::Error,
    },
    #[error("cannot make the ledger's files private")]
    Private(#[source] crate::store::staging::StagingError),
    #[error("cannot set the corrupted ledger {path} aside")]
    SetAside {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger {what}")]
    Sql {
        what: &'static str,
        #[source]
        source: duckdb::Error,
    },
}

/// Batches larger than this go through the appender rather than a VALUES list.
const APPEND_ABOVE: usize = 16;

fn sql(what: &'static str) -> impl FnOnce(duckdb::Error) -> LedgerError {
    move |source| LedgerError::Sql { what, source }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS links (
    entity VARCHAR NOT NULL,
    autotask_id BIGINT NOT NULL,
    passportal_id BIGINT NOT NULL,
    method VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    linked_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (entity, autotask_id)
);
CREATE TABLE IF NOT EXISTS writes (
    entity VARCHAR NOT NULL,
    autotask_id BIGINT NOT NULL,
    operation VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    passportal_id BIGINT,
    run_id VARCHAR NOT NULL,
    message VARCHAR,
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (entity, autotask_id, operation)
);
CREATE TABLE IF NOT EXISTS decisions (
    entity VARCHAR NOT NULL,
    autotask_id BIGINT NOT NULL,
    action VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (entity, autotask_id)
);
CREATE TABLE IF NOT EXISTS watermarks (
    entity VARCHAR PRIMARY KEY,
    value_utc VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    pipeline VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at TIMESTAMP,
    outcome VARCHAR,
    summary VARCHAR
);
";

/// A link between an Autotask record and the Passportal record it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub passportal_id: PassportalId,
    pub method: String,
    pub run_id: String,
}

/// Where a write to Passportal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    /// Recorded before the request: if nothing follows, the outcome is unknown and must be
    /// reconciled by looking the record up in Passportal before creating it again.
    Intent,
    /// Passportal has it.
    Done,
    /// Passportal refused it (nothing was written); a later load may try again.
    Failed,
}

impl WriteState {
    fn as_str(self) -> &'static str {
        match self {
            WriteState::Intent => "intent",
            WriteState::Done => "done",
            WriteState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> WriteState {
        match s {
            "done" => WriteState::Done,
            "failed" => WriteState::Failed,
            _ => WriteState::Intent,
        }
    }
}

/// Which write: one operation on one Autotask record of an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteKey {
    pub entity: Entity,
    pub autotask_id: AutotaskId,
    pub operation: &'static str,
}

/// A new state for one write, for `record_writes`.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteUpdate {
    pub key: WriteKey,
    pub state: WriteState,
    pub passportal_id: Option<PassportalId>,
    pub message: Option<String>,
}

/// The last recorded state of one write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRecord {
    pub state: WriteState,
    pub passportal_id: Option<PassportalId>,
    pub run_id: String,
    pub message: Option<String>,
}

pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Open (or create) the ledger and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        // The WAL and temporary files DuckDB creates beside it are owner-only, like the ledger.
        crate::store::staging::private_umask();
        let conn = Connection::open(path).map_err(|source| LedgerError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.execute_batch(SCHEMA).map_err(sql("schema"))?;
        conn.execute_batch(orphans::SCHEMA).map_err(sql("schema"))?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
        };
        ledger.migrate_backlog()?;
        let mut wal = path.as_os_str().to_owned();
        wal.push(".wal");
        crate::store::staging::make_private(&[path.to_path_buf(), PathBuf::from(wal)])
            .map_err(LedgerError::Private)?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every link of an entity, by Autotask id.
    pub fn links(&self, entity: Entity) -> Result<BTreeMap<AutotaskId, Link>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT autotask_id, passportal_id, method, run_id FROM links WHERE entity = ?",
            )
            .map_err(sql("read links"))?;
        let rows = stmt
            .query_map(params![entity.as_str()], |r| {
                Ok((
                    AutotaskId(r.get(0)?),
                    Link {
                        passportal_id: PassportalId(r.get(1)?),
                        method: r.get(2)?,
                        run_id: r.get(3)?,
                    },
                ))
            })
            .map_err(sql("read links"))?;
        rows.collect::<Result<_, _>>().map_err(sql("read links"))
    }

    /// Record (or replace) links, in as few statements as possible.
    pub fn link_many(
        &self,
        entity: Entity,
        links: &[(AutotaskId, PassportalId, &str)],
        run_id: &str,
    ) -> Result<(), LedgerError> {
        let rows = links.iter().map(|(at, pp, method)| {
            vec![
                Value::Text(entity.as_str().into()),
                Value::BigInt(at.0),
                Value::BigInt(pp.0),
                Value::Text(method.to_string()),
                Value::Text(run_id.into()),
            ]
        });
        self.insert_rows(
            "INSERT OR REPLACE INTO links (entity, autotask_id, passportal_id, method, run_id)",
            rows,
            "write links",
        )
    }

    /// Record (or replace) one link.
    pub fn link(
        &self,
        entity: Entity,
        autotask_id: AutotaskId,
        passportal_id: PassportalId,
        method: &str,
        run_id: &str,
    ) -> Result<(), LedgerError> {
        self.link_many(entity, &[(autotask_id, passportal_id, method)], run_id)
    }

    /// `head VALUES (...), (...)` in statements of a few hundred rows: DuckDB's cost is per
    /// statement, not per row.
    fn insert_rows(
        &self,
        head: &str,
        rows: impl Iterator<Item = Vec<Value>>,
        what: &'static str,
    ) -> Result<(), LedgerError> {
        let rows: Vec<Vec<Value>> = rows.collect();
        if rows.len() > APPEND_ABOVE {
            return self.append_rows(head, rows, what);
        }
        for chunk in rows.chunks(200) {
            let Some(width) = chunk.first().map(Vec::len) else {
                continue;
            };
            let tuple = format!("({})", vec!["?"; width].join(", "));
            let statement = format!("{head} VALUES {}", vec![tuple; chunk.len()].join(", "));
            self.conn
                .execute(&statement, params_from_iter(chunk.iter().flatten()))
                .map_err(sql(what))?;
        }
        Ok(())
    }

    /// Many rows at once: appended to a scratch table with DuckDB's appender (no SQL parsed per
    /// row), then moved with one `INSERT ... SELECT`. Several times faster than a long VALUES
    /// list for a batch of a hundred rows or more.
    fn append_rows(
        &self,
        head: &str,
        rows: Vec<Vec<Value>>,
        what: &'static str,
    ) -> Result<(), LedgerError> {
        // `head` is `INSERT OR REPLACE INTO <table> (<columns>)`.
        let (table, columns) = head
            .trim()
            .trim_start_matches("INSERT OR REPLACE INTO")
            .trim()
            .split_once('(')
            .expect("insert head names its columns");
        let table = table.trim();
        let columns: Vec<&str> = columns
            .trim_end_matches(')')
            .split(',')
            .map(str::trim)
            .collect();
        let scratch = format!("scratch_{table}");
        self.conn
            .execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {scratch} AS SELECT {cols} FROM {table} LIMIT 0;
                 DELETE FROM {scratch};",
                cols = columns.join(", ")
            ))
            .map_err(sql(what))?;
        {
            let mut appender = self
                .conn
                .appender_with_columns(&scratch, &columns)
                .map_err(sql(what))?;
            for row in &rows {
                appender
                    .append_row(duckdb::appender_params_from_iter(row))
                    .map_err(sql(what))?;
            }
            appender.flush().map_err(sql(what))?;
        }
        self.conn
            .execute_batch(&format!(
                "{head} SELECT {cols} FROM {scratch}; DELETE FROM {scratch};",
                cols = columns.join(", ")
            ))
            .map_err(sql(what))?;
        Ok(())
    }

    /// The last recorded state of every write of one operation on an entity.
    pub fn write_records(
        &self,
        entity: Entity,
        operation: &str,
    ) -> Result<HashMap<AutotaskId, WriteRecord>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT autotask_id, state, passportal_id, run_id, message FROM writes
                 WHERE entity = ? AND operation = ?",
            )
            .map_err(sql("read write log"))?;
        let rows = stmt
            .query_map(params![entity.as_str(), operation], |r| {
                let state: String = r.get(1)?;
                let pp: Option<i64> = r.get(2)?;
                Ok((
                    AutotaskId(r.get(0)?),
                    WriteRecord {
                        state: WriteState::parse(&state),
                        passportal_id: pp.map(PassportalId),
                        run_id: r.get(3)?,
                        message: r.get(4)?,
                    },
                ))
            })
            .map_err(sql("read write log"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("read write log"))
    }

    /// The last recorded state of a write, if any.
    pub fn write_record(&self, key: WriteKey) -> Result<Option<WriteRecord>, LedgerError> {
        self.conn
            .query_row(
                "SELECT state, passportal_id, run_id, message FROM writes
                 WHERE entity = ? AND autotask_id = ? AND operation = ?",
                params![key.entity.as_str(), key.autotask_id.0, key.operation],
                |r| {
                    let state: String = r.get(0)?;
                    let pp: Option<i64> = r.get(1)?;
                    Ok(WriteRecord {
                        state: WriteState::parse(&state),
                        passportal_id: pp.map(PassportalId),
                        run_id: r.get(2)?,
                        message: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(sql("read write log"))
    }

    /// Record the state of writes: intents before the requests, outcomes after.
    pub fn record_writes(&self, updates: &[WriteUpdate], run_id: &str) -> Result<(), LedgerError> {
        let rows = updates.iter().map(|u| {
            vec![
                Value::Text(u.key.entity.as_str().into()),
                Value::BigInt(u.key.autotask_id.0),
                Value::Text(u.key.operation.into()),
                Value::Text(u.state.as_str().into()),
                u.passportal_id.map_or(Value::Null, |p| Value::BigInt(p.0)),
                Value::Text(run_id.into()),
                u.message.clone().map_or(Value::Null, Value::Text),
            ]
        });
        self.insert_rows(
            "INSERT OR REPLACE INTO writes
               (entity, autotask_id, operation, state, passportal_id, run_id, message)",
            rows,
            "write write log",
        )
    }

    /// Record the state of one write.
    pub fn record_write(
        &self,
        key: WriteKey,
        state: WriteState,
        passportal_id: Option<PassportalId>,
        run_id: &str,
        message: Option<&str>,
    ) -> Result<(), LedgerError> {
        self.record_writes(
            &[WriteUpdate {
                key,
                state,
                passportal_id,
                message: message.map(str::to_string),
            }],
            run_id,
        )
    }

    /// Record a created record: its outcome and its link. Call it inside `in_transaction` so
    /// both land together.
    pub fn record_created(
        &self,
        key: WriteKey,
        passportal_id: PassportalId,
        method: &str,
        run_id: &str,
    ) -> Result<(), LedgerError> {
        self.record_write(key, WriteState::Done, Some(passportal_id), run_id, None)?;
        self.link(key.entity, key.autotask_id, passportal_id, method, run_id)
    }

    /// Run `f` in one transaction: all of its writes land, or none. One commit (one disk sync)
    /// for many rows is what keeps a load of thousands of rows fast.
    pub fn in_transaction<R>(
        &self,
        f: impl FnOnce(&Ledger) -> Result<R, LedgerError>,
    ) -> Result<R, LedgerError> {
        self.conn
            .execute_batch("BEGIN TRANSACTION")
            .map_err(sql("begin"))?;
        match f(self) {
            Ok(r) => {
                self.conn.execute_batch("COMMIT").map_err(sql("commit"))?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Remembered analyst decisions of an entity (an exclusion stays excluded in later runs).
    pub fn decisions(&self, entity: Entity) -> Result<Vec<(AutotaskId, Action)>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT autotask_id, action FROM decisions WHERE entity = ?")
            .map_err(sql("read decisions"))?;
        let rows = stmt
            .query_map(params![entity.as_str()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(sql("read decisions"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, action) = row.map_err(sql("read decisions"))?;
            if let Some(action) = Action::parse(&action) {
                out.push((AutotaskId(id), action));
            }
        }
        Ok(out)
    }

    /// Remember decisions (replacing earlier ones of the same records).
    pub fn remember(
        &self,
        entity: Entity,
        decisions: &[(AutotaskId, Action)],
        run_id: &str,
    ) -> Result<(), LedgerError> {
        let rows = decisions.iter().map(|(id, action)| {
            vec![
                Value::Text(entity.as_str().into()),
                Value::BigInt(id.0),
                Value::Text(action.as_str().into()),
                Value::Text(run_id.into()),
            ]
        });
        self.insert_rows(
            "INSERT OR REPLACE INTO decisions (entity, autotask_id, action, run_id)",
            rows,
            "write decisions",
        )
    }

    /// Forget remembered decisions an analyst undid.
    pub fn forget(&self, entity: Entity, ids: &[AutotaskId]) -> Result<(), LedgerError> {
        for id in ids {
            self.conn
                .execute(
                    "DELETE FROM decisions WHERE entity = ? AND autotask_id = ?",
                    params![entity.as_str(), id.0],
                )
                .map_err(sql("write decisions"))?;
        }
        Ok(())
    }

    /// The watermark of an incremental extract: the latest change time seen by the last
    /// successful extract of `entity`.
    pub fn watermark(&self, entity: Entity) -> Result<Option<DateTime<Utc>>, LedgerError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value_utc FROM watermarks WHERE entity = ?",
                params![entity.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("read watermark"))?;
        Ok(text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok().map(|d| d.to_utc())))
    }

    /// Advance a watermark (only after the stage that read up to it succeeded).
    pub fn set_watermark(
        &self,
        entity: Entity,
        value: DateTime<Utc>,
        run_id: &str,
    ) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO watermarks (entity, value_utc, run_id) VALUES (?, ?, ?)",
                params![entity.as_str(), value.to_rfc3339(), run_id],
            )
            .map_err(sql("write watermark"))?;
        Ok(())
    }

    /// Note the start of a run in the run history.
    pub fn begin_run(&self, run_id: &str, pipeline: &str) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO runs (run_id, pipeline) VALUES (?, ?)",
                params![run_id, pipeline],
            )
            .map_err(sql("write run history"))?;
        Ok(())
    }

    /// Note how a run ended, with a JSON summary.
    pub fn finish_run(
        &self,
        run_id: &str,
        outcome: &str,
        summary: &str,
    ) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = current_timestamp, outcome = ?, summary = ?
                 WHERE run_id = ?",
                params![outcome, summary, run_id],
            )
            .map_err(sql("write run history"))?;
        Ok(())
    }
}
