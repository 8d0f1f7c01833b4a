//! The match stage (transform): staged Autotask records against staged Passportal records →
//! review rows that say, per Autotask record, match / create / exclude, with score, method,
//! reason and the runner-up so an analyst sees why.

pub mod assign;
pub mod children;
pub mod companies;
pub mod fuzzy;
pub mod normalize;
pub mod people;
pub mod quality;

use serde::{Deserialize, Serialize};
use std::fmt;

/// What happens to an Autotask record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Link to an existing Passportal record.
    Match,
    /// Create it in Passportal.
    Create,
    /// Leave it out (and remember that).
    Exclude,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Match, Action::Create, Action::Exclude];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Match => "match",
            Action::Create => "create",
            Action::Exclude => "exclude",
        }
    }

    /// Parse an action as an analyst may have typed it (any case, stray spaces).
    pub fn parse(s: &str) -> Option<Action> {
        let s = s.trim().to_ascii_lowercase();
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a match was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// An existing link in the ledger.
    Id,
    /// Identical name.
    Exact,
    /// Same name once normalised.
    Normalized,
    /// Similar name.
    Fuzzy,
    /// Same e-mail address.
    Email,
    /// Same serial number (assets).
    Serial,
    /// Same address (locations).
    Address,
    /// An analyst's earlier decision.
    Remembered,
    /// An analyst's match in this run's review tables.
    Manual,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Id => "id",
            Method::Exact => "exact",
            Method::Normalized => "normalized",
            Method::Fuzzy => "fuzzy",
            Method::Email => "email",
            Method::Serial => "serial",
            Method::Address => "address",
            Method::Remembered => "remembered",
            Method::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        let s = s.trim().to_ascii_lowercase();
        [
            Method::Id,
            Method::Exact,
            Method::Normalized,
            Method::Fuzzy,
            Method::Email,
            Method::Serial,
            Method::Address,
            Method::Remembered,
            Method::Manual,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A Passportal record proposed for an Autotask record.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub passportal_id: i64,
    pub name: String,
    /// 0–100.
    pub score: f64,
    pub method: Method,
}

/// One row of a review table: the proposal for one Autotask record.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRow {
    pub action: Action,
    /// For `match`: the record to link. For `create`: the best candidate, if any, so an analyst
    /// turns a suggestion into a match by changing `action` alone.
    pub best: Option<Candidate>,
    pub runner_up: Option<Candidate>,
    pub autotask_id: i64,
    pub autotask_name: String,
    pub reason: String,
    /// Extra columns that help decide (type, city, phone, ...), in order.
    pub context: Vec<(&'static str, String)>,
}

use crate::entity::Entity;
use crate::extract::parquet::{
    frame, int_col, read_frame, text_col, write_frame, Columns, ParquetError,
};
use crate::ledger::{Ledger, LedgerError};
use crate::pipeline::Pipeline;
use crate::staging::{Run, StagingError};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MatchStageError {
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The proposals of the match stage, kept beside the editable tables so the plan can tell an
/// analyst's change from the tool's proposal.
pub fn proposals_path(entity: Entity) -> String {
    format!("match/{}.proposals.parquet", entity.as_str())
}

/// A proposal as the plan reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub action: Action,
    pub passportal_id: Option<i64>,
    pub method: Option<Method>,
}

fn write_proposals(path: &Path, rows: &[ReviewRow]) -> Result<u64, ParquetError> {
    let df = frame(vec![
        int_col("autotask_id", rows.iter().map(|r| Some(r.autotask_id))),
        text_col("action", rows.iter().map(|r| Some(r.action.as_str()))),
        int_col(
            "passportal_id",
            rows.iter()
                .map(|r| r.best.as_ref().map(|c| c.passportal_id)),
        ),
        text_col(
            "method",
            rows.iter()
                .map(|r| r.best.as_ref().map(|c| c.method.as_str())),
        ),
        text_col("reason", rows.iter().map(|r| Some(r.reason.as_str()))),
    ]);
    write_frame(path, &df)
}

/// Read a run's proposals for an entity, by Autotask id.
pub fn read_proposals(run: &Run, entity: Entity) -> Result<BTreeMap<i64, Proposal>, ParquetError> {
    let path = run.path(&proposals_path(entity));
    let df = read_frame(&path)?;
    let c = Columns {
        path: &path,
        df: &df,
    };
    let ids = c.int("autotask_id")?;
    let actions = c.text("action")?;
    let pp = c.int("passportal_id")?;
    let methods = c.text("method")?;
    Ok(ids
        .into_iter()
        .zip(actions)
        .zip(pp.into_iter().zip(methods))
        .filter_map(|((id, action), (pp, method))| {
            Some((
                id?,
                Proposal {
                    action: Action::parse(&action?)?,
                    passportal_id: pp,
                    method: method.as_deref().and_then(Method::parse),
                },
            ))
        })
        .collect())
}

/// Counts of what the match stage proposed, per action.
pub type MatchSummary = BTreeMap<Entity, BTreeMap<Action, u64>>;

/// Run the match stage: staged records → proposals and review tables.
pub fn run(
    run: &Run,
    ledger: &Ledger,
    pipeline: &Pipeline,
) -> Result<MatchSummary, MatchStageError> {
    run.stage("extract")?;
    let companies =
        crate::extract::autotask::read_companies(&run.path(crate::extract::autotask::COMPANIES))?;
    let clients =
        crate::extract::passportal::read_clients(&run.path(crate::extract::passportal::CLIENTS))?;
    let links = ledger.links(Entity::Companies)?;
    let rows = companies::match_companies(&companies::CompanyInput {
        companies: &companies,
        clients: &clients,
        links: &links,
        sync: &pipeline.sync,
        thresholds: pipeline.matching.companies,
    });

    let mut files = Vec::new();
    let rel = proposals_path(Entity::Companies);
    files.push((rel.clone(), write_proposals(&run.path(&rel), &rows)?));

    let mut linked_to: BTreeMap<i64, i64> = links
        .iter()
        .map(|(at, l)| (l.passportal_id.0, at.0))
        .collect();
    for r in rows.iter().filter(|r| r.action == Action::Match) {
        if let Some(best) = &r.best {
            linked_to.insert(best.passportal_id, r.autotask_id);
        }
    }
    let mut candidates: Vec<(i64, String, Option<i64>)> = clients
        .iter()
        .map(|c| (c.id, c.name.clone(), linked_to.get(&c.id).copied()))
        .collect();
    candidates.sort_by(|a, b| {
        a.1.to_lowercase()
            .cmp(&b.1.to_lowercase())
            .then(a.0.cmp(&b.0))
    });
    files.extend(crate::review::write_tables(
        &run.dir,
        &run.id,
        Entity::Companies,
        &rows,
        &candidates,
    )?);

    let mut counts: BTreeMap<Action, u64> = BTreeMap::new();
    for r in &rows {
        *counts.entry(r.action).or_default() += 1;
    }
    let mut notes = BTreeMap::new();
    notes.insert(
        "companies".to_string(),
        serde_json::to_value(&counts).expect("serialises"),
    );
    run.finish_stage("match", &files, notes)?;
    Ok(BTreeMap::from([(Entity::Companies, counts)]))
}
