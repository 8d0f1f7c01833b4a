//! Deletions. Autotask never shows a deleted record in an incremental query, so the records a
//! deletion would matter for — those linked to a Passportal record in the ledger — are checked
//! against the ids Autotask still has: the staged file of a full read, or an id sweep
//! (`IncludeFields: ["id"]`, keyset paging) for an incrementally read entity. A sweep that would
//! retire more than `extract.max_deleted_share` of an entity's linked records is taken for a
//! fault (a restricted API user sees fewer rows) and stops the run.

use super::pager::{Budget, Commit, Pager, Sink};
use super::progress::EntityProgress;
use super::ExtractError;
use crate::api::autotask::models::IdOnly;
use crate::api::autotask::AutotaskClient;
use crate::model::entity::Entity;
use crate::store::parquet::{frame, int_col, read_frame, text_col, write_frame, Columns};
use std::collections::BTreeSet;
use std::future::Future;
use std::path::Path;
use std::sync::Mutex;

/// Collects the ids a sweep pages through.
struct IdSink<'a> {
    ids: &'a Mutex<Vec<i64>>,
}

impl Sink<IdOnly> for IdSink<'_> {
    fn take(
        &mut self,
        items: Vec<IdOnly>,
        _done: bool,
    ) -> impl Future<Output = Result<Vec<Commit>, ExtractError>> + Send {
        self.ids
            .lock()
            .expect("lock")
            .extend(items.iter().map(|r| r.id));
        async { Ok(Vec::new()) }
    }
}

/// Every id of an entity, by an id-only sweep.
pub async fn sweep_ids(
    client: &AutotaskClient,
    endpoint: &'static str,
    total: u64,
    workers: usize,
    budget: &Budget,
    progress: &EntityProgress,
) -> Result<BTreeSet<i64>, ExtractError> {
    let ids = Mutex::new(Vec::new());
    let pager = Pager {
        client,
        endpoint,
        filters: Vec::new(),
        include: vec!["id".to_string()],
        workers,
        total,
        budget,
        progress,
        run_dir: None,
    };
    let splits = workers.saturating_sub(1);
    let cp = super::checkpoint::Checkpoint::new("sweep", super::checkpoint::Mode::Full, splits);
    pager.run(cp, || IdSink { ids: &ids }).await?;
    Ok(ids.into_inner().expect("lock").into_iter().collect())
}

/// The ids of a staged file.
pub fn staged_ids(path: &Path) -> Result<BTreeSet<i64>, ExtractError> {
    let df = read_frame(path)?;
    let ids = Columns { path, df: &df }.int("id")?;
    Ok(ids.into_iter().flatten().collect())
}

/// The linked records missing from `present`, refused when they are too many.
pub fn deletions(
    entity: Entity,
    known: &BTreeSet<i64>,
    present: &BTreeSet<i64>,
    max_share: f64,
) -> Result<Vec<i64>, ExtractError> {
    let gone: Vec<i64> = known.difference(present).copied().collect();
    if gone.is_empty() {
        return Ok(gone);
    }
    let share = gone.len() as f64 / known.len() as f64;
    if share > max_share {
        return Err(ExtractError::MassDeletion {
            entity: entity.as_str().to_string(),
            endpoint: entity.autotask_endpoint().to_string(),
            gone: gone.len(),
            known: known.len(),
            share,
            max_share,
        });
    }
    Ok(gone)
}

/// Stage the deleted records (`entity`, `id`), possibly none.
pub fn write_deleted(path: &Path, deleted: &[(Entity, i64)]) -> Result<u64, ExtractError> {
    let df = frame(vec![
        text_col("entity", deleted.iter().map(|(e, _)| Some(e.as_str()))),
        int_col("id", deleted.iter().map(|(_, id)| Some(*id))),
    ]);
    Ok(write_frame(path, &df)?)
}
