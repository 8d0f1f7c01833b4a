//! The plan stage: validate the (possibly edited) review tables against what was staged, show
//! the overview Passportal's final wizard step shows, and freeze the decisions in
//! `plan/plan.json` with the checksums of every table read, so the load applies exactly this.

pub mod overview;
mod templates;
mod validate;

use crate::model::entity::Entity;
use crate::model::ids::{AutotaskId, PassportalId};
use crate::model::pipeline::{MatchingConfig, SyncConfig};
use crate::stages::matching::{proposals_path, read_proposals, Action, Method};
use crate::stages::review::{self, ReviewError};
use crate::store::ledger::{Ledger, LedgerError};
use crate::store::parquet::ParquetError;
use crate::store::staging::{sha256_file, write_atomic, Run, StagingError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const PLAN_FILE: &str = "plan/plan.json";

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("{path} is not a valid plan: {message}")]
    BadPlan { path: String, message: String },
    #[error("the review table {file} changed after the plan was made: re-run `atpp plan`")]
    Stale { file: String },
    #[error(
        "{entity}: {creates} creates refused: their template {template} has no field {field:?} \
         to hold the Autotask id, so no later run could find them again (each retry or lost \
         ledger would make another copy); add a text field labelled {field:?} to the template, \
         or name its field in [passportal.templates] id_field, then extract again"
    )]
    Unrecognisable {
        entity: Entity,
        creates: usize,
        template: String,
        field: String,
    },
}

/// A new link to record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedLink {
    pub autotask_id: AutotaskId,
    pub passportal_id: PassportalId,
    pub method: Method,
}

/// An analyst's decision to remember in the ledger, so later runs show it as `remembered`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Remember {
    pub autotask_id: AutotaskId,
    pub action: Action,
}

/// What the load does for one entity.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct EntityPlan {
    /// Autotask ids to create in Passportal.
    pub create: Vec<AutotaskId>,
    /// New links (matches not yet in the ledger).
    pub link: Vec<PlannedLink>,
    /// Autotask ids already linked, unchanged.
    pub linked: Vec<AutotaskId>,
    /// Autotask ids left out.
    pub exclude: Vec<AutotaskId>,
    /// Linked records deleted in Autotask: reported, never deleted in Passportal.
    #[serde(default)]
    pub orphans: Vec<AutotaskId>,
    /// Decisions to remember (analysts' exclusions).
    #[serde(default)]
    pub remember: Vec<Remember>,
    /// Remembered decisions an analyst undid in this run.
    #[serde(default)]
    pub forget: Vec<AutotaskId>,
    /// Rows the pipeline's policy left for an analyst (auto approval): nothing is done.
    #[serde(default)]
    pub pending: Vec<AutotaskId>,
}

/// What the plan records in the manifest (`stages.plan.notes`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanNotes {
    pub overview: BTreeMap<Entity, Overview>,
}

/// The overview line of one entity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Overview {
    pub to_create: u64,
    pub to_match: u64,
    pub already_linked: u64,
    pub to_exclude: u64,
    #[serde(default)]
    pub orphans: u64,
    #[serde(default)]
    pub waiting_for_review: u64,
}

impl EntityPlan {
    pub fn overview(&self) -> Overview {
        Overview {
            to_create: self.create.len() as u64,
            to_match: self.link.len() as u64,
            already_linked: self.linked.len() as u64,
            to_exclude: self.exclude.len() as u64,
            orphans: self.orphans.len() as u64,
            waiting_for_review: self.pending.len() as u64,
        }
    }
}

/// `plan/plan.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub run_id: String,
    pub created_at: DateTime<Utc>,
    /// Review table (relative path) → sha256 when the plan was made.
    pub tables: BTreeMap<String, String>,
    pub entities: BTreeMap<Entity, EntityPlan>,
    pub overview: BTreeMap<Entity, Overview>,
    pub warnings: Vec<String>,
}

