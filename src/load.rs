//! The load stage: apply a frozen plan to Passportal exactly once. Every create is recorded in
//! the ledger as an intent before the request and as an outcome after; a re-run skips what
//! succeeded and reconciles an intent without outcome by looking the record up in Passportal
//! before creating anything again. One bad row does not stop the others.

use crate::entity::Entity;
use crate::extract::autotask::{read_companies, CompanyRow, COMPANIES};
use crate::extract::parquet::ParquetError;
use crate::ids::{AutotaskId, PassportalId};
use crate::ledger::{Ledger, LedgerError, WriteKey, WriteState, WriteUpdate};
use crate::passportal::models::{Client, NewClient};
use crate::passportal::{PassportalClient, PassportalError, WriteError};
use crate::plan::{read_frozen, PlanError};
use crate::staging::{write_atomic, Run, StagingError};
use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub const ERRORS_FILE: &str = "load/errors.csv";
const CREATE: &str = "create";

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("cannot look up existing clients to reconcile unfinished creates")]
    Reconcile(#[source] PassportalError),
}

/// What the load did for one entity.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct LoadCounts {
    pub created: u64,
    pub linked: u64,
    /// Found already done (a re-run) or reconciled from an earlier unfinished create.
    pub skipped: u64,
    pub failed: u64,
}

/// A row that failed, for `load/errors.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    pub entity: String,
    pub autotask_id: i64,
    pub name: String,
    pub what: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadSummary {
    pub entities: BTreeMap<Entity, LoadCounts>,
    pub errors: Vec<RowError>,
}

impl LoadSummary {
    pub fn failed(&self) -> u64 {
        self.entities.values().map(|c| c.failed).sum()
    }
}

/// Find the client an unfinished create may have made: same name, not linked to anyone else;
/// the newest if several.
fn reconcile_client(
    clients: &[Client],
    name: &str,
    linked: &HashMap<i64, i64>,
) -> Option<PassportalId> {
    clients
        .iter()
        .filter(|c| c.name == name && !linked.contains_key(&c.id))
        .map(|c| c.id)
        .max()
        .map(PassportalId)
}

/// Creates are sent in chunks: the intents of a chunk are recorded in one transaction before
/// any of its requests leaves, and their outcomes in one transaction after.
const CHUNK_PER_SLOT: usize = 4;

fn update(
    key: WriteKey,
    state: WriteState,
    passportal_id: Option<PassportalId>,
    message: Option<String>,
) -> WriteUpdate {
    WriteUpdate {
        key,
        state,
        passportal_id,
        message,
    }
}

fn row_error(entity: Entity, company: &CompanyRow, what: &str, message: String) -> RowError {
    RowError {
        entity: entity.to_string(),
        autotask_id: company.id,
        name: company.name.clone(),
        what: what.to_string(),
        message,
    }
}

