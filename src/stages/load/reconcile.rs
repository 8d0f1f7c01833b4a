//! Finding a record an earlier load may have created: an intent without an outcome means the
//! process died, or the request failed or timed out, after it may have been sent. Before
//! creating it again, the load looks it up — documents by their `Autotask ID` field, clients by
//! name, users by e-mail or name — among records no Autotask record is linked to and, for
//! clients and users, that did not exist yet when the intent was recorded: the extract of the
//! intent's run lists everything that existed before that run's load, so a client of the same
//! name an analyst chose not to match is never taken for the one the load created.

use super::{LoadError, Payload};
use crate::api::passportal::models::{Client, User};
use crate::api::passportal::{fields, PassportalClient, PassportalError};
use crate::model::entity::Entity;
use crate::stages::extract::passportal as staged;
use crate::store::staging::Run;
use std::collections::{HashMap, HashSet};

pub struct Reconciler {
    entity: Entity,
    /// Passportal ids already linked to some Autotask record: never a reconciliation's answer.
    linked: HashSet<i64>,
    clients: Vec<Client>,
    users: Vec<User>,
    /// Per run id: the Passportal ids that run's extract saw (`None`: its extract is gone, so
    /// nothing can be ruled out that way).
    existed: HashMap<String, Option<HashSet<i64>>>,
}

impl Reconciler {
    pub fn new(entity: Entity, linked: HashSet<i64>) -> Reconciler {
        Reconciler {
            entity,
            linked,
            clients: Vec::new(),
            users: Vec::new(),
            existed: HashMap::new(),
        }
    }

    /// Read what the existence check needs from the staged extracts of `intent_runs` (the runs
    /// that recorded the unfinished intents), siblings of `run`.
    pub fn read_existing<'a>(
        &mut self,
        run: &Run,
        intent_runs: impl Iterator<Item = &'a str>,
    ) -> Result<(), LoadError> {
        if !matches!(self.entity, Entity::Companies | Entity::Resources) {
            return Ok(());
        }
        for id in intent_runs {
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

    /// Fetch what lookups need (the client or user list; documents are looked up per record).
    pub async fn prepare(&mut self, client: &PassportalClient) -> Result<(), PassportalError> {
        match self.entity {
            Entity::Companies => self.clients = client.clients().await?,
            Entity::Resources => self.users = client.users().await?,
            _ => {}
        }
        Ok(())
    }

    /// Mark a Passportal record as linked (created in this load).
    pub fn taken(&mut self, id: i64) {
        self.linked.insert(id);
    }

    /// The Passportal records that may be what an unfinished create of `autotask_id` made,
    /// newest first. Documents are read from Passportal; clients and users come from the lists
    /// [`Self::prepare`] read.
    pub async fn candidates(
        &self,
        client: &PassportalClient,
        autotask_id: i64,
        payload: &Payload,
    ) -> Result<Vec<i64>, PassportalError> {
        let mut found: Vec<i64> = match payload {
            Payload::Client(c) => self
                .clients
                .iter()
                .filter(|x| x.name == c.name)
                .map(|x| x.id)
                .collect(),
            Payload::User(u) => {
                let email = u.email.as_deref().map(str::to_lowercase);
                self.users
                    .iter()
                    .filter(|x| match (&email, x.email.as_deref()) {
                        (Some(a), Some(b)) => *a == b.to_lowercase(),
                        _ => {
                            x.first_name.as_deref() == Some(u.first_name.as_str())
                                && x.last_name.as_deref() == Some(u.last_name.as_str())
                        }
                    })
                    .map(|x| x.id)
                    .collect()
            }
            Payload::Document(d) => {
                let wanted = autotask_id.to_string();
                client
                    .find_documents(d.client_id, d.doc_type, &d.title)
                    .await?
                    .iter()
                    .filter(|x| x.field(fields::AUTOTASK_ID).map(str::trim) == Some(&wanted))
                    .map(|x| x.id)
                    .collect()
            }
        };
        found.sort_unstable_by(|a, b| b.cmp(a));
        Ok(found)
    }

    /// The first of `candidates` that is free — not linked, and not already there when the
    /// intent was recorded in `intent_run` — now taken.
    pub fn claim(&mut self, candidates: &[i64], intent_run: &str) -> Option<i64> {
        let existed = self.existed.get(intent_run).and_then(Option::as_ref);
        let id = candidates
            .iter()
            .copied()
            .find(|id| !self.linked.contains(id) && !existed.is_some_and(|e| e.contains(id)))?;
        self.linked.insert(id);
        Some(id)
    }
}
