//! The Passportal v2 client: HMAC token exchange with renewal, page-number paging, name decoding,
//! pacing and backoff, and every route in one table (`routes`), the assumed ones marked.

mod client;
mod error;
pub mod fields;
pub mod models;
pub mod routes;

pub use client::PassportalClient;
pub use error::{PassportalError, WriteError};
