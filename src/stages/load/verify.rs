//! Proof after the load: what the plan approved is in Passportal exactly once and points at the
//! right Autotask record. The load's own counts say what it believes it did; this reads back
//! what Passportal holds now (complete listings of clients, users, and the documents of every
//! client the plan touched) and checks each approved row — created or matched — against it:
//!
//! - *missing*: not linked, or linked to a record Passportal does not hold (under that client);
//! - *duplicate*: more than one record is the row's (documents carrying its `Autotask ID`;
//!   clients or users of its name made since the run's extract and linked to nothing else);
//! - *wrong link*: the linked document carries another record's `Autotask ID`, a created client
//!   or user does not bear the row's name, or two rows are linked to one record.
//!
//! Findings go to `load/verify.csv`, are counted in the load's summary and make the exit code
//! non-zero. `atpp verify` runs the same check alone.

use super::reconcile::{index_clients, index_users, payload_key};
use super::{LoadError, Sources};
use crate::api::passportal::{PassportalClient, PassportalError};
use crate::model::entity::Entity;
use crate::model::ids::AutotaskId;
use crate::stages::extract::passportal as staged;
use crate::stages::plan::read_frozen;
use crate::store::ledger::{Ledger, Link};
use crate::store::staging::{Run, StagingError};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub const VERIFY_FILE: &str = "load/verify.csv";

/// What is wrong with one approved row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    Missing,
    Duplicate,
    WrongLink,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::Duplicate => "duplicate",
            Problem::WrongLink => "wrong link",
        }
    }
}

/// One row found wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub entity: Entity,
    pub autotask_id: i64,
    pub problem: Problem,
    /// The Passportal records concerned.
    pub passportal_ids: Vec<i64>,
    pub detail: String,
}

/// What a verification found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Approved rows checked.
    pub checked: u64,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn count(&self, problem: Problem) -> usize {
        self.findings
            .iter()
            .filter(|f| f.problem == problem)
            .count()
    }

    /// One line: rows checked and problems found.
    pub fn render(&self) -> String {
        format!(
            "verify: {} approved row(s) checked against Passportal: {} missing, {} duplicate, \
             {} wrong link\n",
            self.checked,
            self.count(Problem::Missing),
            self.count(Problem::Duplicate),
            self.count(Problem::WrongLink)
        )
    }
}

/// Check every approved row of `run`'s frozen plan against Passportal, and write
/// `load/verify.csv`.
pub async fn verify(
    run: &Run,
    ledger: &Ledger,
    client: &PassportalClient,
) -> Result<VerifyReport, LoadError> {
    let plan = read_frozen(run)?;
    let entities: Vec<Entity> = plan.entities.keys().copied().collect();
    let sources = Sources::read(run, &entities, client.id_field())?;
    let company_links = ledger.links(Entity::Companies)?;
    let mut report = VerifyReport::default();
    for (entity, p) in &plan.entities {
        let created: BTreeSet<i64> = p.create.iter().copied().collect();
        let rows: BTreeSet<i64> = created
            .iter()
            .copied()
            .chain(p.link.iter().map(|l| l.autotask_id))
            .collect();
        if rows.is_empty() {
            continue;
        }
        report.checked += rows.len() as u64;
        let links = ledger.links(*entity)?;
        let check = Check {
            run,
            entity: *entity,
            links: &links,
            created: &created,
            sources: &sources,
        };
        let found = if entity.doc_type().is_some() {
            check.documents(client, &rows, &company_links).await
        } else {
            check.parents(client, &rows).await
        };
        report.findings.extend(found?);
    }
    report
        .findings
        .sort_by_key(|f| (f.entity, f.autotask_id, f.problem.as_str()));
    write_findings(run, &report.findings)?;
    Ok(report)
}

struct Check<'a> {
    run: &'a Run,
    entity: Entity,
    links: &'a BTreeMap<AutotaskId, Link>,
    created: &'a BTreeSet<i64>,
    sources: &'a Sources,
}

