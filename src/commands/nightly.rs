//! `atpp run`: extract → match → plan → load in one go, under the pipeline's approval policy.
//! With `approval = "auto"` (the nightly pipeline) confident rows apply and everything uncertain
//! waits in the run's review tables; with `approval = "manual"` (a migration) the run stops after
//! match so that nothing is written before review. The report is what monitoring reads.

use crate::commands::app::App;
use crate::model::entity::Entity;
use crate::model::pipeline::Approval;
use crate::stages::load::backlog::BacklogCounts;
use crate::stages::load::LoadCounts;
use crate::stages::plan::{Overview, Policy};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How a run ended, for the exit code and monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Everything done; nothing waits.
    Success,
    /// Done, but rows wait for an analyst in the run's review tables.
    ReviewPending,
    /// Some rows failed (listed in `load/errors.csv`); the rest was done.
    PartialFailure,
    /// Creates failed on `run.max_create_attempts` nights: they are no longer retried and wait
    /// for a person (`atpp status` lists them).
    NeedsPerson,
}

/// The summary of one `atpp run`, printed as text or (with `--json`) as one JSON object.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub outcome: RunOutcome,
    pub approval: &'static str,
    /// Per entity: to create / to match / already linked / to exclude / orphans / waiting.
    pub overview: BTreeMap<Entity, Overview>,
    /// Per entity: created / linked / updated / skipped / failed (empty when nothing loaded).
    pub load: BTreeMap<Entity, LoadCounts>,
    pub waiting_for_review: u64,
    pub failed: u64,
    pub review_dir: PathBuf,
    pub errors_file: PathBuf,
    pub warnings: Vec<String>,
    /// What the ledger's backlog still owes after tonight, per entity.
    pub backlog: BTreeMap<Entity, BacklogCounts>,
    /// Owed creates past their attempts, over all entities: (entity, Autotask id, last reason).
    pub needs_person: Vec<NeedsPerson>,
}

/// An owed create no longer retried.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NeedsPerson {
    pub entity: Entity,
    pub autotask_id: i64,
    pub owed_since: String,
    pub attempts: u32,
    pub reason: Option<String>,
}

/// What the ledger's backlog owes, counted, and the creates a person must look at.
pub fn backlog_report(
    ledger: &crate::store::ledger::Ledger,
    max_attempts: u32,
) -> anyhow::Result<(BTreeMap<Entity, BacklogCounts>, Vec<NeedsPerson>)> {
    let rows = ledger.backlog_all()?;
    let people = rows
        .iter()
        .filter(|b| b.kind == crate::store::ledger::Owed::Create && b.attempts >= max_attempts)
        .map(|b| NeedsPerson {
            entity: b.entity,
            autotask_id: b.autotask_id,
            owed_since: b.first_run.clone(),
            attempts: b.attempts,
            reason: b.reason.clone(),
        })
        .collect();
    Ok((
        crate::stages::load::backlog::counts(&rows, max_attempts),
        people,
    ))
}

