//! The backlog as `status` shows it: what the ledger still owes across nights, per entity and
//! kind (waiting for review, creates to retry, creates that need a person, analysts' matches
//! not yet applied) with the oldest night, and every create past `run.max_create_attempts`.
//! Read from the ledger without taking it, so `status` works beside a running atpp.

use crate::commands::nightly::{backlog_report, NeedsPerson};
use crate::model::entity::Entity;
use crate::stages::load::backlog::BacklogCounts;
use crate::store::ledger::Ledger;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// `status`'s `backlog` object (its JSON shape is documented in README).
#[derive(Debug, Clone, Default, Serialize)]
pub struct BacklogStatus {
    /// Per entity: `review`, `retry`, `needs_person`, `matches`, and `oldest` (a run id).
    pub entities: BTreeMap<Entity, BacklogCounts>,
    /// Creates no longer retried: a person must decide them.
    pub needs_person: Vec<NeedsPerson>,
    /// The pipeline's bound on create attempts the counts were made with.
    pub max_create_attempts: u32,
    /// Why the backlog could not be read, if it could not.
    pub note: Option<String>,
}

impl BacklogStatus {
    /// Rows owed over all entities.
    pub fn total(&self) -> u64 {
        self.entities
            .values()
            .map(|c| c.review + c.retry + c.needs_person + c.matches)
            .sum()
    }
}

/// Read the backlog of the ledger at `path`.
pub fn read(path: &Path, max_create_attempts: u32) -> BacklogStatus {
    let mut out = BacklogStatus {
        max_create_attempts,
        ..BacklogStatus::default()
    };
    if !path.is_file() {
        return out;
    }
    let read = Ledger::open_read_only(path)
        .map_err(anyhow::Error::from)
        .and_then(|ledger| backlog_report(&ledger, max_create_attempts));
    match read {
        Ok((entities, people)) => {
            out.entities = entities;
            out.needs_person = people;
        }
        Err(e) => out.note = Some(format!("backlog not read: {e:#}")),
    }
    out
}

/// The backlog as text for `status`.
pub fn render(b: &BacklogStatus) -> String {
    let mut out = String::from("\nbacklog:\n");
    if let Some(note) = &b.note {
        out.push_str(&format!("  {note}\n"));
        return out;
    }
    if b.total() == 0 {
        out.push_str("  nothing owed\n");
        return out;
    }
    out.push_str(&crate::commands::nightly::render_backlog(
        &b.entities,
        &b.needs_person,
    ));
    out
}