impl Check<'_> {
    fn finding(&self, id: i64, problem: Problem, ids: Vec<i64>, detail: String) -> Finding {
        Finding {
            entity: self.entity,
            autotask_id: id,
            problem,
            passportal_ids: ids,
            detail,
        }
    }

    fn read_back(&self, source: PassportalError) -> LoadError {
        LoadError::ReadBack {
            entity: self.entity,
            source,
        }
    }

    /// Rows two Autotask records are linked to, by Passportal id.
    fn shared_targets(&self) -> HashMap<i64, Vec<i64>> {
        let mut by_target: HashMap<i64, Vec<i64>> = HashMap::new();
        for (at, l) in self.links {
            by_target.entry(l.passportal_id.0).or_default().push(at.0);
        }
        by_target.retain(|_, v| v.len() > 1);
        by_target
    }

    /// Clients or users.
    async fn parents(
        &self,
        client: &PassportalClient,
        rows: &BTreeSet<i64>,
    ) -> Result<Vec<Finding>, LoadError> {
        let kind = self.entity.passportal_kind();
        let (held, by_key): (HashMap<i64, String>, HashMap<String, Vec<i64>>) =
            if self.entity == Entity::Companies {
                let c = client.clients().await.map_err(|e| self.read_back(e))?;
                let held = c
                    .iter()
                    .map(|x| (x.id, super::reconcile::name_key(&x.name)))
                    .collect();
                (held, index_clients(&c))
            } else {
                let u = client.users().await.map_err(|e| self.read_back(e))?;
                let held = index_users(&u)
                    .into_iter()
                    .flat_map(|(k, ids)| ids.into_iter().map(move |id| (id, k.clone())))
                    .collect();
                (held, index_users(&u))
            };
        let existed = self.existed()?;
        let linked: HashSet<i64> = self.links.values().map(|l| l.passportal_id.0).collect();
        let shared = self.shared_targets();
        let mut out = Vec::new();
        for &id in rows {
            let Some(link) = self.links.get(&AutotaskId(id)) else {
                out.push(self.finding(id, Problem::Missing, vec![], "not linked".into()));
                continue;
            };
            let pp = link.passportal_id.0;
            if !held.contains_key(&pp) {
                let detail = format!("linked to {kind} {pp}, which Passportal does not hold");
                out.push(self.finding(id, Problem::Missing, vec![pp], detail));
                continue;
            }
            if let Some(others) = shared.get(&pp) {
                let detail = format!("{kind} {pp} is linked to Autotask records {others:?}");
                out.push(self.finding(id, Problem::WrongLink, vec![pp], detail));
            }
            if !self.created.contains(&id) {
                continue;
            }
            let Some(key) = self
                .sources
                .payload(self.entity, id, None)
                .as_ref()
                .and_then(payload_key)
            else {
                continue;
            };
            let bears = by_key.get(&key).is_some_and(|ids| ids.contains(&pp));
            if !bears {
                let detail = format!("created {kind} {pp} does not bear the row's name {key:?}");
                out.push(self.finding(id, Problem::WrongLink, vec![pp], detail));
            }
            let twins: Vec<i64> = by_key
                .get(&key)
                .into_iter()
                .flatten()
                .copied()
                .filter(|x| *x != pp && !linked.contains(x))
                .filter(|x| !existed.as_ref().is_some_and(|e| e.contains(x)))
                .collect();
            if !twins.is_empty() {
                let detail = format!(
                    "{kind} {pp} and {twins:?} were made since the run's extract for {key:?}"
                );
                let ids = std::iter::once(pp).chain(twins).collect();
                out.push(self.finding(id, Problem::Duplicate, ids, detail));
            }
        }
        Ok(out)
    }

    /// The Passportal ids the run's extract saw (`None`: the extract is gone).
    fn existed(&self) -> Result<Option<HashSet<i64>>, LoadError> {
        let path = self.run.path(self.entity.passportal_file());
        if !path.is_file() {
            return Ok(None);
        }
        Ok(Some(if self.entity == Entity::Companies {
            staged::read_clients(&path)?.iter().map(|c| c.id).collect()
        } else {
            staged::read_users(&path)?.iter().map(|u| u.id).collect()
        }))
    }

    /// Contacts, locations or assets: each row's client's documents of its type.
    async fn documents(
        &self,
        client: &PassportalClient,
        rows: &BTreeSet<i64>,
        company_links: &BTreeMap<AutotaskId, Link>,
    ) -> Result<Vec<Finding>, LoadError> {
        let doc_type = self.entity.doc_type().expect("a document entity");
        let client_of = |id: i64| {
            let company = self.sources.company_of(self.entity, id)?;
            company_links
                .get(&AutotaskId(company))
                .map(|l| l.passportal_id.0)
        };
        let owners: BTreeSet<i64> = rows.iter().filter_map(|id| client_of(*id)).collect();
        let none = HashSet::new();
        let listed: Vec<Vec<crate::api::passportal::Document>> = stream::iter(owners)
            .map(|c| client.documents_of(c, doc_type, &none))
            .buffer_unordered(client.concurrency())
            .try_collect()
            .await
            .map_err(|e| self.read_back(e))?;
        // Document id → (client, its Autotask ID); (client, Autotask ID) → documents.
        let mut docs: HashMap<i64, (i64, Option<i64>)> = HashMap::new();
        let mut by_at: HashMap<(i64, i64), Vec<i64>> = HashMap::new();
        for d in listed.into_iter().flatten() {
            docs.insert(d.id, (d.client_id, d.autotask_id(client.id_field())));
            if let Some(at) = d.autotask_id(client.id_field()) {
                by_at.entry((d.client_id, at)).or_default().push(d.id);
            }
        }
        let shared = self.shared_targets();
        let mut out = Vec::new();
        for &id in rows {
            let Some(owner) = client_of(id) else {
                let detail = "its company is linked to no Passportal client".to_string();
                out.push(self.finding(id, Problem::Missing, vec![], detail));
                continue;
            };
            let mut ours: BTreeSet<i64> = by_at
                .get(&(owner, id))
                .into_iter()
                .flatten()
                .copied()
                .collect();
            let Some(link) = self.links.get(&AutotaskId(id)) else {
                let detail = format!("not linked (client {owner} holds {ours:?} for it)");
                out.push(self.finding(id, Problem::Missing, ours.into_iter().collect(), detail));
                continue;
            };
            let pp = link.passportal_id.0;
            match docs.get(&pp) {
                None => {
                    let detail =
                        format!("linked to document {pp}, not among client {owner}'s {doc_type}s");
                    out.push(self.finding(id, Problem::Missing, vec![pp], detail));
                }
                Some((_, Some(at))) if *at != id => {
                    let detail = format!("linked document {pp} carries Autotask ID {at}");
                    out.push(self.finding(id, Problem::WrongLink, vec![pp], detail));
                }
                Some(_) => {
                    ours.insert(pp);
                }
            }
            if let Some(others) = shared.get(&pp) {
                let detail = format!("document {pp} is linked to Autotask records {others:?}");
                out.push(self.finding(id, Problem::WrongLink, vec![pp], detail));
            }
            if ours.len() > 1 {
                let detail = format!("client {owner} holds {} documents for it", ours.len());
                out.push(self.finding(id, Problem::Duplicate, ours.into_iter().collect(), detail));
            }
        }
        Ok(out)
    }
}

fn write_findings(run: &Run, findings: &[Finding]) -> Result<(), StagingError> {
    let header = [
        "entity",
        "autotask_id",
        "problem",
        "passportal_ids",
        "detail",
    ];
    let rows = findings.iter().map(|f| {
        vec![
            f.entity.to_string(),
            f.autotask_id.to_string(),
            f.problem.as_str().to_string(),
            f.passportal_ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            f.detail.clone(),
        ]
    });
    super::write_report(run, VERIFY_FILE, &header, rows)
}
