//! Autotask PSA REST API simulator. The real service cannot be reached from here, so this
//! serves `shared/api/autotask.md` over real HTTP on loopback: zone discovery, header
//! authentication with Autotask's misleading errors, `query` with its filter grammar and paging,
//! `query/count`, `{id}`, `entityInformation/fields`, `ThresholdInformation`, the hourly request
//! threshold, the per-endpoint thread threshold, and seeded faults (429, 500, truncated and empty
//! bodies, dropped connections, slow answers) so the real client is tested against them.
//!
//! Behaviour choices the contract leaves open:
//! - A wrong `Secret` answers 401 with an **empty body** (as IIS does).
//! - Paths are case-insensitive; a trailing `/` is ignored.
//! - A request refused by the hourly threshold (429) is not counted in the window.
//! - `noteq` is exactly `not eq`, so it matches records whose field is null.
//! - Unknown `IncludeFields` names answer 500 like unknown filter fields.
//! - A GET query's `nextPageUrl` carries `&search=`, so a GET on it works; a POST query's cursor
//!   has no `search` and a GET on it answers 405 (recorded as unexpected).
//! - Records are kept in ascending id order, so a query with a top-level `id gt/gte` condition
//!   starts by binary search and stops after `MaxRecords` matches: a page of a million
//!   configuration items costs what a page of a hundred does.
//! - Faults are drawn from the seed and the request itself (method, path, body) and how many
//!   times that same request was seen, never from arrival order: under concurrency a fault plan
//!   still replays exactly.

pub mod derived;
mod entities;
mod faults;
mod filter;
mod records;
mod routes;
mod wire;

use routes::{classify, EntityOp, Route};
pub use routes::{discovery_url, serve};

#[cfg(test)]
mod http_tests;

use super::{RunningSim, UnexpectedRequests};
use crate::model::credentials::AutotaskCredentials;
use crate::sim::generator::AutotaskTenant;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
pub use faults::FaultPlan;
use faults::{Fault, Faults};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use records::{EntityDef, SimRecord};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};
use wire::{
    decode_token, dropped_connection, encode_token, errors, json_response, parse_params,
    thread_threshold, too_many, Call, JSON,
};

/// The rolling window of the hourly request threshold.
const WINDOW: Duration = Duration::from_secs(3600);
const ZONE_ERROR: &str = "Zone information could not be determined";
/// Largest request body read (a 500-condition filter is far below it).
const BODY_LIMIT: usize = 16 << 20;

/// How the simulated tenant behaves under load.
#[derive(Clone, Debug)]
pub struct AutotaskSimOptions {
    /// How long every REST answer takes, the simulator's own work of finding and rendering it
    /// included (as a real service's answer time includes its processing).
    pub latency_ms: u64,
    /// Requests per rolling hour before 429 (Autotask: 10,000).
    pub hourly_threshold: u64,
    /// Concurrent requests per (integration code, entity endpoint) before `Itgenatr005`.
    pub max_in_flight_per_endpoint: usize,
    pub faults: FaultPlan,
}

impl Default for AutotaskSimOptions {
    fn default() -> Self {
        AutotaskSimOptions {
            latency_ms: 0,
            hourly_threshold: 10_000,
            max_in_flight_per_endpoint: 3,
            faults: FaultPlan::default(),
        }
    }
}

