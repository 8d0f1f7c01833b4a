//! A simulator of the Passportal v2 API (`shared/api/passportal.md`), served over real HTTP so
//! the real Passportal client is tested against the wire contract: the HMAC key exchange, token
//! expiry, encoded names and titles, paging quirks, users and documents with their numbered
//! detail slots, documents created without an id in the answer, and seeded faults on reads
//! (500, 429, truncated bodies, dropped connections) and on writes (including writes that are
//! applied but answered with an error or never answered) that a client must survive. The wire
//! shapes are written down in `crate::api::passportal::routes`.
//!
//! Layout: this file holds the public API, the shared state and the machinery every route gets
//! (latency, token check, faults); `auth` is the token exchange, `clients`, `users` and
//! `documents` the routes, `wire` the pure parts (name encoding, hash check, error bodies),
//! `write_faults` the seeded fault plan and instance quirks. A new
//! route is one more handler over `PassportalSim` added in `router`.

mod auth;
mod clients;
mod documents;
mod read_faults;
mod updates;
mod users;
mod wire;
mod write_faults;

pub use read_faults::{PageFault, ReadFaultPlan, ReceivedWrite, Redirect};
pub use wire::{content_hash, served_name};
pub use write_faults::WriteFaultPlan;

use write_faults::{ReadFault, WriteFault};

use super::generator::{DocType, PassportalInstance, PpClient, PpDocument, PpUser};
use super::{RunningSim, UnexpectedRequests};
use crate::model::credentials::PassportalCredentials;
use crate::model::pipeline::PassportalTemplates;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::Router;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How the simulator behaves beyond the contract's happy path.
#[derive(Clone, Debug)]
pub struct PassportalSimOptions {
    /// Lifetime of an access token from its exchange.
    pub token_lifetime_secs: i64,
    /// Slept before every answer except the token exchange.
    pub latency_ms: u64,
    /// A larger `resultsPerPage` is answered 400.
    pub max_results_per_page: usize,
    /// A token also stops working after this many requests (as if the server's clock ran
    /// ahead of `expiry_time`): makes a 401 mid-run deterministic in tests.
    pub token_max_uses: Option<u64>,
    /// The template uid of each document type (`templateUid` of creates, `templateId` of
    /// listings); the same defaults as the pipeline's `[passportal.templates]`.
    pub templates: PassportalTemplates,
    pub faults: WriteFaultPlan,
    pub read_faults: ReadFaultPlan,
    /// Which batch bodies `POST /api/v2/documents` takes; the others are answered 400 (nothing
    /// applied).
    pub batch_bodies: BatchBodies,
    /// A document listing with `type` but without `clientId` is answered 400, as an instance
    /// that insists on `clientId`.
    pub listing_needs_client: bool,
}

/// The batch shapes an instance takes on `POST /api/v2/documents` (a single document object is
/// always taken).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchBodies {
    /// `[{document}, ..]`.
    #[default]
    Array,
    /// `{"documents": [{document}, ..]}` only.
    Wrapped,
    /// Neither: one document per request.
    None,
}

impl Default for PassportalSimOptions {
    fn default() -> Self {
        PassportalSimOptions {
            token_lifetime_secs: 3600,
            latency_ms: 0,
            max_results_per_page: 1000,
            token_max_uses: None,
            templates: PassportalTemplates::default(),
            faults: WriteFaultPlan::default(),
            read_faults: ReadFaultPlan::default(),
            batch_bodies: BatchBodies::default(),
            listing_needs_client: false,
        }
    }
}

impl PassportalSimOptions {
    /// The template uid of a document type.
    fn template_uid(&self, doc_type: DocType) -> &str {
        match doc_type {
            DocType::Contact => &self.templates.contact,
            DocType::Location => &self.templates.location,
            DocType::Asset => &self.templates.asset,
        }
    }

    /// The label of the field the templates hold the Autotask id in (`templates.id_field`),
    /// or `None` for a type whose template has no such field (`templates_without_id`).
    pub fn id_field(&self, doc_type: DocType) -> Option<&str> {
        (!self.faults.templates_without_id.contains(&doc_type))
            .then_some(self.templates.id_field.as_str())
    }

    /// The fields a document of `doc_type` keeps of those sent: a field labelled as an id field
    /// its template does not have (none, or one of another label) is dropped.
    fn kept_fields(&self, doc_type: DocType, fields: &mut Vec<(String, String)>) {
        let kept = self.id_field(doc_type);
        let default = crate::api::passportal::fields::AUTOTASK_ID;
        fields.retain(|(label, _)| {
            let an_id = label.eq_ignore_ascii_case(default)
                || label.eq_ignore_ascii_case(&self.templates.id_field);
            !an_id || kept.is_some_and(|k| label.eq_ignore_ascii_case(k))
        });
    }