/// Who approves the rows.
#[derive(Debug, Clone, Copy)]
pub enum Policy<'a> {
    /// The review tables as they are: every row is decided (the analyst's word).
    Tables,
    /// The pipeline's policy (nightly): matches, links, exclusions, and creates of kinds with
    /// auto-create on that have no plausible candidate apply; every other row waits for review.
    Auto(&'a SyncConfig),
}

impl Plan {
    /// Rows waiting for an analyst, over all entities.
    pub fn waiting_for_review(&self) -> u64 {
        self.entities.values().map(|p| p.pending.len() as u64).sum()
    }
}

/// Make the plan of a run: validate every entity's tables, freeze, write `plan/plan.json` and
/// the page `review/overview.html` (`matching`: the thresholds the match stage used).
pub fn make(
    run: &Run,
    ledger: &Ledger,
    policy: Policy,
    matching: &MatchingConfig,
) -> Result<Plan, PlanError> {
    let matched = run.stage("match")?;
    let extract = run.stage("extract")?;
    let entities: Vec<Entity> = Entity::ALL
        .iter()
        .copied()
        .filter(|e| matched.files.contains_key(&proposals_path(*e)))
        .collect();

    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut plans: BTreeMap<Entity, EntityPlan> = BTreeMap::new();
    let mut locations = validate::Locations::new();
    let mut facts: BTreeMap<Entity, overview::EntityFacts> = BTreeMap::new();
    for &entity in &entities {
        let mut proposals = read_proposals(run, entity)?;
        let written = crate::stages::matching::written(&proposals);
        let columns: BTreeSet<String> = written
            .values()
            .flat_map(|w| w.cells.keys().cloned())
            .collect();
        // No row written (an incremental night that read none): no columns to hold it to.
        let known = (!columns.is_empty()).then_some(&columns);
        let tables = review::read_tables(&run.dir, &run.id, entity, known)?;
        problems.extend(tables.problems);
        problems.extend(review::check_rows(&tables.decisions, &written));
        let decisions = tables.decisions;
        locations.insert(
            entity,
            decisions
                .iter()
                .map(|d| (d.autotask_id, (d.file.clone(), d.row)))
                .collect(),
        );
        let passportal = validate::passportal_records(run, entity)?;
        let ledger_links = ledger.links(entity)?;
        let done_by_this_run: BTreeSet<i64> = ledger_links
            .iter()
            .filter(|(_, l)| l.run_id == run.id)
            .map(|(a, _)| a.0)
            .collect();
        let links: BTreeMap<i64, i64> = ledger_links
            .into_iter()
            .map(|(a, l)| (a.0, l.passportal_id.0))
            .collect();
        let all = decisions.clone();
        let (decisions, mut pending) = match policy {
            Policy::Tables => (decisions, Vec::new()),
            Policy::Auto(sync) => {
                let owed: BTreeSet<i64> = ledger
                    .backlog(entity)?
                    .into_values()
                    .filter(|b| b.kind == crate::store::ledger::Owed::Create)
                    .map(|b| b.autotask_id)
                    .collect();
                validate::auto_approve(entity, decisions, &proposals, sync, &owed)
            }
        };
        // Undecided rows wait, whoever approves: the backlog keeps them owed.
        let (undecided, decisions): (Vec<_>, Vec<_>) = decisions
            .into_iter()
            .partition(|d| d.action == Action::Review);
        pending.extend(undecided.iter().map(|d| AutotaskId(d.autotask_id)));
        pending.sort_unstable();
        pending.dedup();
        facts.insert(
            entity,
            overview::EntityFacts {
                scores: proposals.values().flat_map(overview::pair_scores).collect(),
                waiting: overview::waiting_rows(entity, &all, &proposals, &pending),
            },
        );
        for id in &pending {
            proposals.remove(&id.0);
        }
        let remembered: BTreeSet<i64> = ledger
            .decisions(entity)?
            .into_iter()
            .filter(|(_, a)| *a == Action::Exclude)
            .map(|(id, _)| id.0)
            .collect();
        let plan = validate::plan_entity(
            entity,
            &decisions,
            &validate::Known {
                proposals: &proposals,
                passportal: &passportal,
                links: &links,
                remembered: &remembered,
                done_by_this_run: &done_by_this_run,
                read: &tables.seen,
            },
            &mut problems,
        );
        plans.insert(entity, EntityPlan { pending, ..plan });
    }
    if problems.is_empty() {
        validate::children_follow_parents(
            run,
            &mut plans,
            ledger,
            &locations,
            &mut problems,
            &mut warnings,
        )?;
    }
    if !problems.is_empty() {
        return Err(ReviewError::Invalid(problems).into());
    }

    // Links whose Autotask record was deleted: reported, never deleted in Passportal.
    let deleted_file = crate::stages::extract::autotask::DELETED;
    if extract.files.contains_key(deleted_file) {
        let deleted = crate::stages::extract::autotask::read_deleted(&run.path(deleted_file))?;
        let mut by_entity: HashMap<Entity, Vec<i64>> = HashMap::new();
        for (entity, id) in deleted {
            by_entity.entry(entity).or_default().push(id);
        }
        for (entity, ids) in by_entity {
            let links = ledger.links(entity)?;
            let plan = plans.entry(entity).or_default();
            plan.orphans = ids
                .into_iter()
                .map(AutotaskId)
                .filter(|id| links.contains_key(id))
                .collect();
            plan.orphans.sort_unstable();
            if !plan.orphans.is_empty() {
                warnings.push(format!(
                    "{} linked {} were deleted in Autotask; their Passportal records are kept \
                     (orphans)",
                    plan.orphans.len(),
                    entity
                ));
            }
        }
    }

    warnings.extend(templates::recognisable(&extract, &plans)?);

    let mut tables = BTreeMap::new();
    for &entity in &entities {
        for rel in review::table_files(&run.dir, entity) {
            let sha = sha256_file(&run.path(&rel))?;
            tables.insert(rel, sha);
        }
    }
    let plan = Plan {
        run_id: run.id.clone(),
        created_at: Utc::now(),
        tables,
        overview: plans.iter().map(|(e, p)| (*e, p.overview())).collect(),
        entities: plans,
        warnings,
    };
    let text = serde_json::to_vec_pretty(&plan).expect("plan serialises");
    write_atomic(&run.path(PLAN_FILE), &text)?;
    let page = overview::render(&plan, &facts, matching);
    write_atomic(&run.path(overview::OVERVIEW_FILE), page.as_bytes())?;
    run.finish_stage(
        "plan",
        &[
            (PLAN_FILE.to_string(), 1),
            (overview::OVERVIEW_FILE.to_string(), 1),
        ],
        PlanNotes {
            overview: plan.overview.clone(),
        },
    )?;
    Ok(plan)
}

