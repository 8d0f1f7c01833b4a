//! Finding a record an earlier load may have created: an intent without an outcome means the
//! process died or the request timed out after it was sent. Before creating it again, the load
//! looks it up — documents by their `Autotask ID` field, clients by name, users by e-mail or
//! name — among records no other Autotask record is linked to.

use super::{LoadError, Payload};
use crate::entity::Entity;
use crate::passportal::models::{Client, User};
use crate::passportal::{fields, PassportalClient};
use std::collections::HashSet;

pub struct Reconciler {
    entity: Entity,
    /// Passportal ids already linked to some Autotask record: never a reconciliation's answer.
    linked: HashSet<i64>,
    clients: Vec<Client>,
    users: Vec<User>,
}

impl Reconciler {
    pub fn new(entity: Entity, linked: HashSet<i64>) -> Reconciler {
        Reconciler {
            entity,
            linked,
            clients: Vec::new(),
            users: Vec::new(),
        }
    }

    /// Fetch what lookups need (the client or user list; documents are looked up per record).
    pub async fn prepare(&mut self, client: &PassportalClient) -> Result<(), LoadError> {
        match self.entity {
            Entity::Companies => {
                self.clients = client
                    .clients()
                    .await
                    .map_err(|source| LoadError::Reconcile {
                        what: "clients",
                        source,
                    })?
            }
            Entity::Resources => {
                self.users = client
                    .users()
                    .await
                    .map_err(|source| LoadError::Reconcile {
                        what: "users",
                        source,
                    })?
            }
            _ => {}
        }
        Ok(())
    }

    /// Mark a Passportal record as linked (created in this load).
    pub fn taken(&mut self, id: i64) {
        self.linked.insert(id);
    }

    /// The Passportal record an unfinished create made, if Passportal has it.
    pub async fn find(
        &mut self,
        client: &PassportalClient,
        autotask_id: i64,
        payload: &Payload,
    ) -> Result<Option<i64>, LoadError> {
        let free = |id: &i64| !self.linked.contains(id);
        let found = match payload {
            Payload::Client(c) => self
                .clients
                .iter()
                .filter(|x| x.name == c.name)
                .map(|x| x.id)
                .filter(free)
                .max(),
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
                    .filter(free)
                    .max()
            }
            Payload::Document(d) => {
                let docs = client
                    .find_documents(d.client_id, d.doc_type, &d.title)
                    .await
                    .map_err(|source| LoadError::Reconcile {
                        what: "documents",
                        source,
                    })?;
                let wanted = autotask_id.to_string();
                docs.iter()
                    .filter(|x| x.field(fields::AUTOTASK_ID) == Some(wanted.as_str()))
                    .map(|x| x.id)
                    .filter(free)
                    .max()
            }
        };
        if let Some(id) = found {
            self.linked.insert(id);
        }
        Ok(found)
    }
}
