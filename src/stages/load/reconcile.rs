//! Passportal is the truth about what exists; the ledger is only a cache of it. Before creating
//! anything, the load looks every planned create up in what Passportal holds now — one complete
//! listing of clients or users, or of one client's documents of one type — so a run loaded
//! again after its ledger was lost, or a create whose answer never came, finds the record
//! instead of making it twice.
//!
//! Identity is never a title or recency: a document is the row's when its `Autotask ID` field
//! holds the row's id; a client by its name as Passportal keeps it (decoded, trimmed, spaces
//! collapsed, case-folded), a user by e-mail (case-folded) or else that name. A client or user
//! is only taken if no Autotask record is linked to it and it did not exist before the load
//! that may have made it: the extract of that load's run lists everything that existed then, so
//! a same-named client an analyst chose not to match is never taken for the one the load made.

use super::{LoadError, Payload};
use crate::api::passportal::models::{Client, User};
use crate::api::passportal::{DocType, PassportalClient, PassportalError};
use crate::model::entity::Entity;
use crate::stages::extract::passportal as staged;
use crate::store::staging::Run;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A name as Passportal may keep it: trimmed, inner spaces collapsed, case-folded.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The key a user is found by: its e-mail case-folded, or else its name.
pub fn user_key(first: &str, last: &str, email: Option<&str>) -> String {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => format!("@{}", e.to_lowercase()),
        None => name_key(&format!("{first} {last}")),
    }
}

/// The key a planned client or user is found by (`None` for documents).
pub fn payload_key(payload: &Payload) -> Option<String> {
    match payload {
        Payload::Client(c) => Some(name_key(&c.name)),
        Payload::User(u) => Some(user_key(&u.first_name, &u.last_name, u.email.as_deref())),
        Payload::Document(_) => None,
    }
}

/// Index of clients by name key.
pub fn index_clients(clients: &[Client]) -> HashMap<String, Vec<i64>> {
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for c in clients {
        out.entry(name_key(&c.name)).or_default().push(c.id);
    }
    out
}

/// Index of users by e-mail key and by name key (a planned user without e-mail is found by
/// name).
pub fn index_users(users: &[User]) -> HashMap<String, Vec<i64>> {
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for u in users {
        let (first, last) = (
            u.first_name.as_deref().unwrap_or_default(),
            u.last_name.as_deref().unwrap_or_default(),
        );
        if u.email.as_deref().is_some_and(|e| !e.trim().is_empty()) {
            out.entry(user_key(first, last, u.email.as_deref()))
                .or_default()
                .push(u.id);
        }
        out.entry(user_key(first, last, None))
            .or_default()
            .push(u.id);
    }
    out
}

pub struct Reconciler {
    entity: Entity,
    /// Passportal ids already linked to some Autotask record: never a reconciliation's answer.
    linked: HashSet<i64>,
    /// Clients or users by key, from the last listing.
    by_key: HashMap<String, Vec<i64>>,
    /// Documents by (client, Autotask ID), from the last listings.
    docs: HashMap<(i64, i64), Vec<i64>>,
    /// Every document the listings showed (identity known, whatever its fields).
    seen: HashSet<i64>,
    /// The (client, type) listings that failed, with the error.
    unreadable: HashMap<i64, String>,
    /// Whether the client or user listing failed (the error).
    list_failed: Option<String>,
    /// Per run id: the Passportal ids that run's extract saw (`None`: its extract is gone, so
    /// nothing can be ruled out that way).
    existed: HashMap<String, Option<HashSet<i64>>>,
}

impl Reconciler {
    pub fn new(entity: Entity, linked: HashSet<i64>) -> Reconciler {
        Reconciler {
            entity,
            linked,
            by_key: HashMap::new(),
            docs: HashMap::new(),
            seen: HashSet::new(),
            unreadable: HashMap::new(),
            list_failed: None,
            existed: HashMap::new(),
        }
    }

