//! The HTTP side of the Passportal client: the HMAC token exchange (renewed before expiry and
//! once on a 401), pacing with a rate limiter and a cap on requests in flight, backoff on
//! 429/5xx honouring `Retry-After` for reads, and writes that are never blindly retried once they
//! may have been applied. What is read and written lives in `records`.

use super::error::{PassportalError, WriteError};
use super::models::{
    decode_name, Client, ClientWire, CreateResponse, ListResponse, NewClient, TokenResponse,
};
use super::routes::{self, Route};
use crate::model::credentials::PassportalCredentials;
use crate::model::pipeline::PassportalConfig;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use sha2::Sha256;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

struct Token {
    access: String,
    /// Unix seconds.
    issued_at: i64,
    /// Unix seconds.
    expires_at: i64,
}

impl Token {
    /// Still good to send: more than the renewal margin before expiry. The margin is at most
    /// half the token's lifetime, so a short-lived token is not renewed on every request.
    fn is_fresh(&self, renew_before_secs: i64, now: i64) -> bool {
        let margin = renew_before_secs.min((self.expires_at - self.issued_at) / 2);
        self.expires_at - margin > now
    }
}

pub struct PassportalClient {
    http: reqwest::Client,
    config: PassportalConfig,
    credentials: PassportalCredentials,
    token: tokio::sync::Mutex<Option<Token>>,
    limiter: DefaultDirectRateLimiter,
    /// One permit per request in flight (`config.concurrency`).
    in_flight: Semaphore,
    requests: AtomicU64,
}

fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T, PassportalError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| PassportalError::Decode {
        route: route.to_string(),
        path: e.path().to_string(),
        message: if body.is_empty() {
            "empty body".into()
        } else {
            e.inner().to_string()
        },
    })
}

fn message_of(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Msg {
        message: Option<String>,
    }
    match serde_json::from_slice::<Msg>(body) {
        Ok(Msg { message: Some(m) }) => m,
        _ => {
            let t = String::from_utf8_lossy(body);
            let t = t.trim();
            if t.is_empty() {
                "(empty body)".into()
            } else {
                t.chars().take(300).collect()
            }
        }
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(300)))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64 << attempt.min(5))
}

