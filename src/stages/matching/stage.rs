//! The match stage's I/O around the pure `match_all`: read the staged records of both sides and
//! what the ledger remembers, let `match_all` propose an action for every Autotask record of
//! every entity in the pipeline, carry the ledger's backlog into its rows (`backlog::carry`, the
//! one step that reads the ledger between entities), and write the proposals and the review
//! tables analysts edit.

use super::backlog::{self, CarryPolicy, Owing};
use super::children::Parent;
use super::decide::{match_all_with, AutotaskSide, Memory, PassportalSide};
use super::spec::MatchSpec;
use super::{Action, CandidateRow, Method, ReviewRow};
use crate::model::entity::{DocType, Entity};
use crate::model::ids::AutotaskId;
use crate::model::pipeline::Pipeline;
use crate::model::records::DocumentRow;
use crate::store::ledger::Link;
use crate::store::ledger::{Ledger, LedgerError};
use crate::store::parquet::{
    frame, int_col, read_frame, text_col, write_frame, Columns, ParquetError,
};
use crate::store::staging::{Run, StagingError};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum MatchStageError {
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Workbook(#[from] crate::stages::review::workbook::WorkbookError),
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
    /// The read-only cells as written (column → value).
    pub cells: BTreeMap<String, String>,
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
        text_col(
            "cells",
            rows.iter()
                .map(crate::stages::review::informational_cells)
                .collect::<Vec<_>>()
                .iter()
                .map(|s| Some(s.as_str())),
        ),
    ]);
    write_frame(path, &df)
}

/// What the match stage wrote for each row, as the review reader checks edited tables against
/// it.
pub fn written(
    proposals: &BTreeMap<i64, Proposal>,
) -> BTreeMap<i64, crate::stages::review::Written> {
    proposals
        .iter()
        .map(|(id, p)| {
            let w = crate::stages::review::Written {
                action: p.action,
                passportal_id: p.passportal_id,
                cells: p.cells.clone(),
            };
            (*id, w)
        })
        .collect()
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
    let cells = c.text("cells")?;
    Ok(ids
        .into_iter()
        .zip(actions)
        .zip(pp.into_iter().zip(methods))
        .zip(cells)
        .filter_map(|(((id, action), (pp, method)), cells)| {
            Some((
                id?,
                Proposal {
                    action: Action::parse(&action?)?,
                    passportal_id: pp,
                    method: method.as_deref().and_then(Method::parse),
                    cells: cells
                        .and_then(|c| serde_json::from_str(&c).ok())
                        .unwrap_or_default(),
                },
            ))
        })
        .collect())
}

/// Counts of what the match stage proposed, per action.
pub type MatchSummary = BTreeMap<Entity, BTreeMap<Action, u64>>;

/// Run the match stage: staged records → proposals and review tables for every entity whose
/// files the extract staged. The decisions are `decide::match_all`'s; this reads its inputs and
/// writes what it returns.
pub fn run(
    run: &Run,
    ledger: &Ledger,
    pipeline: &Pipeline,
) -> Result<MatchSummary, MatchStageError> {
    let (at, pp) = read_sides(run)?;
    let mut memory = Memory::default();
    for entity in Entity::ALL {
        memory.links.insert(*entity, ledger.links(*entity)?);
        memory.decisions.insert(*entity, ledger.decisions(*entity)?);
    }
    let mut files = Vec::new();
    let mut layouts = Vec::new();
    let mut summary = MatchSummary::new();
    // The backlog: rows the policy holds become `review`, owed creates and analysts' matches
    // come back, and a company still owed but not in the extract makes its children wait.
    let policy = CarryPolicy::of(pipeline);
    let mut owing: BTreeMap<Entity, Owing> = BTreeMap::new();
    let mut failed: Option<LedgerError> = None;
    let carry = |entity: Entity, rows: &mut Vec<ReviewRow>, parents: &mut HashMap<i64, Parent>| {
        if failed.is_some() {
            return;
        }
        let names: HashMap<i64, String> = candidates(entity, &pp)
            .into_iter()
            .map(|c| (c.passportal_id, c.name))
            .collect();
        let carried = backlog::carry(ledger, entity, rows, &names, &policy).and_then(|owed| {
            if entity == Entity::Companies {
                let shown = rows.iter().map(|r| r.autotask_id).collect();
                for id in backlog::owed_companies(ledger, &shown)? {
                    parents.insert(
                        id,
                        Parent::Waiting {
                            name: format!("company {id}"),
                            reason: "it is still owed (in the backlog) but not in this run's \
                                     extract"
                                .into(),
                        },
                    );
                }
            }
            Ok(owed)
        });
        match carried {
            Ok(owed) => {
                owing.insert(entity, owed);
            }
            Err(e) => failed = Some(e),
        }
    };
    let decided = match_all_with(&MatchSpec::all(pipeline), &at, &pp, &memory, carry);
    if let Some(e) = failed {
        return Err(e.into());
    }
    for decided in decided {
        let entity = decided.entity;
        write_entity(
            run,
            entity,
            decided.rows,
            candidates(entity, &pp),
            memory.links(entity),
            owing.get(&entity).unwrap_or(&Owing::new()),
            &mut files,
            &mut layouts,
            &mut summary,
        )?;
    }

    match pipeline.review.format {
        crate::model::pipeline::ReviewFormat::Csv => {
            for tables in &layouts {
                files.extend(crate::stages::review::write_csv(&run.dir, tables)?);
            }
        }
        crate::model::pipeline::ReviewFormat::Xlsx => {
            crate::stages::review::workbook::write_workbook(&run.dir, &layouts)?;
            let rows = layouts
                .iter()
                .flat_map(|t| t.by_action.values())
                .map(|r| r.len() as u64)
                .sum();
            files.push((crate::stages::review::workbook::WORKBOOK.to_string(), rows));
        }
    }

    // The notes are the summary itself: per entity, rows proposed per action.
    run.finish_stage("match", &files, &summary)?;
    Ok(summary)
}