    /// The instance's own documents carry the id in the templates' field: a generated
    /// `Autotask ID` is relabelled to `templates.id_field` (and dropped where the template has
    /// none).
    fn instance_fields(&self, doc_type: DocType, fields: &mut Vec<(String, String)>) {
        let default = crate::api::passportal::fields::AUTOTASK_ID;
        for (label, _) in fields.iter_mut() {
            if label.eq_ignore_ascii_case(default) {
                *label = self.templates.id_field.clone();
            }
        }
        self.kept_fields(doc_type, fields);
    }

    /// The document type a template uid creates.
    fn template_type(&self, uid: &str) -> Option<DocType> {
        [DocType::Contact, DocType::Location, DocType::Asset]
            .into_iter()
            .find(|t| self.template_uid(*t) == uid)
    }
}

/// An issued access token.
#[derive(Clone, Copy, Debug)]
struct Issued {
    /// Unix milliseconds.
    expiry_ms: i64,
    /// Requests made with it.
    uses: u64,
}

/// `resultsPerPage` when a list request leaves it out.
const DEFAULT_RESULTS_PER_PAGE: usize = 20;

/// Everything the routes read and change, behind one lock (never held across an await).
struct SimState {
    /// Clients, users and documents, each kept in ascending id order, so a page is a slice.
    instance: PassportalInstance,
    /// Positions in `instance.documents` per (client, type), in id order.
    docs_by_owner: HashMap<(i64, DocType), Vec<usize>>,
    /// Position in `instance.documents` by document id.
    doc_pos: HashMap<i64, usize>,
    /// Access token → expiry and uses.
    tokens: HashMap<String, Issued>,
    /// The ids the next created client, user and document get: above every id ever held.
    next_client_id: i64,
    next_user_id: i64,
    next_doc_id: i64,
    /// When each document created through the route was created (for `search_lag_ms`).
    created_at: HashMap<i64, std::time::Instant>,
}

impl SimState {
    /// Restore the invariants after the instance was replaced or edited from outside.
    fn normalise(&mut self) {
        let i = &mut self.instance;
        i.clients.sort_by_key(|c| c.id);
        i.users.sort_by_key(|u| u.id);
        i.documents.sort_by_key(|d| d.id);
        self.next_client_id = self
            .next_client_id
            .max(i.clients.last().map_or(1, |c| c.id + 1));
        self.next_user_id = self
            .next_user_id
            .max(i.users.last().map_or(1, |u| u.id + 1));
        self.next_doc_id = self
            .next_doc_id
            .max(i.documents.last().map_or(1, |d| d.id + 1));
        self.docs_by_owner.clear();
        self.doc_pos.clear();
        for pos in 0..self.instance.documents.len() {
            self.index_document(pos);
        }
    }

    fn index_document(&mut self, pos: usize) {
        let d = &self.instance.documents[pos];
        self.docs_by_owner
            .entry((d.client_id, d.doc_type))
            .or_default()
            .push(pos);
        self.doc_pos.insert(d.id, pos);
    }

    /// Add a document under a fresh id (above all, so the id order holds); returns the id.
    fn add_document(&mut self, mut doc: PpDocument) -> i64 {
        doc.id = self.next_doc_id;
        self.next_doc_id += 1;
        self.instance.documents.push(doc);
        let pos = self.instance.documents.len() - 1;
        self.index_document(pos);
        self.instance.documents[pos].id
    }

    /// Whether a search finds document `id` yet: created through the route at least `lag` ago,
    /// or never created through it.
    fn indexed_for_search(&self, id: i64, lag: Duration) -> bool {
        self.created_at
            .get(&id)
            .is_none_or(|at| at.elapsed() >= lag)
    }

    fn document_mut(&mut self, id: i64) -> Option<&mut PpDocument> {
        let pos = *self.doc_pos.get(&id)?;
        self.instance.documents.get_mut(pos)
    }

    /// One page of `total` items: the index range, or the past-the-end answer (`[]`; a `null`
    /// is a fault, see `read_faults`).
    fn page(
        &mut self,
        total: usize,
        per_page: usize,
        page: usize,
    ) -> Result<std::ops::Range<usize>, serde_json::Value> {
        let start = (page - 1).saturating_mul(per_page);
        if start >= total {
            return Err(serde_json::json!([]));
        }
        Ok(start..start.saturating_add(per_page).min(total))
    }
}