impl PassportalClient {
    /// Build a client and exchange the access key for a token (so bad credentials fail here).
    pub async fn connect(
        config: &PassportalConfig,
        credentials: PassportalCredentials,
    ) -> Result<PassportalClient, PassportalError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|source| PassportalError::Transport {
                route: "client setup".into(),
                source,
            })?;
        let rps = NonZeroU32::new(config.requests_per_sec.max(1)).expect("non-zero");
        let client = PassportalClient {
            http,
            config: config.clone(),
            credentials,
            token: tokio::sync::Mutex::new(None),
            limiter: RateLimiter::direct(Quota::per_second(rps)),
            in_flight: Semaphore::new(config.concurrency.max(1)),
            requests: AtomicU64::new(0),
        };
        client.access_token(None).await?;
        Ok(client)
    }

    /// Requests sent so far (token exchanges included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(super) fn config(&self) -> &PassportalConfig {
        &self.config
    }

    /// Requests in flight at most (`passportal.concurrency`): callers fanning out reads over
    /// clients use it to size their streams.
    pub fn concurrency(&self) -> usize {
        self.config.concurrency.max(1)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_url.trim_end_matches('/'), path)
    }

    /// A valid access token, exchanging the key for a new one when it is missing or within
    /// `renew_before_secs` of its expiry. `rejected` is a token the server just refused (a 401):
    /// it is renewed, unless another request has renewed it meanwhile.
    async fn access_token(&self, rejected: Option<&str>) -> Result<String, PassportalError> {
        let mut guard = self.token.lock().await;
        let now = chrono::Utc::now().timestamp();
        if let Some(t) = guard.as_ref() {
            if t.is_fresh(self.config.renew_before_secs, now) && rejected != Some(t.access.as_str())
            {
                return Ok(t.access.clone());
            }
        }
        let token = self.exchange().await?;
        let access = token.access.clone();
        *guard = Some(token);
        Ok(access)
    }

    async fn exchange(&self) -> Result<Token, PassportalError> {
        let route = format!("{} {}", routes::TOKEN.method, routes::TOKEN.path);
        let content: String = {
            let mut rng = rand::thread_rng();
            (0..32)
                .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
                .collect()
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(self.credentials.secret.expose().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(content.as_bytes());
        let hash = hex::encode(mac.finalize().into_bytes());
        let body = serde_json::json!({ "scope": "docs_api", "content": content });
        let mut attempt = 0;
        loop {
            attempt += 1;
            let permit = self.in_flight.acquire().await.expect("never closed");
            self.limiter.until_ready().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .post(self.url(routes::TOKEN.path))
                .header("x-key", self.credentials.key_id.expose())
                .header("x-hash", &hash)
                .json(&body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(source) if attempt < self.config.max_attempts => {
                    drop(permit);
                    tracing::warn!("Passportal {route}: {source}; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(source) => return Err(PassportalError::Transport { route, source }),
            };
            let status = resp.status();
            let wait = retry_after(&resp);
            let bytes = resp.bytes().await.unwrap_or_default();
            drop(permit);
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(self.auth_error(message_of(&bytes)));
            }
            if (status.as_u16() == 429 || status.is_server_error())
                && attempt < self.config.max_attempts
            {
                tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt))).await;
                continue;
            }
            if !status.is_success() {
                return Err(PassportalError::Http {
                    route,
                    status: status.as_u16(),
                    message: message_of(&bytes),
                });
            }
            let t: TokenResponse = decode(&route, &bytes)?;
            return match (t.success, t.access_token) {
                (true, Some(access)) if !access.is_empty() => {
                    let now = chrono::Utc::now().timestamp();
                    Ok(Token {
                        access,
                        issued_at: now,
                        expires_at: t.expiry_time.unwrap_or(now + 600),
                    })
                }
                _ => {
                    Err(PassportalError::Token(t.message.unwrap_or_else(|| {
                        "answered without success or token".into()
                    })))
                }
            };
        }
    }

    fn auth_error(&self, message: String) -> PassportalError {
        let key_var = self.config.key_id_env.clone();
        let secret_var = self.config.secret_env.clone();
        let lower = message.to_ascii_lowercase();
        if lower.contains("key") && !lower.contains("hash") {
            PassportalError::UnknownKey {
                key_var,
                secret_var,
                message,
            }
        } else {
            PassportalError::BadSecret {
                key_var,
                secret_var,
                message,
            }
        }
    }

    /// A read with retries: 429/5xx/transport/decode failures back off and retry (honouring
    /// `Retry-After`); a 401 renews the token once.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PassportalError> {
        let label = format!("GET {path}");
        let mut renewed = false;
        let mut attempt = 0;
        let mut rejected: Option<String> = None;
        loop {
            attempt += 1;
            let token = self.access_token(rejected.take().as_deref()).await?;
            let (error, wait) = {
                let _permit = self.in_flight.acquire().await.expect("never closed");
                self.limiter.until_ready().await;
                self.requests.fetch_add(1, Ordering::Relaxed);
                let sent = self
                    .http
                    .request(Method::GET, self.url(path))
                    .header("x-access-token", &token)
                    .query(query)
                    .send()
                    .await;
                match sent {
                    Err(source) => (
                        PassportalError::Transport {
                            route: label.clone(),
                            source,
                        },
                        None,
                    ),
                    Ok(resp) => {
                        let status = resp.status();
                        let wait = retry_after(&resp);
                        match resp.bytes().await {
                            Err(source) => (
                                PassportalError::Transport {
                                    route: label.clone(),
                                    source,
                                },
                                None,
                            ),
                            Ok(bytes) if status.is_success() => match decode::<T>(&label, &bytes) {
                                Ok(v) => return Ok(v),
                                Err(e) => (e, None),
                            },
                            Ok(_) if status == StatusCode::UNAUTHORIZED && !renewed => {
                                renewed = true;
                                attempt -= 1;
                                rejected = Some(token);
                                continue;
                            }
                            Ok(bytes) => (
                                PassportalError::Http {
                                    route: label.clone(),
                                    status: status.as_u16(),
                                    message: message_of(&bytes),
                                },
                                wait,
                            ),
                        }
                    }
                }
            };
            if !error.is_retryable() || attempt >= self.config.max_attempts {
                return Err(error);
            }
            let wait = wait.unwrap_or_else(|| backoff(attempt));
            tracing::warn!(
                "Passportal {label}: attempt {attempt} failed ({error}); retrying in {wait:?}"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Every page of a paged list (page numbers from 1), until a page that is empty, `null`,
    /// or says `success: false`.
    pub(super) async fn list_all<T: DeserializeOwned>(
        &self,
        route: &Route,
        extra: &[(&str, String)],
    ) -> Result<Vec<T>, PassportalError> {
        let mut all = Vec::new();
        for page in 1.. {
            let mut query = vec![
                ("resultsPerPage", self.config.page_size.to_string()),
                ("pageNum", page.to_string()),
            ];
            query.extend(extra.iter().cloned());
            let resp: ListResponse<T> = self.get(route.path, &query).await?;
            match resp.results {
                Some(items) if resp.success && !items.is_empty() => all.extend(items),
                _ => break,
            }
        }
        Ok(all)
    }

    /// Only the first page of a list route, `per_page` results at most, as the raw answer: a
    /// cheap read proving the token and the route work (`atpp check`).
    pub async fn first_page(
        &self,
        route: &Route,
        per_page: u32,
        extra: &[(&str, String)],
    ) -> Result<ListResponse<serde_json::Value>, PassportalError> {
        let mut query = vec![
            ("resultsPerPage", per_page.to_string()),
            ("pageNum", "1".to_string()),
        ];
        query.extend(extra.iter().cloned());
        self.get(route.path, &query).await
    }

    /// Every client, names decoded.
    pub async fn clients(&self) -> Result<Vec<Client>, PassportalError> {
        let wire: Vec<ClientWire> = self.list_all(&routes::LIST_CLIENTS, &[]).await?;
        Ok(wire
            .into_iter()
            .map(|c| Client {
                id: c.id,
                name: decode_name(c.name.as_deref().unwrap_or_default()),
            })
            .collect())
    }

    /// A write: retried only while it certainly was not applied (429, a 401 before the token
    /// was renewed, a connection that never opened). Anything after the request may have been
    /// applied is `WriteError::Unknown`.
    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        route: &Route,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, WriteError> {
        let label = format!("{} {}", route.method, path);
        let method = Method::from_bytes(route.method.as_bytes()).expect("valid method");
        let mut renewed = false;
        let mut attempt = 0;
        let mut rejected: Option<String> = None;
        loop {
            attempt += 1;
            let token = self
                .access_token(rejected.take().as_deref())
                .await
                .map_err(WriteError::Rejected)?;
            let permit = self.in_flight.acquire().await.expect("never closed");
            self.limiter.until_ready().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .request(method.clone(), self.url(path))
                .header("x-access-token", &token)
                .json(body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(source) if source.is_connect() && attempt < self.config.max_attempts => {
                    drop(permit);
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(source) if source.is_connect() => {
                    return Err(WriteError::Rejected(PassportalError::Transport {
                        route: label,
                        source,
                    }))
                }
                Err(source) => {
                    return Err(WriteError::Unknown(PassportalError::Transport {
                        route: label,
                        source,
                    }))
                }
            };
            let status = resp.status();
            let wait = retry_after(&resp);
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(source) => {
                    return Err(WriteError::Unknown(PassportalError::Transport {
                        route: label,
                        source,
                    }))
                }
            };
            drop(permit);
            let http_error = || PassportalError::Http {
                route: label.clone(),
                status: status.as_u16(),
                message: message_of(&bytes),
            };
            if status.is_success() {
                return decode(&label, &bytes).map_err(WriteError::Unknown);
            }
            if status == StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                attempt -= 1;
                rejected = Some(token);
                continue;
            }
            if status.as_u16() == 429 && attempt < self.config.max_attempts {
                tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt))).await;
                continue;
            }
            if status.is_server_error() {
                return Err(WriteError::Unknown(http_error()));
            }
            return Err(WriteError::Rejected(http_error()));
        }
    }

    /// Create a client (assumed route); returns its new id.
    pub async fn create_client(&self, client: &NewClient) -> Result<i64, WriteError> {
        let body = serde_json::to_value(client).expect("serialises");
        let route = routes::CREATE_CLIENT;
        let resp: CreateResponse = self.write(&route, route.path, &body).await?;
        match (resp.success, resp.id) {
            (true, Some(id)) => Ok(id),
            _ => Err(WriteError::Unknown(PassportalError::Http {
                route: format!("{} {}", route.method, route.path),
                status: 200,
                message: resp
                    .message
                    .unwrap_or_else(|| "answered without success or id".into()),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Token;

    #[test]
    fn tokens_are_renewed_within_the_margin_but_never_every_request() {
        let token = |issued_at, expires_at| Token {
            access: "a".into(),
            issued_at,
            expires_at,
        };
        // An hour-long token: renewed from 60 s before expiry.
        assert!(token(0, 3600).is_fresh(60, 3539));
        assert!(!token(0, 3600).is_fresh(60, 3540));
        // A 10 s token: the margin shrinks to half its lifetime.
        assert!(token(0, 10).is_fresh(60, 4));
        assert!(!token(0, 10).is_fresh(60, 5));
        assert!(!token(0, 10).is_fresh(0, 10));
    }
}
