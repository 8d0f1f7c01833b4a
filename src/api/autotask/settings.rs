//! What the Autotask client needs to know, typed for the client rather than for the pipeline
//! file: the pipeline's `[autotask]` table converts into it (`From`), and tests and benches can
//! build one directly.

use crate::api::http::HttpSettings;
use crate::model::pipeline::AutotaskConfig;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Zone discovery base; the client appends `v1.0/zoneInformation?user=`.
    pub discovery_url: String,
    /// Where each credential came from, named in errors.
    pub username_env: String,
    pub integration_code_env: String,
    pub secret_env: String,
    /// Records per query page (1..=500).
    pub page_size: u32,
    /// No cap on requests in flight here: the client keeps Autotask's own (3 per endpoint).
    pub http: HttpSettings,
}

impl From<&AutotaskConfig> for Settings {
    fn from(c: &AutotaskConfig) -> Settings {
        Settings {
            discovery_url: c.discovery_url.clone(),
            username_env: c.username_env.clone(),
            integration_code_env: c.integration_code_env.clone(),
            secret_env: c.secret_env.clone(),
            page_size: c.page_size,
            http: HttpSettings {
                timeout: Duration::from_secs(c.timeout_secs.max(1)),
                max_attempts: c.max_attempts.max(1),
                ..HttpSettings::default()
            },
        }
    }
}