/// The simulated Autotask tenant and the service's bookkeeping.
pub struct AutotaskSim {
    tenant: RwLock<AutotaskTenant>,
    credentials: AutotaskCredentials,
    options: AutotaskSimOptions,
    unexpected: UnexpectedRequests,
    /// Requests per endpoint name, lower-cased.
    counts: Mutex<HashMap<String, u64>>,
    /// Admission times of the requests in the rolling hour.
    window: Mutex<VecDeque<Instant>>,
    /// Requests in flight per (integration code, endpoint).
    in_flight: Mutex<HashMap<(String, String), usize>>,
    faults: Faults,
    /// Thread-threshold refusals (real ones, not planned faults) per endpoint.
    refusals: Mutex<HashMap<String, u64>>,
    /// The most requests ever in flight at once per endpoint.
    peaks: Mutex<HashMap<String, usize>>,
    /// The tenant's zone: REST calls to another zone's base answer 401 (the tenant moved).
    zone: AtomicU64,
    zone_lookups: AtomicU64,
    addr: Mutex<Option<SocketAddr>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AutotaskSim {
    pub fn new(
        tenant: AutotaskTenant,
        credentials: AutotaskCredentials,
        options: AutotaskSimOptions,
    ) -> Arc<Self> {
        let mut tenant = tenant;
        sort_tenant(&mut tenant);
        Arc::new(AutotaskSim {
            faults: Faults::new(options.faults.clone()),
            tenant: RwLock::new(tenant),
            credentials,
            options,
            unexpected: UnexpectedRequests::default(),
            counts: Mutex::new(HashMap::new()),
            window: Mutex::new(VecDeque::new()),
            in_flight: Mutex::new(HashMap::new()),
            refusals: Mutex::new(HashMap::new()),
            peaks: Mutex::new(HashMap::new()),
            zone: AtomicU64::new(0),
            zone_lookups: AtomicU64::new(0),
            addr: Mutex::new(None),
        })
    }

    /// Mutate the tenant between runs (tests add/change/delete records). Records are put back
    /// in id order afterwards.
    pub fn with_tenant<R>(&self, f: impl FnOnce(&mut AutotaskTenant) -> R) -> R {
        let mut tenant = self.tenant.write().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut tenant);
        sort_tenant(&mut tenant);
        out
    }

    /// From the `after`-th request to `endpoint` on (counted from now), answer every request to
    /// it with a 500 until `heal` is called.
    pub fn fail_endpoint_after(&self, endpoint: &str, after: u64) {
        let endpoint = endpoint.to_ascii_lowercase();
        let after = self.requests_for(&endpoint) + after;
        self.faults.start_outage(endpoint, after);
    }

    /// Move the tenant to another zone: clients with the old zone cached get 401 until they
    /// look the zone up again.
    pub fn move_zone(&self) {
        self.zone.fetch_add(1, Ordering::SeqCst);
    }

    /// Zone discoveries answered so far.
    pub fn zone_lookups(&self) -> u64 {
        self.zone_lookups.load(Ordering::SeqCst)
    }

    /// The path before `/ATServicesRest/` of the current zone (none for the first).
    fn zone_prefix(&self) -> String {
        match self.zone.load(Ordering::SeqCst) {
            0 => String::new(),
            n => format!("/zone{n}"),
        }
    }

    /// End an outage.
    pub fn heal(&self) {
        self.faults.heal();
    }

