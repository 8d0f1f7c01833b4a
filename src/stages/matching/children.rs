//! Contacts, locations and configuration items → documents, only within the Passportal client
//! their company is linked to (or will be created as). A document whose `Autotask ID` names the
//! record is its match outright; otherwise contacts are scored over all their fields
//! (`contacts`), locations by name, then address; assets by serial number, then name.
//! Children follow their company: a child of an excluded company is excluded with that reason,
//! a child of a company to be created is created under it, a child of a company still owed
//! (waiting for review, or its create to be retried) waits with it.

use super::assign::{assign, rank};
use super::contacts::{score_contacts, Scored};
use super::normalize::words;
use super::{Action, Candidate, Method, ReviewRow};
use crate::model::ids::AutotaskId;
use crate::model::pipeline::Thresholds;
use crate::model::records::{ConfigurationItemRow, ContactRow, DocumentRow, LocationRow};
use crate::store::ledger::Link;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What became of a child's company in the company proposals.
#[derive(Debug, Clone, PartialEq)]
pub enum Parent {
    /// Matched or linked to this Passportal client.
    Linked { client_id: i64, name: String },
    /// Will be created in Passportal (or waits for review as a create).
    Created { name: String },
    /// Left out, for this reason.
    Excluded { name: String, reason: String },
    /// Still owed: waiting for review, or its create is to be retried. Its children wait too.
    Waiting { name: String, reason: String },
}

impl Parent {
    fn name(&self) -> &str {
        match self {
            Parent::Linked { name, .. }
            | Parent::Created { name }
            | Parent::Excluded { name, .. }
            | Parent::Waiting { name, .. } => name,
        }
    }
}

/// Parents by Autotask company id, from the company rows.
pub fn parents_from(company_rows: &[ReviewRow]) -> HashMap<i64, Parent> {
    company_rows
        .iter()
        .map(|r| {
            let name = r.autotask_name.clone();
            let parent = match (r.action, &r.best) {
                (Action::Match, Some(best)) => Parent::Linked {
                    client_id: best.passportal_id,
                    name,
                },
                (Action::Exclude, _) => Parent::Excluded {
                    name,
                    reason: r.reason.clone(),
                },
                (Action::Review, _) => Parent::Waiting {
                    name,
                    reason: "it waits for review".into(),
                },
                _ => Parent::Created { name },
            };
            (r.autotask_id, parent)
        })
        .collect()
}

/// A child record as the matcher sees it.
pub trait ChildRecord {
    fn id(&self) -> i64;
    fn company_id(&self) -> Option<i64>;
    fn is_active(&self) -> bool;
    fn display_name(&self) -> String;
    /// Candidates of each (record, client id) among the documents of that client (`docs` by
    /// client), scored together so a model can be fitted to all of them.
    fn candidates_all(
        queries: &[(&Self, i64)],
        docs: &HashMap<i64, Vec<&DocumentRow>>,
    ) -> Vec<Scored>;
}

/// Candidates of each query by a rule that looks at one record at a time.
fn one_by_one<T>(
    queries: &[(&T, i64)],
    docs: &HashMap<i64, Vec<&DocumentRow>>,
    rule: impl Fn(&T, &[&DocumentRow]) -> Vec<Candidate>,
) -> Vec<Scored> {
    queries
        .iter()
        .map(|(r, client)| Scored {
            candidates: rank(rule(r, docs.get(client).map(Vec::as_slice).unwrap_or(&[]))),
            reason: String::new(),
        })
        .collect()
}

fn text(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn folded(s: Option<&str>) -> Option<String> {
    let w = words(s?);
    (!w.is_empty()).then(|| w.join(" "))
}

/// An address folded for comparison: words, with the common street abbreviations expanded.
fn address_key(s: Option<&str>) -> Option<String> {
    let w: Vec<String> = words(s?)
        .into_iter()
        .map(|w| {
            match w.as_str() {
                "st" => "street",
                "ave" | "av" => "avenue",
                "rd" => "road",
                "dr" => "drive",
                "blvd" => "boulevard",
                "ln" => "lane",
                "ste" => "suite",
                other => other,
            }
            .to_string()
        })
        .collect();
    (!w.is_empty()).then(|| w.join(" "))
}

fn cand(d: &DocumentRow, score: f64, method: Method) -> Candidate {
    Candidate {
        passportal_id: d.id,
        name: d.title.clone(),
        score,
        method,
    }
}

impl ChildRecord for ContactRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn company_id(&self) -> Option<i64> {
        self.company_id
    }
    fn is_active(&self) -> bool {
        self.is_active
    }
    fn display_name(&self) -> String {
        format!("{} {}", text(&self.first_name), text(&self.last_name))
            .trim()
            .to_string()
    }
    fn candidates_all(
        queries: &[(&Self, i64)],
        docs: &HashMap<i64, Vec<&DocumentRow>>,
    ) -> Vec<Scored> {
        score_contacts(queries, docs)
    }
}

