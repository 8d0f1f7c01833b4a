//! Creating the approved records of one entity, exactly once. Before anything is sent, every
//! planned create is looked up in what Passportal holds now (see `reconcile`): what exists is
//! linked, not created again, whatever the ledger remembers. Each create's intent is committed
//! to the ledger before its request leaves and its outcome after the answer. A create whose
//! outcome is unknown (a timeout, a 5xx, a dropped connection, a read-back that never saw it)
//! is settled in the same load against a fresh listing, once the request timeout has passed,
//! and sent again only if Passportal does not hold it; children wait for that, since entities
//! load parents first. Creates are never blindly retried.
//!
//! Requests are pipelined: `concurrency` are always in flight, documents in batches per client
//! and type (`batch`). Intents are committed a chunk at a time (`concurrency × CHUNK_PER_SLOT`
//! rows, whole batches) while the previous batch's last requests are in
//! flight, in the same transaction as the outcomes received so far; outcomes are also committed
//! once they have waited `OUTCOMES_WAIT`. A slow answer holds up only its own slot, and the
//! ledger costs about one commit per batch (the bench, `cargo bench --bench perf -- load`,
//! reports its share of the wall time).

use super::batch;
use super::reconcile::{Lookup, Reconciler};
use super::{parent_client, LoadContext, LoadCounts, LoadError, LoadSummary, Payload, RowError};
use super::{Sources, CREATE};
use crate::api::passportal::{Known, WriteError};
use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use crate::store::ledger::{WriteKey, WriteState, WriteUpdate};
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Rows whose intents are committed together, per request in flight.
const CHUNK_PER_SLOT: usize = 16;
/// Outcomes wait at most this long for the next commit (a killed load loses at most these, and
/// the next load reconciles them).
const OUTCOMES_WAIT: Duration = Duration::from_secs(1);
/// Rounds of settling unknown outcomes within one load (each waits the request timeout).
const SETTLE_ROUNDS: u32 = 3;
/// Waited beyond the request timeout before settling.
const SETTLE_MARGIN: Duration = Duration::from_secs(1);

pub const WHAT_REFUSED: &str = "create (refused)";
pub const WHAT_UNKNOWN: &str = "create (outcome unknown; the next load reconciles it)";
pub const WHAT_UNRESOLVED: &str =
    "not created (Passportal's listing could not be read, so it may exist already)";
pub const WHAT_NO_PARENT: &str = "not created (no parent client)";
pub const WHAT_NO_ID_FIELD: &str =
    "not created (the document template has no Autotask ID field to find it again by)";