    fn read_tenant(&self) -> std::sync::RwLockReadGuard<'_, AutotaskTenant> {
        self.tenant.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests received for an endpoint name (`"companies"`, `"thresholdinformation"`),
    /// case-insensitive; every REST call counts, zone discovery does not.
    pub fn requests_for(&self, entity: &str) -> u64 {
        lock(&self.counts)
            .get(&entity.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Requests refused because the client had too many in flight on the endpoint (not the
    /// planned `Itgenatr005` faults), case-insensitive endpoint name.
    pub fn thread_threshold_refusals(&self, entity: &str) -> u64 {
        lock(&self.refusals)
            .get(&entity.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// The most requests the endpoint ever had in flight at once.
    pub fn peak_in_flight(&self, entity: &str) -> usize {
        lock(&self.peaks)
            .get(&entity.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    pub fn unexpected(&self) -> &UnexpectedRequests {
        &self.unexpected
    }

    /// `http://<addr>` of the running server (from the Host header before `serve` returned).
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(addr) = *lock(&self.addr) {
            return format!("http://{addr}");
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    }

    fn count_request(&self, endpoint: &str) {
        *lock(&self.counts).entry(endpoint.to_string()).or_insert(0) += 1;
    }

    fn not_found(&self, call: &Call) -> Response {
        self.unexpected
            .record(format!("autotask: {} {}", call.method, call.path_and_query));
        json_response(
            StatusCode::NOT_FOUND,
            &json!({"Message": format!(
                "No HTTP resource was found that matches the request URI '{}{}'.",
                call.base, call.path_and_query
            )}),
        )
    }

    fn not_allowed(&self, call: &Call) -> Response {
        self.unexpected.record(format!(
            "autotask: {} {} (method not allowed)",
            call.method, call.path_and_query
        ));
        json_response(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"Message": format!(
                "The requested resource does not support http method '{}'.",
                call.method
            )}),
        )
    }

    fn zone_information(&self, call: &Call) -> Response {
        if call.method != Method::GET {
            return self.not_allowed(call);
        }
        let known = call
            .params
            .get("user")
            .is_some_and(|u| u.trim().eq_ignore_ascii_case(&self.credentials.username));
        if !known {
            return errors(StatusCode::INTERNAL_SERVER_ERROR, ZONE_ERROR);
        }
        self.zone_lookups.fetch_add(1, Ordering::SeqCst);
        json_response(
            StatusCode::OK,
            &json!({
                "zoneName": "Simulator Zone",
                "url": format!("{}{}/ATServicesRest/", call.base, self.zone_prefix()),
                "webUrl": format!("{}/", call.base),
                "ci": 123456,
            }),
        )
    }

    /// The three headers, checked in the order (and with the errors) of the real service:
    /// the refusal, or `None` when they are right.
    fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let user_ok = get("username")
            .is_some_and(|u| u.trim().eq_ignore_ascii_case(&self.credentials.username));
        if !user_ok {
            return Some(errors(StatusCode::INTERNAL_SERVER_ERROR, ZONE_ERROR));
        }
        if get("apiintegrationcode") != Some(self.credentials.integration_code.expose()) {
            return Some(errors(
                StatusCode::INTERNAL_SERVER_ERROR,
                "IntegrationCode is invalid.",
            ));
        }
        if get("secret") != Some(self.credentials.secret.expose()) {
            // Wrong secret: 401 with an empty body.
            return Some(StatusCode::UNAUTHORIZED.into_response());
        }
        None
    }

    /// Admit a request into the rolling hour: the count including it, or the seconds until a
    /// slot frees up.
    fn admit(&self) -> Result<usize, u64> {
        let mut window = lock(&self.window);
        let now = Instant::now();
        prune(&mut window, now);
        if window.len() as u64 >= self.options.hourly_threshold {
            let retry = window.front().map_or(1, |oldest| {
                WINDOW.saturating_sub(now - *oldest).as_secs() + 1
            });
            return Err(retry);
        }
        window.push_back(now);
        Ok(window.len())
    }

    fn window_count(&self) -> usize {
        let mut window = lock(&self.window);
        prune(&mut window, Instant::now());
        window.len()
    }

    /// The server's slow-down above 50 % (0.5 s) and 75 % (1 s) of the hourly threshold.
    fn throttle(&self, used: usize) -> Duration {
        let threshold = self.options.hourly_threshold;
        if threshold == 0 {
            return Duration::ZERO;
        }
        let share = used as f64 / threshold as f64;
        if share > 0.75 {
            Duration::from_millis(1000)
        } else if share > 0.5 {
            Duration::from_millis(500)
        } else {
            Duration::ZERO
        }
    }

    fn enter(&self, code: &str, endpoint: &str) -> Option<InFlight<'_>> {
        let key = (code.to_string(), endpoint.to_string());
        let mut slots = lock(&self.in_flight);
        let n = slots.entry(key.clone()).or_insert(0);
        if *n >= self.options.max_in_flight_per_endpoint {
            *lock(&self.refusals)
                .entry(endpoint.to_string())
                .or_insert(0) += 1;
            return None;
        }
        *n += 1;
        let peak = *n;
        let mut peaks = lock(&self.peaks);
        let seen = peaks.entry(endpoint.to_string()).or_insert(0);
        *seen = (*seen).max(peak);
        Some(InFlight {
            slots: &self.in_flight,
            key,
        })
    }

    /// Every request under `/atservicesrest/v1.0/` but zone discovery.
    async fn rest(self: &Arc<Self>, call: Arc<Call>, segments: &[&str]) -> Response {
        let Some(route) = classify(segments) else {
            return self.not_found(&call);
        };
        let allowed = match route {
            Route::Entity(_, EntityOp::Query | EntityOp::Count) => {
                call.method == Method::GET || call.method == Method::POST
            }
            Route::Entity(_, EntityOp::Next) => {
                call.method == Method::POST
                    || (call.method == Method::GET && call.params.contains_key("search"))
            }
            _ => call.method == Method::GET,
        };
        if !allowed {
            return self.not_allowed(&call);
        }
        let latency = Duration::from_millis(self.options.latency_ms);
        if let Some(refusal) = self.refusal(&call.headers) {
            tokio::time::sleep(latency).await;
            return refusal;
        }
        let used = match self.admit() {
            Ok(used) => used,
            Err(retry) => {
                tokio::time::sleep(latency).await;
                return too_many(retry);
            }
        };
        let code = call
            .headers
            .get("apiintegrationcode")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Some(_slot) = self.enter(code, segments[0]) else {
            return thread_threshold(self.options.max_in_flight_per_endpoint);
        };
        let faultable = !matches!(route, Route::Entity(_, EntityOp::Fields));
        if faultable
            && self
                .faults
                .in_outage(segments[0], self.requests_for(segments[0]))
        {
            tokio::time::sleep(latency).await;
            return errors(
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unexpected error occurred",
            );
        }
        let (fault, slow) = if faultable {
            self.faults.draw(&call)
        } else {
            (Fault::None, false)
        };
        let started = Instant::now();
        let mut delay = latency + self.throttle(used);
        if slow {
            delay += Duration::from_millis(self.options.faults.slow_ms);
        }
        if fault != Fault::None && fault != Fault::Truncated && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match fault {
            Fault::TooMany => return too_many(1),
            Fault::Thread => return thread_threshold(self.options.max_in_flight_per_endpoint),
            Fault::Server => {
                return errors(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An unexpected error occurred",
                )
            }
            Fault::Drop => return dropped_connection(),
            Fault::Empty => {
                return (StatusCode::OK, [(header::CONTENT_TYPE, JSON)]).into_response()
            }
            Fault::None | Fault::Truncated => {}
        }
        // Finding and rendering a page is CPU work: off the async threads, so the other
        // requests' timers fire on time.
        let sim = Arc::clone(self);
        let rendered = tokio::task::spawn_blocking(move || {
            let (status, body) = match sim.dispatch(&call, route) {
                Ok(body) => (StatusCode::OK, body),
                Err(message) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"errors": [message]}),
                ),
            };
            (status, body.to_string().into_bytes())
        })
        .await;
        let Ok((status, mut text)) = rendered else {
            return errors(StatusCode::INTERNAL_SERVER_ERROR, "The request failed.");
        };
        if fault == Fault::Truncated && status == StatusCode::OK {
            text.truncate(text.len() / 2);
        }
        // The answer takes `delay` in all, the work of finding and rendering it included.
        let left = delay.saturating_sub(started.elapsed());
        if !left.is_zero() {
            tokio::time::sleep(left).await;
        }
        (status, [(header::CONTENT_TYPE, JSON)], text).into_response()
    }

