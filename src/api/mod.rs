//! The two remote APIs: one `http` layer (retries, backoff, pacing, timeouts, redirect policy,
//! size bounds) and the Autotask and Passportal clients on top of it, each with its own typed
//! settings.

pub mod autotask;
pub mod http;
pub mod passportal;
