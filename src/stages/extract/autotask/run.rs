//! One Autotask extract: which entities (the pipeline's toggles), read how (full, or changed
//! since the watermark minus the overlap), at what cost (counted up front and held against the
//! tenant's hourly threshold), concurrently across endpoints, each entity restartable from its
//! checkpoint, and deletions of linked records found at the end.

use super::checkpoint::{self, Checkpoint, Finished, Mode};
use super::frames::{Labels, Staged};
use super::pager::{Budget, Commit, Pager, Sink};
use super::progress::Progress;
use super::specs::{selected, Spec, SPECS};
use super::{sweep, ExtractError, DELETED};
use crate::api::autotask::models::{
    Company, CompanyLocation, ConfigurationItem, ConfigurationItemType, Contact, Resource,
    ThresholdInfo,
};
use crate::api::autotask::{AutotaskClient, Filter};
use crate::model::entity::Entity;
use crate::model::pipeline::ExtractConfig;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

/// What the caller knows from the ledger, and how to read.
#[derive(Debug, Clone, Default)]
pub struct AutotaskOptions {
    /// Ignore watermarks: read every entity in full.
    pub full_refresh: bool,
    /// The last successful watermark per entity.
    pub watermarks: BTreeMap<Entity, DateTime<Utc>>,
    /// Autotask ids linked to Passportal records, per entity whose deletions are to be checked in
    /// this extract (what a deletion would retire).
    pub known: BTreeMap<Entity, BTreeSet<i64>>,
    /// Autotask ids the ledger's backlog still owes, per entity: an incremental read brings
    /// them back whether or not they changed, so each night can show and apply them.
    pub owed: BTreeMap<Entity, BTreeSet<i64>>,
    /// Draw progress bars when stderr is a terminal (log lines otherwise).
    pub progress_bars: bool,
}

/// Ids per `in` condition of the owed-records filter.
const OWED_PER_CONDITION: usize = 500;

/// What was extracted of one entity.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct EntitySummary {
    pub endpoint: String,
    pub file: String,
    pub rows: u64,
    /// `full`, or `since` the watermark minus the overlap.
    pub mode: Mode,
    /// Requests spent on the endpoint (every attempt, all sessions of the run).
    pub requests: u64,
    /// ceil(rows / page size), plus the same for a sweep's ids.
    pub floor: u64,
    pub segments: usize,
    /// The highest id staged.
    pub last_id: Option<i64>,
    /// The latest change stamp staged (the next watermark).
    pub stamp: Option<DateTime<Utc>>,
    /// Ids seen by a deletion sweep.
    pub swept: Option<u64>,
    /// Whether this extract checked the entity's linked records for deletions.
    pub deletions_checked: bool,
    pub deleted: u64,
    /// Wall time of paging and staging the entity in this session, and of the final merge of
    /// its batches within it.
    pub seconds: f64,
    pub merge_seconds: f64,
}

/// What an Autotask extract did.
#[derive(Debug, Clone)]
pub struct AutotaskSummary {
    pub entities: BTreeMap<String, EntitySummary>,
    /// Relative path → rows.
    pub files: BTreeMap<String, u64>,
    pub deleted: Vec<(Entity, i64)>,
    pub threshold_start: ThresholdInfo,
    pub threshold_end: ThresholdInfo,
    /// Watermarks to record once the whole stage succeeded.
    pub watermarks: BTreeMap<Entity, DateTime<Utc>>,
}

/// What an incremental read asks for: records changed since the watermark, or owed by the
/// backlog (`id in (...)`, in conditions of at most 500 ids).
fn stamp_filter(spec: &Spec, mode: Mode, opts: &AutotaskOptions) -> Vec<Filter> {
    match (mode, spec.stamp_field) {
        (Mode::Since { since }, Some(field)) => {
            let changed = Filter::cond(
                field,
                "gt",
                since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            );
            let owed: Vec<i64> = spec
                .entity
                .and_then(|e| opts.owed.get(&e))
                .map(|ids| ids.iter().copied().collect())
                .unwrap_or_default();
            if owed.is_empty() {
                return vec![changed];
            }
            let mut any = vec![changed];
            any.extend(
                owed.chunks(OWED_PER_CONDITION)
                    .map(|ids| Filter::cond("id", "in", ids.to_vec())),
            );
            vec![Filter::or(any)]
        }
        _ => Vec::new(),
    }
}

