//! The extract stage: both sources → Parquet in the run folder, with the requests spent and the
//! Autotask threshold use recorded in the manifest.

pub mod autotask;
pub mod parquet;
pub mod passportal;
pub mod rows;

use crate::autotask::{AutotaskClient, AutotaskError};
use crate::passportal::{PassportalClient, PassportalError};
use crate::staging::{Run, StagingError};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ExtractStageError {
    #[error(transparent)]
    Autotask(#[from] autotask::ExtractError),
    #[error(transparent)]
    AutotaskApi(#[from] AutotaskError),
    #[error(transparent)]
    Passportal(#[from] PassportalError),
    #[error(transparent)]
    Parquet(#[from] parquet::ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
}

/// What an extract staged.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExtractSummary {
    /// Relative path → rows.
    pub files: BTreeMap<String, u64>,
    /// Autotask requests spent per entity endpoint.
    pub autotask_requests: BTreeMap<String, u64>,
    pub passportal_requests: u64,
}

/// Run the extract stage into `run`.
pub async fn run(
    run: &Run,
    autotask: &AutotaskClient,
    passportal: &PassportalClient,
) -> Result<ExtractSummary, ExtractStageError> {
    let threshold_start = autotask.threshold().await?;
    let companies = autotask::extract_companies(autotask, &run.dir).await?;
    let clients = passportal.clients().await?;
    let client_rows = passportal::stage_clients(&run.dir, &clients)?;
    let threshold_end = autotask.threshold().await?;

    let mut summary = ExtractSummary::default();
    summary
        .files
        .insert(autotask::COMPANIES.to_string(), companies);
    summary
        .files
        .insert(passportal::CLIENTS.to_string(), client_rows);
    summary.autotask_requests = autotask.requests_spent();
    summary.passportal_requests = passportal.requests_sent();

    let mut notes = BTreeMap::new();
    notes.insert(
        "autotask_requests".into(),
        serde_json::to_value(&summary.autotask_requests).expect("serialises"),
    );
    notes.insert(
        "autotask_threshold_start".into(),
        serde_json::to_value(&threshold_start).expect("serialises"),
    );
    notes.insert(
        "autotask_threshold_end".into(),
        serde_json::to_value(&threshold_end).expect("serialises"),
    );
    notes.insert(
        "passportal_requests".into(),
        summary.passportal_requests.into(),
    );
    let files: Vec<(String, u64)> = summary.files.iter().map(|(k, v)| (k.clone(), *v)).collect();
    run.finish_stage("extract", &files, notes)?;
    Ok(summary)
}