/// One row to create; `intent_run` is the run whose intent for it has no outcome yet.
struct Row {
    id: i64,
    payload: Payload,
    intent_run: Option<String>,
    /// Passportal answered its create with success (only its id is unknown): never sent again.
    applied: bool,
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
    ids: &[AutotaskId],
    sources: &Sources,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<(), LoadError> {
    let links = ctx.ledger.links(entity)?;
    if let Some(refusal) = unrecognisable(ctx, entity, ids, &links).await {
        for id in ids.iter().filter(|id| !links.contains_key(id)) {
            counts.failed += 1;
            let e = row_error(
                entity,
                id.0,
                String::new(),
                WHAT_NO_ID_FIELD,
                refusal.clone(),
            );
            summary.errors.push(e);
        }
        return Ok(());
    }
    let company_links = ctx.ledger.links(Entity::Companies)?;
    let writes = ctx.ledger.write_records(entity, CREATE)?;
    let mut rows: Vec<Row> = Vec::new();
    for &at in ids {
        if links.contains_key(&at) {
            counts.skipped += 1;
            continue;
        }
        let id = at.0;
        let payload = parent_client(sources, &company_links, entity, id).and_then(|client| {
            sources
                .payload(entity, id, client)
                .ok_or_else(|| "it is not in this run's extract".to_string())
        });
        match payload {
            Ok(payload) => {
                let intent_run = writes
                    .get(&at)
                    .filter(|w| w.state == WriteState::Intent)
                    .map(|w| w.run_id.clone());
                rows.push(Row {
                    id,
                    payload,
                    intent_run,
                    applied: false,
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
    let mut unknown = send_all(ctx, rows, &mut reconciler, &mut pending, counts, summary).await?;
    let unsettled = unknown.len();
    for round in 1..=SETTLE_ROUNDS {
        if unknown.is_empty() {
            break;
        }
        unknown = settle(
            ctx,
            unknown,
            round,
            &mut reconciler,
            &mut pending,
            counts,
            summary,
        )
        .await?;
    }
    counts.settled += (unsettled - unknown.len()) as u64;
    for (row, message) in unknown {
        counts.failed += 1;
        summary.errors.push(row_error(
            entity,
            row.id,
            row.payload.title(),
            WHAT_UNKNOWN,
            message,
        ));
    }
    pending.commit(summary)
}

/// Why no document of `entity` may be created, if its template demonstrably lacks the
/// `Autotask ID` field (a document made with it could never be found again).
async fn unrecognisable(
    ctx: &LoadContext<'_>,
    entity: Entity,
    ids: &[AutotaskId],
    links: &std::collections::BTreeMap<AutotaskId, crate::store::ledger::Link>,
) -> Option<String> {
    let doc_type = entity.doc_type()?;
    if ids.iter().all(|id| links.contains_key(id)) {
        return None;
    }
    let field = ctx.client.id_field();
    match ctx.client.template_has_field(doc_type, field).await {
        Ok(Some(false)) => Some(format!(
            "template {} of {doc_type} documents has no field {field:?}",
            ctx.client.template_uid(doc_type)
        )),
        // Nothing seen to refuse on (or the page could not be read): the create's own
        // read-back by Autotask ID still never takes a look-alike.
        _ => None,
    }
}

/// Look every row up in what Passportal holds now (see `reconcile`): a record found is linked
/// (an earlier load made it, its answer or its ledger lost); a row Passportal has nothing for
/// is returned to be created; a row whose listing failed is not created and is reported.
async fn reconcile(
    ctx: &LoadContext<'_>,
    rows: Vec<Row>,
    reconciler: &mut Reconciler,
    pending: &mut Pending<'_>,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<Vec<Row>, LoadError> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let entity = pending.entity;
    let this_run = ctx.run.id.as_str();
    let runs: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.intent_run.as_deref())
        .chain([this_run])
        .collect();
    reconciler.read_existing(ctx.run, runs.into_iter())?;
    reconciler
        .list(ctx.client, rows.iter().map(|r| &r.payload))
        .await;
    let mut rest = Vec::new();
    for row in rows {
        let made_by = row.intent_run.as_deref().unwrap_or(this_run);
        match reconciler.lookup(row.id, &row.payload, made_by) {
            Lookup::Found(pp) => {
                tracing::info!(
                    "reconciled {entity} {}: Passportal already holds it as record {pp}",
                    row.id
                );
                pending.created(row.id, pp);
                counts.skipped += 1;
            }
            Lookup::Absent => rest.push(row),
            Lookup::Unreadable(e) => {
                counts.failed += 1;
                summary.errors.push(row_error(
                    entity,
                    row.id,
                    row.payload.title(),
                    WHAT_UNRESOLVED,
                    e,
                ));
            }
        }
    }
    Ok(rest)
}

/// Settle creates whose outcome is unknown, in the same load: once the request timeout has
/// passed since the last of them was answered (a create the server applies late has been
/// applied by then), read a complete listing; a row Passportal holds is linked, a row it does
/// not hold is sent again. Returns the rows still unknown, with why.
async fn settle(
    ctx: &LoadContext<'_>,
    unknown: Vec<(Row, String)>,
    round: u32,
    reconciler: &mut Reconciler,
    pending: &mut Pending<'_>,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<Vec<(Row, String)>, LoadError> {
    let entity = pending.entity;
    tokio::time::sleep(ctx.client.request_timeout() + SETTLE_MARGIN).await;
    tracing::info!(
        "settling {} {entity} creates whose outcome is unknown (round {round})",
        unknown.len()
    );
    reconciler
        .list(ctx.client, unknown.iter().map(|(r, _)| &r.payload))
        .await;
    let mut again = Vec::new();
    let mut still = Vec::new();
    for (row, message) in unknown {
        match reconciler.lookup(row.id, &row.payload, &ctx.run.id) {
            Lookup::Found(pp) => {
                pending.created(row.id, pp);
                counts.created += 1;
            }
            // Applied for certain: sending it again would make a second one.
            Lookup::Absent if row.applied => still.push((
                row,
                format!("{message}; still not in Passportal's listing (never sent again)"),
            )),
            Lookup::Absent => again.push(row),
            Lookup::Unreadable(e) => still.push((row, format!("{message}; then {e}"))),
        }
    }
    pending.commit(summary)?;
    still.extend(send_all(ctx, again, reconciler, pending, counts, summary).await?);
    Ok(still)
}

/// Send every create, `concurrency` requests in flight (documents in batches, see `batch`),
/// committing the intents of every row of a chunk of requests before the first of them and
/// outcomes as they come (see the module doc). A batch the instance refuses is sent again one
/// document per request, and the load says so once. Returns the rows whose outcome is unknown
/// (their intents stay), with why, for [`settle`].
async fn send_all(
    ctx: &LoadContext<'_>,
    rows: Vec<Row>,
    reconciler: &mut Reconciler,
    pending: &mut Pending<'_>,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<Vec<(Row, String)>, LoadError> {
    let entity = pending.entity;
    let mut unknown = Vec::new();
    let concurrency = ctx.concurrency.max(1);
    let chunk = concurrency * CHUNK_PER_SLOT;
    let known = Known::existing(reconciler.known());
    let rows: Vec<(i64, Payload)> = rows.into_iter().map(|r| (r.id, r.payload)).collect();
    let units = batch::units(rows, ctx.client.batch_size(), |(_, p)| {
        batch::document_key(p)
    });
    let mut queue = units.into_iter().peekable();
    let mut ready: VecDeque<batch::Unit> = VecDeque::new();
    let mut in_flight = FuturesUnordered::new();
    loop {
        // The next chunk's intents are committed while the requests in flight (each polled
        // once by now, so in the HTTP client's hands) are on their way, before the requests
        // ready run out.
        if ready.len() < concurrency && queue.peek().is_some() {
            let mut next = Vec::new();
            let mut n = 0;
            while n < chunk {
                let Some(unit) = queue.next() else { break };
                n += unit.len();
                next.push(unit);
            }
            for (id, _) in next.iter().flatten() {
                pending.state(*id, WriteState::Intent, None, None);
            }
            // The intents land (with the outcomes so far) before any of these requests.
            pending.commit(summary)?;
            ready.extend(next);
        }
        while in_flight.len() < concurrency {
            let Some(unit) = ready.pop_front() else {
                break;
            };
            if unit.len() > ctx.client.batch_size() {
                // Batches were refused meanwhile: one per request (intents already committed).
                for one in unit.into_iter().rev() {
                    ready.push_front(vec![one]);
                }
                continue;
            }
            in_flight.push(batch::send(ctx.client, unit, &known));
        }
        let Some(sent) = in_flight.next().await else {
            break;
        };
        if let Some((rows, note)) = sent.refused {
            if let Some(note) = note {
                tracing::warn!("{note}");
                summary.notes.push(note);
            }
            for one in rows.into_iter().rev() {
                ready.push_front(vec![one]);
            }
        }
        for (id, payload, result) in sent.results {
            let (what, message) = match result {
                Ok(pp) => {
                    pending.created(id, pp);
                    reconciler.taken(pp);
                    known.learned(pp, &id.to_string());
                    counts.created += 1;
                    continue;
                }
                Err(WriteError::Rejected(e)) => {
                    let message = e.to_string();
                    pending.state(id, WriteState::Failed, None, Some(message.clone()));
                    (WHAT_REFUSED, message)
                }
                Err(e @ (WriteError::Unknown(_) | WriteError::Applied(_))) => {
                    // The intent stays until the row is settled (in this load, or the next).
                    let applied = matches!(e, WriteError::Applied(_));
                    let (WriteError::Unknown(e) | WriteError::Applied(e) | WriteError::Rejected(e)) =
                        e;
                    let message = e.to_string();
                    pending.state(id, WriteState::Intent, None, Some(message.clone()));
                    let intent_run = Some(ctx.run.id.clone());
                    unknown.push((
                        Row {
                            id,
                            payload,
                            intent_run,
                            applied,
                        },
                        message,
                    ));
                    continue;
                }
            };
            counts.failed += 1;
            summary
                .errors
                .push(row_error(entity, id, payload.title(), what, message));
        }
        if pending.overdue(chunk) {
            pending.commit(summary)?;
        }
    }
    pending.commit(summary)?;
    Ok(unknown)
}
