//! What can go wrong talking to Autotask, phrased for the person who has to fix it: a rejected
//! credential names which one (and the variable it came from), a failed page names the entity and
//! the last id reached.

#[derive(Debug, thiserror::Error)]
pub enum AutotaskError {
    #[error(
        "Autotask does not know the API user {username:?} (from {var}): zone discovery answered \
         \"Zone information could not be determined\". Check the user name; it must be an \
         API-only user"
    )]
    UnknownUser { username: String, var: String },
    #[error(
        "Autotask rejected the integration code (from {var}): \"IntegrationCode is invalid.\" \
         Check the API user's tracking identifier"
    )]
    BadIntegrationCode { var: String },
    #[error("Autotask rejected the secret of API user {username:?} (HTTP 401): check {var}")]
    BadSecret { username: String, var: String },
    #[error("Autotask {route} answered HTTP {status}: {message}")]
    Http {
        route: String,
        status: u16,
        message: String,
    },
    #[error("Autotask {0}")]
    Send(#[from] crate::api::http::HttpError),
    #[error("Autotask {route}: unexpected answer at `{path}`: {message}")]
    Decode {
        route: String,
        path: String,
        message: String,
    },
    #[error(
        "extracting Autotask {entity} failed after {attempts} attempts (last id reached: {last_id}); \
         `atpp extract --resume` continues from there"
    )]
    PageFailed {
        entity: String,
        attempts: u32,
        last_id: String,
        #[source]
        source: Box<AutotaskError>,
    },
}

/// The thread-threshold refusal (`Itgenatr005`), whatever status it came with.
pub fn is_thread_threshold(message: &str) -> bool {
    message.contains("Itgenatr005") || message.to_ascii_lowercase().contains("thread threshold")
}

impl AutotaskError {
    /// Worth another attempt: throttling, thread threshold, server errors, truncated bodies and
    /// dropped connections. Credential errors are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            AutotaskError::Http {
                status, message, ..
            } => *status == 429 || *status >= 500 || is_thread_threshold(message),
            AutotaskError::Send(e) => e.is_retryable(),
            AutotaskError::Decode { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_threshold_is_retried_whatever_its_status() {
        let http = |status: u16, message: &str| AutotaskError::Http {
            route: "POST Contacts/query".into(),
            status,
            message: message.into(),
        };
        let thread = "Thread Threshold Exceeded: ... Itgenatr005";
        for status in [400, 403, 405, 500] {
            assert!(http(status, thread).is_retryable(), "{status}");
        }
        assert!(http(429, "slow down").is_retryable());
        assert!(http(503, "").is_retryable());
        assert!(!http(400, "Unable to find colour in the Contacts Entity.").is_retryable());
        assert!(!http(404, "No HTTP resource was found").is_retryable());
    }
}
