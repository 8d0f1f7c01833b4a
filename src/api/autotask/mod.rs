//! The Autotask REST client: zone discovery, the three auth headers, typed queries with keyset
//! paging, retries with backoff, and lenient models (unknown fields ignored, dates and booleans
//! accepted in every form the API is seen to send).

mod client;
mod error;
pub mod models;
mod query;
mod records;
mod settings;

pub use client::{AutotaskClient, Page, MAX_IN_FLIGHT_PER_ENDPOINT};
pub use error::{is_thread_threshold, AutotaskError};
pub use query::{Filter, Query};
pub use settings::Settings;
