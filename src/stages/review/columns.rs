//! What each column of a review table is for: the one place that says which cells an analyst
//! decides with, which identify the row (and must still agree with what the run staged), and
//! how a read-back cell is compared with the cell as written. The reader, the row checks and the
//! plan all ask here. The entity's own columns are those the schema table (`model::schema`)
//! marks `shown`: read-only, so they identify the row like every column but the decisions.

use super::{ACTION, AUTOTASK_ID, PASSPORTAL_ID, RUN_ID};

/// The name of the record in `passportal_id`, as written.
pub const PASSPORTAL_NAME: &str = "passportal_name";

/// A free-text column an analyst may add to any table; never read for a decision.
pub const NOTES: &str = "notes";

/// What a column of a review table is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `action`, `passportal_id`: the analyst's decision, editable.
    Decision,
    /// `autotask_id`: which staged record the row is about.
    Key,
    /// `run_id`: which run the row belongs to.
    Run,
    /// `passportal_name`: shows the record in `passportal_id`; when that id is changed it is
    /// cleared (or rewritten), never left showing the old record.
    ShowsDecision,
    /// `notes`: the analyst's own free text.
    Note,
    /// Every other column the tables show (the Autotask name, the matcher's score and reason,
    /// the entity's own columns): must agree with what the run wrote for that Autotask id.
    Identifying,
}

/// The role of a column (lower-case header name).
pub fn role(column: &str) -> Role {
    match column {
        ACTION | PASSPORTAL_ID => Role::Decision,
        AUTOTASK_ID => Role::Key,
        RUN_ID => Role::Run,
        PASSPORTAL_NAME => Role::ShowsDecision,
        NOTES => Role::Note,
        _ => Role::Identifying,
    }
}

/// The columns a table cannot be read without: the decision, the record and its run, and the
/// Autotask name (without it nothing shows a one-column sort of the ids).
pub const REQUIRED: &[&str] = &[ACTION, PASSPORTAL_ID, AUTOTASK_ID, "autotask_name", RUN_ID];

/// A cell as read back equals the cell as written, allowing only what saving does to text that
/// means the same: surrounding spaces, CRLF for LF inside a cell, and Windows-1252's `?` for a
/// character the code page lacks (Excel's plain "CSV").
pub fn same_text(written: &str, read: &str) -> bool {
    let norm = |s: &str| s.trim().replace("\r\n", "\n");
    let (w, r) = (norm(written), norm(read));
    if w == r {
        return true;
    }
    let lossy: String = w
        .chars()
        .map(|c| {
            let mut buf = [0; 4];
            let (_, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
            if unmappable {
                '?'
            } else {
                c
            }
        })
        .collect();
    lossy == r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_may_change_only_what_means_the_same() {
        assert!(same_text("Acme", " Acme "));
        assert!(same_text("1 Main St\r\nSuite 2", "1 Main St\nSuite 2"));
        assert!(same_text("日本 Ltd", "?? Ltd"));
        assert!(!same_text("Acme", "Acme Inc"));
        assert!(!same_text("0303", "303"));
        assert!(!same_text("Łódź", "??d?"));
        assert_eq!(role("action"), Role::Decision);
        assert_eq!(role("company_name"), Role::Identifying);
    }
}
