//! Creating the approved records of one entity, exactly once. Each create's intent is committed
//! to the ledger before its request leaves and its outcome after the answer, so a load killed
//! anywhere leaves at worst intents without outcome; the next load looks those up in Passportal
//! (see `reconcile`) before creating anything again. Creates are never blindly retried.
//!
//! Requests are pipelined: `concurrency` are always in flight. Intents are committed a batch at
//! a time (`concurrency × CHUNK_PER_SLOT` rows) while the previous batch's last requests are in
//! flight, in the same transaction as the outcomes received so far; outcomes are also committed
//! once they have waited `OUTCOMES_WAIT`. A slow answer holds up only its own slot, and the
//! ledger costs about one commit per batch (the bench, `cargo bench --bench perf -- load`,
//! reports its share of the wall time).

use super::reconcile::Reconciler;
use super::{parent_client, LoadContext, LoadCounts, LoadError, LoadSummary, Payload, RowError};
use super::{Sources, CREATE};
use crate::api::passportal::{PassportalClient, WriteError};
use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use crate::store::ledger::{WriteKey, WriteState, WriteUpdate};
use futures::stream::{self, FuturesUnordered, StreamExt};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Rows whose intents are committed together, per request in flight.
const CHUNK_PER_SLOT: usize = 16;
/// Outcomes wait at most this long for the next commit (a killed load loses at most these, and
/// the next load reconciles them).
const OUTCOMES_WAIT: Duration = Duration::from_secs(1);

pub const WHAT_REFUSED: &str = "create (refused)";
pub const WHAT_UNKNOWN: &str = "create (outcome unknown; the next load reconciles it)";
pub const WHAT_UNRESOLVED: &str =
    "not created (an earlier create's outcome is unknown and Passportal could not be searched)";
pub const WHAT_NO_PARENT: &str = "not created (no parent client)";

/// One row to create; `intent_run` is the run whose intent for it has no outcome yet.
struct Row {
    id: i64,
    payload: Payload,
    intent_run: Option<String>,
}

/// Ledger writes waiting for the next commit: write states and new links.
struct Pending<'c> {
    ctx: &'c LoadContext<'c>,
    entity: Entity,
    updates: Vec<WriteUpdate>,
    links: Vec<(AutotaskId, PassportalId, &'static str)>,
    /// When the last commit ended.
    committed: Instant,
}

impl<'c> Pending<'c> {
    fn key(&self, id: i64) -> WriteKey {
        WriteKey {
            entity: self.entity,
            autotask_id: AutotaskId(id),
            operation: CREATE,
        }
    }

    fn state(&mut self, id: i64, state: WriteState, pp: Option<i64>, message: Option<String>) {
        self.updates.push(WriteUpdate {
            key: self.key(id),
            state,
            passportal_id: pp.map(PassportalId),
            message,
        });
    }

    /// A created (or reconciled) record: its outcome and its link, committed together.
    fn created(&mut self, id: i64, pp: i64) {
        self.state(id, WriteState::Done, Some(pp), None);
        self.links
            .push((AutotaskId(id), PassportalId(pp), "created"));
    }

    /// Whether outcomes have waited long enough for a commit of their own.
    fn overdue(&self, batch: usize) -> bool {
        self.updates.len() >= 2 * batch
            || (!self.updates.is_empty() && self.committed.elapsed() >= OUTCOMES_WAIT)
    }

    /// Commit everything pending in one transaction, timing it into `summary`.
    fn commit(&mut self, summary: &mut LoadSummary) -> Result<(), LoadError> {
        if self.updates.is_empty() && self.links.is_empty() {
            return Ok(());
        }
        let clock = Instant::now();
        let (ledger, run_id) = (self.ctx.ledger, &self.ctx.run.id);
        ledger.in_transaction(|l| {
            l.record_writes(&self.updates, run_id)?;
            l.link_many(self.entity, &self.links, run_id)
        })?;
        summary.ledger_time += clock.elapsed();
        summary.ledger_commits += 1;
        self.updates.clear();
        self.links.clear();
        self.committed = Instant::now();
        Ok(())
    }
}

fn row_error(entity: Entity, id: i64, name: String, what: &str, message: String) -> RowError {
    RowError {
        entity: entity.to_string(),
        autotask_id: id,
        name,
        what: what.into(),
        message,
    }
}

