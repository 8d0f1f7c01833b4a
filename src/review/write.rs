//! Writing the review tables: UTF-8 with BOM (Excel reads it as UTF-8), quoted where needed,
//! columns in a fixed order with the decision columns first, formula-looking cells escaped.

use super::{candidates_path, escape_cell, table_path, DECISION_COLUMNS, LEADING_COLUMNS, RUN_ID};
use crate::entity::Entity;
use crate::staging::{write_atomic, StagingError};
use crate::transform::{Action, Candidate, CandidateRow, Method, ReviewRow};
use std::collections::BTreeMap;
use std::path::Path;

/// The files written, relative to the run folder, with their row counts.
pub type TableFiles = Vec<(String, u64)>;

fn score(c: &Option<Candidate>) -> String {
    c.as_ref()
        .map(|c| format!("{:.0}", c.score))
        .unwrap_or_default()
}

fn to_csv(header: &[String], rows: &[Vec<String>]) -> Vec<u8> {
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
/// can warn when a spreadsheet changed one.
pub fn informational_cells(r: &ReviewRow) -> String {
    let map: BTreeMap<String, String> = row_cells(r)
        .into_iter()
        .filter(|(k, _)| !DECISION_COLUMNS.contains(&k.as_str()))
        .collect();
    serde_json::to_string(&map).expect("serialises")
}

/// Write the three action tables and the candidates file of one entity.
///
/// `candidates` lists every Passportal record a row may be matched to, with the Autotask id it
/// is linked or proposed to (if any).
pub fn write_tables(
    run_dir: &Path,
    run_id: &str,
    entity: Entity,
    rows: &[ReviewRow],
    candidates: &[CandidateRow],
) -> Result<TableFiles, StagingError> {
    let context_names: Vec<&'static str> = rows
        .first()
        .map(|r| r.context.iter().map(|(k, _)| *k).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = LEADING_COLUMNS.iter().map(|s| s.to_string()).collect();
    header.extend(context_names.iter().map(|s| s.to_string()));
    header.push(RUN_ID.to_string());

    let mut by_action: BTreeMap<Action, Vec<Vec<String>>> = BTreeMap::new();
    for r in rows {
        let mut cells: Vec<String> = row_cells(r).into_iter().map(|(_, v)| v).collect();
        cells.push(run_id.to_string());
        by_action.entry(r.action).or_default().push(cells);
    }

    let mut files = Vec::new();
    for action in Action::ALL {
        let rel = table_path(entity, action);
        let rows = by_action.remove(&action).unwrap_or_default();
        write_atomic(&run_dir.join(&rel), &to_csv(&header, &rows))?;
        files.push((rel, rows.len() as u64));
    }

    let mut cand_header: Vec<String> = vec!["passportal_id".into(), "name".into()];
    if let Some(first) = candidates.first() {
        cand_header.extend(first.context.iter().map(|(k, _)| k.to_string()));
    }
    cand_header.push("autotask_id".into());
    cand_header.push(RUN_ID.into());
    let cand_rows: Vec<Vec<String>> = candidates
        .iter()
        .map(|c| {
            let mut cells = vec![c.passportal_id.to_string(), c.name.clone()];
            cells.extend(c.context.iter().map(|(_, v)| v.clone()));
            cells.push(c.autotask_id.map(|a| a.to_string()).unwrap_or_default());
            cells.push(run_id.to_string());
            cells
        })
        .collect();
    let rel = candidates_path(entity);
    write_atomic(&run_dir.join(&rel), &to_csv(&cand_header, &cand_rows))?;
    files.push((rel, cand_rows.len() as u64));
    Ok(files)
}
