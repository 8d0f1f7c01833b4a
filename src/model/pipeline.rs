//! The pipeline file (`pipelines/*.toml`): what the Passportal integration screen holds —
//! which entities to sync, filters, matching thresholds, load pacing, and where credentials
//! come from (names of environment variables or a private credentials file, never the secrets).
//! Each stage has its own config struct; unknown keys are an error naming the key and the file,
//! and values out of bounds are refused when the file is read (`pipeline_rules`).

use crate::model::pipeline_rules;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use crate::model::credential_sources::{CredentialSource, Environment};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("cannot read pipeline file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("pipeline file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("credential {what} is not set: set the environment variable {var}{file_hint}")]
    MissingCredential {
        what: &'static str,
        var: String,
        file_hint: String,
    },
    #[error("credentials file {path}: {message}")]
    CredentialsFile { path: PathBuf, message: String },
}

/// A whole pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// A short name, shown in manifests and run history.
    pub name: String,
    /// Where run folders and the ledger live (relative to the working directory).
    #[serde(default = "default_staging_dir")]
    pub staging_dir: PathBuf,
    /// Optional file (mode 0600) with `NAME = "value"` lines, consulted for any credential whose
    /// environment variable is not set.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    pub autotask: AutotaskConfig,
    pub passportal: PassportalConfig,
    #[serde(default)]
    pub sync: SyncConfig,
    #[serde(default)]
    pub extract: ExtractConfig,
    #[serde(default)]
    pub matching: MatchingConfig,
    #[serde(default)]
    pub load: LoadConfig,
    #[serde(default)]
    pub run: RunConfig,
    #[serde(default)]
    pub review: ReviewConfig,
}

fn default_staging_dir() -> PathBuf {
    PathBuf::from("staging")
}

/// Where Autotask is and which environment variables hold its credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutotaskConfig {
    /// Zone discovery base; the client appends `v1.0/zoneInformation?user=`.
    #[serde(default = "default_discovery_url")]
    pub discovery_url: String,
    #[serde(default = "default_at_username_env")]
    pub username_env: String,
    #[serde(default = "default_at_integration_code_env")]
    pub integration_code_env: String,
    #[serde(default = "default_at_secret_env")]
    pub secret_env: String,
    /// Records per query page (1..=500).
    #[serde(default = "default_at_page_size")]
    pub page_size: u32,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Attempts per request before a page fails the run.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
}

fn default_discovery_url() -> String {
    "https://webservices.autotask.net/atservicesrest/".into()
}
fn default_at_username_env() -> String {
    "AUTOTASK_USERNAME".into()
}
fn default_at_integration_code_env() -> String {
    "AUTOTASK_INTEGRATION_CODE".into()
}
fn default_at_secret_env() -> String {
    "AUTOTASK_SECRET".into()
}
fn default_at_page_size() -> u32 {
    500
}
fn default_timeout_secs() -> u64 {
    60
}
fn default_attempts() -> u32 {
    5
}

/// Where Passportal is and which environment variables hold its access key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassportalConfig {
    /// The instance, e.g. `https://us-clover.passportalmsp.com`.
    pub base_url: String,
    #[serde(default = "default_pp_key_id_env")]
    pub key_id_env: String,
    #[serde(default = "default_pp_secret_env")]
    pub secret_env: String,
    /// Results per page when reading (modest: large pages lose records on real instances).
    #[serde(default = "default_pp_page_size")]
    pub page_size: u32,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Requests per second at most (Passportal publishes no limit: stay modest).
    #[serde(default = "default_rps")]
    pub requests_per_sec: u32,
    /// Requests in flight at once (reads fetch document details concurrently up to this).
    #[serde(default = "default_pp_concurrency")]
    pub concurrency: usize,
    /// Renew the access token this many seconds before its `expiry_time`.
    #[serde(default = "default_pp_renew_before_secs")]
    pub renew_before_secs: i64,
    /// The document template per document type, used when creating documents.
    #[serde(default)]
    pub templates: PassportalTemplates,
    /// Documents created per request through the add-batch route (`1`: one document per
    /// request, for an instance that refuses arrays).
    #[serde(default = "default_pp_batch_size")]
    pub batch_size: usize,
    /// How a batch goes on the wire: a JSON array of documents, or `{"documents": [..]}`.
    #[serde(default)]
    pub batch_shape: BatchShape,
}

/// `passportal.batch_shape`: the body of a batch create (the shape is not public: assumed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchShape {
    /// `[{document}, {document}, ..]`.
    #[default]
    Array,
    /// `{"documents": [{document}, ..]}`.
    Wrapped,
}

/// Documents per batch create unless the pipeline says otherwise (chosen by the load bench).
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// The largest `passportal.batch_size` accepted.
pub const MAX_BATCH_SIZE: usize = 500;

fn default_pp_batch_size() -> usize {
    DEFAULT_BATCH_SIZE
}