/// Labels of a picklist field of an entity (`entityInformation/fields`).
async fn picklist(
    client: &AutotaskClient,
    endpoint: &str,
    field: &str,
) -> Result<BTreeMap<i64, String>, ExtractError> {
    let fields = client.fields(endpoint).await?;
    Ok(fields
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(field))
        .map(|f| {
            f.picklist_values
                .into_iter()
                .filter_map(|p| p.value.trim().parse().ok().map(|v| (v, p.label)))
                .collect()
        })
        .unwrap_or_default())
}

/// Everything one entity's future needs.
struct Ctx<'a> {
    client: &'a AutotaskClient,
    run_dir: &'a Path,
    cfg: &'a ExtractConfig,
    opts: &'a AutotaskOptions,
    labels: Arc<Labels>,
    budget: &'a Budget,
    progress: &'a Progress,
}

/// A batch being written: its last id and the write.
type PendingPart = (
    i64,
    tokio::task::JoinHandle<Result<Option<checkpoint::Part>, ExtractError>>,
);

/// Writes a segment's pages as batches (part files) of `batch` records. A batch is written on a
/// blocking thread while the pager fetches the next pages; at most one write is pending.
struct PartSink<T> {
    dir: PathBuf,
    labels: Arc<Labels>,
    batch: usize,
    buf: Vec<T>,
    session: u32,
    pending: Option<PendingPart>,
}

impl<T: Staged> PartSink<T> {
    async fn collect(&mut self) -> Result<Option<Commit>, ExtractError> {
        let Some((last_id, write)) = self.pending.take() else {
            return Ok(None);
        };
        let part = write
            .await
            .map_err(|e| ExtractError::Task(e.to_string()))??;
        Ok(Some(Commit { last_id, part }))
    }
}

impl<T: Staged> Sink<T> for PartSink<T> {
    fn take(
        &mut self,
        items: Vec<T>,
        done: bool,
    ) -> impl Future<Output = Result<Vec<Commit>, ExtractError>> + Send {
        self.buf.extend(items);
        let flush = !self.buf.is_empty() && (done || self.buf.len() >= self.batch);
        async move {
            let mut commits = Vec::new();
            let finished = self.pending.as_ref().is_some_and(|(_, w)| w.is_finished());
            if flush || done || finished {
                commits.extend(self.collect().await?);
            }
            if flush {
                let rows = std::mem::take(&mut self.buf);
                let last_id = rows.last().map(Staged::id).expect("a batch is not empty");
                let (dir, labels, session) =
                    (self.dir.clone(), Arc::clone(&self.labels), self.session);
                let write = tokio::task::spawn_blocking(move || {
                    checkpoint::write_part(&dir, &rows, &labels, session)
                });
                self.pending = Some((last_id, write));
            }
            if done {
                commits.extend(self.collect().await?);
            }
            Ok(commits)
        }
    }
}

/// Prepared work for one entity.
struct Job {
    spec: &'static Spec,
    cp: Checkpoint,
    /// Requests of earlier sessions.
    before: u64,
    total: u64,
    workers: usize,
}

