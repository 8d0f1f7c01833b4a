//! Companies → clients: an existing link first, then an identical name, then the normalised
//! name; one Passportal client matched at most once (greedy by score), and never an automatic
//! match when two candidates are equally good.

use super::normalize::company_name;
use super::{Action, Candidate, Method, ReviewRow};
use crate::extract::autotask::CompanyRow;
use crate::ids::AutotaskId;
use crate::ledger::Link;
use crate::passportal::models::Client;
use crate::pipeline::{SyncConfig, Thresholds};
use std::collections::{BTreeMap, HashMap, HashSet};

const EXACT_SCORE: f64 = 100.0;
const NORMALIZED_SCORE: f64 = 96.0;

/// What the company matcher reads.
pub struct CompanyInput<'a> {
    pub companies: &'a [CompanyRow],
    pub clients: &'a [Client],
    pub links: &'a BTreeMap<AutotaskId, Link>,
    pub sync: &'a SyncConfig,
    pub thresholds: Thresholds,
}

/// Indexes of Passportal clients by exact and by normalised name.
struct ClientIndex<'a> {
    exact: HashMap<&'a str, Vec<&'a Client>>,
    normalized: HashMap<String, Vec<&'a Client>>,
}

impl<'a> ClientIndex<'a> {
    fn new(clients: impl Iterator<Item = &'a Client>) -> Self {
        let mut exact: HashMap<&str, Vec<&Client>> = HashMap::new();
        let mut normalized: HashMap<String, Vec<&Client>> = HashMap::new();
        for c in clients {
            exact.entry(c.name.trim()).or_default().push(c);
            normalized.entry(company_name(&c.name)).or_default().push(c);
        }
        ClientIndex { exact, normalized }
    }

    /// Candidates for a name, best first, each client once at its best score.
    fn candidates(&self, name: &str) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        let mut seen = HashSet::new();
        let exact = self.exact.get(name.trim()).into_iter().flatten();
        let exact = exact.map(|c| (c, EXACT_SCORE, Method::Exact));
        let norm = self
            .normalized
            .get(&company_name(name))
            .into_iter()
            .flatten();
        let norm = norm.map(|c| (c, NORMALIZED_SCORE, Method::Normalized));
        for (c, score, method) in exact.chain(norm) {
            if seen.insert(c.id) {
                out.push(Candidate {
                    passportal_id: c.id,
                    name: c.name.clone(),
                    score,
                    method,
                });
            }
        }
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.passportal_id.cmp(&b.passportal_id))
        });
        out
    }
}

fn context(c: &CompanyRow) -> Vec<(&'static str, String)> {
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("company_type", s(&c.company_type_label)),
        ("is_active", c.is_active.to_string()),
        ("city", s(&c.city)),
        ("phone", s(&c.phone)),
        ("web_address", s(&c.web_address)),
    ]
}

