//! The HTTP side of the Autotask client: zone discovery, auth headers, a zone re-resolve on 401,
//! at most 3 requests in flight per entity endpoint (Autotask's thread threshold), and request
//! accounting per entity endpoint (every attempt costs the tenant one request of its hourly
//! threshold). Sending, timeouts, the redirect policy, size bounds and the retry schedule
//! (honouring `Retry-After`) are the shared `api::http` layer's.

use super::error::AutotaskError;
use super::models::{
    CountResponse, FieldInfo, FieldsResponse, QueryResponse, ThresholdInfo, ZoneInfo,
};
use super::query::{Filter, Query};
use super::settings::Settings;
use crate::api::http::{Http, Retry};
use crate::model::credentials::AutotaskCredentials;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Autotask's thread threshold: concurrent requests per (integration code, entity endpoint).
pub const MAX_IN_FLIGHT_PER_ENDPOINT: usize = 3;

/// A page of records and whether more may follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// True when the page was full: keyset paging asks again after its last id.
    pub full: bool,
}

pub struct AutotaskClient {
    http: Http,
    config: Settings,
    credentials: AutotaskCredentials,
    /// The zone's REST base, e.g. `https://webservices15.autotask.net/ATServicesRest/V1.0/`.
    base: RwLock<String>,
    requests: Mutex<BTreeMap<String, u64>>,
    /// One semaphore per endpoint (lowercase), `max_in_flight` permits each.
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    max_in_flight: AtomicUsize,
}

/// One failed attempt, with the server's `Retry-After` when it sent one.
struct Attempt {
    error: AutotaskError,
    retry_after: Option<Duration>,
}

fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<String>,
        #[serde(default, rename = "Message")]
        message: Option<String>,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => e.errors.join("; "),
        Ok(Errors {
            message: Some(m), ..
        }) => m,
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "(empty body)".into()
            } else {
                text.chars().take(300).collect()
            }
        }
    }
}

fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T, AutotaskError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| AutotaskError::Decode {
        route: route.to_string(),
        path: e.path().to_string(),
        message: if body.is_empty() {
            "empty body".into()
        } else {
            e.inner().to_string()
        },
    })
}

/// Decode a large answer (a page of 500 records) on a blocking thread, small ones in place:
/// decoding is CPU work that would otherwise hold up the other requests' I/O.
async fn decode_off_thread<T: DeserializeOwned + Send + 'static>(
    route: String,
    body: Vec<u8>,
) -> Result<T, AutotaskError> {
    if body.len() < 64 * 1024 {
        return decode(&route, &body);
    }
    match tokio::task::spawn_blocking(move || decode(&route, &body)).await {
        Ok(decoded) => decoded,
        Err(e) => Err(AutotaskError::Decode {
            route: "decode".into(),
            path: String::new(),
            message: e.to_string(),
        }),
    }
}

impl AutotaskClient {
    /// Discover the tenant's zone and return a client bound to it.
    pub async fn connect(
        config: &Settings,
        credentials: AutotaskCredentials,
    ) -> Result<AutotaskClient, AutotaskError> {
        let http = Http::new(config.http.clone())?;
        let base = discover(&http, config, &credentials).await?;
        tracing::debug!("Autotask zone base: {base}");
        Ok(AutotaskClient {
            http,
            config: config.clone(),
            credentials,
            base: RwLock::new(base),
            requests: Mutex::new(BTreeMap::new()),
            slots: Mutex::new(HashMap::new()),
            max_in_flight: AtomicUsize::new(MAX_IN_FLIGHT_PER_ENDPOINT),
        })
    }

    /// Cap the requests in flight per entity endpoint (1..=3; Autotask refuses a fourth).
    /// Applies to endpoints first used after the call.
    pub fn limit_in_flight(&self, n: usize) {
        self.max_in_flight
            .store(n.clamp(1, MAX_IN_FLIGHT_PER_ENDPOINT), Ordering::Relaxed);
    }

