//! Batch creates through Passportal's "Documents add batch" route (`POST /api/v2/documents`
//! with several documents; the shape is assumed, see `routes`). Passportal answers a batch with
//! `{"success": "true"}` and no ids, so each document's id is learned from ONE complete listing
//! of its client's documents of its type after the batch, matched by the `Autotask ID` field the
//! document carries: never by position in the batch, title or recency. Documents whose identity
//! is already known ([`Known`]: linked, listed before the load sent anything, or read since)
//! are not read again, so a read-back costs one listing plus the details of the documents that
//! are new since.
//!
//! A batch the instance refuses (a 4xx or `success: false`: nothing applied) switches the client
//! to one document per request for the rest of its life; the caller sends those documents
//! singly. A batch whose outcome is unknown (5xx, timeout, dropped answer) is unknown for every
//! document in it, for the load to settle row by row against a listing.

use super::client::PassportalClient;
use super::error::{PassportalError, WriteError};
use super::models::{DocType, NewDocument, OkResponse};
use super::records::{refused, READ_BACK_WAITS};
use super::routes;
use crate::api::passportal::body::Request;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Documents whose identity is known, by id: the `Autotask ID` they carry, or `None` for one
/// that is no batch's to take (it existed before the load sent anything, or carries none). The
/// read-backs of one client and type take turns, so two batches in flight for it do not both
/// read the same new documents' details.
#[derive(Default)]
pub struct Known {
    ids: Mutex<HashMap<i64, Option<String>>>,
    turns: Mutex<HashMap<(i64, DocType), Turn>>,
}

/// Held while one read-back of a client and type runs.
type Turn = Arc<tokio::sync::Mutex<()>>;

impl Known {
    /// Documents that are no batch's to take (they existed before anything was sent).
    pub fn existing(ids: impl IntoIterator<Item = i64>) -> Known {
        Known {
            ids: Mutex::new(ids.into_iter().map(|id| (id, None)).collect()),
            ..Known::default()
        }
    }

    /// A document learned otherwise (a single create's read-back).
    pub fn learned(&self, id: i64, autotask_id: &str) {
        super::lock(&self.ids).insert(id, Some(autotask_id.to_string()));
    }

    fn turn(&self, owner: (i64, DocType)) -> Turn {
        super::lock(&self.turns).entry(owner).or_default().clone()
    }
}

/// What a batch create came to.
pub enum BatchOutcome {
    /// Per document, in the order given: its id, or why not.
    Sent(Vec<Result<i64, WriteError>>),
    /// The instance refused the batch: nothing was applied, and this client creates one
    /// document per request from now on. `first` is whether this is the first refusal.
    Refused { first: bool, error: PassportalError },
}

impl PassportalClient {
    /// The exact request creating `docs` (all of one client and type): a single create for one
    /// document, a batch body otherwise. What [`Self::create_batch`] sends and `load --dry-run`
    /// prints.
    pub fn batch_request(&self, docs: &[&NewDocument]) -> Request {
        if let [doc] = docs {
            return Request::create_document(doc, self.template_uid(doc.doc_type));
        }
        let with: Vec<(&NewDocument, &str)> = docs
            .iter()
            .map(|d| (*d, self.template_uid(d.doc_type)))
            .collect();
        Request::create_documents(&with, self.settings().batch_shape)
    }

