//! The match stage (transform): staged Autotask records against staged Passportal records →
//! review rows that say, per Autotask record, match / create / exclude (or review: not decided),
//! with score, method, reason and the runner-up so an analyst sees why. The decisions come from
//! one pure function, `match_all` (`decide`), over one spec per entity (`spec`); the stage
//! (`stage`) only reads its inputs and writes its output, and the quality harness and benches
//! call the same function.

pub mod assign;
pub mod backlog;
pub mod children;
pub mod companies;
pub mod compare;
pub mod contacts;
mod context;
pub mod decide;
pub mod fs;
pub mod fuzzy;
pub mod normalize;
pub mod people;
pub mod spec;
mod stage;

pub use decide::{match_all, AutotaskSide, Decisions, Memory, PassportalSide};
pub use spec::{MatchSpec, Rule, Within};
pub use stage::{
    proposals_path, read_proposals, run, written, MatchStageError, MatchSummary, Proposal,
};

pub use crate::model::decision::{Action, Candidate, CandidateRow, Method, ReviewRow};
