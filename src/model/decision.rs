//! What the match stage proposes and an analyst decides, per Autotask record: the action, how a
//! match was found, the candidates. The review tables, the plan and the ledger all speak these.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What happens to an Autotask record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Link to an existing Passportal record.
    Match,
    /// Create it in Passportal.
    Create,
    /// Leave it out (and remember that).
    Exclude,
    /// Not decided: the row waits for an analyst. `plan` applies nothing for it and the
    /// ledger's backlog keeps it owed, night after night, until someone decides it.
    Review,
}

impl Action {
    /// Every action a review table may carry, decided ones first.
    pub const ALL: [Action; 4] = [
        Action::Match,
        Action::Create,
        Action::Exclude,
        Action::Review,
    ];

    /// The actions `plan` applies.
    pub const DECIDED: [Action; 3] = [Action::Match, Action::Create, Action::Exclude];

    /// What an analyst may type, for messages: `match, create, exclude or review`.
    pub const CHOICES: &'static str = "match, create, exclude or review";

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Match => "match",
            Action::Create => "create",
            Action::Exclude => "exclude",
            Action::Review => "review",
        }
    }

    /// Parse an action as an analyst may have typed it (any case, stray spaces).
    pub fn parse(s: &str) -> Option<Action> {
        let s = s.trim().to_ascii_lowercase();
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a match was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// An existing link in the ledger.
    Id,
    /// Identical name.
    Exact,
    /// Same name once normalised.
    Normalized,
    /// Similar name.
    Fuzzy,
    /// Same e-mail address.
    Email,
    /// Same serial number (assets).
    Serial,
    /// Same address (locations).
    Address,
    /// An analyst's earlier decision.
    Remembered,
    /// An analyst's match in this run's review tables.
    Manual,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Id => "id",
            Method::Exact => "exact",
            Method::Normalized => "normalized",
            Method::Fuzzy => "fuzzy",
            Method::Email => "email",
            Method::Serial => "serial",
            Method::Address => "address",
            Method::Remembered => "remembered",
            Method::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        let s = s.trim().to_ascii_lowercase();
        [
            Method::Id,
            Method::Exact,
            Method::Normalized,
            Method::Fuzzy,
            Method::Email,
            Method::Serial,
            Method::Address,
            Method::Remembered,
            Method::Manual,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A Passportal record proposed for an Autotask record.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub passportal_id: i64,
    pub name: String,
    /// 0–100.
    pub score: f64,
    pub method: Method,
}

/// One row of a review table: the proposal for one Autotask record.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRow {
    pub action: Action,
    /// For `match`: the record to link. For `create`: the best candidate, if any, so an analyst
    /// turns a suggestion into a match by changing `action` alone.
    pub best: Option<Candidate>,
    pub runner_up: Option<Candidate>,
    pub autotask_id: i64,
    pub autotask_name: String,
    pub reason: String,
    /// Extra columns that help decide (type, city, phone, ...), in order.
    pub context: Vec<(&'static str, String)>,
    /// The action is an analyst's decision from an earlier run (method `remembered`).
    pub remembered: bool,
}

/// A Passportal record a row may be matched to, for the candidates file.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateRow {
    pub passportal_id: i64,
    pub name: String,
    /// Extra columns (client, e-mail, serial number, ...), in order.
    pub context: Vec<(&'static str, String)>,
    /// The Autotask record it is linked to or proposed for, if any.
    pub autotask_id: Option<i64>,
}