/// The Passportal simulator's state and counters. Serve it with [`serve`].
pub struct PassportalSim {
    credentials: PassportalCredentials,
    options: PassportalSimOptions,
    state: Mutex<SimState>,
    write_faults: Mutex<ChaCha8Rng>,
    read_faults: Mutex<ChaCha8Rng>,
    creates: AtomicU64,
    /// Writes answered late (`rate_applied_late`) not applied yet.
    late_pending: AtomicU64,
    updates: AtomicU64,
    token_exchanges: AtomicU64,
    unexpected: UnexpectedRequests,
    /// Read faults and the traffic log (`read_faults`).
    reads: read_faults::ReadFaults,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl PassportalSim {
    pub fn new(
        instance: PassportalInstance,
        credentials: PassportalCredentials,
        options: PassportalSimOptions,
    ) -> Arc<Self> {
        let mut state = SimState {
            instance,
            docs_by_owner: HashMap::new(),
            doc_pos: HashMap::new(),
            tokens: HashMap::new(),
            next_client_id: 1,
            next_user_id: 1,
            next_doc_id: 1,
            created_at: HashMap::new(),
        };
        for doc in &mut state.instance.documents {
            options.instance_fields(doc.doc_type, &mut doc.fields);
        }
        state.normalise();
        let writes = ChaCha8Rng::seed_from_u64(options.faults.seed);
        let mut reads = ChaCha8Rng::seed_from_u64(options.faults.seed);
        reads.set_stream(1);
        let traffic = read_faults::ReadFaults::new(options.read_faults.clone());
        Arc::new(PassportalSim {
            credentials,
            options,
            state: Mutex::new(state),
            write_faults: Mutex::new(writes),
            read_faults: Mutex::new(reads),
            creates: AtomicU64::new(0),
            late_pending: AtomicU64::new(0),
            updates: AtomicU64::new(0),
            token_exchanges: AtomicU64::new(0),
            unexpected: UnexpectedRequests::default(),
            reads: traffic,
        })
    }

    /// Read or change the instance (tests seed and inspect it). Records are kept sorted by id
    /// afterwards, and created ones keep getting ids above every id ever held.
    pub fn with_instance<R>(&self, f: impl FnOnce(&mut PassportalInstance) -> R) -> R {
        let mut state = lock(&self.state);
        let out = f(&mut state.instance);
        state.normalise();
        out
    }

    /// The clients as the instance holds them (decoded names), in id order.
    pub fn clients(&self) -> Vec<PpClient> {
        lock(&self.state).instance.clients.clone()
    }

    /// The users as the instance holds them, in id order.
    pub fn users(&self) -> Vec<PpUser> {
        lock(&self.state).instance.users.clone()
    }

    /// The documents as the instance holds them (decoded), in id order.
    pub fn documents(&self) -> Vec<PpDocument> {
        lock(&self.state).instance.documents.clone()
    }

    /// One document by id.
    pub fn document(&self, id: i64) -> Option<PpDocument> {
        let state = lock(&self.state);
        let pos = *state.doc_pos.get(&id)?;
        state.instance.documents.get(pos).cloned()
    }

    /// Create requests applied, of clients, users and documents (including those answered
    /// with a fault after applying).
    pub fn creates(&self) -> u64 {
        self.creates.load(Ordering::SeqCst)
    }

    /// Writes the server is still holding to apply late (`rate_applied_late`): a test waits for
    /// none before it starts a load after killing one, as a later night would.
    pub fn late_pending(&self) -> u64 {
        self.late_pending.load(Ordering::SeqCst)
    }

    /// Updates applied (clients, users and documents).
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::SeqCst)
    }

    /// Successful token exchanges.
    pub fn token_exchanges(&self) -> u64 {
        self.token_exchanges.load(Ordering::SeqCst)
    }

    pub fn unexpected(&self) -> &UnexpectedRequests {
        &self.unexpected
    }

    fn state(&self) -> MutexGuard<'_, SimState> {
        lock(&self.state)
    }

    async fn latency(&self) {
        if self.options.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.options.latency_ms)).await;
        }
    }

    /// Whether the request carries an unexpired access token issued here (and, with
    /// `token_max_uses`, one not used up); counts the use.
    fn token_is_valid(&self, headers: &HeaderMap) -> bool {
        let Some(token) = headers.get("x-access-token").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let max_uses = self.options.token_max_uses.unwrap_or(u64::MAX);
        let mut state = self.state();
        let Some(issued) = state.tokens.get_mut(token) else {
            return false;
        };
        issued.uses += 1;
        now_ms() < issued.expiry_ms && issued.uses <= max_uses
    }

    /// `resultsPerPage` (default 20, at most `max_results_per_page`) and `pageNum` (from 1) of
    /// a list request; the error is the message of a 400 answer.
    fn paging(&self, query: Option<&str>) -> Result<(usize, usize), String> {
        let per_page = wire::page_param(query, "resultsPerPage", DEFAULT_RESULTS_PER_PAGE)?;
        let max = self.options.max_results_per_page;
        if per_page > max {
            return Err(format!("resultsPerPage must not exceed {max}"));
        }
        let page = wire::page_param(query, "pageNum", 1)?;
        Ok((per_page, page))
    }

    fn draw_write_fault(&self) -> WriteFault {
        let draw: f64 = lock(&self.write_faults).gen();
        self.options.faults.decide(draw)
    }

    fn draw_read_fault(&self, path: &str) -> ReadFault {
        if !self.options.faults.faults_read(path) {
            return ReadFault::None;
        }
        let draw: f64 = lock(&self.read_faults).gen();
        self.options.faults.decide_read(draw)
    }
}