fn default_pp_concurrency() -> usize {
    4
}
fn default_pp_renew_before_secs() -> i64 {
    60
}

/// `[passportal.templates]`: the `templateUid` a created document of each type gets, and the
/// label of the field in those templates that holds the record's Autotask id (`id_field`). The
/// defaults are placeholders (assumed): set your instance's template uids (its Swagger or the
/// templates screen shows them, e.g. `TPL-79`) and the label your templates use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassportalTemplates {
    #[serde(default = "default_tpl_contact")]
    pub contact: String,
    #[serde(default = "default_tpl_location")]
    pub location: String,
    #[serde(default = "default_tpl_asset")]
    pub asset: String,
    /// The document field that carries the Autotask id: how the load finds a document again
    /// without its ledger, and the only identity a document has.
    #[serde(default = "default_tpl_id_field")]
    pub id_field: String,
}

fn default_tpl_contact() -> String {
    "TPL-CONTACT".into()
}
fn default_tpl_location() -> String {
    "TPL-LOCATION".into()
}
fn default_tpl_asset() -> String {
    "TPL-ASSET".into()
}
fn default_tpl_id_field() -> String {
    super::schema::fields::AUTOTASK_ID.into()
}

impl Default for PassportalTemplates {
    fn default() -> Self {
        PassportalTemplates {
            contact: default_tpl_contact(),
            location: default_tpl_location(),
            asset: default_tpl_asset(),
            id_field: default_tpl_id_field(),
        }
    }
}

fn default_pp_key_id_env() -> String {
    "PASSPORTAL_KEY_ID".into()
}
fn default_pp_secret_env() -> String {
    "PASSPORTAL_SECRET".into()
}
fn default_pp_page_size() -> u32 {
    100
}

/// Which records to bring over (the toggles of the Passportal integration screen).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    #[serde(default = "yes")]
    pub companies: bool,
    /// Inactive Autotask records are excluded unless this is set.
    #[serde(default)]
    pub include_inactive: bool,
    /// Auto-create toggles (the Passportal screen's): with `[run] approval = "auto"`, new
    /// records of these kinds are created without review when nothing in Passportal is a
    /// plausible match. Contacts and locations always wait for review.
    #[serde(default)]
    pub auto_create_companies: bool,
    #[serde(default)]
    pub auto_create_users: bool,
    #[serde(default)]
    pub auto_create_configurations: bool,
    /// Company types to sync, by their Autotask label (e.g. "Customer"); empty means all.
    #[serde(default)]
    pub company_types: Vec<String>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            companies: true,
            include_inactive: false,
            auto_create_companies: false,
            auto_create_users: false,
            auto_create_configurations: false,
            company_types: Vec::new(),
        }
    }
}

impl SyncConfig {
    /// Whether a proposed create of `entity` applies without review: auto-create is on for
    /// the kind and nothing in Passportal is a plausible match (`candidate`).
    pub fn creates_unreviewed(
        &self,
        entity: crate::model::entity::Entity,
        candidate: bool,
    ) -> bool {
        self.auto_create(entity) && !candidate
    }

    /// Whether new records of `entity` may be created without review.
    pub fn auto_create(&self, entity: crate::model::entity::Entity) -> bool {
        use crate::model::entity::Entity;
        match entity {
            Entity::Companies => self.auto_create_companies,
            Entity::Resources => self.auto_create_users,
            Entity::ConfigurationItems => self.auto_create_configurations,
            Entity::Contacts | Entity::Locations => false,
        }
    }
}

/// `[review]`: how the review tables are written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewConfig {
    #[serde(default)]
    pub format: ReviewFormat,
}

/// CSV files per table, or one Excel workbook per run with drop-downs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewFormat {
    #[default]
    Csv,
    Xlsx,
}

/// `[run]`: what `atpp run` does between match and load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    #[serde(default)]
    pub approval: Approval,
    /// How many nights a create that failed (or whose outcome stayed unknown) is tried again;
    /// past it the record waits for a person (`status`, the overview and the exit code say so).
    #[serde(default = "default_max_create_attempts")]
    pub max_create_attempts: u32,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            approval: Approval::default(),
            max_create_attempts: default_max_create_attempts(),
        }
    }
}

fn default_max_create_attempts() -> u32 {
    3
}

/// Who approves the review tables before `atpp run` loads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// An analyst: `atpp run` stops after match; `atpp plan` and `atpp load` follow review.
    #[default]
    Manual,
    /// The pipeline's policy (nightly): links, remembered decisions, confident matches,
    /// exclusions and auto-creates with no plausible match apply; everything else waits in the
    /// run's review tables.
    Auto,
}

fn yes() -> bool {
    true
}

