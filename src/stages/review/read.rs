//! Reading the review tables back as spreadsheets save them: with or without BOM, CRLF or LF,
//! `,` `;` or tab delimiters, UTF-8 or Windows-1252, rows in any order or moved between the three
//! files, extra columns, blank rows, `action` in any case. Anything else is refused naming the
//! file, row and column.

use super::workbook;
use super::{
    table_path, unescape_cell, ACTION, AUTOTASK_ID, DECISION_COLUMNS, PASSPORTAL_ID, RUN_ID,
};
use crate::model::decision::Action;
use crate::model::entity::Entity;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// One analyst decision: a row of a review table.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    pub autotask_id: i64,
    pub passportal_id: Option<i64>,
    /// Where it was read (file relative to the run folder, 1-based row as a spreadsheet shows it).
    pub file: String,
    pub row: u64,
    /// The other cells of the row (lower-case column → value, formula escapes undone).
    pub cells: BTreeMap<String, String>,
}

/// One problem in the tables, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, ": row {row}")?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column {col}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the review tables have {} problem(s); nothing was changed:\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    let mut s: Vec<String> = problems.iter().take(50).map(|p| format!("  {p}")).collect();
    if problems.len() > 50 {
        s.push(format!("  ... and {} more", problems.len() - 50));
    }
    s.join("\n")
}

/// Decode file bytes: BOM stripped, UTF-8 if valid, else Windows-1252 (Excel's "CSV" format).
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// The delimiter of the header line: the most frequent of `,` `;` tab outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for c in counts.iter_mut() {
                if c.0 == b {
                    c.1 += 1;
                }
            }
        }
    }
    counts
        .iter()
        .max_by_key(|c| c.1)
        .filter(|c| c.1 > 0)
        .map_or(b',', |c| c.0)
}

/// Read one table file; `run_id` is the run the tables must belong to.
/// A CSV table as rows of cells with their 1-based line numbers, header first. Rows that are not
/// valid CSV are reported as problems and left out.
fn csv_rows(
    path: &Path,
    rel: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<(u64, Vec<String>)>, ReviewError> {
    let bytes = std::fs::read(path).map_err(|source| ReviewError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = decode_text(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(&text))
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut lines = LineCounter::new(&text);
    let mut out = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let row = r.position().map_or(0, |p| lines.line_at(p.byte()));
                out.push((row, r.iter().map(str::to_string).collect()));
            }
            Err(e) => problems.push(Problem {
                file: rel.to_string(),
                row: e.position().map(|p| lines.line_at(p.byte())),
                column: None,
                message: format!("not a valid CSV row: {e}"),
            }),
        }
    }
    Ok(out)
}

/// Decisions from a table's rows (header first). `escaped`: cells carry the CSV writer's
/// formula escapes (a workbook's text cells do not).
fn parse_table(
    rel: &str,
    rows: Vec<(u64, Vec<String>)>,
    run_id: &str,
    escaped: bool,
    problems: &mut Vec<Problem>,
) -> Vec<Decision> {
    let problem = |row: Option<u64>, column: Option<&str>, message: String| Problem {
        file: rel.to_string(),
        row,
        column: column.map(str::to_string),
        message,
    };
    let unescape = |v: &str| -> String {
        if escaped {
            unescape_cell(v).to_string()
        } else {
            v.to_string()
        }
    };
    let mut rows = rows.into_iter();
    let Some((_, headers)) = rows.next() else {
        problems.push(problem(
            Some(1),
            None,
            "the table is empty (no header)".into(),
        ));
        return Vec::new();
    };
    let index: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            (
                h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase(),
                i,
            )
        })
        .collect();
    let mut missing = false;
    for required in [ACTION, AUTOTASK_ID, PASSPORTAL_ID, RUN_ID] {
        if !index.contains_key(required) {
            problems.push(problem(
                Some(1),
                Some(required),
                "required column is missing".into(),
            ));
            missing = true;
        }
    }
    if missing {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (row, record) in rows {
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |name: &str| unescape(record.get(index[name]).map_or("", |c| c.trim()));
        let action_text = cell(ACTION);
        let action = match Action::parse(&action_text) {
            Some(a) => a,
            None => {
                problems.push(problem(
                    Some(row),
                    Some(ACTION),
                    format!("unknown action {action_text:?}: use match, create or exclude"),
                ));
                continue;
            }
        };
        let autotask_id = match parse_id(&cell(AUTOTASK_ID)) {
            Some(Some(id)) => id,
            _ => {
                problems.push(problem(
                    Some(row),
                    Some(AUTOTASK_ID),
                    format!("{:?} is not an Autotask id", cell(AUTOTASK_ID)),
                ));
                continue;
            }
        };
        let passportal_id = match parse_id(&cell(PASSPORTAL_ID)) {
            Some(id) => id,
            None => {
                problems.push(problem(
                    Some(row),
                    Some(PASSPORTAL_ID),
                    format!("{:?} is not a Passportal id", cell(PASSPORTAL_ID)),
                ));
                continue;
            }
        };
        let row_run = cell(RUN_ID);
        if row_run != run_id {
            problems.push(problem(
                Some(row),
                Some(RUN_ID),
                format!("this row belongs to run {row_run:?}, not to run {run_id}"),
            ));
            continue;
        }
        let cells = index
            .iter()
            .filter(|(name, _)| !DECISION_COLUMNS.contains(&name.as_str()))
            .map(|(name, i)| (name.clone(), unescape(record.get(*i).map_or("", |c| c))))
            .collect();
        out.push(Decision {
            action,
            autotask_id,
            passportal_id,
            file: rel.to_string(),
            row,
            cells,
        });
    }
    out
}

