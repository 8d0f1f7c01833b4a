//! atpp: a batch ETL that brings a managed service provider's records from Datto Autotask PSA
//! into N-able Passportal: extract both sides to Parquet, match into review tables that analysts
//! edit, plan, and load the approved rows exactly once.

pub mod app;
pub mod autotask;
pub mod check;
pub mod cli;
pub mod credentials;
pub mod demo;
pub mod entity;
pub mod extract;
pub mod ids;
pub mod ledger;
pub mod load;
pub mod lock;
pub mod logging;
pub mod nightly;
pub mod passportal;
pub mod pipeline;
pub mod plan;
pub mod prune;
pub mod query;
pub mod review;
pub mod sim;
pub mod staging;
pub mod status;
pub mod transform;
