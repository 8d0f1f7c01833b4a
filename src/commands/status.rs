//! `atpp status`: what the morning after a nightly run needs to know in one screen — how the
//! recent runs went, what waits for an analyst, which Passportal records lost their Autotask
//! record, how big the ledger has grown and how much of the tenant's Autotask request budget
//! the last extract used. It only reads: run manifests, review tables and plans, and the ledger
//! opened read-only (if a running atpp holds the ledger, the rest is still shown).

use crate::model::entity::Entity;
use crate::stages::extract::ExtractNotes;
use crate::stages::load::LoadNotes;
use crate::stages::matching::MatchSummary;
use crate::stages::matching::{proposals_path, Action};
use crate::stages::plan::Plan;
use crate::store::lock::LockInfo;
use crate::store::staging::{Manifest, Run, Staging, StagingError};
use chrono::{DateTime, Utc};
use duckdb::{AccessMode, Config, Connection};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

mod render;
pub use render::render;

/// The stages of a run, in order.
pub const STAGES: [&str; 4] = ["extract", "match", "plan", "load"];

/// Everything `atpp status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub staging: PathBuf,
    /// The atpp working in this staging folder now, if any.
    pub running: Option<LockInfo>,
    /// The most recent runs, newest first.
    pub runs: Vec<RunStatus>,
    pub review: ReviewWaiting,
    /// Per entity, from the ledger (`None` when it could not be read).
    pub orphans: Option<BTreeMap<String, Orphans>>,
    pub ledger: LedgerStatus,
    /// What the ledger's backlog owes across nights (see `commands::backlog`).
    pub backlog: crate::commands::backlog::BacklogStatus,
    pub threshold: Option<ThresholdUse>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunStatus {
    pub run_id: String,
    pub pipeline: String,
    pub created_at: DateTime<Utc>,
    /// Finished stages, in pipeline order.
    pub stages: Vec<String>,
    /// The ledger's outcome of the load (`success`, `partial failure`), else where it stands.
    pub outcome: String,
    pub finished_at: Option<String>,
    /// Rows staged by the extract (both sides).
    pub extracted_rows: u64,
    /// What the match proposed, per action, all entities together.
    pub proposed: BTreeMap<String, u64>,
    /// What the load did (`created`, `linked`, `updated`, `skipped`, `failed`), all entities.
    pub loaded: BTreeMap<String, u64>,
}

/// Rows an analyst has to decide on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReviewWaiting {
    pub latest_run: Option<String>,
    /// Rows of the latest run waiting for a decision, per entity: its create rows whose reason
    /// is `ambiguous...` or `suggested...` that its plan (if made) does not apply, and the rows
    /// its plan left pending for review.
    pub latest_waiting: BTreeMap<String, u64>,
    /// Runs whose review tables were written but no plan made of them: rows in those tables.
    pub unplanned_runs: Vec<UnplannedRun>,
    /// Tables that could not be read, and why.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnplannedRun {
    pub run_id: String,
    pub rows: u64,
}

/// Linked records deleted in Autotask and kept in Passportal, as the ledger holds them across
/// nights: per entity, how many, the night the oldest was first seen, and their Autotask ids.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Orphans {
    pub count: u64,
    pub first_seen_run: Option<String>,
    pub autotask_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LedgerStatus {
    pub path: PathBuf,
    /// The ledger file and its write-ahead log together.
    pub bytes: u64,
    /// Links per entity; empty when the ledger could not be read (see `note`).
    pub links: BTreeMap<String, u64>,
    /// Creates the ledger still owes, per entity: not yet known to have reached Passportal.
    pub owed_creates: BTreeMap<String, OwedCreates>,
    /// The newest run whose load ended in `success`.
    pub last_success: Option<String>,
    pub note: Option<String>,
}

/// Creates of one entity that are not done: the next load reconciles and retries them.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OwedCreates {
    /// Sent, or about to be, with no outcome recorded (a kill, a timeout, a dropped answer).
    pub unknown: u64,
    /// Refused by Passportal.
    pub failed: u64,
    /// The oldest run that owes one of them.
    pub oldest_run: Option<String>,
}

