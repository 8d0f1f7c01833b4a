//! Turning scored candidates into decisions, the same way for every entity: at or above
//! `auto_match` a candidate is proposed as a match, between `suggest` and `auto_match` the row is
//! proposed for creation with the candidate beside it, two candidates within the ambiguity
//! margin are never auto-matched, and one Passportal record is matched at most once (greedy by
//! score; equally good claims all wait for review).

use super::{Action, Candidate, Method, ReviewRow};
use crate::model::pipeline::Thresholds;
use std::collections::HashMap;

/// Sort candidates best first and drop duplicates of one record (keeping its best score).
pub fn rank(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.passportal_id.cmp(&b.passportal_id))
    });
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.passportal_id));
    candidates
}

fn method_reason(method: Method) -> &'static str {
    match method {
        Method::Id => "the record carries this Autotask id",
        Method::Exact => "identical name",
        Method::Normalized => "same name once normalised",
        Method::Fuzzy => "similar name",
        Method::Email => "same e-mail address",
        Method::Serial => "same serial number",
        Method::Address => "same address",
        Method::Remembered => "matched by an analyst in an earlier run",
        Method::Manual => "matched by an analyst",
    }
}

/// Decide the rows at `pending` (their `best`/`runner_up` filled, action `Create`), leaving the
/// other rows as they are. Reasons are appended to whatever the row already says.
pub fn assign(rows: &mut [ReviewRow], pending: &[usize], t: Thresholds) {
    let mut wanting: HashMap<i64, Vec<(usize, f64)>> = HashMap::new();
    for &i in pending {
        let row = &mut rows[i];
        row.action = Action::Create;
        match (&row.best, &row.runner_up) {
            (None, _) => row.reason.push_str("no candidate in Passportal"),
            (Some(best), Some(second))
                if best.score >= t.suggest && best.score - second.score < t.ambiguity_margin =>
            {
                row.reason.push_str(&format!(
                    "ambiguous: {} and {} are equally good candidates",
                    best.passportal_id, second.passportal_id
                ));
            }
            (Some(best), _) if best.score >= t.auto_match => {
                wanting
                    .entry(best.passportal_id)
                    .or_default()
                    .push((i, best.score));
            }
            (Some(best), _) if best.score >= t.suggest => {
                row.reason.push_str(&format!(
                    "suggested: {} scores {:.0}, below auto-match {:.0}",
                    best.passportal_id, best.score, t.auto_match
                ));
            }
            (Some(_), _) => {
                // Too weak to show: an analyst would only be misled by it.
                row.best = None;
                row.runner_up = None;
                row.reason.push_str("no candidate scores high enough");
            }
        }
    }
    let mut claims: Vec<(i64, Vec<(usize, f64)>)> = wanting.into_iter().collect();
    claims.sort_by_key(|(pp, _)| *pp);
    for (pp, mut claims) in claims {
        claims.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = claims[0].1;
        let tied: Vec<usize> = claims
            .iter()
            .filter(|(_, s)| top - s < t.ambiguity_margin)
            .map(|(i, _)| *i)
            .collect();
        if tied.len() > 1 {
            let ids: Vec<String> = tied
                .iter()
                .map(|i| rows[*i].autotask_id.to_string())
                .collect();
            for i in &tied {
                rows[*i].reason.push_str(&format!(
                    "ambiguous: Autotask records {} are equally good matches for {pp}",
                    ids.join(", ")
                ));
            }
            continue;
        }
        let winner = claims[0].0;
        let winner_id = rows[winner].autotask_id;
        let method = rows[winner].best.as_ref().expect("claimed").method;
        rows[winner].action = Action::Match;
        rows[winner].reason.push_str(method_reason(method));
        for (i, _) in claims.iter().skip(1) {
            rows[*i].reason.push_str(&format!(
                "best candidate {pp} is matched to Autotask record {winner_id}"
            ));
        }
    }
}