    /// Create `docs` (all of one client and one type) in one request and learn their ids (see
    /// the module doc). `known`: documents whose identity is known already; the documents read
    /// here are added to it.
    pub async fn create_batch(&self, docs: &[NewDocument], known: &Known) -> BatchOutcome {
        if let [doc] = docs {
            return BatchOutcome::Sent(vec![self.create_document(doc).await]);
        }
        let route = routes::CREATE_DOCUMENT;
        let size = docs.len();
        let every = |e: &PassportalError,
                     kind: fn(PassportalError) -> WriteError|
         -> Vec<Result<i64, WriteError>> {
            (0..size)
                .map(|_| {
                    Err(kind(PassportalError::Batch {
                        route: format!("{} {}", route.method, route.path),
                        size,
                        message: e.to_string(),
                    }))
                })
                .collect()
        };
        let id_field = self.id_field();
        let mismatch = docs.iter().any(|d| {
            (d.client_id, d.doc_type) != (docs[0].client_id, docs[0].doc_type)
                || d.autotask_id(id_field).is_none_or(str::is_empty)
        });
        if mismatch {
            let e = refused(
                &route,
                route.path,
                Some("not sent: a batch holds documents of one client and type, each with its Autotask ID".into()),
            );
            return BatchOutcome::Sent(every(&e, WriteError::Rejected));
        }
        let refs: Vec<&NewDocument> = docs.iter().collect();
        let req = self.batch_request(&refs);
        let answer: Result<OkResponse, WriteError> =
            self.write(&req.route, &req.path, &req.body).await;
        match answer {
            Ok(resp) if resp.success => {}
            Ok(resp) => {
                return BatchOutcome::Refused {
                    first: self.refuse_batches(),
                    error: refused(&route, route.path, resp.message),
                }
            }
            Err(WriteError::Rejected(error)) => {
                return BatchOutcome::Refused {
                    first: self.refuse_batches(),
                    error,
                }
            }
            Err(WriteError::Unknown(e) | WriteError::Applied(e)) => {
                return BatchOutcome::Sent(every(&e, WriteError::Unknown))
            }
        }
        BatchOutcome::Sent(self.read_back(docs, known).await)
    }

    /// The ids of `docs`, applied by a batch that answered success: one listing of their
    /// client's documents of their type, re-read with growing waits (`READ_BACK_WAITS`) while
    /// some are not listed yet. A document never seen is `WriteError::Applied` (never sent
    /// again); a listing that fails leaves the rest `Applied` too.
    async fn read_back(&self, docs: &[NewDocument], known: &Known) -> Vec<Result<i64, WriteError>> {
        let route = routes::CREATE_DOCUMENT;
        let id_field = self.id_field();
        let (client_id, doc_type) = (docs[0].client_id, docs[0].doc_type);
        let wanted: HashMap<&str, usize> = docs
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some((d.autotask_id(id_field)?, i)))
            .collect();
        let mut found: Vec<Option<i64>> = vec![None; docs.len()];
        let mut failure: Option<String> = None;
        let turn = known.turn((client_id, doc_type));
        for wait in READ_BACK_WAITS.iter().map(Some).chain([None]) {
            let read = async {
                let _turn = turn.lock().await;
                let listed = self.list_documents(client_id, doc_type, None).await?;
                let mut carried: Vec<(i64, Option<String>)> = Vec::new();
                let mut fresh = Vec::new();
                {
                    let known = super::lock(&known.ids);
                    for s in listed {
                        match known.get(&s.id) {
                            Some(at) => carried.push((s.id, at.clone())),
                            None => fresh.push(s),
                        }
                    }
                }
                let read = self.with_details(client_id, doc_type, fresh).await?;
                let mut known = super::lock(&known.ids);
                for d in read {
                    let at = d.field(id_field).map(|v| v.trim().to_string());
                    known.insert(d.id, at.clone());
                    carried.push((d.id, at));
                }
                Ok::<_, PassportalError>(carried)
            };
            match read.await {
                Ok(carried) => {
                    for (id, at) in carried {
                        if let Some(&i) = at.as_deref().and_then(|at| wanted.get(at)) {
                            // The lowest id: were there ever two, the first is the one every
                            // read picks.
                            found[i] = Some(found[i].map_or(id, |f| f.min(id)));
                        }
                    }
                }
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
            match wait {
                Some(wait) if found.iter().any(Option::is_none) => tokio::time::sleep(*wait).await,
                _ => break,
            }
        }
        docs.iter()
            .zip(found)
            .map(|(doc, id)| {
                id.ok_or_else(|| {
                    let why = failure.clone().unwrap_or_else(|| {
                        format!(
                            "client {client_id}'s {doc_type} documents hold none with {} {} \
                             after {} reads",
                            id_field,
                            doc.autotask_id(id_field).unwrap_or_default(),
                            READ_BACK_WAITS.len() + 1
                        )
                    });
                    WriteError::Applied(refused(
                        &route,
                        route.path,
                        Some(format!("the batch answered success, but {why}")),
                    ))
                })
            })
            .collect()
    }
}