/// The tenant's hourly Autotask request threshold as the last finished extract saw it.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdUse {
    pub run_id: String,
    pub limit: u64,
    pub used_at_start: u64,
    pub used_at_end: u64,
    /// Requests this extract spent.
    pub spent: u64,
}

/// What the ledger says about runs: outcome and finish time by run id.
struct LedgerRead {
    outcomes: BTreeMap<String, (Option<String>, Option<String>)>,
    links: BTreeMap<String, u64>,
    owed: BTreeMap<String, OwedCreates>,
    orphans: BTreeMap<String, Orphans>,
}

fn read_ledger(path: &Path) -> Result<LedgerRead, String> {
    let config = Config::default()
        .access_mode(AccessMode::ReadOnly)
        .map_err(|e| e.to_string())?;
    let conn = Connection::open_with_flags(path, config).map_err(|e| {
        if crate::commands::query::is_lock_conflict(&e) {
            "in use by a running atpp: run history and link counts not shown".to_string()
        } else {
            format!("cannot be read: {e}")
        }
    })?;
    type Rows = Vec<(String, Option<String>, Option<String>)>;
    let read = |sql: &str| -> Result<Rows, String> {
        let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    };
    let outcomes = read(
        "SELECT run_id, outcome, CAST(finished_at AS VARCHAR) FROM runs \
         WHERE finished_at IS NOT NULL",
    )?
    .into_iter()
    .map(|(id, outcome, at)| (id, (outcome, at)))
    .collect();
    let links = read(
        "SELECT entity, CAST(count(*) AS VARCHAR), CAST(NULL AS VARCHAR) FROM links \
         GROUP BY entity ORDER BY entity",
    )?
    .into_iter()
    .map(|(entity, n, _)| (entity, n.and_then(|n| n.parse().ok()).unwrap_or(0)))
    .collect();
    let mut owed: BTreeMap<String, OwedCreates> = BTreeMap::new();
    for (key, n, oldest) in read(
        "SELECT entity || ' ' || state, CAST(count(*) AS VARCHAR), min(run_id) FROM writes \
         WHERE operation = 'create' AND state <> 'done' GROUP BY entity, state",
    )? {
        let (entity, state) = key.split_once(' ').unwrap_or((&key, ""));
        let o = owed.entry(entity.to_string()).or_default();
        let n: u64 = n.and_then(|n| n.parse().ok()).unwrap_or(0);
        match state {
            "failed" => o.failed += n,
            _ => o.unknown += n,
        }
        o.oldest_run = o.oldest_run.take().into_iter().chain(oldest).min();
    }
    // A ledger older than the orphans table has none.
    let mut orphans: BTreeMap<String, Orphans> = BTreeMap::new();
    for (entity, id, first) in read(
        "SELECT entity, CAST(autotask_id AS VARCHAR), first_seen_run FROM orphans \
         ORDER BY entity, autotask_id",
    )
    .unwrap_or_default()
    {
        let o = orphans.entry(entity).or_default();
        o.count += 1;
        o.autotask_ids
            .extend(id.and_then(|id| id.parse::<i64>().ok()));
        o.first_seen_run = o.first_seen_run.take().into_iter().chain(first).min();
    }
    Ok(LedgerRead {
        outcomes,
        links,
        owed,
        orphans,
    })
}

fn done(manifest: &Manifest, stage: &str) -> bool {
    manifest
        .stages
        .get(stage)
        .is_some_and(|s| s.finished_at.is_some())
}

