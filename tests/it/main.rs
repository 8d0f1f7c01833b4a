//! The one integration-test binary (each binary links polars and DuckDB, so there is only one).
//! Every test runs the real clients over HTTP against the simulators on loopback.

mod architecture;
mod backlog;
mod credentials;
mod end_to_end;
mod extract_autotask;
#[path = "../bench/febrl.rs"]
mod febrl;
mod hardening;
mod harness;
mod id_field;
mod listing_faults;
mod load_batch;
mod load_crash;
mod load_faults;
mod load_killed;
mod load_trust;
mod load_update;
mod matching_quality;
mod nightly;
mod operations;
mod overview;
mod passportal;
mod pipelines;
mod prune;
#[path = "../bench/quality.rs"]
mod quality;
mod review_corpus;
mod review_edits;
mod review_property;
mod review_refusals;
mod schema;
mod secrets;
