//! The one integration-test binary (each binary links polars and DuckDB, so there is only one).
//! Every test runs the real clients over HTTP against the simulators on loopback.

mod credentials;
mod end_to_end;
mod extract_autotask;
mod harness;
mod matching_quality;
mod passportal;
mod pipelines;
mod review_edits;
