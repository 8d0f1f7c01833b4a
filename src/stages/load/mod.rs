//! The load stage: apply a frozen plan to Passportal exactly once, parents before children
//! (clients, users, locations, contacts, assets). Every create is recorded in the ledger as an
//! intent before the request and as an outcome after (`create`). Passportal, not the ledger, is
//! the truth about what exists: every planned create is first looked up in what Passportal
//! holds (documents by their `Autotask ID` field, clients and users by name or e-mail), so a
//! lost or corrupted ledger costs time, never a duplicate (`reconcile`). Creates are never
//! blindly retried; unknown outcomes are settled within the load. One bad row does not stop the others; every row not done is counted
//! as failed and listed in `load/errors.csv`. Every load ends by reading back what the plan
//! approved (`verify`): a duplicate, missing row or wrong link goes to `load/verify.csv`.

pub mod backlog;
mod batch;
mod create;
mod orphans;
mod payload;
mod reconcile;
mod update;
mod verify;

pub use orphans::ORPHANS_FILE;
pub use payload::{Payload, Sources};
pub use update::UPDATE;
pub use verify::{verify, Finding, Problem, VerifyReport, VERIFY_FILE};

use crate::api::passportal::PassportalClient;
use crate::model::entity::Entity;
use crate::model::ids::AutotaskId;
use crate::stages::plan::{read_frozen, EntityPlan, PlanError};
use crate::store::ledger::{Ledger, LedgerError};
use crate::store::parquet::ParquetError;
use crate::store::staging::{write_atomic, Run, StagingError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::error::Error as _;
use std::time::Duration;

pub use create::{WHAT_NO_ID_FIELD, WHAT_NO_PARENT, WHAT_REFUSED, WHAT_UNKNOWN, WHAT_UNRESOLVED};

pub const ERRORS_FILE: &str = "load/errors.csv";
pub const CREATE: &str = "create";

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
    #[error("verify: reading back {entity} from Passportal failed")]
    ReadBack {
        entity: Entity,
        #[source]
        source: crate::api::passportal::PassportalError,
    },
}

/// What the load did for one entity.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LoadCounts {
    pub created: u64,
    pub linked: u64,
    pub updated: u64,
    /// Found already done (a re-run), or reconciled from an earlier unfinished create.
    pub skipped: u64,
    /// Not done, each listed in `load/errors.csv`: refused, outcome unknown (reconciled by the
    /// next load), or not attempted (no parent client; Passportal's listing unreadable).
    pub failed: u64,
    /// Creates whose outcome was unknown (timeout, 5xx, dropped connection, unseen read-back)
    /// and that were settled in this load: found in Passportal, or absent and sent again.
    #[serde(default)]
    pub settled: u64,
}

/// What the load records in the manifest (`stages.load.notes`).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LoadNotes {
    pub counts: BTreeMap<Entity, LoadCounts>,
}

/// A row the load did not do, for `load/errors.csv`.
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
    /// What the user must know of how the load went (e.g. batches refused, creating one
    /// document per request), printed with the summary.
    pub notes: Vec<String>,
    /// The requests a dry run would have made, in order.
    pub dry_run_requests: Vec<String>,
    /// Time spent committing ledger transactions during creates, and how many.
    #[serde(skip)]
    pub ledger_time: Duration,
    #[serde(skip)]
    pub ledger_commits: u64,
    /// Passportal requests the load sent (token exchanges, listings, creates, read-backs,
    /// verify).
    #[serde(skip)]
    pub requests: u64,
    /// The read-back at the end of the load (see `verify`).
    pub verify: VerifyReport,
    /// Why the read-back could not be done, if it could not.
    pub verify_error: Option<String>,
}

impl LoadSummary {
    /// Rows the load did not do (each in `load/errors.csv`).
    pub fn failed(&self) -> u64 {
        self.entities.values().map(|c| c.failed).sum()
    }

    /// Everything that makes the load's exit code non-zero: rows not done, and what the
    /// read-back found wrong (or its failure).
    pub fn problems(&self) -> u64 {
        self.failed() + self.verify.findings.len() as u64 + u64::from(self.verify_error.is_some())
    }
}

