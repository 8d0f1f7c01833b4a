//! The orphans report. Each load records the orphans its plan found (linked records deleted in
//! Autotask, kept in Passportal) in the ledger, settles those whose Passportal record is gone
//! from this run's listing, and writes every orphan the ledger still holds — whichever night
//! found it — to `load/orphans.csv`, so the report survives the nights between deletion sweeps.

use super::{LoadContext, LoadError};
use crate::model::entity::Entity;
use crate::model::ids::AutotaskId;
use crate::stages::plan::Plan;
use crate::store::parquet::{read_frame, Columns};
use std::collections::{BTreeMap, HashSet};

pub const ORPHANS_FILE: &str = "load/orphans.csv";

/// Record, settle and report; returns how many orphans the ledger holds.
pub fn report(ctx: &LoadContext<'_>, plan: &Plan) -> Result<u64, LoadError> {
    for (entity, p) in &plan.entities {
        if p.orphans.is_empty() {
            continue;
        }
        let links = ctx.ledger.links(*entity)?;
        let found: Vec<_> = p
            .orphans
            .iter()
            .map(|id| {
                let at = AutotaskId(*id);
                (at, links.get(&at).map(|l| l.passportal_id))
            })
            .collect();
        ctx.ledger.record_orphans(*entity, &found, &ctx.run.id)?;
    }
    let mut by_entity: BTreeMap<Entity, Vec<(AutotaskId, i64)>> = BTreeMap::new();
    for o in ctx.ledger.orphans()? {
        if let Some(pp) = o.passportal_id {
            by_entity
                .entry(o.entity)
                .or_default()
                .push((o.autotask_id, pp.0));
        }
    }
    for (entity, orphans) in by_entity {
        let path = ctx.run.path(entity.passportal_file());
        if !path.is_file() {
            continue;
        }
        let df = read_frame(&path)?;
        let held: HashSet<i64> = Columns {
            path: &path,
            df: &df,
        }
        .ids("id")?
        .into_iter()
        .collect();
        let gone: Vec<AutotaskId> = orphans
            .into_iter()
            .filter(|(_, pp)| !held.contains(pp))
            .map(|(at, _)| at)
            .collect();
        ctx.ledger.settle_orphans(entity, &gone)?;
    }
    let orphans = ctx.ledger.orphans()?;
    let header = [
        "entity",
        "autotask_id",
        "passportal_id",
        "first_seen_run",
        "first_seen_at",
        "last_seen_run",
    ];
    let rows = orphans.iter().map(|o| {
        vec![
            o.entity.to_string(),
            o.autotask_id.0.to_string(),
            o.passportal_id.map_or(String::new(), |p| p.0.to_string()),
            o.first_seen_run.clone(),
            o.first_seen_at.clone(),
            o.last_seen_run.clone(),
        ]
    });
    super::write_report(ctx.run, ORPHANS_FILE, &header, rows)?;
    Ok(orphans.len() as u64)
}