impl Ctx<'_> {
    fn endpoint_requests(&self, endpoint: &str) -> u64 {
        self.client
            .requests_spent()
            .get(&endpoint.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Page, stage and (when asked) sweep one entity.
    async fn entity<T: Staged>(&self, job: Job) -> Result<EntitySummary, ExtractError> {
        let Job {
            spec,
            mut cp,
            before,
            total,
            workers,
        } = job;
        let dest = self.run_dir.join(spec.path);
        let clock = std::time::Instant::now();
        let mut merge_seconds = 0.0;
        let finished = match cp.finished {
            Some(f) if dest.is_file() => f,
            _ => {
                let progress = self.progress.entity(spec.key, total, cp.rows());
                let pager = Pager {
                    client: self.client,
                    endpoint: spec.endpoint,
                    filters: stamp_filter(spec, cp.mode, self.opts),
                    include: Vec::new(),
                    workers,
                    total,
                    budget: self.budget,
                    progress: &progress,
                    run_dir: Some(self.run_dir),
                };
                let dir = Checkpoint::parts_dir(self.run_dir, spec.key);
                let session: u32 = rand::random();
                cp = pager
                    .run(cp, || PartSink::<T> {
                        dir: dir.clone(),
                        labels: Arc::clone(&self.labels),
                        batch: self.cfg.batch_rows,
                        buf: Vec::new(),
                        session,
                        pending: None,
                    })
                    .await?;
                let (run_dir, labels, merged) = (
                    self.run_dir.to_path_buf(),
                    Arc::clone(&self.labels),
                    cp.clone(),
                );
                let dest2 = dest.clone();
                let merging = std::time::Instant::now();
                let rows = tokio::task::spawn_blocking(move || {
                    checkpoint::merge::<T>(&run_dir, &merged, &dest2, &labels)
                })
                .await
                .map_err(|e| ExtractError::Task(e.to_string()))??;
                merge_seconds = merging.elapsed().as_secs_f64();
                let f = Finished {
                    rows,
                    stamp: cp.stamp(),
                };
                cp.finished = Some(f);
                let mut saved = cp.clone();
                saved.requests_before = before + self.endpoint_requests(spec.endpoint);
                saved.save(self.run_dir)?;
                progress.finish(rows);
                f
            }
        };
        let page = u64::from(self.client.page_size());
        Ok(EntitySummary {
            endpoint: spec.endpoint.to_string(),
            file: spec.path.to_string(),
            rows: finished.rows,
            mode: cp.mode,
            requests: before + self.endpoint_requests(spec.endpoint),
            floor: finished.rows.div_ceil(page),
            segments: cp.segments.len(),
            last_id: cp.last_id(),
            stamp: finished.stamp,
            swept: None,
            deletions_checked: false,
            deleted: 0,
            seconds: clock.elapsed().as_secs_f64(),
            merge_seconds,
        })
    }

    /// The linked records of `spec` that Autotask no longer has.
    async fn deleted(
        &self,
        spec: &'static Spec,
        mode: Mode,
        summary: &mut EntitySummary,
    ) -> Result<Vec<i64>, ExtractError> {
        let Some(entity) = spec.entity else {
            return Ok(Vec::new());
        };
        // The caller passes the linked ids only when a check is due.
        let Some(known) = self.opts.known.get(&entity) else {
            return Ok(Vec::new());
        };
        summary.deletions_checked = true;
        if known.is_empty() {
            return Ok(Vec::new());
        }
        let present = match mode {
            Mode::Full => sweep::staged_ids(&self.run_dir.join(spec.path))?,
            Mode::Since { .. } => {
                let total = self.client.count(spec.endpoint, &[]).await?;
                let progress = self
                    .progress
                    .entity(&format!("{} (id sweep)", spec.key), total, 0);
                let ids = sweep::sweep_ids(
                    self.client,
                    spec.endpoint,
                    total,
                    self.client.max_in_flight(),
                    self.budget,
                    &progress,
                )
                .await?;
                progress.finish(ids.len() as u64);
                summary.swept = Some(ids.len() as u64);
                summary.floor += (ids.len() as u64).div_ceil(u64::from(self.client.page_size()));
                ids
            }
        };
        let gone = sweep::deletions(entity, known, &present, self.cfg.max_deleted_share)?;
        summary.deleted = gone.len() as u64;
        Ok(gone)
    }
}

type EntityFuture<'a> = Pin<
    Box<dyn Future<Output = Result<(EntitySummary, Vec<(Entity, i64)>), ExtractError>> + Send + 'a>,
>;

fn boxed<'a, T: Staged>(ctx: &'a Ctx<'a>, job: Job) -> EntityFuture<'a> {
    Box::pin(async move {
        let (spec, mode, before) = (job.spec, job.cp.mode, job.before);
        let mut summary = ctx.entity::<T>(job).await?;
        let gone = ctx.deleted(spec, mode, &mut summary).await?;
        let entity = spec.entity;
        // Everything the endpoint cost: earlier sessions, count, pages, a sweep.
        summary.requests = before + ctx.endpoint_requests(spec.endpoint);
        let deleted = gone
            .into_iter()
            .filter_map(|id| entity.map(|e| (e, id)))
            .collect();
        Ok((summary, deleted))
    })
}

/// Extract the selected Autotask entities into `run_dir`, resuming from any checkpoint an
/// earlier session of the same run left there.
pub async fn extract(
    client: &AutotaskClient,
    run_dir: &Path,
    cfg: &ExtractConfig,
    opts: &AutotaskOptions,
) -> Result<AutotaskSummary, ExtractError> {
    client.limit_in_flight(cfg.max_in_flight_per_endpoint);
    let threshold_start = client.threshold().await?;
    let specs = selected(cfg);
    let wants_ci = specs.iter().any(|s| s.key == "configuration_items");

    // Checkpoints: left by an earlier session, or new in the mode the ledger allows.
    let mut cps = Vec::new();
    for spec in &specs {
        let cp = match Checkpoint::load(run_dir, spec.key)? {
            Some(cp) => cp,
            None => {
                let watermark = spec.entity.and_then(|e| opts.watermarks.get(&e));
                let mode = match (watermark, spec.stamp_field) {
                    (Some(w), Some(_)) if cfg.incremental && !opts.full_refresh => {
                        Mode::since_watermark(spec.key, *w, cfg.overlap_secs)
                    }
                    _ => Mode::Full,
                };
                Checkpoint::new(spec.key, mode, 0)
            }
        };
        cps.push(cp);
    }

    // Picklist labels, and the counts that size the work (both concurrently).
    let (company_types, ci_types) =
        futures::try_join!(picklist(client, "Companies", "companyType"), async {
            if wants_ci {
                picklist(client, "ConfigurationItems", "configurationItemType").await
            } else {
                Ok(BTreeMap::new())
            }
        })?;
    let counts: Vec<u64> =
        futures::future::try_join_all(specs.iter().zip(&cps).map(|(spec, cp)| async move {
            if cp.finished.is_some() {
                Ok::<u64, ExtractError>(cp.finished.map_or(0, |f| f.rows))
            } else {
                Ok(client
                    .count(spec.endpoint, &stamp_filter(spec, cp.mode, opts))
                    .await?)
            }
        }))
        .await?;

    let page = u64::from(client.page_size());
    let pages: Vec<u64> = specs
        .iter()
        .zip(&cps)
        .zip(&counts)
        .map(|((_, cp), n)| {
            if cp.finished.is_some() {
                0
            } else {
                n.saturating_sub(cp.rows()).div_ceil(page)
            }
        })
        .collect();
    let budget = threshold_budget(client, cfg, &threshold_start, &pages, &specs)?;

    // Pagers per entity: enough that every entity ends about when the largest one does.
    let w = client.max_in_flight() as u64;
    let max_pages = pages.iter().copied().max().unwrap_or(0).max(1);
    let mut jobs = Vec::new();
    for (((spec, mut cp), total), pages) in specs.iter().zip(cps).zip(&counts).zip(&pages) {
        let mut workers = (pages * w).div_ceil(max_pages).clamp(1, w) as usize;
        // One pager more than slots for the widest entities: its request waits for a slot and
        // takes it the moment an answer is in, while the others decode (the cap stays `w`).
        if workers as u64 == w && *pages >= 8 * w {
            workers += 1;
        }
        if cp.density.is_none() && cp.parts.is_empty() {
            cp.splits_left = workers - 1 + (*pages / 500) as usize;
        }
        jobs.push(Job {
            spec,
            before: cp.requests_before,
            cp,
            total: *total,
            workers,
        });
    }

    let mut labels = Labels {
        company_types,
        ci_types,
        selected_ci_types: (!cfg.configuration_item_types.is_empty()).then(|| {
            cfg.configuration_item_types
                .iter()
                .map(|t| t.to_lowercase())
                .collect()
        }),
    };
    let progress = if opts.progress_bars {
        Progress::new()
    } else {
        Progress::quiet()
    };
    let mut results = Vec::new();
    // Configuration item types first: a type the picklist lacks is named from them.
    let (types_jobs, jobs): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| j.spec.key == "configuration_item_types");
    {
        let ctx = Ctx {
            client,
            run_dir,
            cfg,
            opts,
            labels: Arc::new(labels.clone()),
            budget: &budget,
            progress: &progress,
        };
        for job in types_jobs {
            results.push(boxed::<ConfigurationItemType>(&ctx, job).await?);
            let staged = super::read_configuration_item_types(
                &run_dir.join(super::CONFIGURATION_ITEM_TYPES),
            )?;
            for (id, name, _) in staged {
                labels.ci_types.entry(id).or_insert(name);
            }
        }
    }
    let ctx = Ctx {
        client,
        run_dir,
        cfg,
        opts,
        labels: Arc::new(labels),
        budget: &budget,
        progress: &progress,
    };
    let futures: Vec<EntityFuture<'_>> = jobs
        .into_iter()
        .map(|job| match job.spec.key {
            "companies" => boxed::<Company>(&ctx, job),
            "resources" => boxed::<Resource>(&ctx, job),
            "contacts" => boxed::<Contact>(&ctx, job),
            "company_locations" => boxed::<CompanyLocation>(&ctx, job),
            _ => boxed::<ConfigurationItem>(&ctx, job),
        })
        .collect();
    let more: Vec<_> = futures::stream::iter(futures)
        .buffer_unordered(cfg.parallel_entities.max(1))
        .try_collect()
        .await?;
    results.extend(more);

    let mut summary = AutotaskSummary {
        entities: BTreeMap::new(),
        files: BTreeMap::new(),
        deleted: Vec::new(),
        threshold_end: threshold_start.clone(),
        threshold_start,
        watermarks: BTreeMap::new(),
    };
    for (entity_summary, deleted) in results {
        let spec = SPECS
            .iter()
            .find(|s| s.endpoint == entity_summary.endpoint)
            .expect("known endpoint");
        if let (Some(e), Some(_)) = (spec.entity, spec.stamp_field) {
            let old = opts.watermarks.get(&e).copied();
            if let Some(w) = entity_summary.stamp.max(old) {
                summary.watermarks.insert(e, w);
            }
        }
        summary
            .files
            .insert(entity_summary.file.clone(), entity_summary.rows);
        summary.deleted.extend(deleted);
        summary
            .entities
            .insert(spec.key.to_string(), entity_summary);
    }
    summary.deleted.sort();
    let n = sweep::write_deleted(&run_dir.join(DELETED), &summary.deleted)?;
    summary.files.insert(DELETED.to_string(), n);
    summary.threshold_end = client.threshold().await?;
    Ok(summary)
}

