//! The extract stage: both sources → Parquet in the run folder, at the same time, with the
//! requests spent per Autotask entity, the tenant's threshold use at start and end, and the
//! watermarks used and reached recorded in the manifest.

pub mod autotask;
pub mod passportal;
pub mod templates;

use crate::api::autotask::models::ThresholdInfo;
use crate::api::autotask::{AutotaskClient, AutotaskError};
use crate::api::passportal::{PassportalClient, PassportalError};
use crate::model::entity::Entity;
use crate::model::pipeline::ExtractConfig;
use crate::store::staging::{Run, StagingError};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub use autotask::AutotaskOptions;

#[derive(Debug, thiserror::Error)]
pub enum ExtractStageError {
    #[error(transparent)]
    Autotask(#[from] autotask::ExtractError),
    #[error(transparent)]
    AutotaskApi(#[from] AutotaskError),
    #[error(transparent)]
    Passportal(#[from] PassportalError),
    #[error(transparent)]
    Parquet(#[from] crate::store::parquet::ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
}

/// What an extract staged.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExtractSummary {
    /// Relative path → rows.
    pub files: BTreeMap<String, u64>,
    /// Autotask requests spent per entity endpoint (lowercase) in this session.
    pub autotask_requests: BTreeMap<String, u64>,
    /// Per Autotask entity: rows, mode, requests (all sessions), the ceil(N/500) floor, ...
    pub autotask: BTreeMap<String, autotask::EntitySummary>,
    /// Linked records the deletion sweep found gone.
    pub deleted: Vec<(Entity, i64)>,
    /// The watermarks this extract reached; recorded in the ledger once the stage succeeded.
    pub watermarks: BTreeMap<Entity, DateTime<Utc>>,
    pub passportal_requests: u64,
}

/// What the extract records in the manifest (`stages.extract.notes`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ExtractNotes {
    /// Autotask requests spent per entity endpoint (lowercase) in the last session.
    pub autotask_requests: BTreeMap<String, u64>,
    /// Per Autotask entity: rows, mode, requests, floor, whether deletions were checked, ...
    pub autotask_entities: BTreeMap<String, autotask::EntitySummary>,
    pub autotask_threshold_start: Option<ThresholdInfo>,
    pub autotask_threshold_end: Option<ThresholdInfo>,
    pub watermarks_used: BTreeMap<Entity, DateTime<Utc>>,
    pub watermarks_reached: BTreeMap<Entity, DateTime<Utc>>,
    pub full_refresh: bool,
    /// Linked records the deletion sweep found gone.
    pub deleted: u64,
    pub passportal_requests: u64,
    /// The document templates creates will use, by type: whether each holds the id field.
    pub templates: BTreeMap<String, templates::TemplateSeen>,
}

/// Run the extract stage into `run`: both sides at once. An Autotask extract that an earlier
/// session of this run left unfinished continues from its checkpoint.
pub async fn run(
    run: &Run,
    autotask: &AutotaskClient,
    passportal: &PassportalClient,
    config: &ExtractConfig,
    options: &AutotaskOptions,
) -> Result<ExtractSummary, ExtractStageError> {
    let (at, (passportal_files, templates)) = futures::try_join!(
        async {
            autotask::extract(autotask, &run.dir, config, options)
                .await
                .map_err(ExtractStageError::from)
        },
        async {
            let files = passportal::extract_passportal(passportal, &run.dir)
                .await
                .map_err(ExtractStageError::from)?;
            Ok((files, templates::templates_seen(passportal).await?))
        }
    )?;

    let mut summary = ExtractSummary {
        files: at.files.clone(),
        autotask_requests: autotask.requests_spent(),
        autotask: at.entities.clone(),
        deleted: at.deleted.clone(),
        watermarks: at.watermarks.clone(),
        passportal_requests: passportal.requests_sent(),
    };
    summary.files.extend(passportal_files);

    let notes = ExtractNotes {
        autotask_requests: summary.autotask_requests.clone(),
        autotask_entities: summary.autotask.clone(),
        autotask_threshold_start: Some(at.threshold_start.clone()),
        autotask_threshold_end: Some(at.threshold_end.clone()),
        watermarks_used: options.watermarks.clone(),
        watermarks_reached: summary.watermarks.clone(),
        full_refresh: options.full_refresh,
        deleted: summary.deleted.len() as u64,
        passportal_requests: summary.passportal_requests,
        templates,
    };
    let files: Vec<(String, u64)> = summary.files.iter().map(|(k, v)| (k.clone(), *v)).collect();
    run.finish_stage("extract", &files, notes)?;
    autotask::clean_progress(&run.dir);
    Ok(summary)
}
