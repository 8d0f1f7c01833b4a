//! A simulator of the Passportal v2 API (`shared/api/passportal.md`), served over real HTTP so
//! the real Passportal client is tested against the wire contract: the HMAC key exchange, token
//! expiry, encoded names, paging quirks, and seeded faults on writes (including writes that are
//! applied but answered with an error or never answered) that a loader must survive.
//!
//! Layout: this file holds the public API, the shared state and the machinery every route gets
//! (latency, token check, faults); `auth` is the token exchange, `clients` the client routes,
//! `wire` the pure parts (name encoding, hash check, error bodies). A new route is one more
//! handler over `PassportalSim` added in `router`.

mod auth;
mod clients;
mod wire;

pub use wire::{content_hash, served_name};

use super::generator::{PassportalInstance, PpClient};
use super::{RunningSim, UnexpectedRequests};
use crate::credentials::PassportalCredentials;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
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
    pub faults: WriteFaultPlan,
}

impl Default for PassportalSimOptions {
    fn default() -> Self {
        PassportalSimOptions {
            token_lifetime_secs: 3600,
            latency_ms: 0,
            max_results_per_page: 1000,
            faults: WriteFaultPlan::default(),
        }
    }
}

/// Seeded faults. Each write (POST/PUT other than the token exchange) draws one number; the
/// rates are cumulative in field order, so their sum should stay at most 1. Reads (GET) draw
/// from a separate seeded stream, so adding reads does not shift which writes fail.
#[derive(Clone, Debug, Default)]
pub struct WriteFaultPlan {
    pub seed: u64,
    /// 500 without applying the write.
    pub rate_500: f64,
    /// 429 with `Retry-After: 1` without applying the write.
    pub rate_429: f64,
    /// Apply the write, then answer 500.
    pub rate_applied_then_500: f64,
    /// Apply the write, then sleep `hang_ms` before answering 200.
    pub rate_applied_then_hang_ms: f64,
    pub hang_ms: u64,
    /// 500 on a read.
    pub read_rate_500: f64,
}

/// What one write's draw decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteFault {
    None,
    Fail500,
    Throttle429,
    AppliedThen500,
    AppliedThenHang,
}

impl WriteFaultPlan {
    fn decide(&self, draw: f64) -> WriteFault {
        let steps = [
            (self.rate_500, WriteFault::Fail500),
            (self.rate_429, WriteFault::Throttle429),
            (self.rate_applied_then_500, WriteFault::AppliedThen500),
            (self.rate_applied_then_hang_ms, WriteFault::AppliedThenHang),
        ];
        let mut edge = 0.0;
        for (rate, fault) in steps {
            edge += rate.max(0.0);
            if draw < edge {
                return fault;
            }
        }
        WriteFault::None
    }
}

/// Everything the routes read and change, behind one lock (never held across an await).
struct SimState {
    /// Clients kept in ascending id order, so a page is a slice.
    instance: PassportalInstance,
    /// Access token → expiry, unix milliseconds.
    tokens: HashMap<String, i64>,
    /// The id the next created client gets: above every id ever held.
    next_client_id: i64,
    /// Pages asked for past the end, to alternate `[]` and `null`.
    past_end_pages: u64,
}

impl SimState {
    /// Restore the invariants after the instance was replaced or edited from outside.
    fn normalise(&mut self) {
        self.instance.clients.sort_by_key(|c| c.id);
        let above = self.instance.clients.last().map_or(1, |c| c.id + 1);
        self.next_client_id = self.next_client_id.max(above);
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
    token_exchanges: AtomicU64,
    unexpected: UnexpectedRequests,
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
            tokens: HashMap::new(),
            next_client_id: 1,
            past_end_pages: 0,
        };
        state.normalise();
        let writes = ChaCha8Rng::seed_from_u64(options.faults.seed);
        let mut reads = ChaCha8Rng::seed_from_u64(options.faults.seed);
        reads.set_stream(1);
        Arc::new(PassportalSim {
            credentials,
            options,
            state: Mutex::new(state),
            write_faults: Mutex::new(writes),
            read_faults: Mutex::new(reads),
            creates: AtomicU64::new(0),
            token_exchanges: AtomicU64::new(0),
            unexpected: UnexpectedRequests::default(),
        })
    }

    /// Read or change the instance (tests seed and inspect it). Clients are kept sorted by id
    /// afterwards, and created clients keep getting ids above every id ever held.
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

    /// Create requests applied (including those answered with a fault after applying).
    pub fn creates(&self) -> u64 {
        self.creates.load(Ordering::SeqCst)
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

    /// Whether the request carries an unexpired access token issued here.
    fn token_is_valid(&self, headers: &HeaderMap) -> bool {
        let Some(token) = headers.get("x-access-token").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        self.state()
            .tokens
            .get(token)
            .is_some_and(|&expiry| now_ms() < expiry)
    }

    fn draw_write_fault(&self) -> WriteFault {
        let draw: f64 = lock(&self.write_faults).gen();
        self.options.faults.decide(draw)
    }

    fn draw_read_fault(&self) -> bool {
        let draw: f64 = lock(&self.read_faults).gen();
        draw < self.options.faults.read_rate_500
    }
}

/// Serve the simulator on `bind` (port 0 picks a free port).
pub async fn serve(sim: Arc<PassportalSim>, bind: SocketAddr) -> std::io::Result<RunningSim> {
    RunningSim::serve(router(sim), bind).await
}

/// Every route of the simulator. The token exchange stands apart; every other route passes
/// through [`guard`] (latency, token, faults). Anything unrouted lands in [`unexpected_route`].
fn router(sim: Arc<PassportalSim>) -> Router {
    let guarded = Router::new()
        .route("/api/v2/documents/clients", get(clients::list))
        .route("/api/v2/clients", post(clients::create))
        .route_layer(middleware::from_fn_with_state(sim.clone(), guard));
    Router::new()
        .route("/api/v2/auth/client_token", post(auth::client_token))
        .merge(guarded)
        .fallback(unexpected_route)
        .method_not_allowed_fallback(unexpected_route)
        .with_state(sim)
}

/// What every route but the token exchange goes through: latency, the token check, then one
/// fault draw (reads and writes from separate streams). A fault that applies the write runs
/// the handler first and only changes the answer if the handler succeeded.
async fn guard(State(sim): State<Arc<PassportalSim>>, req: Request, next: Next) -> Response {
    sim.latency().await;
    if !sim.token_is_valid(req.headers()) {
        return wire::auth_error("Invalid token: expired or unknown");
    }
    let method = req.method().clone();
    if method == Method::GET || method == Method::HEAD {
        if sim.draw_read_fault() {
            return wire::internal_error();
        }
        return next.run(req).await;
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
mod tests;
