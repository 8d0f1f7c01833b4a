//! The command line and what it runs: each command is a thin parse-and-call into the stages
//! (`app` wires a pipeline to them), plus the operations around them: demo, nightly, status,
//! prune, query, check and logging.

pub mod app;
pub mod backlog;
pub mod check;
pub mod cli;
pub mod demo;
pub mod logging;
pub mod nightly;
pub mod prune;
pub mod query;
pub mod status;
