//! The Passportal simulator's fault plan and instance quirks: which writes and reads fail and
//! how (seeded, so a test's faults repeat), and how an instance stores what it is sent
//! (re-cased names, templates without an `Autotask ID` field). Apart from the routes so a
//! reliability test reads, in one place, every way the simulated Passportal can misbehave.

use super::DocType;

/// Seeded faults, like the Autotask simulator's `FaultPlan`. Each write (POST/PUT other than
/// the token exchange) draws one number; the write rates are cumulative in field order, so their
/// sum should stay at most 1. Reads (GET) draw from a separate seeded stream, so adding reads
/// does not shift which writes fail; the read rates are cumulative too (500, 429, truncated,
/// dropped).
#[derive(Clone, Debug, Default)]
pub struct WriteFaultPlan {
    pub seed: u64,
    /// 500 without applying the write.
    pub rate_500: f64,
    /// 429 with `Retry-After: 1` without applying the write.
    pub rate_429: f64,
    /// Apply the write, then answer 500.
    pub rate_applied_then_500: f64,
    /// Apply the write, then sleep `hang_ms` before answering 200.
    pub rate_applied_then_hang_ms: f64,
    pub hang_ms: u64,
    /// 500 on a read.
    pub read_rate_500: f64,
    /// 429 with `Retry-After: 1` on a read.
    pub read_rate_429: f64,
    /// 200 on a read with the JSON body cut in half.
    pub read_rate_truncated: f64,
    /// A read whose connection closes without an answer.
    pub read_rate_drop: f64,
    /// Only reads whose path starts with one of these draw a fault (empty: every read).
    pub read_paths: Vec<String>,
    /// Answer nothing for `late_ms`, then apply the write and answer: a client whose timeout
    /// is shorter gives up on a create that the server applies after it did.
    pub rate_applied_late: f64,
    pub late_ms: u64,
    /// A document created less than this long ago is missing from `searchTxt` listings, as a
    /// search index that lags behind writes (plain listings show it at once).
    pub search_lag_ms: u64,
    /// Client and user names are stored trimmed and re-cased (each word capitalised), e-mails
    /// lower-cased, as an instance that normalises what it is sent.
    pub normalise_names: bool,
    /// Apply the write, then drop the connection before the answer's body.
    pub rate_applied_then_drop: f64,
    /// The templates of these document types have no `Autotask ID` field: the field is
    /// dropped from documents created with them, and from the instance's documents of them.
    pub templates_without_id: Vec<DocType>,
}

/// A name as an instance with `normalise_names` stores it: trimmed, spaces collapsed, each word
/// capitalised.
fn recased(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// What one read's draw decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReadFault {
    None,
    Fail500,
    Throttle429,
    Truncated,
    Drop,
}

/// What one write's draw decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WriteFault {
    None,
    Fail500,
    Throttle429,
    AppliedThen500,
    AppliedThenHang,
    AppliedLate,
    AppliedThenDrop,
}

impl WriteFaultPlan {
    pub(super) fn decide(&self, draw: f64) -> WriteFault {
        let steps = [
            (self.rate_500, WriteFault::Fail500),
            (self.rate_429, WriteFault::Throttle429),
            (self.rate_applied_then_500, WriteFault::AppliedThen500),
            (self.rate_applied_then_hang_ms, WriteFault::AppliedThenHang),
            (self.rate_applied_late, WriteFault::AppliedLate),
            (self.rate_applied_then_drop, WriteFault::AppliedThenDrop),
        ];
        let mut edge = 0.0;
        for (rate, fault) in steps {
            edge += rate.max(0.0);
            if draw < edge {
                return fault;
            }
        }
        WriteFault::None
    }

    pub(super) fn decide_read(&self, draw: f64) -> ReadFault {
        let steps = [
            (self.read_rate_500, ReadFault::Fail500),
            (self.read_rate_429, ReadFault::Throttle429),
            (self.read_rate_truncated, ReadFault::Truncated),
            (self.read_rate_drop, ReadFault::Drop),
        ];
        let mut edge = 0.0;
        for (rate, fault) in steps {
            edge += rate.max(0.0);
            if draw < edge {
                return fault;
            }
        }
        ReadFault::None
    }

    /// A client or user name as the instance stores it.
    pub(super) fn stored_name(&self, name: &str) -> String {
        if self.normalise_names {
            recased(name)
        } else {
            name.to_string()
        }
    }

    /// An e-mail as the instance stores it.
    pub(super) fn stored_email(&self, email: &str) -> String {
        if self.normalise_names {
            email.trim().to_lowercase()
        } else {
            email.to_string()
        }
    }

    pub(super) fn faults_read(&self, path: &str) -> bool {
        self.read_paths.is_empty() || self.read_paths.iter().any(|p| path.starts_with(p))
    }
}