/// Propose an action for every Autotask company.
pub fn match_companies(input: &CompanyInput) -> Vec<ReviewRow> {
    let t = input.thresholds;
    let clients_by_id: HashMap<i64, &Client> = input.clients.iter().map(|c| (c.id, c)).collect();
    // Clients already linked to some Autotask company are not candidates for another.
    let taken: HashSet<i64> = input
        .links
        .values()
        .map(|l| l.passportal_id.0)
        .filter(|id| clients_by_id.contains_key(id))
        .collect();
    let index = ClientIndex::new(input.clients.iter().filter(|c| !taken.contains(&c.id)));

    let mut rows: Vec<ReviewRow> = Vec::with_capacity(input.companies.len());
    // Rows that want a client automatically: (row index, score).
    let mut wanting: HashMap<i64, Vec<(usize, f64)>> = HashMap::new();
    for company in input.companies {
        let mut row = ReviewRow {
            action: Action::Create,
            best: None,
            runner_up: None,
            autotask_id: company.id,
            autotask_name: company.name.clone(),
            reason: String::new(),
            context: context(company),
        };
        let link = input.links.get(&AutotaskId(company.id));
        if let Some(client) = link.and_then(|l| clients_by_id.get(&l.passportal_id.0)) {
            row.action = Action::Match;
            row.best = Some(Candidate {
                passportal_id: client.id,
                name: client.name.clone(),
                score: 100.0,
                method: Method::Id,
            });
            row.reason = "linked by an earlier run".into();
            rows.push(row);
            continue;
        }
        if !company.is_active && !input.sync.include_inactive {
            row.action = Action::Exclude;
            row.reason = "inactive in Autotask".into();
            rows.push(row);
            continue;
        }
        let mut candidates = index.candidates(&company.name).into_iter();
        row.best = candidates.next();
        row.runner_up = candidates.next();
        let lost_link = link.map(|l| {
            format!(
                "linked client {} is no longer in Passportal; ",
                l.passportal_id
            )
        });
        row.reason = lost_link.unwrap_or_default();
        match (&row.best, &row.runner_up) {
            (None, _) => row.reason.push_str("no candidate in Passportal"),
            (Some(best), Some(second)) if best.score - second.score < t.ambiguity_margin => {
                row.reason.push_str(&format!(
                    "ambiguous: clients {} and {} are equally good candidates",
                    best.passportal_id, second.passportal_id
                ));
            }
            (Some(best), _) if best.score >= t.auto_match => {
                wanting
                    .entry(best.passportal_id)
                    .or_default()
                    .push((rows.len(), best.score));
            }
            (Some(best), _) if best.score >= t.suggest => {
                row.reason.push_str(&format!(
                    "suggested: client {} scores {:.0}, below auto-match {:.0}",
                    best.passportal_id, best.score, t.auto_match
                ));
            }
            (Some(_), _) => row.reason.push_str("no candidate scores high enough"),
        }
        rows.push(row);
    }

    // One client, one company: the best claim wins; equally good claims are all ambiguous.
    for claims in wanting.values_mut() {
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
                let row = &mut rows[*i];
                row.reason.push_str(&format!(
                    "ambiguous: Autotask companies {} are equally good matches for client {}",
                    ids.join(", "),
                    row.best.as_ref().expect("claimed").passportal_id
                ));
            }
            continue;
        }
        let winner = claims[0].0;
        rows[winner].action = Action::Match;
        let method = rows[winner].best.as_ref().expect("claimed").method;
        rows[winner].reason.push_str(match method {
            Method::Exact => "identical name",
            _ => "same name once normalised",
        });
        for (i, _) in claims.iter().skip(1) {
            let winner_id = rows[winner].autotask_id;
            let row = &mut rows[*i];
            row.reason.push_str(&format!(
                "best candidate {} is matched to Autotask company {winner_id}",
                row.best.as_ref().expect("claimed").passportal_id
            ));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(id: i64, name: &str, active: bool) -> CompanyRow {
        CompanyRow {
            id,
            name: name.into(),
            company_type: Some(1),
            company_type_label: Some("Customer".into()),
            is_active: active,
            phone: None,
            address1: None,
            address2: None,
            city: None,
            state: None,
            postal_code: None,
            web_address: None,
        }
    }

    fn client(id: i64, name: &str) -> Client {
        Client {
            id,
            name: name.into(),
        }
    }

    fn run(companies: &[CompanyRow], clients: &[Client]) -> Vec<ReviewRow> {
        match_companies(&CompanyInput {
            companies,
            clients,
            links: &BTreeMap::new(),
            sync: &SyncConfig::default(),
            thresholds: Thresholds::default(),
        })
    }

    #[test]
    fn exact_then_normalised_and_inactive_excluded() {
        let rows = run(
            &[
                company(1, "Acme Corp", true),
                company(2, "Globex, Inc.", true),
                company(3, "Initech", false),
                company(4, "Umbrella", true),
            ],
            &[
                client(10, "Acme Corp"),
                client(11, "GLOBEX CORPORATION"),
                client(12, "Initech"),
            ],
        );
        let by_id: HashMap<i64, &ReviewRow> = rows.iter().map(|r| (r.autotask_id, r)).collect();
        assert_eq!(by_id[&1].action, Action::Match);
        assert_eq!(by_id[&1].best.as_ref().unwrap().method, Method::Exact);
        assert_eq!(by_id[&2].action, Action::Match);
        assert_eq!(by_id[&2].best.as_ref().unwrap().method, Method::Normalized);
        assert_eq!(by_id[&2].best.as_ref().unwrap().passportal_id, 11);
        assert_eq!(by_id[&3].action, Action::Exclude);
        assert_eq!(by_id[&4].action, Action::Create);
        assert!(by_id[&4].best.is_none());
    }

    #[test]
    fn equally_good_candidates_are_never_auto_matched() {
        // Two clients normalise alike.
        let rows = run(
            &[company(1, "Globex", true)],
            &[client(10, "Globex LLC"), client(11, "Globex Ltd")],
        );
        assert_eq!(rows[0].action, Action::Create);
        assert!(
            rows[0].reason.starts_with("ambiguous"),
            "{}",
            rows[0].reason
        );
        assert!(rows[0].runner_up.is_some());
        // Two companies want one client equally.
        let rows = run(
            &[company(1, "Hooli", true), company(2, "Hooli", true)],
            &[client(10, "Hooli")],
        );
        assert!(rows.iter().all(|r| r.action == Action::Create));
        assert!(rows.iter().all(|r| r.reason.starts_with("ambiguous")));
    }

    #[test]
    fn a_better_claim_wins_the_client() {
        let rows = run(
            &[company(1, "Hooli Inc", true), company(2, "Hooli", true)],
            &[client(10, "Hooli")],
        );
        assert_eq!(rows[1].action, Action::Match);
        assert_eq!(rows[0].action, Action::Create);
        assert!(rows[0].reason.contains("matched to Autotask company 2"));
    }
}