/// Serve the simulator on `bind` (port 0 picks a free port).
pub async fn serve(sim: Arc<PassportalSim>, bind: SocketAddr) -> std::io::Result<RunningSim> {
    RunningSim::serve(router(sim), bind).await
}

/// Every route of the simulator. The token exchange stands apart; every other route passes
/// through [`guard`] (latency, token, faults). Anything unrouted lands in [`unexpected_route`].
fn router(sim: Arc<PassportalSim>) -> Router {
    // The paths come from the client's route table, so the two cannot drift apart.
    use crate::api::passportal::routes as r;
    let guarded = Router::new()
        .route(r::LIST_CLIENTS.path, get(clients::list))
        .route(r::CREATE_CLIENT.path, post(clients::create))
        .route(r::UPDATE_CLIENT.path, put(clients::update))
        .route(r::LIST_USERS.path, get(users::list).post(users::create))
        .route(r::UPDATE_USER.path, put(users::update))
        .route(
            r::LIST_DOCUMENTS.path,
            get(documents::list).post(documents::create),
        )
        .route(
            r::DOCUMENT.path,
            get(documents::detail).put(documents::update),
        )
        .route_layer(middleware::from_fn_with_state(sim.clone(), guard));
    Router::new()
        .route(r::TOKEN.path, post(auth::client_token))
        .merge(guarded)
        .fallback(unexpected_route)
        .method_not_allowed_fallback(unexpected_route)
        .layer(middleware::from_fn_with_state(
            sim.clone(),
            read_faults::layer,
        ))
        .with_state(sim)
}

/// What every route but the token exchange goes through: latency, the token check, then one
/// fault draw (reads and writes from separate streams; a read whose path the plan leaves out
/// draws nothing). A fault that applies the write runs
/// the handler first and only changes the answer if the handler succeeded.
async fn guard(State(sim): State<Arc<PassportalSim>>, req: Request, next: Next) -> Response {
    sim.latency().await;
    if !sim.token_is_valid(req.headers()) {
        return wire::auth_error("Invalid token: expired or unknown");
    }
    let method = req.method().clone();
    if method == Method::GET || method == Method::HEAD {
        return match sim.draw_read_fault(req.uri().path()) {
            ReadFault::None => next.run(req).await,
            ReadFault::Fail500 => wire::internal_error(),
            ReadFault::Throttle429 => wire::throttled(),
            ReadFault::Truncated => wire::truncated(next.run(req).await).await,
            ReadFault::Drop => wire::dropped_connection(),
        };
    }
    if method != Method::POST && method != Method::PUT {
        return next.run(req).await;
    }
    match sim.draw_write_fault() {
        WriteFault::None => next.run(req).await,
        WriteFault::Fail500 => wire::internal_error(),
        WriteFault::Throttle429 => wire::throttled(),
        WriteFault::AppliedThen500 => {
            let resp = next.run(req).await;
            if resp.status().is_success() {
                wire::internal_error()
            } else {
                resp
            }
        }
        WriteFault::AppliedThenDrop => {
            let resp = next.run(req).await;
            if resp.status().is_success() {
                wire::dropped_connection()
            } else {
                resp
            }
        }
        WriteFault::AppliedLate => {
            let late = Duration::from_millis(sim.options.faults.late_ms);
            // Applied by a task of its own: the client giving up does not cancel it.
            sim.late_pending.fetch_add(1, Ordering::SeqCst);
            let held = sim.clone();
            let applied = tokio::spawn(async move {
                tokio::time::sleep(late).await;
                let resp = next.run(req).await;
                held.late_pending.fetch_sub(1, Ordering::SeqCst);
                resp
            });
            applied.await.unwrap_or_else(|_| wire::internal_error())
        }
        WriteFault::AppliedThenHang => {
            let resp = next.run(req).await;
            if resp.status().is_success() {
                tokio::time::sleep(Duration::from_millis(sim.options.faults.hang_ms)).await;
            }
            resp
        }
    }
}

/// Any route or method the contract does not have: 404, and recorded so a test fails loudly.
async fn unexpected_route(
    State(sim): State<Arc<PassportalSim>>,
    method: Method,
    uri: Uri,
) -> Response {
    sim.latency().await;
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string());
    sim.unexpected.record(format!("{method} {target}"));
    wire::error(StatusCode::NOT_FOUND, "route not found")
}

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod tests;