/// Both sides as the extract staged them (the companies and clients always; the rest when
/// staged).
fn read_sides(run: &Run) -> Result<(AutotaskSide, PassportalSide), MatchStageError> {
    use crate::stages::extract::{autotask as at, passportal as pp};
    let extract = run.stage("extract")?;
    let staged = |rel: &str| extract.files.contains_key(rel).then(|| run.path(rel));
    let autotask = AutotaskSide {
        companies: at::read_companies(&run.path(at::COMPANIES))?,
        resources: staged(at::RESOURCES)
            .map(|p| at::read_resources(&p))
            .transpose()?,
        locations: staged(at::LOCATIONS)
            .map(|p| at::read_locations(&p))
            .transpose()?,
        contacts: staged(at::CONTACTS)
            .map(|p| at::read_contacts(&p))
            .transpose()?,
        configuration_items: staged(at::CONFIGURATION_ITEMS)
            .map(|p| at::read_configuration_items(&p))
            .transpose()?,
    };
    let mut documents = BTreeMap::new();
    for doc_type in DocType::ALL {
        if let Some(path) = staged(pp::documents_path(doc_type)) {
            documents.insert(doc_type, pp::read_documents(&path)?);
        }
    }
    let passportal = PassportalSide {
        clients: pp::read_clients(&run.path(pp::CLIENTS))?,
        users: staged(pp::USERS).map(|p| pp::read_users(&p)).transpose()?,
        documents,
    };
    Ok((autotask, passportal))
}

/// The Passportal records a row of `entity` may be matched to (the review's drop-down).
fn candidates(entity: Entity, pp: &PassportalSide) -> Vec<CandidateRow> {
    match entity.doc_type() {
        Some(doc_type) => pp
            .documents
            .get(&doc_type)
            .into_iter()
            .flatten()
            .map(document_candidate)
            .collect(),
        None if entity == Entity::Resources => pp
            .users
            .iter()
            .flatten()
            .map(|u| CandidateRow {
                passportal_id: u.id,
                name: format!(
                    "{} {}",
                    u.first_name.as_deref().unwrap_or_default(),
                    u.last_name.as_deref().unwrap_or_default()
                )
                .trim()
                .to_string(),
                context: vec![("email", u.email.clone().unwrap_or_default())],
                autotask_id: None,
            })
            .collect(),
        None => pp
            .clients
            .iter()
            .map(|c| CandidateRow {
                passportal_id: c.id,
                name: c.name.clone(),
                context: Vec::new(),
                autotask_id: None,
            })
            .collect(),
    }
}

fn document_candidate(d: &DocumentRow) -> CandidateRow {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    CandidateRow {
        passportal_id: d.id,
        name: d.title.clone(),
        context: vec![
            ("passportal_client_id", d.client_id.to_string()),
            ("email", text(&d.email)),
            ("serial_number", text(&d.serial_number)),
            ("address", text(&d.address)),
        ],
        autotask_id: None,
    }
}

/// Write one entity's proposals and review tables; the candidates file says which Autotask
/// record each Passportal record is linked or proposed to.
#[allow(clippy::too_many_arguments)]
fn write_entity(
    run: &Run,
    entity: Entity,
    mut rows: Vec<ReviewRow>,
    mut candidates: Vec<CandidateRow>,
    links: &BTreeMap<AutotaskId, Link>,
    owed: &Owing,
    files: &mut Vec<(String, u64)>,
    layouts: &mut Vec<crate::stages::review::EntityTables>,
    summary: &mut MatchSummary,
) -> Result<(), MatchStageError> {
    super::context::add_schema_context(run, entity, &mut rows)?;
    backlog::add_columns(&run.id, &mut rows, owed);
    let rows = &rows[..];
    let rel = proposals_path(entity);
    files.push((rel.clone(), write_proposals(&run.path(&rel), rows)?));
    let mut linked_to: HashMap<i64, i64> = links
        .iter()
        .map(|(at, l)| (l.passportal_id.0, at.0))
        .collect();
    for r in rows.iter().filter(|r| r.action == Action::Match) {
        if let Some(best) = &r.best {
            linked_to.insert(best.passportal_id, r.autotask_id);
        }
    }
    for c in candidates.iter_mut() {
        c.autotask_id = linked_to.get(&c.passportal_id).copied();
    }
    candidates.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.passportal_id.cmp(&b.passportal_id))
    });
    layouts.push(crate::stages::review::layout(
        &run.id,
        entity,
        rows,
        &candidates,
    ));
    let counts = summary.entry(entity).or_default();
    for r in rows {
        *counts.entry(r.action).or_default() += 1;
    }
    Ok(())
}
