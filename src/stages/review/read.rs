//! Reading the review tables back as spreadsheets save them: with or without BOM, CRLF or LF,
//! `,` `;` or tab delimiters, UTF-8 or Windows-1252, rows in any order or moved between the three
//! files, extra columns, blank rows, `action` in any case. Anything else is refused naming the
//! file, row and column.

use super::columns::{role, Role, REQUIRED};
use super::workbook;
use super::{table_path, unescape_cell, ACTION, AUTOTASK_ID, PASSPORTAL_ID, RUN_ID};
use crate::model::decision::Action;
use crate::model::entity::Entity;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

impl Decision {
    /// A problem at one cell of this row: its file, its row as the spreadsheet shows it, the
    /// column.
    pub fn problem(&self, column: &str, message: String) -> Problem {
        Problem {
            file: self.file.clone(),
            row: Some(self.row),
            column: Some(column.to_string()),
            message,
        }
    }
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

/// At most this many problems are listed per file; the rest are counted.
const SHOWN_PER_FILE: usize = 50;

/// Every problem, file by file (in the order the files first appear), up to
/// `SHOWN_PER_FILE` per file.
fn list(problems: &[Problem]) -> String {
    let mut files: Vec<&str> = Vec::new();
    for p in problems {
        if !files.contains(&p.file.as_str()) {
            files.push(&p.file);
        }
    }
    let mut s = Vec::new();
    for file in files {
        let of_file: Vec<&Problem> = problems.iter().filter(|p| p.file == file).collect();
        s.extend(
            of_file
                .iter()
                .take(SHOWN_PER_FILE)
                .map(|p| format!("  {p}")),
        );
        if of_file.len() > SHOWN_PER_FILE {
            s.push(format!(
                "  {file}: ... and {} more problem(s) in this file",
                of_file.len() - SHOWN_PER_FILE
            ));
        }
    }
    s.join("\n")
}

/// The letter a spreadsheet shows above a 0-based column: A, ..., Z, AA, ...
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
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
/// formula escapes (a workbook's text cells do not). `known`: the identifying columns the
/// tables were written with, when the caller knows them (a column that is none of these is
/// refused). Autotask ids of rows that were read but refused go into `seen`.
fn parse_table(
    rel: &str,
    rows: Vec<(u64, Vec<String>)>,
    run_id: &str,
    escaped: bool,
    known: Option<&BTreeSet<String>>,
    out: &mut Tables,
) {
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
    let rows: Vec<(u64, Vec<String>)> = rows.into_iter().collect();
    let Some((header_row, headers)) = rows.first().cloned() else {
        out.problems.push(problem(
            Some(1),
            None,
            "the table is empty (no header)".into(),
        ));
        return;
    };
    let rows = &rows[1..];
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut header_ok = true;
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if name.is_empty() {
            if let Some((row, _)) = rows
                .iter()
                .find(|(_, r)| r.get(i).is_some_and(|c| !c.trim().is_empty()))
            {
                out.problems.push(problem(
                    Some(*row),
                    Some(&column_letter(i)),
                    "this column has no header but holds data: remove the column".into(),
                ));
                header_ok = false;
            }
            continue;
        }
        if let Some(first) = index.get(&name) {
            out.problems.push(problem(
                Some(header_row),
                Some(&name),
                format!(
                    "the column {name} appears twice (columns {} and {}): keep one",
                    column_letter(*first),
                    column_letter(i)
                ),
            ));
            header_ok = false;
            continue;
        }
        let unknown = known.is_some_and(|k| role(&name) == Role::Identifying && !k.contains(&name));
        if unknown {
            out.problems.push(problem(
                Some(header_row),
                Some(&name),
                format!(
                    "{name:?} (column {}) is not a column of this table: remove it (free text \
                     goes in a column named {})",
                    column_letter(i),
                    super::NOTES
                ),
            ));
            header_ok = false;
            continue;
        }
        index.insert(name, i);
    }
    for required in REQUIRED {
        if !index.contains_key(*required) {
            out.problems.push(problem(
                Some(header_row),
                Some(required),
                "required column is missing".into(),
            ));
            header_ok = false;
        }
    }
    if !header_ok {
        // The rows are there, only the header is wrong: their records are not missing.
        if let Some(i) = index.get(AUTOTASK_ID) {
            out.seen.extend(
                rows.iter()
                    .filter_map(|(_, r)| parse_id(&unescape(r.get(*i).map_or("", |c| c.trim()))))
                    .flatten(),
            );
        }
        return;
    }
    for (row, record) in rows {
        let row = *row;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |name: &str| unescape(record.get(index[name]).map_or("", |c| c.trim()));
        let autotask_id = match parse_id(&cell(AUTOTASK_ID)) {
            Some(Some(id)) => id,
            _ => {
                out.problems.push(problem(
                    Some(row),
                    Some(AUTOTASK_ID),
                    format!("{:?} is not an Autotask id", cell(AUTOTASK_ID)),
                ));
                continue;
            }
        };
        out.seen.insert(autotask_id);
        let action_text = cell(ACTION);
        let action = match Action::parse(&action_text) {
            Some(a) => a,
            None => {
                out.problems.push(problem(
                    Some(row),
                    Some(ACTION),
                    format!("unknown action {action_text:?}: use {}", Action::CHOICES),
                ));
                continue;
            }
        };
        let passportal_id = match parse_id(&cell(PASSPORTAL_ID)) {
            Some(id) => id,
            None => {
                out.problems.push(problem(
                    Some(row),
                    Some(PASSPORTAL_ID),
                    format!("{:?} is not a Passportal id", cell(PASSPORTAL_ID)),
                ));
                continue;
            }
        };
        let row_run = cell(RUN_ID);
        if row_run != run_id {
            out.problems.push(problem(
                Some(row),
                Some(RUN_ID),
                format!("this row belongs to run {row_run:?}, not to run {run_id}"),
            ));
            continue;
        }
        let cells = index
            .iter()
            .filter(|(name, _)| !matches!(role(name), Role::Decision | Role::Key | Role::Run))
            .map(|(name, i)| (name.clone(), unescape(record.get(*i).map_or("", |c| c))))
            .collect();
        out.decisions.push(Decision {
            action,
            autotask_id,
            passportal_id,
            file: rel.to_string(),
            row,
            cells,
        });
    }
}