/// The requests this run may spend under `extract.max_threshold_share`; refuses to start a run
/// whose pages alone would pass it.
fn threshold_budget(
    client: &AutotaskClient,
    cfg: &ExtractConfig,
    start: &ThresholdInfo,
    pages: &[u64],
    specs: &[&'static Spec],
) -> Result<Budget, ExtractError> {
    let Some(share) = cfg.max_threshold_share else {
        return Ok(Budget::unlimited());
    };
    let threshold = start.external_request_threshold;
    let used = start.current_timeframe_request_count;
    let cap = (threshold as f64 * share).floor() as u64;
    // Pages, one partial page per pager, and the closing ThresholdInformation call.
    let needed = pages.iter().sum::<u64>() + specs.len() as u64 * 3 + 1;
    if used + needed > cap {
        return Err(ExtractError::ThresholdGuard {
            message: format!(
                "not starting: this extract needs about {needed} requests and the tenant has used \
                 {used} of its {threshold} hourly requests; together they would pass \
                 extract.max_threshold_share = {share} ({cap} requests). Every integration of the \
                 tenant shares this threshold: run later, or raise the share"
            ),
        });
    }
    Ok(Budget {
        allowance: Some(cap.saturating_sub(used).saturating_sub(1)),
        base: client.total_requests(),
        share,
        threshold,
        used_at_start: used,
    })
}