/// Create the approved records `ids` of one entity.
pub(super) async fn create_all(
    ctx: &LoadContext<'_>,
    entity: Entity,
    ids: &[i64],
    sources: &Sources,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<(), LoadError> {
    let links = ctx.ledger.links(entity)?;
    let company_links = ctx.ledger.links(Entity::Companies)?;
    let writes = ctx.ledger.write_records(entity, CREATE)?;
    let mut rows: Vec<Row> = Vec::new();
    for &id in ids {
        if links.contains_key(&AutotaskId(id)) {
            counts.skipped += 1;
            continue;
        }
        let payload = parent_client(sources, &company_links, entity, id).and_then(|client| {
            sources
                .payload(entity, id, client)
                .ok_or_else(|| "it is not in this run's extract".to_string())
        });
        match payload {
            Ok(payload) => {
                let intent_run = writes
                    .get(&AutotaskId(id))
                    .filter(|w| w.state == WriteState::Intent)
                    .map(|w| w.run_id.clone());
                rows.push(Row {
                    id,
                    payload,
                    intent_run,
                });
            }
            Err(why) => {
                counts.failed += 1;
                let e = row_error(entity, id, String::new(), WHAT_NO_PARENT, why);
                summary.errors.push(e);
            }
        }
    }

    let mut reconciler =
        Reconciler::new(entity, links.values().map(|l| l.passportal_id.0).collect());
    let mut pending = Pending {
        ctx,
        entity,
        updates: Vec::new(),
        links: Vec::new(),
        committed: Instant::now(),
    };
    let rows = reconcile(ctx, rows, &mut reconciler, &mut pending, counts, summary).await?;
    pending.commit(summary)?;
    send_all(ctx, rows, &mut reconciler, &mut pending, counts, summary).await
}

/// Look up every row with an unfinished intent: a record found is linked (the earlier create
/// made it); a row Passportal has nothing for is returned to be created; a row whose lookup
/// failed keeps its intent and is reported. Rows without an intent are returned as they are,
/// in order.
async fn reconcile(
    ctx: &LoadContext<'_>,
    rows: Vec<Row>,
    reconciler: &mut Reconciler,
    pending: &mut Pending<'_>,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<Vec<Row>, LoadError> {
    if rows.iter().all(|r| r.intent_run.is_none()) {
        return Ok(rows);
    }
    let entity = pending.entity;
    reconciler.read_existing(ctx.run, rows.iter().filter_map(|r| r.intent_run.as_deref()))?;
    if let Err(e) = reconciler.prepare(ctx.client).await {
        // Without the list no unfinished row can be told apart from a new one: leave them all
        // for a later load, create the others.
        let mut rest = Vec::new();
        for row in rows {
            if row.intent_run.is_some() {
                counts.failed += 1;
                summary.errors.push(row_error(
                    entity,
                    row.id,
                    row.payload.title(),
                    WHAT_UNRESOLVED,
                    e.to_string(),
                ));
            } else {
                rest.push(row);
            }
        }
        return Ok(rest);
    }
    let shared: &Reconciler = reconciler;
    let lookups: Vec<Option<Result<Vec<i64>, _>>> = stream::iter(&rows)
        .map(|row| async move {
            match row.intent_run {
                None => None,
                Some(_) => Some(shared.candidates(ctx.client, row.id, &row.payload).await),
            }
        })
        .buffered(ctx.concurrency.max(1))
        .collect()
        .await;
    let mut rest = Vec::new();
    for (row, lookup) in rows.into_iter().zip(lookups) {
        let (Some(intent_run), Some(lookup)) = (row.intent_run.as_deref(), lookup) else {
            rest.push(row);
            continue;
        };
        match lookup {
            Ok(candidates) => match reconciler.claim(&candidates, intent_run) {
                Some(pp) => {
                    tracing::info!(
                        "reconciled {entity} {}: Passportal record {pp} was created by an \
                         earlier load",
                        row.id
                    );
                    pending.created(row.id, pp);
                    counts.skipped += 1;
                }
                None => rest.push(row),
            },
            Err(e) => {
                counts.failed += 1;
                summary.errors.push(row_error(
                    entity,
                    row.id,
                    row.payload.title(),
                    WHAT_UNRESOLVED,
                    e.to_string(),
                ));
            }
        }
    }
    Ok(rest)
}

async fn send(
    client: &PassportalClient,
    id: i64,
    payload: Payload,
) -> (i64, Payload, Result<i64, WriteError>) {
    let result = match &payload {
        Payload::Client(c) => client.create_client(c).await,
        Payload::User(u) => client.create_user(u).await,
        Payload::Document(d) => client.create_document(d).await,
    };
    (id, payload, result)
}

/// Send every create, `concurrency` in flight, committing each batch's intents before its first
/// request and outcomes as they come (see the module doc).
async fn send_all(
    ctx: &LoadContext<'_>,
    rows: Vec<Row>,
    reconciler: &mut Reconciler,
    pending: &mut Pending<'_>,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<(), LoadError> {
    let entity = pending.entity;
    let concurrency = ctx.concurrency.max(1);
    let batch = concurrency * CHUNK_PER_SLOT;
    let mut queue = rows.into_iter().peekable();
    let mut ready: VecDeque<Row> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        // The next batch's intents are committed while the requests in flight (each polled
        // once by now, so in the HTTP client's hands) are on their way, before the rows ready
        // run out.
        if ready.len() < concurrency && queue.peek().is_some() {
            let next: Vec<Row> = queue.by_ref().take(batch).collect();
            for row in &next {
                pending.state(row.id, WriteState::Intent, None, None);
            }
            // The intents land (with the outcomes so far) before any of these requests.
            pending.commit(summary)?;
            ready.extend(next);
        }
        while in_flight.len() < concurrency {
            let Some(row) = ready.pop_front() else {
                break;
            };
            in_flight.push(send(ctx.client, row.id, row.payload));
        }
        let Some((id, payload, result)) = in_flight.next().await else {
            break;
        };
        let (what, message) = match result {
            Ok(pp) => {
                pending.created(id, pp);
                reconciler.taken(pp);
                counts.created += 1;
                if pending.overdue(batch) {
                    pending.commit(summary)?;
                }
                continue;
            }
            Err(WriteError::Rejected(e)) => {
                let message = e.to_string();
                pending.state(id, WriteState::Failed, None, Some(message.clone()));
                (WHAT_REFUSED, message)
            }
            Err(WriteError::Unknown(e)) => {
                // The intent stays: the next load looks the record up before creating.
                let message = e.to_string();
                pending.state(id, WriteState::Intent, None, Some(message.clone()));
                (WHAT_UNKNOWN, message)
            }
        };
        counts.failed += 1;
        summary
            .errors
            .push(row_error(entity, id, payload.title(), what, message));
        if pending.overdue(batch) {
            pending.commit(summary)?;
        }
    }
    pending.commit(summary)
}