impl ChildRecord for LocationRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn company_id(&self) -> Option<i64> {
        self.company_id
    }
    fn is_active(&self) -> bool {
        self.is_active
    }
    fn display_name(&self) -> String {
        text(&self.name)
    }
    fn candidates_all(
        queries: &[(&Self, i64)],
        docs: &HashMap<i64, Vec<&DocumentRow>>,
    ) -> Vec<Scored> {
        one_by_one(queries, docs, Self::candidates)
    }
}

impl LocationRow {
    fn candidates(&self, docs: &[&DocumentRow]) -> Vec<Candidate> {
        let mut out = Vec::new();
        let name = folded(self.name.as_deref());
        let address = address_key(self.address1.as_deref());
        for d in docs {
            if self.name.as_deref().map(str::trim) == Some(d.title.trim()) {
                out.push(cand(d, 100.0, Method::Exact));
            } else if name.is_some() && folded(Some(&d.title)) == name {
                out.push(cand(d, 96.0, Method::Normalized));
            } else if address.is_some() && address_key(d.address.as_deref()) == address {
                let city_conflict = match (folded(self.city.as_deref()), folded(d.city.as_deref()))
                {
                    (Some(a), Some(b)) => a != b,
                    _ => false,
                };
                let score = if city_conflict { 70.0 } else { 95.0 };
                out.push(cand(d, score, Method::Address));
            }
        }
        out
    }
}

impl ChildRecord for ConfigurationItemRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn company_id(&self) -> Option<i64> {
        self.company_id
    }
    fn is_active(&self) -> bool {
        self.is_active
    }
    fn display_name(&self) -> String {
        text(&self.reference_title)
    }
    fn candidates_all(
        queries: &[(&Self, i64)],
        docs: &HashMap<i64, Vec<&DocumentRow>>,
    ) -> Vec<Scored> {
        one_by_one(queries, docs, Self::candidates)
    }
}

impl ConfigurationItemRow {
    fn candidates(&self, docs: &[&DocumentRow]) -> Vec<Candidate> {
        let mut out = Vec::new();
        let serial = folded(self.serial_number.as_deref());
        let names: Vec<String> = [&self.reference_title, &self.rmm_device_audit_hostname]
            .into_iter()
            .filter_map(|n| folded(n.as_deref()))
            .collect();
        for d in docs {
            let their_serial = folded(d.serial_number.as_deref());
            if serial.is_some() && their_serial == serial {
                out.push(cand(d, 100.0, Method::Serial));
                continue;
            }
            let their_names: Vec<String> = [Some(d.title.clone()), d.hostname.clone()]
                .into_iter()
                .filter_map(|n| folded(n.as_deref()))
                .collect();
            if names.iter().any(|n| their_names.contains(n)) {
                let serial_conflict = serial.is_some() && their_serial.is_some();
                let exact = self.reference_title.as_deref().map(str::trim) == Some(d.title.trim());
                let (score, method) = match (serial_conflict, exact) {
                    (true, _) => (75.0, Method::Normalized),
                    (false, true) => (96.0, Method::Exact),
                    (false, false) => (95.0, Method::Normalized),
                };
                out.push(cand(d, score, method));
            }
        }
        out
    }
}

/// What a child matcher reads besides its records.
pub struct ChildScope<'a> {
    pub documents: &'a [DocumentRow],
    pub parents: &'a HashMap<i64, Parent>,
    pub links: &'a BTreeMap<AutotaskId, Link>,
    pub include_inactive: bool,
    pub thresholds: Thresholds,
    /// Why a record is out of scope beyond activity (e.g. an unselected type).
    pub exclusion: &'a dyn Fn(i64) -> Option<String>,
}

