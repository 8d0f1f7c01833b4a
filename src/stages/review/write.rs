//! Writing the review tables: UTF-8 with BOM (Excel reads it as UTF-8), quoted where needed,
//! columns in a fixed order with the decision columns first, formula-looking cells escaped.

use super::columns::{role, Role};
use super::{candidates_path, escape_cell, table_path, LEADING_COLUMNS, RUN_ID};
use crate::model::decision::{Action, Candidate, CandidateRow, Method, ReviewRow};
use crate::model::entity::Entity;
use crate::store::staging::{write_atomic, StagingError};
use std::collections::BTreeMap;
use std::path::Path;

/// The files written, relative to the run folder, with their row counts.
pub type TableFiles = Vec<(String, u64)>;

fn score(c: &Option<Candidate>) -> String {
    c.as_ref()
        .map(|c| format!("{:.0}", c.score))
        .unwrap_or_default()
}

/// A table as CSV for spreadsheets: UTF-8 with BOM, CRLF, quoted where needed, formula-like
/// cells escaped. Every CSV the tool writes for people goes through here.
pub fn spreadsheet_csv(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(header).expect("write to memory");
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| escape_cell(c)).collect();
            w.write_record(&cells).expect("write to memory");
        }
        w.flush().expect("write to memory");
    }
    out
}

/// The cells of a review row, in column order (without `run_id`), with their column names.
pub fn row_cells(r: &ReviewRow) -> Vec<(String, String)> {
    let best = r.best.as_ref();
    let second = r.runner_up.as_ref();
    let method = if r.remembered {
        Method::Remembered.as_str().to_string()
    } else {
        best.map(|c| c.method.as_str().to_string())
            .unwrap_or_default()
    };
    let mut cells = vec![
        r.action.as_str().to_string(),
        best.map(|c| c.passportal_id.to_string())
            .unwrap_or_default(),
        r.autotask_id.to_string(),
        r.autotask_name.clone(),
        best.map(|c| c.name.clone()).unwrap_or_default(),
        score(&r.best),
        method,
        r.reason.clone(),
        second
            .map(|c| c.passportal_id.to_string())
            .unwrap_or_default(),
        second.map(|c| c.name.clone()).unwrap_or_default(),
        score(&r.runner_up),
    ];
    cells.extend(r.context.iter().map(|(_, v)| v.clone()));
    let names = LEADING_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(r.context.iter().map(|(k, _)| k.to_string()));
    names.zip(cells).collect()
}

/// The cells an analyst reads but does not decide with (everything but `action`,
/// `passportal_id`, `autotask_id` and `run_id`), as JSON: kept beside the proposals so the plan
/// can refuse a row that no longer shows its own record.
pub fn informational_cells(r: &ReviewRow) -> String {
    let map: BTreeMap<String, String> = row_cells(r)
        .into_iter()
        .filter(|(k, _)| matches!(role(k), Role::Identifying | Role::ShowsDecision))
        .collect();
    serde_json::to_string(&map).expect("serialises")
}

/// One entity's tables, laid out: headers and rows of the three action tables and of the
/// candidates, as the CSV files and the workbook both write them.
#[derive(Debug, Clone)]
pub struct EntityTables {
    pub entity: Entity,
    pub header: Vec<String>,
    pub by_action: BTreeMap<Action, Vec<Vec<String>>>,
    pub candidate_header: Vec<String>,
    pub candidates: Vec<Vec<String>>,
}

/// Lay out one entity's review rows and candidates.
pub fn layout(
    run_id: &str,
    entity: Entity,
    rows: &[ReviewRow],
    candidates: &[CandidateRow],
) -> EntityTables {
    let context_names: Vec<&'static str> = rows
        .first()
        .map(|r| r.context.iter().map(|(k, _)| *k).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = LEADING_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(context_names.iter().map(|s| s.to_string()));
    header.push(RUN_ID.to_string());

    let mut by_action: BTreeMap<Action, Vec<Vec<String>>> =
        Action::ALL.iter().map(|a| (*a, Vec::new())).collect();
    for r in rows {
        let mut cells: Vec<String> = row_cells(r).into_iter().map(|(_, v)| v).collect();
        cells.push(run_id.to_string());
        by_action.entry(r.action).or_default().push(cells);
    }

    let mut candidate_header: Vec<String> = vec!["passportal_id".into(), "name".into()];
    if let Some(first) = candidates.first() {
        candidate_header.extend(first.context.iter().map(|(k, _)| k.to_string()));
    }
    candidate_header.push("autotask_id".into());
    candidate_header.push(RUN_ID.into());
    let candidates = candidates
        .iter()
        .map(|c| {
            let mut cells = vec![c.passportal_id.to_string(), c.name.clone()];
            cells.extend(c.context.iter().map(|(_, v)| v.clone()));
            cells.push(c.autotask_id.map(|a| a.to_string()).unwrap_or_default());
            cells.push(run_id.to_string());
            cells
        })
        .collect();
    EntityTables {
        entity,
        header,
        by_action,
        candidate_header,
        candidates,
    }
}

/// Write one entity's tables as CSV files: the three action tables and the candidates file.
pub fn write_csv(run_dir: &Path, tables: &EntityTables) -> Result<TableFiles, StagingError> {
    let mut files = Vec::new();
    for (action, rows) in &tables.by_action {
        let rel = table_path(tables.entity, *action);
        write_atomic(&run_dir.join(&rel), &spreadsheet_csv(&tables.header, rows))?;
        files.push((rel, rows.len() as u64));
    }
    let rel = candidates_path(tables.entity);
    write_atomic(
        &run_dir.join(&rel),
        &spreadsheet_csv(&tables.candidate_header, &tables.candidates),
    )?;
    files.push((rel, tables.candidates.len() as u64));
    Ok(files)
}

/// Write the three action tables and the candidates file of one entity as CSV.
pub fn write_tables(
    run_dir: &Path,
    run_id: &str,
    entity: Entity,
    rows: &[ReviewRow],
    candidates: &[CandidateRow],
) -> Result<TableFiles, StagingError> {
    write_csv(run_dir, &layout(run_id, entity, rows, candidates))
}
