//! The match stage: read the staged records of both sides and the ledger's links, propose an
//! action for every Autotask record of every entity in the pipeline, and write the proposals and
//! the review tables analysts edit.

use super::children::{match_children, parents_from, ChildRecord, ChildScope, Parent};
use super::companies::{evidence_from, match_companies, own_evidence, CompanyInput};
use super::people::{match_resources, ResourceInput};
use super::{Action, CandidateRow, Method, ReviewRow};
use crate::api::passportal::DocType;
use crate::model::entity::Entity;
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
/// files the extract staged.
pub fn run(
    run: &Run,
    ledger: &Ledger,
    pipeline: &Pipeline,
) -> Result<MatchSummary, MatchStageError> {
    use crate::stages::extract::{autotask as at, passportal as pp};
    let extract = run.stage("extract")?;
    let staged = |rel: &str| extract.files.contains_key(rel);
    let m = &pipeline.matching;
    let mut files = Vec::new();
    let mut layouts = Vec::new();
    let mut summary = MatchSummary::new();

    let companies = at::read_companies(&run.path(at::COMPANIES))?;
    let clients = pp::read_clients(&run.path(pp::CLIENTS))?;
    let company_links = ledger.links(Entity::Companies)?;
    // The clients' evidence: their location and contact documents, when staged.
    let mut evidence_docs = Vec::new();
    for doc_type in [DocType::Location, DocType::Contact] {
        let file = pp::documents_path(doc_type);
        if staged(file) {
            evidence_docs.extend(pp::read_documents(&run.path(file))?);
        }
    }
    let evidence = evidence_from(evidence_docs.iter());
    drop(evidence_docs);
    // The companies' own: their locations and contacts, when staged.
    let own = {
        let read = |file: &str| staged(file).then(|| run.path(file));
        let locations = match read(at::LOCATIONS) {
            Some(path) => at::read_locations(&path)?,
            None => Vec::new(),
        };
        let contacts = match read(at::CONTACTS) {
            Some(path) => at::read_contacts(&path)?,
            None => Vec::new(),
        };
        own_evidence(&locations, &contacts)
    };
    let company_rows = match_companies(&CompanyInput {
        companies: &companies,
        clients: &clients,
        links: &company_links,
        sync: &pipeline.sync,
        thresholds: m.companies,
        evidence: &evidence,
        own_evidence: &own,
    });
    let client_candidates: Vec<CandidateRow> = clients
        .iter()
        .map(|c| CandidateRow {
            passportal_id: c.id,
            name: c.name.clone(),
            context: Vec::new(),
            autotask_id: None,
        })
        .collect();
    // Remembered decisions and the backlog first (in `write_entity`): children follow an
    // excluded company, and wait with a company still owed.
    let company_rows = write_entity(
        run,
        ledger,
        pipeline,
        Entity::Companies,
        company_rows,
        client_candidates,
        &company_links,
        &mut files,
        &mut layouts,
        &mut summary,
    )?;
    let mut parents = parents_from(&company_rows);
    let shown: std::collections::BTreeSet<i64> =
        company_rows.iter().map(|r| r.autotask_id).collect();
    for id in super::backlog::owed_companies(ledger, &shown)? {
        parents.insert(
            id,
            Parent::Waiting {
                name: format!("company {id}"),
                reason: "it is still owed (in the backlog) but not in this run's extract".into(),
            },
        );
    }
    // Companies not in this run's extract (an incremental run) are known by their links.
    let client_names: HashMap<i64, &str> =
        clients.iter().map(|c| (c.id, c.name.as_str())).collect();
    for (at_id, link) in &company_links {
        parents.entry(at_id.0).or_insert_with(|| Parent::Linked {
            client_id: link.passportal_id.0,
            name: client_names
                .get(&link.passportal_id.0)
                .map_or_else(String::new, |n| n.to_string()),
        });
    }

    if staged(at::RESOURCES) && staged(pp::USERS) {
        let resources = at::read_resources(&run.path(at::RESOURCES))?;
        let users = pp::read_users(&run.path(pp::USERS))?;
        let links = ledger.links(Entity::Resources)?;
        let rows = match_resources(&ResourceInput {
            resources: &resources,
            users: &users,
            links: &links,
            include_inactive: pipeline.sync.include_inactive,
            thresholds: m.resources,
        });
        let candidates = users
            .iter()
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
            .collect();
        let _ = write_entity(
            run,
            ledger,
            pipeline,
            Entity::Resources,
            rows,
            candidates,
            &links,
            &mut files,
            &mut layouts,
            &mut summary,
        )?;
    }

    let selected: Vec<String> = pipeline
        .extract
        .configuration_item_types
        .iter()
        .map(|t| t.to_lowercase())
        .collect();
    let no_exclusion = |_: i64| None;
    let children: [(Entity, &str, DocType); 3] = [
        (Entity::Locations, at::LOCATIONS, DocType::Location),
        (Entity::Contacts, at::CONTACTS, DocType::Contact),
        (
            Entity::ConfigurationItems,
            at::CONFIGURATION_ITEMS,
            DocType::Asset,
        ),
    ];
    for (entity, at_file, doc_type) in children {
        let pp_file = pp::documents_path(doc_type);
        if !staged(at_file) || !staged(pp_file) {
            continue;
        }
        let documents = pp::read_documents(&run.path(pp_file))?;
        let links = ledger.links(entity)?;
        let thresholds = match entity {
            Entity::Locations => m.locations,
            Entity::Contacts => m.contacts,
            _ => m.configuration_items,
        };
        let scope = ChildScope {
            documents: &documents,
            parents: &parents,
            links: &links,
            include_inactive: pipeline.sync.include_inactive,
            thresholds,
            exclusion: &no_exclusion,
        };
        let rows = match entity {
            Entity::Locations => {
                let records = at::read_locations(&run.path(at_file))?;
                match_children(&records, &scope)
            }
            Entity::Contacts => {
                let records = at::read_contacts(&run.path(at_file))?;
                match_children(&records, &scope)
            }
            _ => {
                let records = at::read_configuration_items(&run.path(at_file))?;
                let unselected: HashMap<i64, String> = records
                    .iter()
                    .filter_map(|r| {
                        let label = r.configuration_item_type_label.clone().unwrap_or_default();
                        (!selected.is_empty() && !selected.contains(&label.to_lowercase()))
                            .then(|| (r.id(), label))
                    })
                    .collect();
                let exclusion = |id: i64| {
                    unselected.get(&id).map(|label| {
                        let shown = if label.is_empty() { "(none)" } else { label };
                        format!("configuration item type {shown} is not selected")
                    })
                };
                match_children(
                    &records,
                    &ChildScope {
                        exclusion: &exclusion,
                        ..scope
                    },
                )
            }
        };
        let candidates = documents.iter().map(document_candidate).collect();
        let _ = write_entity(
            run,
            ledger,
            pipeline,
            entity,
            rows,
            candidates,
            &links,
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

/// Apply remembered decisions: an analyst's exclusion stays excluded, an analyst's match (a
/// link made by hand) shows as remembered.
fn apply_remembered(
    rows: &mut [ReviewRow],
    remembered: &[(i64, Action)],
    links: &BTreeMap<AutotaskId, Link>,
) {
    let excluded: HashMap<i64, ()> = remembered
        .iter()
        .filter(|(_, a)| *a == Action::Exclude)
        .map(|(id, _)| (*id, ()))
        .collect();
    for row in rows.iter_mut() {
        let manual = links
            .get(&AutotaskId(row.autotask_id))
            .is_some_and(|l| l.method == Method::Manual.as_str());
        if row.action == Action::Match && manual {
            row.remembered = true;
            row.reason = "matched by an analyst in an earlier run".into();
        } else if excluded.contains_key(&row.autotask_id) && row.action != Action::Exclude {
            row.action = Action::Exclude;
            row.remembered = true;
            row.reason =
                "excluded by an analyst in an earlier run (change the action to undo)".into();
        }
    }
}

/// Write one entity's proposals and review tables; the candidates file says which Autotask
/// record each Passportal record is linked or proposed to.
#[allow(clippy::too_many_arguments)]
fn write_entity(
    run: &Run,
    ledger: &Ledger,
    pipeline: &Pipeline,
    entity: Entity,
    mut rows: Vec<ReviewRow>,
    mut candidates: Vec<CandidateRow>,
    links: &BTreeMap<AutotaskId, Link>,
    files: &mut Vec<(String, u64)>,
    layouts: &mut Vec<crate::stages::review::EntityTables>,
    summary: &mut MatchSummary,
) -> Result<Vec<ReviewRow>, MatchStageError> {
    apply_remembered(&mut rows, &ledger.decisions(entity)?, links);
    let names: HashMap<i64, String> = candidates
        .iter()
        .map(|c| (c.passportal_id, c.name.clone()))
        .collect();
    let policy = super::backlog::CarryPolicy::of(pipeline);
    let owed = super::backlog::carry(ledger, entity, &mut rows, &names, &policy)?;
    super::context::add_schema_context(run, entity, &mut rows)?;
    super::backlog::add_columns(&run.id, &mut rows, &owed);
    let all = rows;
    let rows = &all[..];
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
    Ok(all)
}