/// `[extract]`: what the Autotask extract reads and how (the entity toggles of the Passportal
/// integration screen, incremental runs, the deletion sweep, and the limits it keeps to).
/// Companies are always extracted: every other entity hangs off them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractConfig {
    /// Sync Users: Autotask resources.
    #[serde(default = "yes")]
    pub resources: bool,
    #[serde(default = "yes")]
    pub contacts: bool,
    /// Company locations.
    #[serde(default = "yes")]
    pub locations: bool,
    /// Sync Configurations: configuration items (with their types).
    #[serde(default = "yes")]
    pub configuration_items: bool,
    /// The configuration item types to sync, by name; empty means all. Items of other types are
    /// still staged (with their type label) so the review shows why they are left out.
    #[serde(default)]
    pub configuration_item_types: Vec<String>,
    /// Read only records changed since the last successful extract (minus `overlap_secs`), for
    /// entities that have a change stamp; the others are read in full.
    #[serde(default)]
    pub incremental: bool,
    /// How far before the watermark an incremental run starts reading (stamps land out of order).
    #[serde(default = "default_overlap_secs")]
    pub overlap_secs: u64,
    /// Find records deleted in Autotask (an id sweep for incrementally read entities) and stage
    /// them in `extract/autotask/deleted.parquet`.
    #[serde(default)]
    pub sweep_deletions: bool,
    /// Sweep an entity at most every this many days (the last check is read from earlier runs'
    /// manifests); 0 sweeps on every run. An id sweep of an incrementally read entity costs
    /// ceil(N/500) requests of the tenant's hourly threshold.
    #[serde(default)]
    pub sweep_every_days: u32,
    /// A sweep that would retire more than this share of an entity's linked records stops the
    /// run with an error instead.
    #[serde(default = "default_max_deleted_share")]
    pub max_deleted_share: f64,
    /// Stop before the tenant's hourly request threshold would pass this share (0–1); every
    /// integration of the tenant shares that threshold. Unset: no limit of our own.
    #[serde(default)]
    pub max_threshold_share: Option<f64>,
    /// Requests in flight per Autotask entity endpoint (1–3; Autotask refuses a fourth).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight_per_endpoint: usize,
    /// Autotask entities extracted at the same time.
    #[serde(default = "default_parallel_entities")]
    pub parallel_entities: usize,
    /// Records per committed batch: a killed extract resumes from the last batch written.
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
}

fn default_overlap_secs() -> u64 {
    120
}
fn default_max_deleted_share() -> f64 {
    0.1
}
fn default_max_in_flight() -> usize {
    3
}
fn default_parallel_entities() -> usize {
    6
}
fn default_batch_rows() -> usize {
    10_000
}

impl Default for ExtractConfig {
    fn default() -> Self {
        ExtractConfig {
            resources: true,
            contacts: true,
            locations: true,
            configuration_items: true,
            configuration_item_types: Vec::new(),
            incremental: false,
            overlap_secs: default_overlap_secs(),
            sweep_deletions: false,
            sweep_every_days: 0,
            max_deleted_share: default_max_deleted_share(),
            max_threshold_share: None,
            max_in_flight_per_endpoint: default_max_in_flight(),
            parallel_entities: default_parallel_entities(),
            batch_rows: default_batch_rows(),
        }
    }
}

/// Score thresholds (0–100) per entity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingConfig {
    #[serde(default)]
    pub companies: Thresholds,
    #[serde(default)]
    pub resources: Thresholds,
    #[serde(default)]
    pub contacts: Thresholds,
    #[serde(default)]
    pub locations: Thresholds,
    #[serde(default)]
    pub configuration_items: Thresholds,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or above: proposed as a match.
    pub auto_match: f64,
    /// Between this and `auto_match`: proposed for creation with the candidate beside it.
    pub suggest: f64,
    /// Two candidates within this many points of each other are ambiguous.
    #[serde(default = "default_margin")]
    pub ambiguity_margin: f64,
}

fn default_margin() -> f64 {
    3.0
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            auto_match: 94.0,
            suggest: 75.0,
            ambiguity_margin: default_margin(),
        }
    }
}

/// How the load stage writes to Passportal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadConfig {
    /// Writes in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// "Autotask wins": update matched clients (name), users (names, e-mail) and documents
    /// (title and every template field a create fills) whose Autotask-owned values differ, and
    /// only then.
    #[serde(default)]
    pub update_matched: bool,
}

fn default_concurrency() -> usize {
    4
}
fn default_rps() -> u32 {
    10
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            concurrency: default_concurrency(),
            update_matched: false,
        }
    }
}

impl Pipeline {
    /// Read and validate a pipeline file.
    pub fn load(path: &Path) -> Result<Pipeline, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parse pipeline text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Pipeline, PipelineError> {
        let invalid = |message: String| PipelineError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let pipeline: Pipeline = serde_path_to_error::deserialize(toml::Deserializer::new(text))
            .map_err(|e| {
                let path = e.path().to_string();
                invalid(pipeline_rules::describe_parse_error(text, &path, e.inner()))
            })?;
        pipeline_rules::check(&pipeline).map_err(|refusal| invalid(refusal.to_string()))?;
        Ok(pipeline)
    }
}
