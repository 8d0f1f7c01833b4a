//! The pipeline file (`pipelines/*.toml`): what the Passportal integration screen holds —
//! which entities to sync, filters, matching thresholds, load pacing, and where credentials
//! come from (names of environment variables or a private credentials file, never the secrets).
//! Each stage has its own config struct; unknown keys are an error naming the key and the file.

use crate::credentials::{AutotaskCredentials, PassportalCredentials, Secret};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    pub matching: MatchingConfig,
    #[serde(default)]
    pub load: LoadConfig,
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
    /// Create new Passportal clients for unmatched companies without review (nightly).
    #[serde(default)]
    pub auto_create_companies: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            companies: true,
            include_inactive: false,
            auto_create_companies: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Score thresholds (0–100) per entity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingConfig {
    #[serde(default)]
    pub companies: Thresholds,
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
            auto_match: 92.0,
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
        let pipeline: Pipeline = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if !(1..=500).contains(&pipeline.autotask.page_size) {
            return Err(invalid(format!(
                "autotask.page_size must be between 1 and 500, not {}",
                pipeline.autotask.page_size
            )));
        }
        if pipeline.passportal.page_size == 0 {
            return Err(invalid("passportal.page_size must be at least 1".into()));
        }
        if pipeline.load.concurrency == 0 || pipeline.passportal.requests_per_sec == 0 {
            return Err(invalid(
                "load.concurrency and passportal.requests_per_sec must be at least 1".into(),
            ));
        }
        let t = pipeline.matching.companies;
        if !(0.0..=100.0).contains(&t.suggest)
            || !(0.0..=100.0).contains(&t.auto_match)
            || t.suggest > t.auto_match
        {
            return Err(invalid(
                "matching.companies needs 0 <= suggest <= auto_match <= 100".into(),
            ));
        }
        Ok(pipeline)
    }
}

/// Where credential values are looked up: the process environment, then the credentials file.
/// Tests and the demo supply their own lookup instead of touching the process environment.
pub trait CredentialSource {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl CredentialSource for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl CredentialSource for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// Values from a credentials file, layered under another source.
struct WithFile<'a> {
    first: &'a dyn CredentialSource,
    file: BTreeMap<String, String>,
}

impl CredentialSource for WithFile<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.first
            .get(name)
            .or_else(|| self.file.get(name).cloned())
    }
}

/// Read a credentials file: TOML `NAME = "value"` pairs, refused unless only its owner can read it.
fn read_credentials_file(path: &Path) -> Result<BTreeMap<String, String>, PipelineError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |message: String| PipelineError::CredentialsFile {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(err(format!(
            "is readable by others (mode {mode:o}); run `chmod 600 {}`",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    // The parse error of a secrets file could quote a secret: say only where it is.
    toml::from_str::<BTreeMap<String, String>>(&text).map_err(|e| {
        let span = e
            .span()
            .map(|s| format!(" near byte {}", s.start))
            .unwrap_or_default();
        err(format!("is not `NAME = \"value\"` lines{span}"))
    })
}

impl Pipeline {
    fn source<'a>(
        &self,
        env: &'a dyn CredentialSource,
    ) -> Result<Box<dyn CredentialSource + 'a>, PipelineError> {
        match &self.credentials_file {
            Some(path) => Ok(Box::new(WithFile {
                first: env,
                file: read_credentials_file(path)?,
            })),
            None => Ok(Box::new(Lookup(env))),
        }
    }

    fn need(
        &self,
        source: &dyn CredentialSource,
        what: &'static str,
        var: &str,
    ) -> Result<String, PipelineError> {
        source
            .get(var)
            .ok_or_else(|| PipelineError::MissingCredential {
                what,
                var: var.to_string(),
                file_hint: match &self.credentials_file {
                    Some(p) => format!(" or add it to {}", p.display()),
                    None => String::new(),
                },
            })
    }

    /// Resolve the Autotask credentials named by this pipeline.
    pub fn autotask_credentials(
        &self,
        env: &dyn CredentialSource,
    ) -> Result<AutotaskCredentials, PipelineError> {
        let source = self.source(env)?;
        let c = &self.autotask;
        Ok(AutotaskCredentials {
            username: self.need(&*source, "Autotask user name", &c.username_env)?,
            integration_code: Secret::new(self.need(
                &*source,
                "Autotask integration code",
                &c.integration_code_env,
            )?),
            secret: Secret::new(self.need(&*source, "Autotask secret", &c.secret_env)?),
        })
    }

    /// Resolve the Passportal access key named by this pipeline.
    pub fn passportal_credentials(
        &self,
        env: &dyn CredentialSource,
    ) -> Result<PassportalCredentials, PipelineError> {
        let source = self.source(env)?;
        let c = &self.passportal;
        Ok(PassportalCredentials {
            key_id: Secret::new(self.need(&*source, "Passportal access key id", &c.key_id_env)?),
            secret: Secret::new(self.need(&*source, "Passportal secret", &c.secret_env)?),
        })
    }
}

struct Lookup<'a>(&'a dyn CredentialSource);

impl CredentialSource for Lookup<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name)
    }
}
