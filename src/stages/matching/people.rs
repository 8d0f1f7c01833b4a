//! Resources → users: the e-mail address first (case-insensitive), then first and last name,
//! tolerant of swapped first/last and of a missing middle name. A blank field is unknown, never
//! a disagreement; two different e-mail addresses are.

use super::assign::{assign, rank};
use super::compare::email_key;
use super::normalize::words;
use super::{Action, Candidate, Method, ReviewRow};
use crate::model::ids::AutotaskId;
use crate::model::pipeline::Thresholds;
use crate::model::records::{ResourceRow, UserRow};
use crate::store::ledger::Link;
use std::collections::{BTreeMap, HashMap};

/// What the resource matcher reads.
pub struct ResourceInput<'a> {
    pub resources: &'a [ResourceRow],
    pub users: &'a [UserRow],
    pub links: &'a BTreeMap<AutotaskId, Link>,
    pub include_inactive: bool,
    pub thresholds: Thresholds,
}

/// First name's first word + last name, folded ("José María" and "Jose" agree).
fn name_key(first: Option<&str>, last: Option<&str>) -> Option<(String, String)> {
    let f = words(first.unwrap_or_default()).into_iter().next()?;
    let l = words(last.unwrap_or_default()).join(" ");
    (!l.is_empty()).then_some((f, l))
}

fn full_name(first: Option<&str>, middle: Option<&str>, last: Option<&str>) -> String {
    [first, middle, last]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn user_name(u: &UserRow) -> String {
    full_name(u.first_name.as_deref(), None, u.last_name.as_deref())
}

/// Propose an action for every resource.
pub fn match_resources(input: &ResourceInput) -> Vec<ReviewRow> {
    let users_by_id: HashMap<i64, &UserRow> = input.users.iter().map(|u| (u.id, u)).collect();
    let taken: std::collections::HashSet<i64> =
        input.links.values().map(|l| l.passportal_id.0).collect();
    let mut by_email: HashMap<String, Vec<&UserRow>> = HashMap::new();
    let mut by_name: HashMap<(String, String), Vec<&UserRow>> = HashMap::new();
    for u in input.users.iter().filter(|u| !taken.contains(&u.id)) {
        if let Some(e) = email_key(u.email.as_deref()) {
            by_email.entry(e).or_default().push(u);
        }
        if let Some(k) = name_key(u.first_name.as_deref(), u.last_name.as_deref()) {
            by_name.entry(k).or_default().push(u);
        }
    }
    let mut rows = Vec::with_capacity(input.resources.len());
    let mut pending = Vec::new();
    for r in input.resources {
        let mut row = ReviewRow {
            action: Action::Create,
            best: None,
            runner_up: None,
            autotask_id: r.id,
            autotask_name: full_name(
                r.first_name.as_deref(),
                r.middle_name.as_deref(),
                r.last_name.as_deref(),
            ),
            reason: String::new(),
            remembered: false,
            context: Vec::new(),
        };
        let link = input.links.get(&AutotaskId(r.id));
        if let Some(user) = link.and_then(|l| users_by_id.get(&l.passportal_id.0)) {
            row.action = Action::Match;
            row.best = Some(candidate(user, 100.0, Method::Id));
            row.reason = "linked by an earlier run".into();
            rows.push(row);
            continue;
        }
        if !r.is_active && !input.include_inactive {
            row.action = Action::Exclude;
            row.reason = "inactive in Autotask".into();
            rows.push(row);
            continue;
        }
        let email = email_key(r.email.as_deref());
        let mut found = Vec::new();
        if let Some(e) = &email {
            for u in by_email.get(e).into_iter().flatten() {
                found.push(candidate(u, 100.0, Method::Email));
            }
        }
        if let Some((f, l)) = name_key(r.first_name.as_deref(), r.last_name.as_deref()) {
            let straight = by_name.get(&(f.clone(), l.clone())).into_iter().flatten();
            let swapped = by_name.get(&(l, f)).into_iter().flatten();
            for (u, base) in straight
                .map(|u| (u, 96.0))
                .chain(swapped.map(|u| (u, 95.0)))
            {
                let theirs = email_key(u.email.as_deref());
                let score = match (&email, &theirs) {
                    (Some(a), Some(b)) if a != b => 78.0,
                    _ => base,
                };
                found.push(candidate(u, score, Method::Exact));
            }
        }
        let mut ranked = rank(found).into_iter();
        row.best = ranked.next();
        row.runner_up = ranked.next();
        pending.push(rows.len());
        rows.push(row);
    }
    assign(&mut rows, &pending, input.thresholds);
    rows
}

fn candidate(u: &UserRow, score: f64, method: Method) -> Candidate {
    Candidate {
        passportal_id: u.id,
        name: user_name(u),
        score,
        method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(
        id: i64,
        first: &str,
        middle: Option<&str>,
        last: &str,
        email: Option<&str>,
    ) -> ResourceRow {
        ResourceRow {
            id,
            first_name: Some(first.into()),
            middle_name: middle.map(Into::into),
            last_name: Some(last.into()),
            email: email.map(Into::into),
            is_active: true,
            ..ResourceRow::default()
        }
    }

    fn user(id: i64, first: &str, last: &str, email: Option<&str>) -> UserRow {
        UserRow {
            id,
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            email: email.map(Into::into),
        }
    }

    #[test]
    fn email_then_names_swapped_or_without_middle() {
        let resources = [
            res(1, "Ann", None, "Lee", Some("ann.lee@msp.example")),
            res(2, "Bob", Some("J."), "Stone", Some("bob@msp.example")),
            res(3, "Cruz", None, "Maria", None),
            res(4, "Dan", None, "Fox", Some("dan@msp.example")),
        ];
        let users = [
            user(10, "A.", "Lee-Smith", Some("ANN.LEE@MSP.EXAMPLE")),
            user(11, "Bob", "Stone", None),
            user(12, "Maria", "Cruz", None),
            user(13, "Dan", "Fox", Some("daniel.fox@other.example")),
        ];
        let rows = match_resources(&ResourceInput {
            resources: &resources,
            users: &users,
            links: &BTreeMap::new(),
            include_inactive: false,
            thresholds: Thresholds::default(),
        });
        let best = |i: usize| rows[i].best.as_ref().map(|c| c.passportal_id);
        assert_eq!((rows[0].action, best(0)), (Action::Match, Some(10)));
        assert_eq!(rows[0].best.as_ref().unwrap().method, Method::Email);
        assert_eq!((rows[1].action, best(1)), (Action::Match, Some(11)));
        assert_eq!(
            (rows[2].action, best(2)),
            (Action::Match, Some(12)),
            "{}",
            rows[2].reason
        );
        // Same name, different e-mail: a suggestion, never an automatic match.
        assert_eq!((rows[3].action, best(3)), (Action::Create, Some(13)));
        assert!(
            rows[3].reason.starts_with("suggested"),
            "{}",
            rows[3].reason
        );
    }
}
