//! The plan stage: validate the (possibly edited) review tables against what was staged, show
//! the overview Passportal's final wizard step shows, and freeze the decisions in
//! `plan/plan.json` with the checksums of the tables read, so the load applies exactly this.

use crate::entity::Entity;
use crate::extract::parquet::ParquetError;
use crate::ledger::{Ledger, LedgerError};
use crate::review::{self, Decision, ReviewError};
use crate::staging::{sha256_file, write_atomic, Run, StagingError};
use crate::transform::{read_proposals, Action, Method};
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
}

/// A new link to record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlannedLink {
    pub autotask_id: i64,
    pub passportal_id: i64,
    pub method: Method,
}

/// What the load does for one entity.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct EntityPlan {
    /// Autotask ids to create in Passportal.
    pub create: Vec<i64>,
    /// New links (matches not yet in the ledger).
    pub link: Vec<PlannedLink>,
    /// Autotask ids already linked, unchanged.
    pub linked: Vec<i64>,
    /// Autotask ids left out.
    pub exclude: Vec<i64>,
}

/// The overview line of one entity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Overview {
    pub to_create: u64,
    pub to_match: u64,
    pub already_linked: u64,
    pub to_exclude: u64,
}

impl EntityPlan {
    pub fn overview(&self) -> Overview {
        Overview {
            to_create: self.create.len() as u64,
            to_match: self.link.len() as u64,
            already_linked: self.linked.len() as u64,
            to_exclude: self.exclude.len() as u64,
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

fn problem(d: &Decision, column: &str, message: String) -> review::Problem {
    review::Problem {
        file: d.file.clone(),
        row: Some(d.row),
        column: Some(column.to_string()),
        message,
    }
}

/// Check the decisions of one entity against the staged records and the ledger, and turn them
/// into an entity plan. Every problem is collected; any problem refuses the whole plan.
fn plan_entity(
    decisions: &[Decision],
    autotask_ids: &BTreeSet<i64>,
    passportal_ids: &BTreeSet<i64>,
    ledger_links: &BTreeMap<i64, i64>,
    proposals: &BTreeMap<i64, crate::transform::Proposal>,
    problems: &mut Vec<review::Problem>,
) -> EntityPlan {
    let mut plan = EntityPlan::default();
    let mut seen: HashMap<i64, &Decision> = HashMap::new();
    let mut used: HashMap<i64, &Decision> = HashMap::new();
    let linked_by_pp: HashMap<i64, i64> = ledger_links.iter().map(|(a, p)| (*p, *a)).collect();
    for d in decisions {
        if let Some(first) = seen.insert(d.autotask_id, d) {
            problems.push(problem(
                d,
                review::AUTOTASK_ID,
                format!(
                    "Autotask id {} appears twice (also {} row {})",
                    d.autotask_id, first.file, first.row
                ),
            ));
            continue;
        }
        if !autotask_ids.contains(&d.autotask_id) {
            problems.push(problem(
                d,
                review::AUTOTASK_ID,
                format!("Autotask id {} is not in this run's extract", d.autotask_id),
            ));
            continue;
        }
        let existing = ledger_links.get(&d.autotask_id).copied();
        match d.action {
            Action::Match => {
                let Some(pp) = d.passportal_id else {
                    problems.push(problem(
                        d,
                        review::PASSPORTAL_ID,
                        "a match needs a Passportal id (see the .passportal.csv file)".into(),
                    ));
                    continue;
                };
                if !passportal_ids.contains(&pp) {
                    problems.push(problem(
                        d,
                        review::PASSPORTAL_ID,
                        format!("Passportal id {pp} does not exist in this run's extract"),
                    ));
                    continue;
                }
                if let Some(first) = used.insert(pp, d) {
                    problems.push(problem(
                        d,
                        review::PASSPORTAL_ID,
                        format!(
                            "Passportal id {pp} is matched twice (also {} row {})",
                            first.file, first.row
                        ),
                    ));
                    continue;
                }
                if let Some(other) = linked_by_pp.get(&pp).filter(|a| **a != d.autotask_id) {
                    problems.push(problem(
                        d,
                        review::PASSPORTAL_ID,
                        format!("Passportal id {pp} is already linked to Autotask id {other}"),
                    ));
                    continue;
                }
                if existing == Some(pp) {
                    plan.linked.push(d.autotask_id);
                } else {
                    let proposal = proposals.get(&d.autotask_id);
                    let method = match proposal {
                        Some(p) if p.action == Action::Match && p.passportal_id == Some(pp) => {
                            p.method.unwrap_or(Method::Manual)
                        }
                        _ => Method::Manual,
                    };
                    plan.link.push(PlannedLink {
                        autotask_id: d.autotask_id,
                        passportal_id: pp,
                        method,
                    });
                }
            }
            Action::Create => {
                if let Some(pp) = existing {
                    problems.push(problem(
                        d,
                        review::ACTION,
                        format!(
                            "Autotask id {} is already linked to Passportal id {pp}; creating it \
                             again would make a duplicate (use match)",
                            d.autotask_id
                        ),
                    ));
                    continue;
                }
                plan.create.push(d.autotask_id);
            }
            Action::Exclude => plan.exclude.push(d.autotask_id),
        }
    }
    for id in autotask_ids {
        if !seen.contains_key(id) {
            problems.push(review::Problem {
                file: "review/companies.{match,create,exclude}.csv".into(),
                row: None,
                column: Some(review::AUTOTASK_ID.into()),
                message: format!("Autotask id {id} is missing from all three tables"),
            });
        }
    }
    plan.create.sort_unstable();
    plan.linked.sort_unstable();
    plan.exclude.sort_unstable();
    plan.link.sort_by_key(|l| l.autotask_id);
    plan
}

/// Make the plan of a run: validate, freeze, write `plan/plan.json`.
pub fn make(run: &Run, ledger: &Ledger) -> Result<Plan, PlanError> {
    run.stage("match")?;
    let entity = Entity::Companies;
    let decisions = review::read_decisions(&run.dir, &run.id, entity)?;
    let companies =
        crate::extract::autotask::read_companies(&run.path(crate::extract::autotask::COMPANIES))?;
    let clients =
        crate::extract::passportal::read_clients(&run.path(crate::extract::passportal::CLIENTS))?;
    let autotask_ids: BTreeSet<i64> = companies.iter().map(|c| c.id).collect();
    let passportal_ids: BTreeSet<i64> = clients.iter().map(|c| c.id).collect();
    let links: BTreeMap<i64, i64> = ledger
        .links(entity)?
        .into_iter()
        .map(|(a, l)| (a.0, l.passportal_id.0))
        .collect();
    let proposals = read_proposals(run, entity)?;
    let mut problems = Vec::new();
    let entity_plan = plan_entity(
        &decisions,
        &autotask_ids,
        &passportal_ids,
        &links,
        &proposals,
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(ReviewError::Invalid(problems).into());
    }
    let mut tables = BTreeMap::new();
    for action in Action::ALL {
        let rel = review::table_path(entity, action);
        tables.insert(rel.clone(), sha256_file(&run.path(&rel))?);
    }
    let plan = Plan {
        run_id: run.id.clone(),
        created_at: Utc::now(),
        tables,
        overview: BTreeMap::from([(entity, entity_plan.overview())]),
        entities: BTreeMap::from([(entity, entity_plan)]),
        warnings: Vec::new(),
    };
    let text = serde_json::to_vec_pretty(&plan).expect("plan serialises");
    write_atomic(&run.path(PLAN_FILE), &text)?;
    run.finish_stage(
        "plan",
        &[(PLAN_FILE.to_string(), 1)],
        BTreeMap::from([(
            "overview".to_string(),
            serde_json::to_value(&plan.overview).expect("serialises"),
        )]),
    )?;
    Ok(plan)
}

/// Read a run's frozen plan, refusing it when a table it read has changed since.
pub fn read_frozen(run: &Run) -> Result<Plan, PlanError> {
    run.stage("plan")?;
    let path = run.path(PLAN_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| PlanError::BadPlan {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let plan: Plan = serde_json::from_str(&text).map_err(|e| PlanError::BadPlan {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    for (file, sha) in &plan.tables {
        if &sha256_file(&run.path(file))? != sha {
            return Err(PlanError::Stale { file: file.clone() });
        }
    }
    Ok(plan)
}

/// The overview as text, the way Passportal's final step shows it.
pub fn render_overview(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<12} {:>10} {:>10} {:>15} {:>11}\n",
        "entity", "to create", "to match", "already linked", "to exclude"
    ));
    for (entity, o) in &plan.overview {
        out.push_str(&format!(
            "{:<12} {:>10} {:>10} {:>15} {:>11}\n",
            entity.as_str(),
            o.to_create,
            o.to_match,
            o.already_linked,
            o.to_exclude
        ));
    }
    for w in &plan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
