//! The review tables as one Excel workbook (`--format xlsx`): a sheet per table, `action` as a
//! drop-down of match / create / exclude / review, `passportal_id` checked against the candidates sheet,
//! every cell written as text (so ids are never turned into numbers and nothing is a formula).
//! The reader takes the workbook back exactly as it takes the CSV files.

use super::write::EntityTables;
use crate::model::decision::Action;
use crate::model::entity::Entity;
use crate::store::staging::{write_atomic, StagingError};
use calamine::{Data, Reader};
use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook, XlsxError};
use std::path::{Path, PathBuf};

/// The workbook, relative to the run folder.
pub const WORKBOOK: &str = "review/review.xlsx";

/// The sheet of one table.
pub fn sheet_name(entity: Entity, table: &str) -> String {
    format!("{}.{table}", entity.as_str())
}

#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("cannot write the review workbook {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error("cannot read the review workbook {path}: {message}")]
    Read { path: PathBuf, message: String },
}

fn sheet(
    workbook: &mut Workbook,
    name: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let ws = workbook.add_worksheet();
    ws.set_name(name)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, cell)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Write every entity's tables into one workbook.
pub fn write_workbook(run_dir: &Path, entities: &[EntityTables]) -> Result<(), WorkbookError> {
    let path = run_dir.join(WORKBOOK);
    let err = |e: XlsxError| WorkbookError::Write {
        path: path.clone(),
        message: e.to_string(),
    };
    let mut workbook = Workbook::new();
    for t in entities {
        let candidates = sheet_name(t.entity, "passportal");
        // Room for rows an analyst adds at the bottom.
        let last = |n: usize| (n + 1000) as u32;
        let actions = DataValidation::new()
            .allow_list_strings(&Action::ALL.map(Action::as_str))
            .map_err(err)?
            .set_error_message(format!("Use {}.", Action::CHOICES))
            .map_err(err)?;
        let ids = DataValidation::new()
            .allow_list_formula(Formula::new(format!(
                "='{candidates}'!$A$2:$A${}",
                t.candidates.len() + 1
            )))
            .ignore_blank(true)
            .set_error_message("Use a passportal_id from the candidates sheet.")
            .map_err(err)?;
        for (action, rows) in &t.by_action {
            let name = sheet_name(t.entity, action.as_str());
            sheet(&mut workbook, &name, &t.header, rows).map_err(err)?;
            let ws = workbook.worksheet_from_name(&name).map_err(err)?;
            ws.add_data_validation(1, 0, last(rows.len()), 0, &actions)
                .map_err(err)?;
            ws.add_data_validation(1, 1, last(rows.len()), 1, &ids)
                .map_err(err)?;
        }
        sheet(
            &mut workbook,
            &candidates,
            &t.candidate_header,
            &t.candidates,
        )
        .map_err(err)?;
    }
    let bytes = workbook.save_to_buffer().map_err(err)?;
    write_atomic(&path, &bytes)?;
    Ok(())
}

/// Text of a cell as the CSV reader would see it: numbers without a trailing `.0`.
fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// Rows of cells with their 1-based row numbers, header first.
pub type SheetRows = Vec<(u64, Vec<String>)>;

/// The rows of one sheet with their 1-based row numbers (header first), or none when the
/// workbook has no such sheet.
pub fn read_sheet(path: &Path, name: &str) -> Result<Option<SheetRows>, WorkbookError> {
    let err = |message: String| WorkbookError::Read {
        path: path.to_path_buf(),
        message,
    };
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| err(e.to_string()))?;
    if !workbook.sheet_names().iter().any(|s| s == name) {
        return Ok(None);
    }
    let range = workbook
        .worksheet_range(name)
        .map_err(|e| err(e.to_string()))?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    Ok(Some(
        range
            .rows()
            .enumerate()
            .map(|(i, row)| {
                let mut cells = vec![String::new(); first_col];
                cells.extend(row.iter().map(text));
                (first_row + i as u64 + 1, cells)
            })
            .collect(),
    ))
}

/// The tables of an entity are in the workbook when the run has one.
pub fn has_workbook(run_dir: &Path) -> bool {
    run_dir.join(WORKBOOK).is_file()
}

/// For messages: where a table lives in the workbook.
pub fn location(entity: Entity, action: Action) -> String {
    format!("{WORKBOOK} sheet {}", sheet_name(entity, action.as_str()))
}
