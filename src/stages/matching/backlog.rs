//! The backlog carried into each night's review tables. Everything the ledger's backlog owes is
//! shown again every night — rows waiting for review, creates to retry, analysts' matches not
//! yet applied — whether or not tonight's incremental extract changed them.
//!
//! How the owed records get into tonight's run: the extract re-reads them from Autotask by id
//! (`AutotaskOptions::owed`, an `id in (...)` beside the change-stamp filter). We chose that over
//! carrying staged rows forward from the run that had them because it is one rule with no
//! second source of truth: every stage after the extract (matching, plan, the load's payloads)
//! keeps reading one run folder; a renamed or deactivated owed record shows as it is now, not as
//! it was; and `prune` can delete any older run folder without losing a record. The cost is
//! ceil(owed/500) extra Autotask requests per entity at most, inside the same query.
//!
//! Here, per entity, after matching: rows the pipeline's policy would not apply become `review`
//! (undecided); owed creates come back as `create` while attempts are left, and as `review`
//! saying a person is needed once they are not; an analyst's match waits as `match`. Every row
//! gets `waiting_since`, `nights_waiting` and `new_tonight` columns. `harvest` takes the
//! decisions an analyst wrote into the previous night's tables into the backlog.

use super::{Action, Candidate, Method, ReviewRow};
use crate::model::entity::Entity;
use crate::model::pipeline::{Approval, Pipeline, SyncConfig};
use crate::stages::review::{check_rows, read_tables};
use crate::store::ledger::{BacklogRow, Ledger, LedgerError, Owed};
use crate::store::staging::Run;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The backlog columns of every review table.
pub const WAITING_SINCE: &str = "waiting_since";
pub const NIGHTS_WAITING: &str = "nights_waiting";
pub const NEW_TONIGHT: &str = "new_tonight";

/// What the pipeline lets through without review, and how often a create is retried.
#[derive(Debug, Clone, Copy)]
pub struct CarryPolicy<'a> {
    /// `[run] approval = "auto"`: rows the policy would not apply are marked `review`.
    pub auto: bool,
    pub sync: &'a SyncConfig,
    pub max_create_attempts: u32,
}

impl<'a> CarryPolicy<'a> {
    pub fn of(pipeline: &'a Pipeline) -> CarryPolicy<'a> {
        CarryPolicy {
            auto: pipeline.run.approval == Approval::Auto,
            sync: &pipeline.sync,
            max_create_attempts: pipeline.run.max_create_attempts,
        }
    }
}

/// The backlog of one entity, by Autotask id.
pub type Owing = BTreeMap<i64, BacklogRow>;

/// Mark tonight's rows of `entity` from the backlog and the policy; returns the entity's
/// backlog for `add_columns`. `names`: Passportal record names by id, for an analyst's match.
pub fn carry(
    ledger: &Ledger,
    entity: Entity,
    rows: &mut [ReviewRow],
    names: &HashMap<i64, String>,
    policy: &CarryPolicy,
) -> Result<Owing, LedgerError> {
    let owed = ledger.backlog(entity)?;
    for row in rows.iter_mut() {
        let b = owed.get(&row.autotask_id);
        match b {
            Some(b) if b.kind == Owed::Create && matches!(row.action, Action::Create) => {
                let last = b.reason.as_deref().unwrap_or("no outcome recorded");
                if b.attempts >= policy.max_create_attempts {
                    row.action = Action::Review;
                    row.reason = format!(
                        "needs a person: the create failed {} time(s) since run {} (last: \
                         {last}); set create to try again, or match or exclude",
                        b.attempts, b.first_run
                    );
                } else {
                    row.remembered = true;
                    row.reason = if b.attempts == 0 {
                        format!("create decided in run {}, not yet made", b.first_run)
                    } else {
                        format!(
                            "create owed since run {} ({} of {} attempts failed; last: {last}); \
                             tried again",
                            b.first_run, b.attempts, policy.max_create_attempts
                        )
                    };
                }
            }
            Some(b) if b.kind == Owed::Match && row.action != Action::Exclude => {
                if let Some(pp) = b.passportal_id {
                    row.action = Action::Match;
                    row.remembered = true;
                    row.best = Some(Candidate {
                        passportal_id: pp,
                        name: names.get(&pp).cloned().unwrap_or_default(),
                        score: 100.0,
                        method: Method::Manual,
                    });
                    row.reason = format!("matched by an analyst in run {}", b.last_run);
                }
            }
            _ if policy.auto
                && row.action == Action::Create
                && !policy.sync.creates_unreviewed(entity, row.best.is_some()) =>
            {
                row.action = Action::Review
            }
            _ => {}
        }
    }
    Ok(owed)
}

/// Give every row the backlog columns: since which night it is owed (`waiting_since`, a run id),
/// for how many nights, and whether it is new tonight. Rows owed nothing have them empty.
pub fn add_columns(run_id: &str, rows: &mut [ReviewRow], owed: &Owing) {
    for row in rows.iter_mut() {
        let b = owed.get(&row.autotask_id);
        let waiting = row.action == Action::Review || b.is_some_and(|b| b.kind != Owed::Review);
        let (since, nights) = match b {
            Some(b) if b.last_run == run_id => (b.first_run.clone(), b.nights),
            Some(b) => (b.first_run.clone(), b.nights + 1),
            None if waiting => (run_id.to_string(), 1),
            None => (String::new(), 0),
        };
        let shown = waiting || b.is_some();
        row.context.push((
            WAITING_SINCE,
            if shown { since.clone() } else { String::new() },
        ));
        row.context.push((
            NIGHTS_WAITING,
            if shown {
                nights.to_string()
            } else {
                String::new()
            },
        ));
        row.context.push((
            NEW_TONIGHT,
            if shown && since == run_id { "yes" } else { "" }.to_string(),
        ));
    }
}

/// What `harvest` took from the previous night's tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Harvest {
    /// Decisions taken into the backlog, per entity and action.
    pub decided: BTreeMap<Entity, BTreeMap<Action, u64>>,
    /// Rows whose cells do not agree with what that run wrote: not taken (the plan of that run
    /// names the problem).
    pub refused: u64,
}