    /// The cap on requests in flight per entity endpoint.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::Relaxed)
    }

    fn slot(&self, endpoint: &str) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().expect("lock");
        Arc::clone(
            slots
                .entry(endpoint.to_ascii_lowercase())
                .or_insert_with(|| Arc::new(Semaphore::new(self.max_in_flight()))),
        )
    }

    /// Requests spent so far on every endpoint together.
    pub fn total_requests(&self) -> u64 {
        self.requests.lock().expect("lock").values().sum()
    }

    /// Requests spent so far, per entity endpoint (lowercase), every attempt counted.
    pub fn requests_spent(&self) -> BTreeMap<String, u64> {
        self.requests.lock().expect("lock").clone()
    }

    fn count_request(&self, endpoint: &str) {
        *self
            .requests
            .lock()
            .expect("lock")
            .entry(endpoint.to_ascii_lowercase())
            .or_default() += 1;
    }

    async fn attempt(
        &self,
        endpoint: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, Attempt> {
        let url = format!("{}{}", self.base.read().expect("lock"), path);
        let route = format!("{method} {path}");
        let mut req = self
            .http
            .request(method, &url)
            .header(
                "ApiIntegrationCode",
                self.credentials.integration_code.expose(),
            )
            .header("UserName", &self.credentials.username)
            .header("Secret", self.credentials.secret.expose());
        if let Some(body) = body {
            req = req.json(body);
        }
        self.count_request(endpoint);
        let answer = self.http.send(&route, req).await.map_err(|e| Attempt {
            error: e.into(),
            retry_after: None,
        })?;
        let (status, retry_after, bytes) = (answer.status, answer.retry_after, answer.body);
        if status.is_success() {
            return Ok(bytes);
        }
        let message = error_message(&bytes);
        let error = self.classify(status, message, route);
        Err(Attempt { error, retry_after })
    }

    fn classify(&self, status: StatusCode, message: String, route: String) -> AutotaskError {
        let c = &self.config;
        if status == StatusCode::UNAUTHORIZED {
            return AutotaskError::BadSecret {
                username: self.credentials.username.clone(),
                var: c.secret_env.clone(),
            };
        }
        if message.contains("Zone information could not be determined") {
            return AutotaskError::UnknownUser {
                username: self.credentials.username.clone(),
                var: c.username_env.clone(),
            };
        }
        if message.contains("IntegrationCode is invalid") {
            return AutotaskError::BadIntegrationCode {
                var: c.integration_code_env.clone(),
            };
        }
        AutotaskError::Http {
            route,
            status: status.as_u16(),
            message,
        }
    }

    /// One call with retries: throttling, thread-threshold, 5xx, truncated bodies and dropped
    /// connections are retried with backoff; a 401 re-resolves the zone once (tenants move).
    async fn call<T: DeserializeOwned + Send + 'static>(
        &self,
        endpoint: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, AutotaskError> {
        let mut rediscovered = false;
        let mut retries = self.http.retries(&format!("Autotask {method} {path}"));
        let slot = self.slot(endpoint);
        loop {
            // Hold one of the endpoint's slots for the attempt only, never across the backoff.
            let permit = slot.acquire().await.expect("semaphore never closed");
            let answer = self.attempt(endpoint, method.clone(), path, body).await;
            // The answer is in: the server's slot is free, decoding is ours.
            drop(permit);
            let outcome = match answer {
                Ok(bytes) => {
                    match decode_off_thread::<T>(format!("{method} {path}"), bytes).await {
                        Ok(value) => return Ok(value),
                        Err(error) => Attempt {
                            error,
                            retry_after: None,
                        },
                    }
                }
                Err(a) => a,
            };
            if matches!(outcome.error, AutotaskError::BadSecret { .. }) && !rediscovered {
                rediscovered = true;
                let base = discover(&self.http, &self.config, &self.credentials).await?;
                *self.base.write().expect("lock") = base;
                retries.wait(outcome.error, Retry::Now).await?;
                continue;
            }
            let retry = Retry::when(outcome.error.is_retryable(), outcome.retry_after);
            retries.wait(outcome.error, retry).await?;
        }
    }

    /// One query page of `entity` (e.g. `Companies`).
    pub async fn query<T: DeserializeOwned + Send + 'static>(
        &self,
        entity: &str,
        query: &Query,
    ) -> Result<Page<T>, AutotaskError> {
        let body = serde_json::to_value(query).expect("query serialises");
        let resp: QueryResponse<T> = self
            .call_checked(entity, &format!("{entity}/query"), &body)
            .await?;
        let full = resp.items.len() as u32 >= query.max_records;
        Ok(Page {
            items: resp.items,
            full,
        })
    }

    /// A query whose answer says how many items it holds (`pageDetails.count`): an answer
    /// whose items disagree with it was cut short on the way and is retried like a truncated
    /// body, never read as "no more records".
    async fn call_checked<T: DeserializeOwned + Send + 'static>(
        &self,
        entity: &str,
        path: &str,
        body: &Value,
    ) -> Result<QueryResponse<T>, AutotaskError> {
        let mut left = self.config.http.max_attempts.max(1);
        loop {
            let resp: QueryResponse<T> = self.call(entity, Method::POST, path, Some(body)).await?;
            let Some(counted) = resp
                .page_details
                .count
                .filter(|c| *c != resp.items.len() as u64)
            else {
                return Ok(resp);
            };
            left -= 1;
            let error = AutotaskError::Decode {
                route: format!("POST {path}"),
                path: "pageDetails.count".into(),
                message: format!(
                    "the page says {counted} items but holds {}",
                    resp.items.len()
                ),
            };
            if left == 0 {
                return Err(error);
            }
            tracing::warn!("{error}; retrying");
        }
    }

    /// The next keyset page: records with id above `after` (or all from id 0), ascending.
    pub async fn query_after<T: DeserializeOwned + Send + 'static>(
        &self,
        entity: &str,
        filters: &[Filter],
        after: Option<i64>,
        include_fields: &[String],
    ) -> Result<Page<T>, AutotaskError> {
        self.query_range(entity, filters, after, None, include_fields)
            .await
    }

    /// A keyset page within an id range: records with id above `after` (or from id 0) and at
    /// most `upto`, ascending. Disjoint ranges page independently, which is how one entity keeps
    /// several requests in flight.
    pub async fn query_range<T: DeserializeOwned + Send + 'static>(
        &self,
        entity: &str,
        filters: &[Filter],
        after: Option<i64>,
        upto: Option<i64>,
        include_fields: &[String],
    ) -> Result<Page<T>, AutotaskError> {
        let mut filter = filters.to_vec();
        filter.push(match after {
            Some(id) => Filter::cond("id", "gt", id),
            None => Filter::all(),
        });
        if let Some(upto) = upto {
            filter.push(Filter::cond("id", "lte", upto));
        }
        let query = Query {
            max_records: self.config.page_size,
            include_fields: include_fields.to_vec(),
            filter,
        };
        self.query(entity, &query).await
    }

    /// How many records match the filters.
    pub async fn count(&self, entity: &str, filters: &[Filter]) -> Result<u64, AutotaskError> {
        let mut filter = filters.to_vec();
        filter.push(Filter::all());
        let body = serde_json::json!({ "filter": filter });
        let resp: CountResponse = self
            .call(
                entity,
                Method::POST,
                &format!("{entity}/query/count"),
                Some(&body),
            )
            .await?;
        Ok(resp.query_count)
    }

    /// The tenant's hourly threshold use (this call itself counts).
    pub async fn threshold(&self) -> Result<ThresholdInfo, AutotaskError> {
        self.call(
            "ThresholdInformation",
            Method::GET,
            "ThresholdInformation",
            None,
        )
        .await
    }

    /// Field definitions of an entity, with picklist values and labels.
    pub async fn fields(&self, entity: &str) -> Result<Vec<FieldInfo>, AutotaskError> {
        let resp: FieldsResponse = self
            .call(
                entity,
                Method::GET,
                &format!("{entity}/entityInformation/fields"),
                None,
            )
            .await?;
        Ok(resp.fields)
    }

    /// Attempts per request before giving up.
    pub fn max_attempts(&self) -> u32 {
        self.config.http.max_attempts
    }

    /// The page size queries use.
    pub fn page_size(&self) -> u32 {
        self.config.page_size
    }
}