/// Row numbers as a spreadsheet shows them (1-based, header row 1) of byte offsets where
/// records start: every line break outside quotes ends a row (a blank line is a row too), a line
/// break inside a quoted cell does not.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
    quoted: bool,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
            quoted: false,
        }
    }

    /// The row of a byte offset; offsets must not decrease between calls.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = (offset as usize).min(self.bytes.len());
        // The reader may report a record as starting at the line break before it (the LF of a
        // CRLF, a skipped blank line): a record never starts with one.
        while matches!(self.bytes.get(offset), Some(b'\r' | b'\n')) {
            offset += 1;
        }
        if offset >= self.offset {
            for b in &self.bytes[self.offset..offset] {
                match b {
                    b'"' => self.quoted = !self.quoted,
                    b'\n' if !self.quoted => self.line += 1,
                    _ => {}
                }
            }
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

/// What the three action tables of an entity say: the rows read as decisions, the problems
/// local to a row or a header (each located), and the Autotask ids of every row read, refused
/// or not (so a refused row is not also reported missing).
#[derive(Debug, Default)]
pub struct Tables {
    pub decisions: Vec<Decision>,
    pub problems: Vec<Problem>,
    pub seen: BTreeSet<i64>,
}

/// Read the action tables of an entity (match, create, exclude, and review where the run has it) (from the run's workbook when it has one, else the
/// CSV files). `known`: the identifying columns the tables were written with, if known (another
/// column is refused). Cross-row checks are the plan's.
pub fn read_tables(
    run_dir: &Path,
    run_id: &str,
    entity: Entity,
    known: Option<&BTreeSet<String>>,
) -> Result<Tables, ReviewError> {
    let mut out = Tables::default();
    for action in Action::ALL {
        if workbook::has_workbook(run_dir) {
            let rel = workbook::location(entity, action);
            let sheet = workbook::sheet_name(entity, action.as_str());
            match workbook::read_sheet(&run_dir.join(workbook::WORKBOOK), &sheet) {
                Ok(Some(rows)) => parse_table(&rel, rows, run_id, false, known, &mut out),
                // Runs from before the `review` action have no such sheet.
                Ok(None) if action == Action::Review => {}
                Ok(None) => out.problems.push(Problem {
                    file: workbook::WORKBOOK.into(),
                    row: None,
                    column: None,
                    message: format!("the sheet {sheet} is missing"),
                }),
                Err(e) => out.problems.push(Problem {
                    file: workbook::WORKBOOK.into(),
                    row: None,
                    column: None,
                    message: e.to_string(),
                }),
            }
        } else {
            let rel = table_path(entity, action);
            // Runs from before the `review` action have no such table.
            if action == Action::Review && !run_dir.join(&rel).exists() {
                continue;
            }
            let rows = csv_rows(&run_dir.join(&rel), &rel, &mut out.problems)?;
            parse_table(&rel, rows, run_id, true, known, &mut out);
        }
    }
    Ok(out)
}

/// The decisions of an entity's three tables, or every problem local to a row or header.
pub fn read_decisions(
    run_dir: &Path,
    run_id: &str,
    entity: Entity,
) -> Result<Vec<Decision>, ReviewError> {
    let tables = read_tables(run_dir, run_id, entity, None)?;
    if tables.problems.is_empty() {
        Ok(tables.decisions)
    } else {
        Err(ReviewError::Invalid(tables.problems))
    }
}

/// The files an entity's decisions are read from, relative to the run folder.
pub fn table_files(run_dir: &Path, entity: Entity) -> Vec<String> {
    if workbook::has_workbook(run_dir) {
        vec![workbook::WORKBOOK.to_string()]
    } else {
        Action::ALL
            .iter()
            .map(|a| table_path(entity, *a))
            .filter(|rel| *rel != table_path(entity, Action::Review) || run_dir.join(rel).exists())
            .collect()
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
    fn rows_are_counted_as_a_spreadsheet_shows_them() {
        let text = "h1,h2\r\n\"two\r\nlines\",x\r\n\r\nlast,\"a \"\"q\"\"\"\r\nend,y\r\n";
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut lines = LineCounter::new(text);
        let rows: Vec<(u64, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (
                    lines.line_at(r.position().unwrap().byte()),
                    r[0].to_string(),
                )
            })
            .collect();
        let want = [(1, "h1"), (2, "two\r\nlines"), (4, "last"), (5, "end")];
        let want: Vec<(u64, String)> = want.iter().map(|(n, s)| (*n, s.to_string())).collect();
        assert_eq!(rows, want);
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
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
