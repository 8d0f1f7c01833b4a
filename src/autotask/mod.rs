//! The Autotask REST client: zone discovery, the three auth headers, typed queries with keyset
//! paging, retries with backoff, and lenient models (unknown fields ignored, dates and booleans
//! accepted in every form the API is seen to send).

mod client;
mod error;
pub mod models;
mod query;

pub use client::{AutotaskClient, Page};
pub use error::AutotaskError;
pub use query::{Filter, Query};