/// Zone discovery: `GET {discovery}v1.0/zoneInformation?user=`. Misleading answers are turned
/// into plain errors naming the credential.
async fn discover(
    http: &Http,
    config: &Settings,
    credentials: &AutotaskCredentials,
) -> Result<String, AutotaskError> {
    let mut url = config.discovery_url.clone();
    if !url.ends_with('/') {
        url.push('/');
    }
    url.push_str("v1.0/zoneInformation");
    let route = "GET zoneInformation".to_string();
    let mut retries = http.retries(&format!("Autotask {route}"));
    loop {
        let request = http
            .request(Method::GET, &url)
            .query(&[("user", &credentials.username)]);
        let answer = match http.send(&route, request).await {
            Ok(a) => a,
            Err(e) => {
                let retry = Retry::when(e.is_retryable(), None);
                retries.wait(AutotaskError::from(e), retry).await?;
                continue;
            }
        };
        if answer.status.is_success() {
            let zone: ZoneInfo = decode(&route, &answer.body)?;
            let mut base = zone.url;
            if !base.ends_with('/') {
                base.push('/');
            }
            base.push_str("V1.0/");
            return Ok(base);
        }
        let message = error_message(&answer.body);
        if message.contains("Zone information could not be determined") {
            return Err(AutotaskError::UnknownUser {
                username: credentials.username.clone(),
                var: config.username_env.clone(),
            });
        }
        let err = AutotaskError::Http {
            route: route.clone(),
            status: answer.status.as_u16(),
            message,
        };
        let retry = Retry::when(err.is_retryable(), answer.retry_after);
        retries.wait(err, retry).await?;
    }
}