fn run_status(
    manifest: &Manifest,
    ledger: Option<&LedgerRead>,
    latest: bool,
    running: bool,
) -> RunStatus {
    let stages: Vec<String> = STAGES
        .iter()
        .filter(|s| done(manifest, s))
        .map(|s| s.to_string())
        .collect();
    let recorded = ledger.and_then(|l| l.outcomes.get(&manifest.run_id));
    let outcome = match recorded.and_then(|(o, _)| o.clone()) {
        Some(o) => o,
        None if latest && running => "running".into(),
        None if done(manifest, "load") => "loaded".into(),
        None if done(manifest, "plan") => "planned, not loaded".into(),
        None if done(manifest, "match") => "waiting for review".into(),
        None if done(manifest, "extract") => "extracted, not matched".into(),
        None if latest => "extract unfinished (`atpp extract --resume` continues it)".into(),
        None => "extract unfinished".into(),
    };
    let extract = manifest.stages.get("extract");
    let extracted_rows = extract
        .map(|s| {
            s.files
                .iter()
                .filter(|(rel, _)| rel.starts_with("extract/"))
                .map(|(_, f)| f.rows)
                .sum()
        })
        .unwrap_or(0);
    let mut proposed = BTreeMap::new();
    let matched = manifest.stages.get("match");
    let matched: MatchSummary = matched.and_then(|s| s.notes_as().ok()).unwrap_or_default();
    for (action, n) in matched.values().flatten() {
        *proposed.entry(action.to_string()).or_default() += n;
    }
    let load = manifest.stages.get("load");
    let load: Option<LoadNotes> = load.and_then(|s| s.notes_as().ok());
    let mut loaded = BTreeMap::new();
    for counts in load.iter().flat_map(|l| l.counts.values()) {
        let counts = serde_json::to_value(counts).expect("counts serialise");
        for (name, n) in counts.as_object().into_iter().flatten() {
            *loaded.entry(name.clone()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    RunStatus {
        run_id: manifest.run_id.clone(),
        pipeline: manifest.pipeline.clone(),
        created_at: manifest.created_at,
        stages,
        outcome,
        finished_at: recorded.and_then(|(_, at)| at.clone()),
        extracted_rows,
        proposed,
        loaded,
    }
}

/// The ids of a list in a plan's entity (`create`, `pending`), read loosely from `plan.json`.
/// An undecided (`review`) row, or a create row whose reason says the matcher was unsure
/// (`ambiguous...`, `suggested...`).
fn is_uncertain_create(d: &crate::stages::review::Decision) -> bool {
    let reason = d.cells.get("reason").map(|r| r.trim().to_ascii_lowercase());
    d.action == Action::Review
        || d.action == Action::Create
            && reason.is_some_and(|r| r.starts_with("ambiguous") || r.starts_with("suggested"))
}

fn unreadable(run: &Run, entity: Entity, e: crate::stages::review::ReviewError) -> String {
    let why = match e {
        crate::stages::review::ReviewError::Invalid(p) => format!("{} problem(s)", p.len()),
        other => other.to_string(),
    };
    format!(
        "the {entity} review tables of run {} cannot be read ({why}): `atpp plan --run {}` \
         names the problems",
        run.id, run.id
    )
}

/// Rows of the latest run waiting for a decision (see `ReviewWaiting::latest_waiting`); tables
/// that cannot be read are said in `notes`.
fn latest_waiting(
    run: &Run,
    manifest: &Manifest,
    notes: &mut Vec<String>,
) -> BTreeMap<String, u64> {
    let plan: Option<Plan> = done(manifest, "plan")
        .then(|| Plan::read(run).ok())
        .flatten();
    let matched = manifest
        .stages
        .get("match")
        .filter(|_| done(manifest, "match"));
    let mut out = BTreeMap::new();
    for &entity in Entity::ALL {
        let entity_plan = plan.as_ref().and_then(|p| p.entities.get(&entity));
        let applied: BTreeSet<i64> = entity_plan
            .map(|p| p.create.iter().map(|id| id.0).collect())
            .unwrap_or_default();
        let mut waiting: BTreeSet<i64> = entity_plan
            .map(|p| p.pending.iter().map(|id| id.0).collect())
            .unwrap_or_default();
        let has_tables = matched.is_some_and(|m| m.files.contains_key(&proposals_path(entity)));
        if has_tables {
            match crate::stages::review::read_decisions(&run.dir, &run.id, entity) {
                Ok(decisions) => waiting.extend(
                    decisions
                        .iter()
                        .filter(|d| is_uncertain_create(d) && !applied.contains(&d.autotask_id))
                        .map(|d| d.autotask_id),
                ),
                Err(e) => notes.push(unreadable(run, entity, e)),
            }
        }
        if !waiting.is_empty() {
            out.insert(entity.as_str().to_string(), waiting.len() as u64);
        }
    }
    out
}

/// Rows in a run's review tables (the match/create/exclude tables or the workbook), as written.
fn review_table_rows(manifest: &Manifest) -> u64 {
    let Some(matched) = manifest.stages.get("match") else {
        return 0;
    };
    matched
        .files
        .iter()
        .filter(|(rel, _)| {
            rel.as_str() == crate::stages::review::workbook::WORKBOOK
                || Action::ALL
                    .iter()
                    .any(|a| rel.starts_with("review/") && rel.ends_with(&format!(".{a}.csv")))
        })
        .map(|(_, f)| f.rows)
        .sum()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn threshold_use(
    run_id: &str,
    extract: &crate::store::staging::StageRecord,
) -> Option<ThresholdUse> {
    let notes: ExtractNotes = extract.notes_as().ok()?;
    let end = notes.autotask_threshold_end.as_ref();
    let start = notes.autotask_threshold_start.as_ref();
    Some(ThresholdUse {
        run_id: run_id.to_string(),
        limit: end.or(start)?.external_request_threshold,
        used_at_start: start.map_or(0, |t| t.current_timeframe_request_count),
        used_at_end: end.map_or(0, |t| t.current_timeframe_request_count),
        spent: notes.autotask_requests.values().sum(),
    })
}

/// Gather the status of a staging folder, with the `recent` newest runs.
pub fn gather(staging: &Staging, recent: usize) -> Result<Status, StagingError> {
    let bound = crate::model::pipeline::RunConfig::default().max_create_attempts;
    gather_with(staging, recent, bound)
}

/// `gather`, counting creates past `max_create_attempts` (the pipeline's) as needing a person.
pub fn gather_with(
    staging: &Staging,
    recent: usize,
    max_create_attempts: u32,
) -> Result<Status, StagingError> {
    let running = crate::store::lock::holder(staging.root());
    let ledger_path = staging.ledger_path();
    let mut ledger = LedgerStatus {
        bytes: file_size(&ledger_path) + file_size(&ledger_path.with_extension("duckdb.wal")),
        path: ledger_path.clone(),
        ..LedgerStatus::default()
    };
    let mut orphans = None;
    let read = if ledger_path.is_file() {
        match read_ledger(&ledger_path) {
            Ok(read) => Some(read),
            Err(note) => {
                ledger.note = Some(note);
                None
            }
        }
    } else {
        ledger.note = Some("no ledger yet: nothing has been loaded".into());
        None
    };
    if let Some(read) = &read {
        ledger.links = read.links.clone();
        ledger.owed_creates = read.owed.clone();
        orphans = Some(read.orphans.clone());
        ledger.last_success = read
            .outcomes
            .iter()
            .filter(|(_, (outcome, _))| outcome.as_deref() == Some("success"))
            .map(|(id, _)| id.clone())
            .max_by(|a, b| {
                crate::store::staging::run_order(a).cmp(&crate::store::staging::run_order(b))
            });
    }

    let ids = staging.run_ids()?;
    let latest_id = ids.last().cloned();
    let mut runs = Vec::new();
    let mut review = ReviewWaiting {
        latest_run: latest_id.clone(),
        ..ReviewWaiting::default()
    };
    let mut threshold = None;
    for (i, id) in ids.iter().rev().enumerate() {
        let run = staging.run(Some(id))?;
        let Ok(manifest) = run.manifest() else {
            continue;
        };
        let latest = Some(id) == latest_id.as_ref();
        if i < recent {
            runs.push(run_status(
                &manifest,
                read.as_ref(),
                latest,
                running.is_some(),
            ));
        }
        if latest {
            review.latest_waiting = latest_waiting(&run, &manifest, &mut review.notes);
        }
        if done(&manifest, "match") && !done(&manifest, "plan") {
            review.unplanned_runs.push(UnplannedRun {
                run_id: id.clone(),
                rows: review_table_rows(&manifest),
            });
        }
        if threshold.is_none() {
            if let Some(extract) = manifest
                .stages
                .get("extract")
                .filter(|_| done(&manifest, "extract"))
            {
                threshold = threshold_use(id, extract);
            }
        }
    }
    Ok(Status {
        staging: staging.root().to_path_buf(),
        running,
        runs,
        review,
        orphans,
        backlog: crate::commands::backlog::read(&ledger_path, max_create_attempts),
        ledger,
        threshold,
    })
}
