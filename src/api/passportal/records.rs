//! What the Passportal client reads and writes beyond clients: users (assumed routes), and the
//! contact, location and asset documents of each client with their detail fields. Documents are
//! created without Passportal telling us their id, so a create reads the client's documents of
//! that type back by title to learn it.

use super::body::Request;
use super::client::PassportalClient;
use super::error::{PassportalError, WriteError};
use super::models::{
    detail_fields, Client, CreateResponse, DocType, Document, DocumentDetailResponse,
    DocumentSummary, NewClient, NewDocument, NewUser, OkResponse, User, UserWire,
};
use super::routes::{self, Route};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::Duration;

/// The waits between read-backs after a create that found nothing yet: an instance may index
/// a new document a while after answering (about 4 s in all, then the outcome is unknown).
pub(super) const READ_BACK_WAITS: [Duration; 4] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_millis(1000),
    Duration::from_millis(2000),
];

fn label(route: &Route, path: &str) -> String {
    format!("{} {path}", route.method)
}

/// An answer of 200 that says `success: false`: Passportal refused it.
pub(super) fn refused(route: &Route, path: &str, message: Option<String>) -> PassportalError {
    PassportalError::Http {
        route: label(route, path),
        status: 200,
        message: message.unwrap_or_else(|| "answered without success".into()),
    }
}

/// A failed read of one client's documents of `doc_type`, naming the client (its cause the
/// route).
pub(super) fn for_client(
    e: PassportalError,
    doc_type: DocType,
    client_id: i64,
    client_name: &str,
) -> PassportalError {
    PassportalError::ForClient {
        what: format!("{doc_type} documents"),
        client_id,
        client_name: client_name.to_string(),
        route: e.route().unwrap_or("the token exchange").to_string(),
        source: Box::new(e),
    }
}