impl Plan {
    /// Read a run's plan as `plan` froze it (whether or not its tables changed since): the one
    /// reader of `plan/plan.json`, for the load, status and prune alike.
    pub fn read(run: &Run) -> Result<Plan, PlanError> {
        run.stage("plan")?;
        let path = run.path(PLAN_FILE);
        let bad = |message: String| PlanError::BadPlan {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| bad(e.to_string()))
    }
}

/// Read a run's frozen plan, refusing it when a table it read has changed since.
pub fn read_frozen(run: &Run) -> Result<Plan, PlanError> {
    let plan = Plan::read(run)?;
    for (file, sha) in &plan.tables {
        if &sha256_file(&run.path(file))? != sha {
            return Err(PlanError::Stale { file: file.clone() });
        }
    }
    Ok(plan)
}

/// The overview as text, the way Passportal's final step shows it.
pub fn render_overview(plan: &Plan) -> String {
    let mut out = format!(
        "{:<20} {:>10} {:>10} {:>15} {:>11} {:>8} {:>8}\n",
        "entity", "to create", "to match", "already linked", "to exclude", "orphans", "waiting"
    );
    for (entity, o) in &plan.overview {
        out.push_str(&format!(
            "{:<20} {:>10} {:>10} {:>15} {:>11} {:>8} {:>8}\n",
            entity.as_str(),
            o.to_create,
            o.to_match,
            o.already_linked,
            o.to_exclude,
            o.orphans,
            o.waiting_for_review
        ));
    }
    for w in &plan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
