//! What the Passportal client needs to know, typed for the client rather than for the pipeline
//! file: the pipeline's `[passportal]` table converts into it (`From`), and tests and benches
//! can build one directly.

use crate::api::http::HttpSettings;
use crate::model::pipeline::{BatchShape, PassportalConfig, PassportalTemplates};
use std::time::Duration;

/// A listing reading more pages than this fails: at 100 per page, a million records.
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The instance, e.g. `https://us-clover.passportalmsp.com`.
    pub base_url: String,
    /// Where the access key id and secret came from, named in auth errors.
    pub key_id_env: String,
    pub secret_env: String,
    /// Results per page when listing.
    pub page_size: u32,
    /// Pages one listing may read at most (a server that ignores `pageNum` and never repeats
    /// itself still ends).
    pub max_pages: u32,
    /// Renew the access token this many seconds before its `expiry_time`.
    pub renew_before_secs: i64,
    /// The template uid documents of each type are created with.
    pub templates: PassportalTemplates,
    /// Documents per create request (`1`: one per request, no batch body).
    pub batch_size: usize,
    /// How a batch goes on the wire.
    pub batch_shape: BatchShape,
    pub http: HttpSettings,
}

impl From<&PassportalConfig> for Settings {
    fn from(c: &PassportalConfig) -> Settings {
        Settings {
            base_url: c.base_url.clone(),
            key_id_env: c.key_id_env.clone(),
            secret_env: c.secret_env.clone(),
            page_size: c.page_size.max(1),
            max_pages: DEFAULT_MAX_PAGES,
            renew_before_secs: c.renew_before_secs,
            templates: c.templates.clone(),
            batch_size: c.batch_size.max(1),
            batch_shape: c.batch_shape,
            http: HttpSettings {
                timeout: Duration::from_secs(c.timeout_secs.max(1)),
                max_attempts: c.max_attempts.max(1),
                requests_per_sec: Some(c.requests_per_sec.max(1)),
                concurrency: Some(c.concurrency.max(1)),
                ..HttpSettings::default()
            },
        }
    }
}
