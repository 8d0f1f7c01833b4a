//! The match stage (transform): staged Autotask records against staged Passportal records →
//! review rows that say, per Autotask record, match / create / exclude (or review: not decided), with score, method,
//! reason and the runner-up so an analyst sees why.

pub mod assign;
pub mod backlog;
pub mod children;
pub mod companies;
pub mod compare;
pub mod contacts;
mod context;
pub mod fs;
pub mod fuzzy;
pub mod normalize;
pub mod people;
mod stage;

pub use stage::{proposals_path, read_proposals, run, MatchStageError, MatchSummary, Proposal};

pub use crate::model::decision::{Action, Candidate, CandidateRow, Method, ReviewRow};
