//! Settling the ledger's backlog with a plan, and again once its load ran: what the plan left
//! pending is owed for review (first seen tonight, or one night older); what it excluded or
//! found already linked leaves; what it creates or links is owed until the ledger holds the
//! link — after a load, a create still without a link counts one more failed attempt (it was
//! refused, its outcome is unknown, or its parent was missing). A record of the backlog that a
//! plan does not mention stays as it was: nothing owed is dropped for being absent. Called by
//! the commands after `plan` and after `load`; the load itself knows nothing of it.

use super::CREATE;
use crate::model::entity::Entity;
use crate::model::ids::AutotaskId;
use crate::stages::plan::Plan;
use crate::store::ledger::{BacklogRow, Ledger, LedgerError, Owed};

/// Settle the backlog with `plan` (`loaded`: its load has run).
pub fn settle(ledger: &Ledger, plan: &Plan, loaded: bool) -> Result<(), LedgerError> {
    let run = &plan.run_id;
    for (&entity, p) in &plan.entities {
        let owed = ledger.backlog(entity)?;
        let links = ledger.links(entity)?;
        let writes = ledger.write_records(entity, CREATE)?;
        let linked = |id: i64| links.contains_key(&AutotaskId(id));
        let carried = |id: i64, kind: Owed| -> BacklogRow {
            match owed.get(&id) {
                Some(b) => BacklogRow {
                    kind,
                    nights: if b.last_run == *run {
                        b.nights
                    } else {
                        b.nights + 1
                    },
                    last_run: run.clone(),
                    ..b.clone()
                },
                None => BacklogRow {
                    entity,
                    autotask_id: id,
                    kind,
                    passportal_id: None,
                    first_run: run.clone(),
                    last_run: run.clone(),
                    nights: 1,
                    attempts: 0,
                    reason: None,
                },
            }
        };
        let mut puts = Vec::new();
        let mut drops: Vec<i64> = Vec::new();
        for &AutotaskId(id) in &p.pending {
            // A create or match past its attempts waits as what it is; the rest for review.
            let kind = owed.get(&id).map_or(Owed::Review, |b| b.kind);
            puts.push(carried(id, kind));
        }
        drops.extend(
            p.exclude
                .iter()
                .chain(&p.linked)
                .chain(&p.orphans)
                .map(|a| a.0),
        );
        for l in &p.link {
            if loaded || linked(l.autotask_id.0) {
                drops.push(l.autotask_id.0);
            } else {
                puts.push(BacklogRow {
                    passportal_id: Some(l.passportal_id.0),
                    ..carried(l.autotask_id.0, Owed::Match)
                });
            }
        }
        for &AutotaskId(id) in &p.create {
            if linked(id) {
                drops.push(id);
                continue;
            }
            let mut row = carried(id, Owed::Create);
            if loaded {
                row.attempts += 1;
                row.reason = Some(
                    writes
                        .get(&AutotaskId(id))
                        .filter(|w| w.run_id == *run)
                        .and_then(|w| w.message.clone())
                        .unwrap_or_else(|| "not created (see load/errors.csv)".into()),
                );
            }
            puts.push(row);
        }
        drops.retain(|id| owed.contains_key(id));
        ledger.in_transaction(|l| {
            l.put_backlog(&puts)?;
            l.drop_backlog(entity, &drops)
        })?;
    }
    Ok(())
}

/// Backlog counts of one entity for the overview and `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BacklogCounts {
    /// Waiting for an analyst's decision.
    pub review: u64,
    /// Creates owed, attempts left: tried again next night.
    pub retry: u64,
    /// Creates past `run.max_create_attempts`: a person must look.
    pub needs_person: u64,
    /// Analysts' matches not yet applied.
    pub matches: u64,
    /// The oldest night (run id) any row of the entity is owed since.
    pub oldest: Option<String>,
}

/// The backlog counted per entity, with `max_attempts` telling a retry from a case for a person.
pub fn counts(
    rows: &[BacklogRow],
    max_attempts: u32,
) -> std::collections::BTreeMap<Entity, BacklogCounts> {
    let mut out: std::collections::BTreeMap<Entity, BacklogCounts> = Default::default();
    for b in rows {
        let c = out.entry(b.entity).or_default();
        match b.kind {
            Owed::Review => c.review += 1,
            Owed::Create if b.attempts >= max_attempts => c.needs_person += 1,
            Owed::Create => c.retry += 1,
            Owed::Match => c.matches += 1,
        }
        if c.oldest.as_ref().is_none_or(|o| b.first_run < *o) {
            c.oldest = Some(b.first_run.clone());
        }
    }
    out
}
