//! Autotask → `extract/autotask/*.parquet`: companies, resources, contacts, company locations,
//! configuration items and their types, each paged by id at up to three requests in flight per
//! endpoint, streamed to Parquet in batches (memory does not grow with the entity), restartable
//! from the last batch committed, incremental where the entity has a change stamp, and with the
//! linked records deleted in Autotask staged in `deleted.parquet`.
//!
//! Configuration items of every type are staged, with the type's label and whether the pipeline
//! selects it (`configuration_item_type_selected`), so the matcher can exclude the others with a
//! reason an analyst sees.

mod checkpoint;
mod frames;
mod pager;
mod progress;
mod read;
mod run;
mod specs;
mod sweep;

pub use checkpoint::Mode;
pub use frames::{Labels, Staged};
pub use read::{
    read_columns, read_companies, read_configuration_item_types, read_configuration_items,
    read_contacts, read_deleted, read_locations, read_resources,
};
pub use run::{extract, AutotaskOptions, AutotaskSummary, EntitySummary};

use crate::api::autotask::AutotaskError;
use crate::store::parquet::ParquetError;
use crate::store::staging::StagingError;
use std::path::{Path, PathBuf};

pub use crate::model::entity::staged::autotask::*;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Autotask(#[from] AutotaskError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
    #[error(transparent)]
    Staging(#[from] StagingError),
    #[error("extract checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("Autotask request threshold: {message}")]
    ThresholdGuard { message: String },
    #[error(
        "the deletion sweep of Autotask {endpoint} finds {gone} of {known} linked {entity} gone \
         ({:.0} %, more than extract.max_deleted_share = {:.0} %): refusing to retire them. A \
         restricted API user sees fewer records; check its security level, or raise the share if \
         the deletions are real", share * 100.0, max_share * 100.0
    )]
    MassDeletion {
        entity: String,
        endpoint: String,
        gone: usize,
        known: usize,
        share: f64,
        max_share: f64,
    },
    #[error("extract task failed: {0}")]
    Task(String),
}

/// Remove the checkpoint and batch folders once the whole extract stage is recorded.
pub fn clean_progress(run_dir: &Path) {
    checkpoint::clean(run_dir);
}

/// A staged company, as matching and loading read it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompanyRow {
    pub id: i64,
    pub name: String,
    pub company_type: Option<i64>,
    pub company_type_label: Option<String>,
    pub is_active: bool,
    pub phone: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub web_address: Option<String>,
}