/// Propose an action for every child record.
pub fn match_children<T: ChildRecord>(records: &[T], scope: &ChildScope) -> Vec<ReviewRow> {
    let docs_by_id: HashMap<i64, &DocumentRow> =
        scope.documents.iter().map(|d| (d.id, d)).collect();
    let taken: HashSet<i64> = scope.links.values().map(|l| l.passportal_id.0).collect();
    // A document whose `Autotask ID` names a record of this extract is that record's outright,
    // never a look-alike's candidate.
    let ours: HashSet<i64> = records.iter().map(ChildRecord::id).collect();
    let mut by_client: HashMap<i64, Vec<&DocumentRow>> = HashMap::new();
    let mut carrying: HashMap<(i64, i64), Vec<&DocumentRow>> = HashMap::new();
    for d in scope.documents.iter().filter(|d| !taken.contains(&d.id)) {
        match d.autotask_id.filter(|id| ours.contains(id)) {
            Some(id) => carrying.entry((d.client_id, id)).or_default().push(d),
            None => by_client.entry(d.client_id).or_default().push(d),
        }
    }
    let mut rows = Vec::with_capacity(records.len());
    let mut pending = Vec::new();
    let mut to_score: Vec<(usize, (&T, i64))> = Vec::new();
    for r in records {
        let parent = r.company_id().and_then(|c| scope.parents.get(&c));
        let context = vec![
            (
                "autotask_company_id",
                r.company_id().map(|c| c.to_string()).unwrap_or_default(),
            ),
            (
                "company_name",
                parent.map(|p| p.name().to_string()).unwrap_or_default(),
            ),
            (
                "passportal_client_id",
                match parent {
                    Some(Parent::Linked { client_id, .. }) => client_id.to_string(),
                    _ => String::new(),
                },
            ),
        ];
        let mut row = ReviewRow {
            action: Action::Create,
            best: None,
            runner_up: None,
            autotask_id: r.id(),
            autotask_name: r.display_name(),
            reason: String::new(),
            remembered: false,
            context,
        };
        let link = scope.links.get(&AutotaskId(r.id()));
        let exclusion = match parent {
            None => Some(format!(
                "its company {} is not in this run's extract",
                r.company_id().map_or("(none)".into(), |c| c.to_string())
            )),
            Some(Parent::Excluded { reason, .. }) => Some(format!("parent excluded ({reason})")),
            _ => None,
        };
        if let (None, Some(doc)) = (
            &exclusion,
            link.and_then(|l| docs_by_id.get(&l.passportal_id.0)),
        ) {
            row.action = Action::Match;
            row.best = Some(cand(doc, 100.0, Method::Id));
            row.reason = "linked by an earlier run".into();
            rows.push(row);
            continue;
        }
        let exclusion = exclusion.or_else(|| (scope.exclusion)(r.id())).or_else(|| {
            (!r.is_active() && !scope.include_inactive).then(|| "inactive in Autotask".into())
        });
        if let Some(reason) = exclusion {
            row.action = Action::Exclude;
            row.reason = reason;
            rows.push(row);
            continue;
        }
        if let Some(Parent::Waiting { name, reason }) = parent {
            row.action = Action::Review;
            row.reason = format!(
                "waits with its company {name} ({}): {reason}",
                r.company_id().unwrap_or_default()
            );
            rows.push(row);
            continue;
        }
        match parent {
            Some(Parent::Linked { client_id, .. }) => {
                if let Some(docs) = carrying.get(&(*client_id, r.id())) {
                    let mut ids = docs.iter().map(|d| cand(d, 100.0, Method::Id));
                    row.best = ids.next();
                    row.runner_up = ids.next();
                } else {
                    to_score.push((rows.len(), (r, *client_id)));
                }
                pending.push(rows.len());
            }
            _ => row.reason = "its company will be created".into(),
        }
        rows.push(row);
    }
    let queries: Vec<(&T, i64)> = to_score.iter().map(|(_, q)| *q).collect();
    for ((i, _), scored) in to_score.iter().zip(T::candidates_all(&queries, &by_client)) {
        let mut ranked = scored.candidates.into_iter();
        rows[*i].best = ranked.next();
        rows[*i].runner_up = ranked.next();
        rows[*i].reason.push_str(&scored.reason);
    }
    assign(&mut rows, &pending, scope.thresholds);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(id: i64, title: &str, autotask_id: Option<i64>) -> DocumentRow {
        DocumentRow {
            id,
            client_id: 7,
            doc_type: "asset".into(),
            title: title.into(),
            autotask_id,
            serial_number: Some("SN-1".into()),
            ..DocumentRow::default()
        }
    }

    #[test]
    fn a_document_carrying_the_autotask_id_is_the_match_outright() {
        let items = [
            ConfigurationItemRow {
                id: 42,
                company_id: Some(1),
                reference_title: Some("WS-01".into()),
                serial_number: Some("SN-1".into()),
                is_active: true,
                ..ConfigurationItemRow::default()
            },
            ConfigurationItemRow {
                id: 43,
                company_id: Some(1),
                reference_title: Some("WS-01".into()),
                serial_number: Some("SN-1".into()),
                is_active: true,
                ..ConfigurationItemRow::default()
            },
        ];
        // Same title and serial on all three; only 100 says whose it is.
        let docs = [
            asset(100, "WS-01", Some(42)),
            asset(101, "WS-01", None),
            asset(102, "WS-01", None),
        ];
        let parents = HashMap::from([(
            1,
            Parent::Linked {
                client_id: 7,
                name: "Acme".into(),
            },
        )]);
        let none = |_: i64| None;
        let rows = match_children(
            &items,
            &ChildScope {
                documents: &docs,
                parents: &parents,
                links: &BTreeMap::new(),
                include_inactive: false,
                thresholds: Thresholds::default(),
                exclusion: &none,
            },
        );
        let best = rows[0].best.as_ref().expect("matched");
        assert_eq!(rows[0].action, Action::Match, "{}", rows[0].reason);
        assert_eq!((best.passportal_id, best.method), (100, Method::Id));
        assert!(rows[0].runner_up.is_none());
        // The other record never sees 100; its look-alikes tie, so it waits for review.
        assert_ne!(rows[1].best.as_ref().map(|c| c.passportal_id), Some(100));
        assert_eq!(rows[1].action, Action::Create);
        assert!(
            rows[1].reason.starts_with("ambiguous"),
            "{}",
            rows[1].reason
        );
        // Parent columns only: the lead derives the entity's own columns.
        let names: Vec<&str> = rows[0].context.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "autotask_company_id",
                "company_name",
                "passportal_client_id"
            ]
        );
    }
}