    /// The answer of an admitted request; `Err` is the message of a 500.
    fn dispatch(&self, call: &Call, route: Route) -> Result<Value, String> {
        match route {
            Route::Threshold => Ok(json!({
                "externalRequestThreshold": self.options.hourly_threshold,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": self.window_count(),
            })),
            Route::Entity(entity, EntityOp::Fields) => Ok(entity.fields_json(&self.read_tenant())),
            Route::Entity(entity, EntityOp::Get(id)) => {
                let tenant = self.read_tenant();
                let item = (entity.records)(&tenant)
                    .find(id)
                    .map_or(Value::Null, |r| records::render(r, None));
                Ok(json!({ "item": item }))
            }
            Route::Entity(entity, op) => self.query(call, entity, op),
        }
    }

    /// `query`, `query/next` and `query/count`, by POST body or GET `search`.
    fn query(&self, call: &Call, entity: &EntityDef, op: EntityOp) -> Result<Value, String> {
        let search = call.params.get("search").map(String::as_str);
        let body: Value = if call.method == Method::GET {
            let search = search.ok_or("The search parameter is required for a GET query.")?;
            serde_json::from_str(search)
                .map_err(|e| format!("The search parameter is not a valid query: {e}"))?
        } else {
            serde_json::from_slice(&call.body)
                .map_err(|e| format!("The request body is not a valid query: {e}"))?
        };
        let spec = filter::parse_query(&body, entity, op != EntityOp::Count)?;
        let after = if op == EntityOp::Next {
            let token = call
                .params
                .get("paging")
                .ok_or("The paging parameter is required.")?;
            Some(decode_token(token).ok_or("The paging parameter is invalid.")?)
        } else {
            None
        };
        let tenant = self.read_tenant();
        let set = (entity.records)(&tenant);
        // Records are in id order: start at the filter's lowest possible id, stop past its highest.
        let (mut low, high) = spec.filter.id_bounds();
        if let Some(after) = after {
            low = low.max(after.saturating_add(1));
        }
        let start = set.lower_bound(low);
        let candidates = (start..set.len())
            .map(|i| set.at(i))
            .take_while(|r| r.id() <= high)
            .filter(|r| spec.filter.matches(*r));
        if op == EntityOp::Count {
            return Ok(json!({ "queryCount": candidates.count() }));
        }
        let max = spec.max_records.unwrap_or(500);
        let mut rows: Vec<&dyn SimRecord> = candidates.take(max + 1).collect();
        let more = rows.len() > max;
        rows.truncate(max);
        let include = spec.include_fields.as_deref();
        let items: Vec<Value> = rows.iter().map(|r| records::render(*r, include)).collect();
        let next = match rows.last() {
            Some(last) if more => {
                let mut url = format!(
                    "{}{}/ATServicesRest/V1.0/{}/query/next?paging={}",
                    call.base,
                    self.zone_prefix(),
                    entity.name,
                    encode_token(last.id())
                );
                if call.method == Method::GET {
                    let search = search.unwrap_or_default();
                    url.push_str("&search=");
                    url.extend(utf8_percent_encode(search, NON_ALPHANUMERIC));
                }
                Value::String(url)
            }
            _ => Value::Null,
        };
        Ok(json!({
            "items": items,
            "pageDetails": {
                "count": rows.len(),
                "requestCount": max,
                "prevPageUrl": null,
                "nextPageUrl": next,
            }
        }))
    }
}

/// Put every entity of a tenant in ascending id order (the fast path relies on it).
fn sort_tenant(t: &mut AutotaskTenant) {
    t.companies.sort_by_key(|r| r.id);
    t.resources.sort_by_key(|r| r.id);
    t.contacts.sort_by_key(|r| r.id);
    t.locations.sort_by_key(|r| r.id);
    t.configuration_items.sort_by_key(|r| r.id);
    t.ci_types.sort_by_key(|r| r.id);
}

/// A slot of the thread threshold, freed when the answer is done (or the client went away).
struct InFlight<'a> {
    slots: &'a Mutex<HashMap<(String, String), usize>>,
    key: (String, String),
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut slots = lock(self.slots);
        if let Some(n) = slots.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                slots.remove(&self.key);
            }
        }
    }
}

fn prune(window: &mut VecDeque<Instant>, now: Instant) {
    while window
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        window.pop_front();
    }
}