/// Run the whole pipeline once.
pub async fn run(app: &App) -> anyhow::Result<RunReport> {
    let (run, _) = app.extract().await?;
    let (_, matched) = app.match_run(Some(&run.id))?;
    let mut report = RunReport {
        run_id: run.id.clone(),
        run_dir: run.dir.clone(),
        outcome: RunOutcome::Success,
        approval: "manual",
        overview: BTreeMap::new(),
        load: BTreeMap::new(),
        waiting_for_review: 0,
        failed: 0,
        review_dir: run.path("review"),
        errors_file: run.path(crate::stages::load::ERRORS_FILE),
        warnings: Vec::new(),
        backlog: BTreeMap::new(),
        needs_person: Vec::new(),
    };
    match app.pipeline.run.approval {
        Approval::Manual => {
            // Nothing is written before an analyst has reviewed the tables.
            report.waiting_for_review = matched.values().flat_map(|c| c.values()).sum();
            report.outcome = RunOutcome::ReviewPending;
        }
        Approval::Auto => {
            report.approval = "auto";
            let (_, plan) = app.plan_with(Some(&run.id), Policy::Auto(&app.pipeline.sync))?;
            let (_, load) = app.load(Some(&run.id)).await?;
            report.waiting_for_review = plan.waiting_for_review();
            report.failed = load.problems();
            report.overview = plan.overview;
            report.warnings = plan.warnings;
            report.load = load.entities;
            let ledger = app.ledger()?;
            (report.backlog, report.needs_person) =
                backlog_report(&ledger, app.pipeline.run.max_create_attempts)?;
            report.outcome = if !report.needs_person.is_empty() {
                RunOutcome::NeedsPerson
            } else if report.failed > 0 {
                RunOutcome::PartialFailure
            } else if report.waiting_for_review > 0 {
                RunOutcome::ReviewPending
            } else {
                RunOutcome::Success
            };
        }
    }
    Ok(report)
}

/// The report as text for a person.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    if !report.overview.is_empty() {
        let plan = crate::stages::plan::Plan {
            run_id: report.run_id.clone(),
            created_at: chrono::Utc::now(),
            tables: BTreeMap::new(),
            entities: BTreeMap::new(),
            overview: report.overview.clone(),
            warnings: report.warnings.clone(),
        };
        out.push_str(&crate::stages::plan::render_overview(&plan));
        out.push('\n');
        out.push_str(&crate::stages::load::render_summary(
            &crate::stages::load::LoadSummary {
                entities: report.load.clone(),
                ..Default::default()
            },
        ));
        out.push('\n');
    }
    match report.approval {
        "manual" => out.push_str(&format!(
            "Approval is manual: nothing was written to Passportal. Review the tables in {}, \
             then run `atpp plan --run {}` and `atpp load --run {}`.\n",
            report.review_dir.display(),
            report.run_id,
            report.run_id
        )),
        _ if report.waiting_for_review > 0 => out.push_str(&format!(
            "{} row(s) wait for review in {} (suggestions, ambiguities, new records of kinds \
             without auto-create); decide them there, then `atpp plan --run {}` and `atpp load \
             --run {}`.\n",
            report.waiting_for_review,
            report.review_dir.display(),
            report.run_id,
            report.run_id
        )),
        _ => {}
    }
    if report.failed > 0 {
        out.push_str(&format!(
            "{} row(s) failed; see {}\n",
            report.failed,
            report.errors_file.display()
        ));
    }
    out.push_str(&render_backlog(&report.backlog, &report.needs_person));
    out.push_str(&format!("Run folder: {}\n", report.run_dir.display()));
    out
}

/// The backlog as text: per entity what is owed, then every create that needs a person.
pub fn render_backlog(
    backlog: &BTreeMap<Entity, BacklogCounts>,
    needs_person: &[NeedsPerson],
) -> String {
    let mut out = String::new();
    if backlog.is_empty() {
        return out;
    }
    out.push_str(&format!(
        "backlog (owed across nights):\n{:<20} {:>8} {:>8} {:>13} {:>8}  oldest since\n",
        "entity", "review", "retry", "needs person", "matches"
    ));
    for (entity, c) in backlog {
        out.push_str(&format!(
            "{:<20} {:>8} {:>8} {:>13} {:>8}  {}\n",
            entity.as_str(),
            c.review,
            c.retry,
            c.needs_person,
            c.matches,
            c.oldest.as_deref().unwrap_or("")
        ));
    }
    for p in needs_person {
        out.push_str(&format!(
            "needs a person: {} {} — create failed {} time(s) since run {} (last: {}); set its \
             action to create in the latest review tables to try again, or match or exclude it\n",
            p.entity,
            p.autotask_id,
            p.attempts,
            p.owed_since,
            p.reason.as_deref().unwrap_or("no outcome recorded")
        ));
    }
    out
}
