//! atpp: a batch ETL that brings a managed service provider's records from Datto Autotask PSA
//! into N-able Passportal: extract both sides to Parquet, match into review tables that analysts
//! edit, plan, and load the approved rows exactly once.
//!
//! The modules are layers that import only downward (a test in `tests/it/architecture.rs`
//! keeps it so): `model` → `store` → `api` → `stages` → `commands`. The simulators and the
//! test-data generator (`sim`) use `model` and `api` types and are never imported by a stage.

pub mod api;
pub mod commands;
pub mod model;
pub mod sim;
pub mod stages;
pub mod store;
