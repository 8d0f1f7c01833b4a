//! The review tables analysts edit in a spreadsheet: per entity `<entity>.match.csv`,
//! `<entity>.create.csv`, `<entity>.exclude.csv` and the candidates `<entity>.passportal.csv`.
//! Written so they open cleanly in Excel and Google Sheets, read back whatever a spreadsheet did
//! to them, or refused naming file, row and column.

mod columns;
mod read;
mod rows;
pub mod workbook;
mod write;

pub use columns::{role, same_text, Role, NOTES, PASSPORTAL_NAME};
pub use read::{read_decisions, read_tables, table_files, Decision, Problem, ReviewError, Tables};
pub use rows::{check_rows, Written};
pub use write::{
    informational_cells, layout, row_cells, spreadsheet_csv, write_csv, write_tables, EntityTables,
    TableFiles,
};

use crate::model::decision::Action;
use crate::model::entity::Entity;

/// The decision columns, first in every table.
pub const ACTION: &str = "action";
pub const PASSPORTAL_ID: &str = "passportal_id";
pub const AUTOTASK_ID: &str = "autotask_id";
pub const RUN_ID: &str = "run_id";

/// The columns every table has, in order; entity-specific context columns follow, then `run_id`.
pub const LEADING_COLUMNS: &[&str] = &[
    ACTION,
    PASSPORTAL_ID,
    AUTOTASK_ID,
    "autotask_name",
    PASSPORTAL_NAME,
    "score",
    "method",
    "reason",
    "runner_up_id",
    "runner_up_name",
    "runner_up_score",
];

/// The file of one action's table, relative to the run folder.
pub fn table_path(entity: Entity, action: Action) -> String {
    format!("review/{}.{}.csv", entity.as_str(), action.as_str())
}

/// The candidates file (the drop-down of the Passportal screen).
pub fn candidates_path(entity: Entity) -> String {
    format!("review/{}.passportal.csv", entity.as_str())
}

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Make a value safe to open in a spreadsheet: a leading formula character (or a leading
/// apostrophe, so the escape is reversible) gets an apostrophe in front.
pub fn escape_cell(value: &str) -> String {
    match value.chars().next() {
        Some(c) if FORMULA_START.contains(&c) || c == '\'' => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// Undo exactly `escape_cell`.
pub fn unescape_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest,
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped_and_restored() {
        for v in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1 555",
            "-minus",
            "@SUM(A1)",
            "'quoted",
            "''twice",
            "\tTab",
            "plain",
            "",
        ] {
            let e = escape_cell(v);
            assert!(!e.starts_with(FORMULA_START), "{e:?}");
            assert_eq!(unescape_cell(&e), v);
        }
    }
}
