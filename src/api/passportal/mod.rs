//! The Passportal v2 client: HMAC token exchange with renewal, page-number paging, name decoding,
//! pacing and backoff, and every route in one table (`routes`), the assumed ones marked.
//! `client` is the transport (token, reads, writes); `records` what is read and written (users,
//! documents with their fields, creates that learn the new document's id by reading it back).

mod client;
mod error;
pub mod fields;
pub mod models;
mod records;
pub mod routes;

pub use client::PassportalClient;
pub use error::{PassportalError, WriteError};
pub use models::{Client, DocType, Document, NewClient, NewDocument, NewUser, User};
