//! The Passportal v2 client: HMAC token exchange with renewal, page-number paging, name decoding,
//! pacing and backoff, and every route in one table (`routes`), the assumed ones marked.
//! `client` is the transport (token, reads, writes) over `api::http`; `listing` the paging that
//! makes a listing complete or an error; `records` what is read and written (users, documents
//! with their fields, creates that learn the new document's id by reading it back); `batch` creates
//! documents in batches and learns their ids from one listing; `body` the one builder of write
//! requests; `settings` what the client is configured with.

mod batch;
pub mod body;
mod client;
mod error;
pub mod fields;
mod listing;
pub mod models;
mod records;
pub mod routes;
mod settings;

pub use batch::{BatchOutcome, Known};
pub use client::PassportalClient;
pub use error::{PassportalError, WriteError};
pub use models::{Client, DocType, Document, NewClient, NewDocument, NewUser, User};
pub use records::Create;
pub use settings::{Settings, DEFAULT_MAX_PAGES};

/// A lock that outlives a panic of another holder (the data is a plain set).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
