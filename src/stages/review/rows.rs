//! Each row must still be itself: the cells that identify a row agree with what the run wrote
//! for its Autotask id, and its decision does not contradict another cell of the row. This is
//! what refuses a column sorted on its own (ids no longer next to their names) or an id typed
//! beside `create`, naming the file, the row, the column and both values.

use super::columns::{role, same_text, Role, PASSPORTAL_NAME};
use super::{Decision, Problem, PASSPORTAL_ID};
use crate::model::decision::Action;
use std::collections::BTreeMap;

/// A row as the run wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub action: Action,
    pub passportal_id: Option<i64>,
    /// Every cell but the decision, the key and the run (column → value).
    pub cells: BTreeMap<String, String>,
}

fn id_text(id: Option<i64>) -> String {
    id.map_or_else(|| "(empty)".to_string(), |i| i.to_string())
}

/// The problems of rows that are no longer themselves or contradict themselves. Rows whose
/// Autotask id the run did not write are left to the plan (it names them).
pub fn check_rows(decisions: &[Decision], written: &BTreeMap<i64, Written>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for d in decisions {
        let Some(w) = written.get(&d.autotask_id) else {
            continue;
        };
        let id_changed = d.passportal_id != w.passportal_id;
        for (column, read) in &d.cells {
            let Some(as_written) = w.cells.get(column) else {
                continue;
            };
            match role(column) {
                Role::Identifying if !same_text(as_written, read) => problems.push(d.problem(
                    column,
                    format!(
                        "{column} is {read:?} here, but Autotask id {} was written with \
                         {as_written:?}: this row no longer shows its own record (a column sorted \
                         or edited on its own?); put the cell back: only action and \
                         passportal_id can be changed",
                        d.autotask_id
                    ),
                )),
                Role::ShowsDecision if !id_changed && !same_text(as_written, read) => problems
                    .push(d.problem(
                        column,
                        format!(
                            "{column} is {read:?} here, but it was written {as_written:?} and \
                             passportal_id is unchanged: put the cell back (to choose another \
                             record, change passportal_id)"
                        ),
                    )),
                Role::ShowsDecision
                    if id_changed
                        && !as_written.trim().is_empty()
                        && same_text(as_written, read) =>
                {
                    problems.push(d.problem(
                        PASSPORTAL_ID,
                        format!(
                            "passportal_id was changed from {} to {}, but {PASSPORTAL_NAME} still \
                             shows {as_written:?}, the record it was written with: to choose \
                             the new record clear {PASSPORTAL_NAME} (or type its name); if the \
                             column was sorted on its own, undo the sort",
                            id_text(w.passportal_id),
                            id_text(d.passportal_id)
                        ),
                    ))
                }
                _ => {}
            }
        }
        // An id beside create or exclude is allowed only where the run wrote it as a suggestion
        // (a row it did not propose to match).
        let suggestion = w.action != Action::Match && d.passportal_id == w.passportal_id;
        match (d.action, d.passportal_id) {
            (Action::Create, Some(pp)) if !suggestion => problems.push(d.problem(
                PASSPORTAL_ID,
                format!(
                    "Passportal id {pp} is filled in but the action is create, which would make \
                     a new record beside it: to link to {pp} set action to match; to create a \
                     new record clear passportal_id"
                ),
            )),
            (Action::Exclude, Some(pp)) if !suggestion => problems.push(d.problem(
                PASSPORTAL_ID,
                format!(
                    "Passportal id {pp} is filled in but the action is exclude: to leave the \
                     record out clear passportal_id; to link to {pp} set action to match"
                ),
            )),
            _ => {}
        }
    }
    problems
}