/// Apply the frozen plan of `run`.
pub async fn run(
    run: &Run,
    ledger: &Ledger,
    client: &PassportalClient,
    concurrency: usize,
) -> Result<LoadSummary, LoadError> {
    let plan = read_frozen(run)?;
    let entity = Entity::Companies;
    let mut summary = LoadSummary::default();
    let mut counts = LoadCounts::default();
    let Some(entity_plan) = plan.entities.get(&entity) else {
        return Ok(summary);
    };
    let run_id = run.id.as_str();
    let key = |id: i64| WriteKey {
        entity,
        autotask_id: AutotaskId(id),
        operation: CREATE,
    };

    let before = ledger.links(entity)?;
    let mut new_links = Vec::new();
    for link in &entity_plan.link {
        let at = AutotaskId(link.autotask_id);
        let pp = PassportalId(link.passportal_id);
        if before.get(&at).map(|l| l.passportal_id) == Some(pp) {
            counts.skipped += 1;
        } else {
            new_links.push((at, pp, link.method.as_str()));
        }
    }
    ledger.in_transaction(|l| l.link_many(entity, &new_links, run_id))?;
    counts.linked += new_links.len() as u64;

    let companies: HashMap<i64, CompanyRow> = read_companies(&run.path(COMPANIES))?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let links = ledger.links(entity)?;
    let writes = ledger.write_records(entity, CREATE)?;
    let mut todo: Vec<(&CompanyRow, bool)> = Vec::new();
    for id in &entity_plan.create {
        if links.contains_key(&AutotaskId(*id)) {
            counts.skipped += 1;
            continue;
        }
        let unfinished = matches!(
            writes.get(&AutotaskId(*id)).map(|r| r.state),
            Some(WriteState::Intent)
        );
        todo.push((&companies[id], unfinished));
    }

    // Intents without an outcome: the process died, or the request timed out after it was sent.
    // Look the clients up before creating anything again.
    let existing: Vec<Client> = if todo.iter().any(|(_, unfinished)| *unfinished) {
        client.clients().await.map_err(LoadError::Reconcile)?
    } else {
        Vec::new()
    };
    let mut linked_pp: HashMap<i64, i64> = links
        .iter()
        .map(|(a, l)| (l.passportal_id.0, a.0))
        .collect();

    let concurrency = concurrency.max(1);
    for chunk in todo.chunks(concurrency * CHUNK_PER_SLOT) {
        let mut to_send: Vec<&CompanyRow> = Vec::new();
        let mut created: Vec<(AutotaskId, PassportalId, &str)> = Vec::new();
        let mut updates: Vec<WriteUpdate> = Vec::new();
        for (company, unfinished) in chunk {
            if *unfinished {
                if let Some(pp) = reconcile_client(&existing, &company.name, &linked_pp) {
                    tracing::info!(
                        "reconciled company {}: client {pp} was created by an earlier load",
                        company.id
                    );
                    linked_pp.insert(pp.0, company.id);
                    updates.push(update(key(company.id), WriteState::Done, Some(pp), None));
                    created.push((AutotaskId(company.id), pp, "created"));
                    counts.skipped += 1;
                    continue;
                }
            }
            updates.push(update(key(company.id), WriteState::Intent, None, None));
            to_send.push(company);
        }
        ledger.in_transaction(|l| {
            l.record_writes(&updates, run_id)?;
            l.link_many(entity, &created, run_id)
        })?;

        let results: Vec<(&CompanyRow, Result<i64, WriteError>)> = stream::iter(to_send)
            .map(|company| async move {
                let new = NewClient {
                    name: company.name.clone(),
                };
                (company, client.create_client(&new).await)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;

        let mut created: Vec<(AutotaskId, PassportalId, &str)> = Vec::new();
        let mut updates: Vec<WriteUpdate> = Vec::new();
        for (company, result) in results {
            let k = key(company.id);
            match result {
                Ok(id) => {
                    let pp = PassportalId(id);
                    updates.push(update(k, WriteState::Done, Some(pp), None));
                    created.push((AutotaskId(company.id), pp, "created"));
                    linked_pp.insert(id, company.id);
                    counts.created += 1;
                }
                Err(WriteError::Rejected(e)) => {
                    let message = e.to_string();
                    updates.push(update(k, WriteState::Failed, None, Some(message.clone())));
                    counts.failed += 1;
                    summary.errors.push(row_error(
                        entity,
                        company,
                        "create client (refused)",
                        message,
                    ));
                }
                Err(WriteError::Unknown(e)) => {
                    // The intent stays: the next load looks the client up before creating.
                    let message = e.to_string();
                    updates.push(update(k, WriteState::Intent, None, Some(message.clone())));
                    counts.failed += 1;
                    summary.errors.push(row_error(
                        entity,
                        company,
                        "create client (outcome unknown; the next load reconciles it)",
                        message,
                    ));
                }
            }
        }
        ledger.in_transaction(|l| {
            l.record_writes(&updates, run_id)?;
            l.link_many(entity, &created, run_id)
        })?;
    }

    summary
        .errors
        .sort_by_key(|e| (e.entity.clone(), e.autotask_id));
    summary.entities.insert(entity, counts);

    write_errors(run, &summary.errors)?;
    run.finish_stage(
        "load",
        &[(ERRORS_FILE.to_string(), summary.errors.len() as u64)],
        BTreeMap::from([(
            "counts".to_string(),
            serde_json::to_value(&summary.entities).expect("serialises"),
        )]),
    )?;
    Ok(summary)
}

fn write_errors(run: &Run, errors: &[RowError]) -> Result<(), StagingError> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(["entity", "autotask_id", "name", "what", "message"])
            .expect("write to memory");
        for e in errors {
            w.write_record([
                e.entity.as_str(),
                &e.autotask_id.to_string(),
                &crate::review::escape_cell(&e.name),
                &e.what,
                &e.message,
            ])
            .expect("write to memory");
        }
        w.flush().expect("write to memory");
    }
    write_atomic(&run.path(ERRORS_FILE), &out)
}

/// The summary as text: per entity created / linked / skipped / failed.
pub fn render_summary(summary: &LoadSummary) -> String {
    let mut out = format!(
        "{:<12} {:>8} {:>8} {:>8} {:>8}\n",
        "entity", "created", "linked", "skipped", "failed"
    );
    for (entity, c) in &summary.entities {
        out.push_str(&format!(
            "{:<12} {:>8} {:>8} {:>8} {:>8}\n",
            entity.as_str(),
            c.created,
            c.linked,
            c.skipped,
            c.failed
        ));
    }
    out
}