/// A record to create, for [`PassportalClient::create_request`].
#[derive(Debug, Clone, Copy)]
pub enum Create<'a> {
    Client(&'a NewClient),
    User(&'a NewUser),
    Document(&'a NewDocument),
}

impl PassportalClient {
    /// The template uid documents of `doc_type` are created with (`[passportal.templates]`).
    pub fn template_uid(&self, doc_type: DocType) -> &str {
        let t = &self.settings().templates;
        match doc_type {
            DocType::Contact => &t.contact,
            DocType::Location => &t.location,
            DocType::Asset => &t.asset,
        }
    }

    /// The label of the template field documents carry their Autotask id in
    /// (`[passportal.templates] id_field`).
    pub fn id_field(&self) -> &str {
        &self.settings().templates.id_field
    }

    /// Every user (assumed route), names decoded.
    pub async fn users(&self) -> Result<Vec<User>, PassportalError> {
        let wire: Vec<UserWire> = self.list_all(&routes::LIST_USERS, &[]).await?;
        Ok(wire.into_iter().map(User::from).collect())
    }

    /// The exact request creating a record: what the create sends and `load --dry-run` prints.
    pub fn create_request(&self, what: Create<'_>) -> Request {
        match what {
            Create::Client(c) => Request::create_client(c),
            Create::User(u) => Request::create_user(u),
            Create::Document(d) => Request::create_document(d, self.template_uid(d.doc_type)),
        }
    }

    /// The request that brings record `id` in line with `what` (the create's body, `PUT` on the
    /// record): the one builder, for the load and the dry run alike.
    pub fn update_request(&self, id: i64, what: Create<'_>) -> Request {
        match what {
            Create::Client(c) => Request::update_client(id, c),
            Create::User(u) => Request::update_user(id, u),
            Create::Document(d) => Request::update_document(id, d, self.template_uid(d.doc_type)),
        }
    }

    /// Send a request from [`Request`]: exactly its bytes.
    async fn send<T: serde::de::DeserializeOwned>(&self, req: &Request) -> Result<T, WriteError> {
        self.write(&req.route, &req.path, &req.body).await
    }

    /// Create a client (assumed route); returns its new id.
    pub async fn create_client(&self, client: &NewClient) -> Result<i64, WriteError> {
        self.created_id(&self.create_request(Create::Client(client)))
            .await
    }

    /// Create a user (assumed route); returns its new id.
    pub async fn create_user(&self, user: &NewUser) -> Result<i64, WriteError> {
        self.created_id(&self.create_request(Create::User(user)))
            .await
    }

    /// Send a create answered with the new id: `{"success": true, "id": N}`.
    async fn created_id(&self, req: &Request) -> Result<i64, WriteError> {
        let route = req.route;
        let resp: CreateResponse = self.send(req).await?;
        match (resp.success, resp.id) {
            (true, Some(id)) => Ok(id),
            (false, _) => Err(WriteError::Rejected(refused(
                &route,
                route.path,
                resp.message,
            ))),
            (true, None) => Err(WriteError::Unknown(refused(
                &route,
                route.path,
                Some("answered success without an id".into()),
            ))),
        }
    }

    /// Every document of `doc_type` under every client, with its detail fields.
    pub async fn documents(&self, doc_type: DocType) -> Result<Vec<Document>, PassportalError> {
        let clients = self.clients().await?;
        self.documents_for(&clients, doc_type).await
    }

    /// The documents of `doc_type` under each of `clients`, in client order then id order.
    /// Clients are read a few at a time and details fetched concurrently; requests in flight
    /// never exceed `passportal.concurrency`.
    pub async fn documents_for(
        &self,
        clients: &[Client],
        doc_type: DocType,
    ) -> Result<Vec<Document>, PassportalError> {
        let per_client: Vec<Vec<Document>> = stream::iter(clients)
            .map(|c| self.client_documents(c, doc_type))
            .buffered(self.concurrency())
            .try_collect()
            .await?;
        Ok(per_client.into_iter().flatten().collect())
    }

    /// One client's documents of `doc_type` in id order, with their detail fields. A failure
    /// names the client (and its cause the route).
    pub async fn client_documents(
        &self,
        client: &Client,
        doc_type: DocType,
    ) -> Result<Vec<Document>, PassportalError> {
        let read = async {
            let summaries = self.list_documents(client.id, doc_type, None).await?;
            self.with_details(client.id, doc_type, summaries).await
        };
        read.await
            .map_err(|e| for_client(e, doc_type, client.id, &client.name))
    }

    /// One client's documents of `doc_type`, listed completely (no search: a search index may
    /// lag behind writes), with their fields, except those in `skip` (left out altogether:
    /// the load uses it for documents already linked, whose fields it does not need).
    pub async fn documents_of(
        &self,
        client_id: i64,
        doc_type: DocType,
        skip: &std::collections::HashSet<i64>,
    ) -> Result<Vec<Document>, PassportalError> {
        let listed: Vec<DocumentSummary> = self
            .list_documents(client_id, doc_type, None)
            .await?
            .into_iter()
            .filter(|s| !skip.contains(&s.id))
            .collect();
        self.with_details(client_id, doc_type, listed).await
    }

    /// The documents of `doc_type` under `client_id` titled exactly `title` (after decoding),
    /// with their fields, in id order. Used to learn a created document's id and to reconcile a
    /// create whose outcome was unknown.
    pub async fn find_documents(
        &self,
        client_id: i64,
        doc_type: DocType,
        title: &str,
    ) -> Result<Vec<Document>, PassportalError> {
        let summaries = self.titled(client_id, doc_type, title).await?;
        self.with_details(client_id, doc_type, summaries).await
    }

    /// Whether the template documents of `doc_type` are created with has a field labelled
    /// `label`, as its documents show it: every document of a template carries each of the
    /// template's slots, empty or not. `None` when no document of the template exists yet to
    /// tell. Two requests: one listing page, one detail.
    pub async fn template_has_field(
        &self,
        doc_type: DocType,
        label: &str,
    ) -> Result<Option<bool>, PassportalError> {
        let query = [
            ("resultsPerPage", "1".to_string()),
            ("pageNum", "1".to_string()),
            ("type", doc_type.as_str().to_string()),
            ("templateUid", self.template_uid(doc_type).to_string()),
        ];
        let route = &routes::LIST_DOCUMENTS;
        let page: super::models::ListResponse<DocumentSummary> =
            self.get(route.path, &query).await?;
        if !page.success {
            return Err(refused(route, route.path, None));
        }
        let Some(first) = page.results.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let path = routes::DOCUMENT.path_for(first.id);
        let resp: DocumentDetailResponse = self.get(&path, &[]).await?;
        let details = match resp.details {
            Some(d) if resp.success => d,
            _ => return Err(refused(&routes::DOCUMENT, &path, resp.message)),
        };
        Ok(Some(details.values().any(|slot| {
            slot.get("name")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|n| {
                    super::models::decode_name(n)
                        .trim()
                        .eq_ignore_ascii_case(label)
                })
        })))
    }

    /// One document's detail: its name and fields (decoded), in slot order.
    pub async fn document_fields(
        &self,
        id: i64,
    ) -> Result<(Option<String>, Vec<(String, String)>), PassportalError> {
        let path = routes::DOCUMENT.path_for(id);
        let resp: DocumentDetailResponse = self.get(&path, &[]).await?;
        match resp.details {
            Some(details) if resp.success => Ok(detail_fields(&details)),
            _ => Err(refused(&routes::DOCUMENT, &path, resp.message)),
        }
    }

    /// Create a document, then read the client's documents of that type back by title to
    /// learn its id: the document is the one whose `Autotask ID` field holds the id sent, never
    /// the only or the newest one with that title. A listing that does not show it yet (search
    /// indexes lag behind writes) is read again with growing waits, `READ_BACK_WAITS`; still
    /// nothing (or a read-back that fails) is `WriteError::Applied`: it exists, look it up by
    /// its `Autotask ID`, never send it again.
    /// A document without an `Autotask ID` is refused before it is sent: it could never be
    /// found again.
    pub async fn create_document(&self, doc: &NewDocument) -> Result<i64, WriteError> {
        let route = routes::CREATE_DOCUMENT;
        let id_field = self.id_field();
        let Some(sent) = doc.autotask_id(id_field).map(str::to_string) else {
            return Err(WriteError::Rejected(refused(
                &route,
                route.path,
                Some(format!(
                    "not sent: the document {:?} carries no {:?} field, so it could never be \
                     found again",
                    doc.title, id_field
                )),
            )));
        };
        let resp: OkResponse = self
            .send(&self.create_request(Create::Document(doc)))
            .await?;
        if !resp.success {
            return Err(WriteError::Rejected(refused(
                &route,
                route.path,
                resp.message,
            )));
        }
        let mut read: HashMap<i64, Option<String>> = HashMap::new();
        for wait in READ_BACK_WAITS.iter().map(Some).chain([None]) {
            let listed = self
                .titled(doc.client_id, doc.doc_type, &doc.title)
                .await
                .map_err(WriteError::Applied)?;
            let unread: Vec<DocumentSummary> = listed
                .into_iter()
                .filter(|s| !read.contains_key(&s.id))
                .collect();
            for d in self
                .with_details(doc.client_id, doc.doc_type, unread)
                .await
                .map_err(WriteError::Applied)?
            {
                let at = d.field(id_field).map(|v| v.trim().to_string());
                read.insert(d.id, at);
            }
            // The lowest id: were there ever two, the first is the one every read picks.
            let ours = read
                .iter()
                .filter(|(_, at)| at.as_deref() == Some(sent.as_str()))
                .map(|(id, _)| *id)
                .min();
            match (ours, wait) {
                (Some(id), _) => return Ok(id),
                (None, Some(wait)) => tokio::time::sleep(*wait).await,
                (None, None) => break,
            }
        }
        Err(WriteError::Applied(refused(
            &route,
            route.path,
            Some(format!(
                "answered success, but client {}'s {} documents titled {:?} hold none with \
                 {:?} {sent} after {} reads",
                doc.client_id,
                doc.doc_type,
                doc.title,
                id_field,
                READ_BACK_WAITS.len() + 1
            )),
        )))
    }

    /// How long a request may take before the client gives up on it (`passportal.timeout_secs`):
    /// a create unanswered that long is settled against a listing only after it.
    pub fn request_timeout(&self) -> Duration {
        self.settings().http.timeout
    }

    /// Update a record (assumed `PUT` routes): a client's name, a user's names and e-mail, a
    /// document's title and the fields sent (its others are kept).
    pub async fn update(&self, id: i64, what: Create<'_>) -> Result<(), WriteError> {
        let req = self.update_request(id, what);
        let resp: OkResponse = self.send(&req).await?;
        if resp.success {
            Ok(())
        } else {
            Err(WriteError::Rejected(refused(
                &req.route,
                &req.path,
                resp.message,
            )))
        }
    }

    /// A client's documents of a type, listed (no fields), optionally by `searchTxt`.
    pub(super) async fn list_documents(
        &self,
        client_id: i64,
        doc_type: DocType,
        search: Option<&str>,
    ) -> Result<Vec<DocumentSummary>, PassportalError> {
        let mut query = vec![
            ("type", doc_type.as_str().to_string()),
            ("clientId", client_id.to_string()),
            ("orderBy", "id".to_string()),
            ("orderDir", "asc".to_string()),
        ];
        if let Some(text) = search {
            query.push(("searchTxt", text.to_string()));
        }
        let mut listed: Vec<DocumentSummary> =
            self.list_all(&routes::LIST_DOCUMENTS, &query).await?;
        listed.sort_by_key(|s| s.id);
        listed.dedup_by_key(|s| s.id);
        Ok(listed)
    }

    /// Listed documents whose decoded label is exactly `title` (`searchTxt` finds substrings).
    async fn titled(
        &self,
        client_id: i64,
        doc_type: DocType,
        title: &str,
    ) -> Result<Vec<DocumentSummary>, PassportalError> {
        let want = title.trim();
        Ok(self
            .list_documents(client_id, doc_type, Some(want))
            .await?
            .into_iter()
            .filter(|s| {
                super::models::decode_name(s.label.as_deref().unwrap_or_default()).trim() == want
            })
            .collect())
    }

    /// Fetch each listed document's fields, concurrently, keeping the list's order.
    pub(super) async fn with_details(
        &self,
        client_id: i64,
        doc_type: DocType,
        summaries: Vec<DocumentSummary>,
    ) -> Result<Vec<Document>, PassportalError> {
        stream::iter(summaries)
            .map(|s| async move {
                let (name, fields) = self.document_fields(s.id).await?;
                let label = s
                    .label
                    .as_deref()
                    .map(super::models::decode_name)
                    .filter(|l| !l.is_empty());
                Ok(Document {
                    id: s.id,
                    client_id: s.client_id.unwrap_or(client_id),
                    doc_type: s
                        .doc_type
                        .as_deref()
                        .and_then(DocType::from_wire)
                        .unwrap_or(doc_type),
                    title: label.or(name).unwrap_or_default(),
                    fields,
                })
            })
            .buffered(self.concurrency())
            .try_collect()
            .await
    }
}
