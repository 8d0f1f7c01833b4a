//! The HTTP side of the Passportal client: the HMAC token exchange (renewed before expiry and
//! once on a 401), reads retried through the shared `api::http` layer (pacing, cap on requests
//! in flight, backoff honouring `Retry-After`, redirect policy, size bound), and writes that are
//! never blindly retried once they may have been applied. Listings are in `listing`, what is
//! read and written in `records`, request bodies in `body`.

use super::error::{PassportalError, WriteError};
use super::models::TokenResponse;
use super::routes::{self, Route};
use super::settings::Settings;
use crate::api::http::{Answer, Http, Retry};
use crate::model::credentials::PassportalCredentials;
use hmac::{Hmac, Mac};
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use sha2::Sha256;

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
    http: Http,
    settings: Settings,
    credentials: PassportalCredentials,
    token: tokio::sync::Mutex<Option<Token>>,
    /// The instance refused a batch create: one document per request from then on.
    batches_refused: std::sync::atomic::AtomicBool,
}

pub(super) fn decode<T: DeserializeOwned>(route: &str, body: &[u8]) -> Result<T, PassportalError> {
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

/// Whether a failed read is worth another attempt, and when.
fn retry_of(error: &PassportalError, answer: Option<&Answer>) -> Retry {
    Retry::when(error.is_retryable(), answer.and_then(|a| a.retry_after))
}

impl PassportalClient {
    /// Build a client and exchange the access key for a token (so bad credentials fail here).
    pub async fn connect(
        settings: &Settings,
        credentials: PassportalCredentials,
    ) -> Result<PassportalClient, PassportalError> {
        let client = PassportalClient {
            http: Http::new(settings.http.clone())?,
            settings: settings.clone(),
            credentials,
            token: tokio::sync::Mutex::new(None),
            batches_refused: std::sync::atomic::AtomicBool::new(false),
        };
        client.access_token(None).await?;
        Ok(client)
    }

    /// Requests sent so far (token exchanges and every retry included).
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    pub(super) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Documents per create request: `passportal.batch_size`, or 1 once the instance refused a
    /// batch.
    pub fn batch_size(&self) -> usize {
        if self
            .batches_refused
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            1
        } else {
            self.settings.batch_size.max(1)
        }
    }

    /// Create one document per request from now on; whether this is the first refusal.
    pub(super) fn refuse_batches(&self) -> bool {
        !self
            .batches_refused
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests in flight at most (`passportal.concurrency`): callers fanning out reads over
    /// clients use it to size their streams.
    pub fn concurrency(&self) -> usize {
        self.settings.http.concurrency.unwrap_or(1).max(1)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.settings.base_url.trim_end_matches('/'), path)
    }

    /// A valid access token, exchanging the key for a new one when it is missing or within
    /// `renew_before_secs` of its expiry. `rejected` is a token the server just refused (a 401):
    /// it is renewed, unless another request has renewed it meanwhile.
    async fn access_token(&self, rejected: Option<&str>) -> Result<String, PassportalError> {
        let mut guard = self.token.lock().await;
        let now = chrono::Utc::now().timestamp();
        if let Some(t) = guard.as_ref() {
            if t.is_fresh(self.settings.renew_before_secs, now)
                && rejected != Some(t.access.as_str())
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
        let mut retries = self.http.retries(&format!("Passportal {route}"));
        loop {
            let request = self
                .http
                .request(Method::POST, &self.url(routes::TOKEN.path))
                .header("x-key", self.credentials.key_id.expose())
                .header("x-hash", &hash)
                .json(&body);
            let answer = match self.http.send(&route, request).await {
                Ok(a) => a,
                Err(e) => {
                    let e = PassportalError::from(e);
                    let retry = retry_of(&e, None);
                    retries.wait(e, retry).await?;
                    continue;
                }
            };
            let status = answer.status;
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(self.auth_error(message_of(&answer.body)));
            }
            if !status.is_success() {
                let e = PassportalError::Http {
                    route: route.clone(),
                    status: status.as_u16(),
                    message: message_of(&answer.body),
                };
                let retry = retry_of(&e, Some(&answer));
                retries.wait(e, retry).await?;
                continue;
            }
            let t: TokenResponse = decode(&route, &answer.body)?;
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
        let key_var = self.settings.key_id_env.clone();
        let secret_var = self.settings.secret_env.clone();
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

    /// A read with retries: 429/5xx/transport/timeout failures back off and retry (honouring
    /// `Retry-After`), and so does an answer `parse` refuses with a retryable error (a body that
    /// is not JSON, a list page without results); a 401 renews the token once. `label` names
    /// the read in errors (`GET /path`, with the page for listings).
    pub(super) async fn read<V>(
        &self,
        label: &str,
        path: &str,
        query: &[(&str, String)],
        parse: impl Fn(&[u8]) -> Result<V, PassportalError>,
    ) -> Result<V, PassportalError> {
        let mut retries = self.http.retries(&format!("Passportal {label}"));
        let mut rejected: Option<String> = None;
        loop {
            let token = self.access_token(rejected.take().as_deref()).await?;
            let request = self
                .http
                .request(Method::GET, &self.url(path))
                .header("x-access-token", &token)
                .query(query);
            let (error, retry) = match self.http.send(label, request).await {
                Err(e) => {
                    let e = PassportalError::from(e);
                    let retry = retry_of(&e, None);
                    (e, retry)
                }
                Ok(answer) if answer.status == StatusCode::UNAUTHORIZED => {
                    rejected = Some(token);
                    let e = PassportalError::Http {
                        route: label.to_string(),
                        status: 401,
                        message: message_of(&answer.body),
                    };
                    (e, Retry::Now)
                }
                Ok(answer) if answer.status.is_success() => match parse(&answer.body) {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        let retry = retry_of(&e, None);
                        (e, retry)
                    }
                },
                Ok(answer) => {
                    let e = PassportalError::Http {
                        route: label.to_string(),
                        status: answer.status.as_u16(),
                        message: message_of(&answer.body),
                    };
                    let retry = retry_of(&e, Some(&answer));
                    (e, retry)
                }
            };
            retries.wait(error, retry).await?;
        }
    }

    /// A read decoded as `T`, retried as [`Self::read`] says.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PassportalError> {
        let label = format!("GET {path}");
        self.read(&label, path, query, |body| decode::<T>(&label, body))
            .await
    }

    /// A write of exactly `body` (JSON bytes from `body::Request`): retried only while it
    /// certainly was not applied (429, a 401 before the token was renewed, a connection that
    /// never opened). Anything after the request may have been applied is `WriteError::Unknown`.
    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        route: &Route,
        path: &str,
        body: &[u8],
    ) -> Result<T, WriteError> {
        let label = format!("{} {}", route.method, path);
        let method = Method::from_bytes(route.method.as_bytes()).expect("valid method");
        let mut retries = self.http.retries(&format!("Passportal {label}"));
        let mut rejected: Option<String> = None;
        loop {
            let token = self
                .access_token(rejected.take().as_deref())
                .await
                .map_err(WriteError::Rejected)?;
            let request = self
                .http
                .request(method.clone(), &self.url(path))
                .header("x-access-token", &token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
            let answer = match self.http.send(&label, request).await {
                Ok(a) => a,
                Err(e) if e.never_applied() => {
                    let retry = Retry::when(e.is_retryable(), None);
                    retries
                        .wait(PassportalError::from(e), retry)
                        .await
                        .map_err(WriteError::Rejected)?;
                    continue;
                }
                Err(e) => return Err(WriteError::Unknown(e.into())),
            };
            let status = answer.status;
            let http_error = || PassportalError::Http {
                route: label.clone(),
                status: status.as_u16(),
                message: message_of(&answer.body),
            };
            if status.is_success() {
                return decode(&label, &answer.body).map_err(WriteError::Unknown);
            }
            if status == StatusCode::UNAUTHORIZED {
                rejected = Some(token);
                retries
                    .wait(http_error(), Retry::Now)
                    .await
                    .map_err(WriteError::Rejected)?;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                retries
                    .wait(http_error(), Retry::After(answer.retry_after))
                    .await
                    .map_err(WriteError::Rejected)?;
                continue;
            }
            if status.is_server_error() {
                return Err(WriteError::Unknown(http_error()));
            }
            return Err(WriteError::Rejected(http_error()));
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