/// Take the decisions an analyst wrote into `previous`'s review tables for rows still in the
/// backlog (a `review` row changed to create, exclude or match) into the ledger, so tonight's
/// run applies them: creates and matches as owed, exclusions remembered. Rows whose tables
/// cannot be read are left waiting.
pub fn harvest(ledger: &Ledger, previous: &Run) -> Result<Harvest, super::MatchStageError> {
    let mut out = Harvest::default();
    let Ok(matched) = previous.stage("match") else {
        return Ok(out);
    };
    for &entity in Entity::ALL {
        if !matched.files.contains_key(&super::proposals_path(entity)) {
            continue;
        }
        let owed = ledger.backlog(entity)?;
        if owed.is_empty() {
            continue;
        }
        let proposals = super::read_proposals(previous, entity)?;
        let written = super::written(&proposals);
        let Ok(tables) = read_tables(&previous.dir, &previous.id, entity, None) else {
            continue;
        };
        let problems = check_rows(&tables.decisions, &written);
        let bad: BTreeSet<(String, Option<u64>)> = problems
            .iter()
            .chain(&tables.problems)
            .map(|p| (p.file.clone(), p.row))
            .collect();
        let mut puts = Vec::new();
        let mut excluded = Vec::new();
        for d in &tables.decisions {
            let Some(b) = owed.get(&d.autotask_id) else {
                continue;
            };
            let was = written.get(&d.autotask_id).map(|w| w.action);
            if was != Some(Action::Review) || d.action == Action::Review {
                continue;
            }
            if bad.contains(&(d.file.clone(), Some(d.row))) {
                out.refused += 1;
                continue;
            }
            let decided = |kind, pp| BacklogRow {
                kind,
                passportal_id: pp,
                attempts: 0,
                reason: Some(format!("decided {} in run {}", d.action, previous.id)),
                ..b.clone()
            };
            match (d.action, d.passportal_id) {
                (Action::Create, _) => puts.push(decided(Owed::Create, None)),
                (Action::Match, Some(pp)) => puts.push(decided(Owed::Match, Some(pp))),
                (Action::Exclude, _) => excluded.push(d.autotask_id),
                // A match without an id decides nothing: the row keeps waiting.
                _ => continue,
            }
            *out.decided
                .entry(entity)
                .or_default()
                .entry(d.action)
                .or_default() += 1;
        }
        let remember: Vec<(crate::model::ids::AutotaskId, Action)> = excluded
            .iter()
            .map(|id| (crate::model::ids::AutotaskId(*id), Action::Exclude))
            .collect();
        ledger.in_transaction(|l| {
            l.put_backlog(&puts)?;
            l.remember(entity, &remember, &previous.id)?;
            l.drop_backlog(entity, &excluded)
        })?;
    }
    Ok(out)
}

/// Companies still owed (in the backlog) that tonight's company rows do not show: their
/// children wait with them.
pub fn owed_companies(
    ledger: &Ledger,
    shown: &BTreeSet<i64>,
) -> Result<BTreeSet<i64>, LedgerError> {
    Ok(ledger
        .backlog(Entity::Companies)?
        .into_keys()
        .filter(|id| !shown.contains(id))
        .collect())
}
