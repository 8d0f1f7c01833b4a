//! What atpp keeps on disk: run folders and their manifests, Parquet files, the ledger
//! (`state.duckdb`) and the staging lock. Nothing here talks to a network.

pub mod ledger;
pub mod lock;
pub mod parquet;
pub mod staging;