/// Line numbers (1-based, as a spreadsheet shows rows) of byte offsets, counted from the text
/// itself: the csv crate's own line count lags behind on CRLF files.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line of a byte offset; offsets must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = (offset as usize).min(self.bytes.len());
        // After a CRLF the reader reports the record as starting at the LF.
        if self.bytes.get(offset) == Some(&b'\n') {
            offset += 1;
        }
        if offset >= self.offset {
            self.line += self.bytes[self.offset..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = offset;
        }
        self.line
    }
}

/// An id cell: `Some(None)` when blank, `Some(Some(id))` when an integer (Excel may append
/// `.0`), `None` when it is something else.
fn parse_id(s: &str) -> Option<Option<i64>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    let s = s.strip_suffix(".0").unwrap_or(s);
    s.parse::<i64>().ok().map(Some)
}

/// Read the three action tables of an entity (from the run's workbook when it has one, else the
/// CSV files). Problems local to a row (unparseable cells, a foreign run) are collected and
/// returned as one error; cross-row checks are the plan's.
pub fn read_decisions(
    run_dir: &Path,
    run_id: &str,
    entity: Entity,
) -> Result<Vec<Decision>, ReviewError> {
    let mut problems = Vec::new();
    let mut decisions = Vec::new();
    for action in Action::ALL {
        if workbook::has_workbook(run_dir) {
            let rel = workbook::location(entity, action);
            let sheet = workbook::sheet_name(entity, action.as_str());
            match workbook::read_sheet(&run_dir.join(workbook::WORKBOOK), &sheet) {
                Ok(Some(rows)) => {
                    decisions.extend(parse_table(&rel, rows, run_id, false, &mut problems))
                }
                Ok(None) => problems.push(Problem {
                    file: workbook::WORKBOOK.into(),
                    row: None,
                    column: None,
                    message: format!("the sheet {sheet} is missing"),
                }),
                Err(e) => problems.push(Problem {
                    file: workbook::WORKBOOK.into(),
                    row: None,
                    column: None,
                    message: e.to_string(),
                }),
            }
        } else {
            let rel = table_path(entity, action);
            let rows = csv_rows(&run_dir.join(&rel), &rel, &mut problems)?;
            decisions.extend(parse_table(&rel, rows, run_id, true, &mut problems));
        }
    }
    if problems.is_empty() {
        Ok(decisions)
    } else {
        Err(ReviewError::Invalid(problems))
    }
}

/// The files an entity's decisions are read from, relative to the run folder.
pub fn table_files(run_dir: &Path, entity: Entity) -> Vec<String> {
    if workbook::has_workbook(run_dir) {
        vec![workbook::WORKBOOK.to_string()]
    } else {
        Action::ALL.iter().map(|a| table_path(entity, *a)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_encodings_are_recognised() {
        assert_eq!(sniff_delimiter("action;passportal_id;autotask_id\n"), b';');
        assert_eq!(sniff_delimiter("action,passportal_id\n"), b',');
        assert_eq!(sniff_delimiter("action\tpassportal_id\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c,d\n"), b',');
        assert_eq!(decode_text(b"\xEF\xBB\xBFcaf\xC3\xA9"), "café");
        assert_eq!(decode_text(b"caf\xE9"), "café");
    }

    #[test]
    fn ids_as_spreadsheets_save_them() {
        assert_eq!(parse_id(""), Some(None));
        assert_eq!(parse_id(" 42 "), Some(Some(42)));
        assert_eq!(parse_id("42.0"), Some(Some(42)));
        assert_eq!(parse_id("4.2E+1"), None);
        assert_eq!(parse_id("abc"), None);
    }
}