/// Everything one load works with.
pub struct LoadContext<'a> {
    pub run: &'a Run,
    pub ledger: &'a Ledger,
    pub client: &'a PassportalClient,
    pub concurrency: usize,
    pub dry_run: bool,
    /// Update matched documents whose Autotask-owned fields differ ("Autotask wins").
    pub update_matched: bool,
}

/// Apply the frozen plan of `run`.
pub async fn run(ctx: &LoadContext<'_>) -> Result<LoadSummary, LoadError> {
    let started = std::time::Instant::now();
    let plan = read_frozen(ctx.run)?;
    let mut summary = LoadSummary::default();
    let creating: Vec<Entity> = plan
        .entities
        .iter()
        .filter(|(_, p)| {
            !p.create.is_empty()
                || (ctx.update_matched && (!p.link.is_empty() || !p.linked.is_empty()))
        })
        .map(|(e, _)| *e)
        .collect();
    let sources = Sources::read(ctx.run, &creating, ctx.client.id_field())?;
    for entity in Entity::ALL {
        let Some(entity_plan) = plan.entities.get(entity) else {
            continue;
        };
        let mut counts = LoadCounts::default();
        if ctx.dry_run {
            dry_run(ctx, *entity, entity_plan, &sources, &mut summary)?;
        } else {
            record_decisions(ctx, *entity, entity_plan, &mut counts)?;
            create::create_all(
                ctx,
                *entity,
                &entity_plan.create,
                &sources,
                &mut counts,
                &mut summary,
            )
            .await?;
            if ctx.update_matched {
                update::update_matched(
                    ctx,
                    *entity,
                    entity_plan,
                    &sources,
                    &mut counts,
                    &mut summary,
                )
                .await?;
            }
        }
        summary.entities.insert(*entity, counts);
    }
    if ctx.dry_run {
        return Ok(summary);
    }
    summary
        .errors
        .sort_by(|a, b| (&a.entity, a.autotask_id).cmp(&(&b.entity, b.autotask_id)));
    write_errors(ctx.run, &summary.errors)?;
    let orphans = orphans::report(ctx, &plan)?;
    match verify::verify(ctx.run, ctx.ledger, ctx.client).await {
        Ok(report) => summary.verify = report,
        Err(e) => {
            let why = format!(
                "{e}: {}",
                e.source().map_or(String::new(), |s| s.to_string())
            );
            tracing::error!("the read-back after the load failed: {why}");
            summary.verify_error = Some(why);
        }
    }
    summary.requests = ctx.client.requests_sent();
    tracing::info!(
        "load of run {}: {} Passportal requests in {:.1} s; {} ledger commits took {:.2} s",
        ctx.run.id,
        ctx.client.requests_sent(),
        started.elapsed().as_secs_f64(),
        summary.ledger_commits,
        summary.ledger_time.as_secs_f64()
    );
    let mut files = vec![
        (ERRORS_FILE.to_string(), summary.errors.len() as u64),
        (ORPHANS_FILE.to_string(), orphans),
    ];
    if summary.verify_error.is_none() {
        files.push((
            VERIFY_FILE.to_string(),
            summary.verify.findings.len() as u64,
        ));
    }
    ctx.run.finish_stage(
        "load",
        &files,
        LoadNotes {
            counts: summary.entities.clone(),
        },
    )?;
    Ok(summary)
}

/// Links, remembered exclusions and undone decisions: ledger only, no request.
fn record_decisions(
    ctx: &LoadContext,
    entity: Entity,
    plan: &EntityPlan,
    counts: &mut LoadCounts,
) -> Result<(), LoadError> {
    let before = ctx.ledger.links(entity)?;
    let mut new_links = Vec::new();
    for link in &plan.link {
        let (at, pp) = (link.autotask_id, link.passportal_id);
        if before.get(&at).map(|l| l.passportal_id) == Some(pp) {
            counts.skipped += 1;
        } else {
            new_links.push((at, pp, link.method.as_str()));
        }
    }
    let remember: Vec<(AutotaskId, crate::model::decision::Action)> = plan
        .remember
        .iter()
        .map(|r| (r.autotask_id, r.action))
        .collect();
    ctx.ledger.in_transaction(|l| {
        l.link_many(entity, &new_links, &ctx.run.id)?;
        l.remember(entity, &remember, &ctx.run.id)?;
        l.forget(entity, &plan.forget)
    })?;
    counts.linked += new_links.len() as u64;
    Ok(())
}

