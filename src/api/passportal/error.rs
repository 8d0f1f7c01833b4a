//! What can go wrong talking to Passportal. Auth failures say which credential looks wrong (key
//! id and secret look alike and are often swapped); a write that may or may not have been applied
//! is kept apart from one that certainly was not, because creates are never blindly retried.

#[derive(Debug, thiserror::Error)]
pub enum PassportalError {
    #[error(
        "Passportal does not know the access key id (from {key_var}): it answered {message:?}. \
         Check {key_var}; if it holds the secret, {key_var} and {secret_var} are swapped"
    )]
    UnknownKey {
        key_var: String,
        secret_var: String,
        message: String,
    },
    #[error(
        "Passportal rejected the access key's signature: the secret (from {secret_var}) does not \
         belong to the key id (from {key_var}); it answered {message:?}. Check {secret_var}, and \
         that the two are not swapped"
    )]
    BadSecret {
        key_var: String,
        secret_var: String,
        message: String,
    },
    #[error("Passportal token exchange failed: {0}")]
    Token(String),
    #[error("Passportal {route} answered HTTP {status}: {message}")]
    Http {
        route: String,
        status: u16,
        message: String,
    },
    #[error("Passportal {0}")]
    Send(#[from] crate::api::http::HttpError),
    /// A list page that cannot be taken as it is (`success` false, `results` missing or null):
    /// read again, never taken as the end of the listing.
    #[error(
        "Passportal {route}: page {page} {message}; the listing is incomplete, so nothing is \
         concluded from it"
    )]
    IncompletePage {
        route: String,
        page: u32,
        message: String,
    },
    /// A listing that cannot end well (the server ignores `pageNum`, or pages never end).
    #[error("Passportal {route}: page {page} {message}; the listing was stopped")]
    Paging {
        route: String,
        page: u32,
        message: String,
    },
    #[error("Passportal {route}: unexpected answer at `{path}`: {message}")]
    Decode {
        route: String,
        path: String,
        message: String,
    },
    /// What befell a batch create, told of each document in it.
    #[error("Passportal {route}, a batch of {size} documents: {message}")]
    Batch {
        route: String,
        size: usize,
        message: String,
    },
    /// A read on behalf of one client failed: names the client (the cause names the route).
    #[error(
        "reading the {what} of Passportal client {client_id} ({client_name:?}) failed at {route}"
    )]
    ForClient {
        what: String,
        client_id: i64,
        client_name: String,
        route: String,
        #[source]
        source: Box<PassportalError>,
    },
}

impl PassportalError {
    /// The route (`METHOD /path`) a request error happened on, if it is one.
    pub fn route(&self) -> Option<&str> {
        match self {
            PassportalError::Http { route, .. }
            | PassportalError::Decode { route, .. }
            | PassportalError::IncompletePage { route, .. }
            | PassportalError::Paging { route, .. }
            | PassportalError::Batch { route, .. }
            | PassportalError::ForClient { route, .. } => Some(route),
            PassportalError::Send(e) => Some(e.route()),
            _ => None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            PassportalError::Http { status, .. } => *status == 429 || *status >= 500,
            PassportalError::Send(e) => e.is_retryable(),
            PassportalError::Decode { .. } | PassportalError::IncompletePage { .. } => true,
            _ => false,
        }
    }
}

/// The outcome of a failed write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Passportal certainly did not apply it (a 4xx answer, or the request never left).
    #[error("{0}")]
    Rejected(PassportalError),
    /// It may have been applied (a 5xx, a timeout or a dropped connection after sending): look
    /// the record up before creating it again.
    #[error("outcome unknown: {0}")]
    Unknown(PassportalError),
    /// Passportal applied it (it answered success) but its id could not be learned (a
    /// document's read-back never saw it): look it up, never send it again.
    #[error("applied, id not learned: {0}")]
    Applied(PassportalError),
}
