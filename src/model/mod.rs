//! The core model every layer shares and that depends on nothing of ours: newtype ids, the
//! entity kinds and their schema, the staged records, the review decisions, credentials and the
//! pipeline file's settings.

pub mod credential_sources;
pub mod credentials;
pub mod decision;
pub mod entity;
pub mod ids;
pub mod pipeline;
pub mod pipeline_rules;
pub mod records;
pub mod schema;