/// The client a child is created under: its company's link, made earlier in this load or before.
fn parent_client(
    sources: &Sources,
    company_links: &BTreeMap<AutotaskId, crate::store::ledger::Link>,
    entity: Entity,
    id: i64,
) -> Result<Option<i64>, String> {
    if !entity.is_child() {
        return Ok(None);
    }
    let company = sources
        .company_of(entity, id)
        .ok_or_else(|| "it has no company in the extract".to_string())?;
    company_links
        .get(&AutotaskId(company))
        .map(|l| Some(l.passportal_id.0))
        .ok_or_else(|| {
            format!("its company {company} has no Passportal client (not created or not approved)")
        })
}

fn dry_run(
    ctx: &LoadContext,
    entity: Entity,
    plan: &EntityPlan,
    sources: &Sources,
    summary: &mut LoadSummary,
) -> Result<(), LoadError> {
    let company_links = ctx.ledger.links(Entity::Companies)?;
    let links = ctx.ledger.links(entity)?;
    // (payload, the company whose client this load creates first, if so)
    let mut planned: Vec<(Payload, Option<i64>)> = Vec::new();
    for at in &plan.create {
        if links.contains_key(at) {
            continue;
        }
        let id = &at.0;
        let (client, later) = match parent_client(sources, &company_links, entity, *id) {
            Ok(c) => (c, None),
            // Its company is created earlier in the same load: the id is not known yet.
            Err(_) => (Some(0), Some(sources.company_of(entity, *id).unwrap_or(0))),
        };
        if let Some(p) = sources.payload(entity, *id, client) {
            planned.push((p, later));
        }
    }
    // Batched as the load batches them; documents of clients not made yet by their company.
    let key = |(p, later): &(Payload, Option<i64>)| {
        batch::document_key(p).map(|(client, t)| (client, *later, t))
    };
    for unit in batch::units(planned, ctx.client.batch_size(), key) {
        let note = match unit[0].1 {
            Some(company) => {
                format!("  # clientId: the client of company {company} once this load creates it")
            }
            None => String::new(),
        };
        let request = match unit.as_slice() {
            [(p, _)] => p.describe(ctx.client),
            docs => {
                let docs: Vec<&crate::api::passportal::NewDocument> = docs
                    .iter()
                    .filter_map(|(p, _)| match p {
                        Payload::Document(d) => Some(d),
                        _ => None,
                    })
                    .collect();
                ctx.client.batch_request(&docs).describe()
            }
        };
        summary.dry_run_requests.push(format!("{request}{note}"));
    }
    Ok(())
}

fn write_errors(run: &Run, errors: &[RowError]) -> Result<(), StagingError> {
    let header = ["entity", "autotask_id", "name", "what", "message"];
    let rows = errors.iter().map(|e| {
        vec![
            e.entity.clone(),
            e.autotask_id.to_string(),
            e.name.clone(),
            e.what.clone(),
            e.message.clone(),
        ]
    });
    write_report(run, ERRORS_FILE, &header, rows)
}

/// Write one of the load's reports (`load/*.csv`) the way the review tables are written, so it
/// opens cleanly in a spreadsheet.
pub(super) fn write_report(
    run: &Run,
    rel: &str,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), StagingError> {
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let rows: Vec<Vec<String>> = rows.collect();
    write_atomic(
        &run.path(rel),
        &crate::stages::review::spreadsheet_csv(&header, &rows),
    )
}

/// The summary as text: per entity created / linked / updated / skipped / failed.
pub fn render_summary(summary: &LoadSummary) -> String {
    let mut out = format!(
        "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        "entity", "created", "linked", "updated", "skipped", "failed"
    );
    for (entity, c) in &summary.entities {
        out.push_str(&format!(
            "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            entity.as_str(),
            c.created,
            c.linked,
            c.updated,
            c.skipped,
            c.failed
        ));
    }
    for note in &summary.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    if summary.verify.checked > 0 {
        out.push_str(&summary.verify.render());
    }
    if let Some(e) = &summary.verify_error {
        out.push_str(&format!("verify: could not read Passportal back: {e}\n"));
    }
    out
}