    /// Read what the existence check needs from the staged extracts of `runs` (the runs whose
    /// loads may have made the records), siblings of `run`.
    pub fn read_existing<'a>(
        &mut self,
        run: &Run,
        runs: impl Iterator<Item = &'a str>,
    ) -> Result<(), LoadError> {
        if !matches!(self.entity, Entity::Companies | Entity::Resources) {
            return Ok(());
        }
        for id in runs {
            if self.existed.contains_key(id) {
                continue;
            }
            let dir = run.dir.parent().map(|p| p.join(id)).unwrap_or_default();
            let path = dir.join(self.entity.passportal_file());
            let ids = if !path.is_file() {
                tracing::warn!(
                    "the extract of run {id} is gone: {} created by its load cannot be told \
                     from ones that existed before",
                    self.entity.passportal_kind()
                );
                None
            } else if self.entity == Entity::Companies {
                Some(staged::read_clients(&path)?.iter().map(|c| c.id).collect())
            } else {
                Some(staged::read_users(&path)?.iter().map(|u| u.id).collect())
            };
            self.existed.insert(id.to_string(), ids);
        }
        Ok(())
    }

    /// Read what Passportal holds now for `payloads`: the client or user listing, or each
    /// (client, type) listing of documents the payloads go under. A failed listing is kept:
    /// the rows it concerns are [`Lookup::Unreadable`], never created on its strength.
    pub async fn list<'p>(
        &mut self,
        client: &PassportalClient,
        payloads: impl Iterator<Item = &'p Payload>,
    ) {
        self.by_key.clear();
        self.docs.clear();
        self.unreadable.clear();
        self.list_failed = None;
        let mut owners: BTreeSet<(i64, DocType)> = BTreeSet::new();
        let mut any = false;
        for p in payloads {
            any = true;
            if let Payload::Document(d) = p {
                owners.insert((d.client_id, d.doc_type));
            }
        }
        if !any {
            return;
        }
        match self.entity {
            Entity::Companies => match client.clients().await {
                Ok(c) => self.by_key = index_clients(&c),
                Err(e) => self.list_failed = Some(e.to_string()),
            },
            Entity::Resources => match client.users().await {
                Ok(u) => self.by_key = index_users(&u),
                Err(e) => self.list_failed = Some(e.to_string()),
            },
            _ => {
                let skip = &self.linked;
                let read: Vec<(i64, Result<_, PassportalError>)> = stream::iter(owners)
                    .map(|(c, t)| async move { (c, client.documents_of(c, t, skip).await) })
                    .buffer_unordered(client.concurrency())
                    .collect()
                    .await;
                for (client_id, result) in read {
                    match result {
                        Ok(docs) => {
                            for d in docs {
                                self.seen.insert(d.id);
                                if let Some(at) = d.autotask_id(client.id_field()) {
                                    self.docs.entry((client_id, at)).or_default().push(d.id);
                                }
                            }
                        }
                        Err(e) => {
                            self.unreadable.insert(client_id, e.to_string());
                        }
                    }
                }
                for ids in self.docs.values_mut() {
                    ids.sort_unstable();
                }
            }
        }
    }

    /// The documents whose identity is known: linked, or read by a listing. A batch's
    /// read-back need not read them again.
    pub fn known(&self) -> HashSet<i64> {
        self.linked.union(&self.seen).copied().collect()
    }

    /// Mark a Passportal record as linked (created in this load).
    pub fn taken(&mut self, id: i64) {
        self.linked.insert(id);
    }

    /// What Passportal holds for the row `autotask_id` whose create may have been made by the
    /// load of `run`: the record (now taken), nothing, or a listing that could not be read.
    pub fn lookup(&mut self, autotask_id: i64, payload: &Payload, run: &str) -> Lookup {
        let candidates: Vec<i64> = match payload {
            Payload::Document(d) => {
                if let Some(e) = self.unreadable.get(&d.client_id) {
                    return Lookup::Unreadable(e.clone());
                }
                self.docs
                    .get(&(d.client_id, autotask_id))
                    .cloned()
                    .unwrap_or_default()
            }
            _ => {
                if let Some(e) = &self.list_failed {
                    return Lookup::Unreadable(e.clone());
                }
                let key = payload_key(payload).expect("a client or user");
                let existed = self.existed.get(run).and_then(Option::as_ref);
                self.by_key
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|id| !existed.is_some_and(|e| e.contains(id)))
                    .collect()
            }
        };
        match candidates.into_iter().find(|id| !self.linked.contains(id)) {
            Some(id) => {
                self.linked.insert(id);
                Lookup::Found(id)
            }
            None => Lookup::Absent,
        }
    }
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(i64),
    Absent,
    /// The listing it needed failed (the error).
    Unreadable(String),
}
