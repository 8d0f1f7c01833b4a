//! Credentials for both APIs. Secrets come from environment variables (or a private credentials
//! file) named in the pipeline, never from argv, and a `Secret` never prints its value: not in
//! logs, manifests, error messages or `Debug` output.

use std::fmt;

/// A secret value. `Debug` and `Display` print a placeholder, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (a header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The three values Autotask's REST API authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutotaskCredentials {
    /// The API user (e-mail-like). Not secret: it appears in zone discovery URLs.
    pub username: String,
    /// The API user's tracking identifier (`ApiIntegrationCode`).
    pub integration_code: Secret,
    pub secret: Secret,
}

/// An access key of Passportal: the key id and its secret (shown once when created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassportalCredentials {
    pub key_id: Secret,
    pub secret: Secret,
}
