//! The one HTTP layer both API clients send through, so the rules that keep a nightly from
//! leaking or hanging are written once: pacing (a rate limit and a cap on requests in flight), a
//! per-request timeout, a redirect policy that never takes credentials to another host or to
//! plain http, a bound on the size of an answer (read in chunks), and the retry schedule
//! (exponential backoff with jitter from `backon`, or the server's `Retry-After`).
//!
//! What an answer means (which status is retryable, what a 401 does, whether a write may have
//! been applied) stays with each client: this layer sends, reads and waits.

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{Method, RequestBuilder, StatusCode};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The longest `Retry-After` honoured: a server asking for more is waited on this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Redirects followed at most (all to the same scheme, host and port).
const MAX_REDIRECTS: usize = 5;

/// How requests are sent: set by each client from its own settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// A request (connect, send, answer and body) taking longer fails with a timeout.
    pub timeout: Duration,
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// Requests per second at most; `None`: no pacing.
    pub requests_per_sec: Option<u32>,
    /// Requests in flight at most; `None`: no cap here (the client may keep its own).
    pub concurrency: Option<usize>,
    /// An answer larger than this fails without being read further.
    pub max_body_bytes: usize,
    /// The first backoff step and the longest one (jitter added).
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            requests_per_sec: None,
            concurrency: None,
            max_body_bytes: 64 * 1024 * 1024,
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// What failed on the way, before any meaning is given to an answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{route}: could not reach the server")]
    Transport {
        route: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{route}: no complete answer within {secs} s")]
    Timeout { route: String, secs: u64 },
    #[error(
        "{route}: refused to follow a redirect to {to} ({why}); credentials are never sent to \
         another host or over plain http. Set the base URL to the address the service really \
         answers on"
    )]
    Redirect {
        route: String,
        to: String,
        why: &'static str,
    },
    #[error("{route}: the answer is larger than {limit} bytes; it was not read")]
    TooLarge { route: String, limit: usize },
}

impl HttpError {
    /// The route (`METHOD /path`) the request was for.
    pub fn route(&self) -> &str {
        match self {
            HttpError::Transport { route, .. }
            | HttpError::Timeout { route, .. }
            | HttpError::Redirect { route, .. }
            | HttpError::TooLarge { route, .. } => route,
        }
    }

    /// Worth another attempt: a connection that failed or dropped, or a timeout. A refused
    /// redirect or an oversized answer would only happen again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            HttpError::Transport { .. } | HttpError::Timeout { .. }
        )
    }

    /// The request certainly never reached the server (the connection was never opened), or
    /// the server answered a redirect that was not followed: a write was not applied.
    pub fn never_applied(&self) -> bool {
        match self {
            HttpError::Transport { source, .. } => source.is_connect(),
            HttpError::Redirect { .. } => true,
            _ => false,
        }
    }
}

/// A refused redirect, carried through reqwest's error to [`Http::send`].
#[derive(Debug)]
struct RedirectRefused {
    to: String,
    why: &'static str,
}

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {} refused: {}", self.to, self.why)
    }
}

impl std::error::Error for RedirectRefused {}

/// Why a redirect from `from` to `to` (after `hops` earlier ones) is refused, if it is: only
/// the same scheme, host and port are followed, since anything else (another host, another
/// port, https to http) would carry the credential headers elsewhere.
fn refusal(from: &reqwest::Url, to: &reqwest::Url, hops: usize) -> Option<&'static str> {
    if from.scheme() == "https" && to.scheme() != "https" {
        Some("from https to plain http")
    } else if from.host_str() != to.host_str()
        || from.port_or_known_default() != to.port_or_known_default()
        || from.scheme() != to.scheme()
    {
        Some("another host")
    } else if hops > MAX_REDIRECTS {
        Some("too many redirects")
    } else {
        None
    }
}

fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(from) = attempt.previous().last() else {
            return attempt.stop();
        };
        match refusal(from, attempt.url(), attempt.previous().len()) {
            Some(why) => {
                let refused = RedirectRefused {
                    to: attempt.url().as_str().to_string(),
                    why,
                };
                attempt.error(refused)
            }
            None => attempt.follow(),
        }
    })
}

/// An answer read in full (within the size bound).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    /// The server's `Retry-After` in seconds, if it sent one (capped at [`MAX_RETRY_AFTER`]).
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

/// The sender both clients share one of each (one per client).
pub struct Http {
    client: reqwest::Client,
    settings: HttpSettings,
    limiter: Option<DefaultDirectRateLimiter>,
    in_flight: Option<Semaphore>,
    sent: AtomicU64,
}

impl Http {
    pub fn new(settings: HttpSettings) -> Result<Http, HttpError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(redirect_policy())
            .build()
            .map_err(|source| HttpError::Transport {
                route: "client setup".into(),
                source,
            })?;
        let limiter = settings
            .requests_per_sec
            .map(|rps| RateLimiter::direct(Quota::per_second(nz(rps))));
        let in_flight = settings.concurrency.map(|n| Semaphore::new(n.max(1)));
        Ok(Http {
            client,
            settings,
            limiter,
            in_flight,
            sent: AtomicU64::new(0),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// A request to fill in (headers, query, body) and hand to [`Http::send`].
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// Requests sent so far, every attempt counted.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Send one request, paced and within the cap on requests in flight, and read its answer
    /// in chunks up to the size bound. `route` names it in errors.
    pub async fn send(&self, route: &str, request: RequestBuilder) -> Result<Answer, HttpError> {
        let _permit = match &self.in_flight {
            Some(s) => Some(s.acquire().await.expect("never closed")),
            None => None,
        };
        if let Some(limiter) = &self.limiter {
            limiter.until_ready().await;
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut resp = request.send().await.map_err(|e| self.failed(route, e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let limit = self.settings.max_body_bytes;
        let too_large = || HttpError::TooLarge {
            route: route.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.failed(route, e))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    fn failed(&self, route: &str, e: reqwest::Error) -> HttpError {
        let route = route.to_string();
        if e.is_timeout() {
            return HttpError::Timeout {
                route,
                secs: self.settings.timeout.as_secs(),
            };
        }
        if e.is_redirect() {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(c) = cause {
                if let Some(r) = c.downcast_ref::<RedirectRefused>() {
                    return HttpError::Redirect {
                        route,
                        to: r.to.clone(),
                        why: r.why,
                    };
                }
                cause = c.source();
            }
        }
        HttpError::Transport { route, source: e }
    }

    /// The retry schedule of one request: call [`Retries::wait`] after each failed attempt.
    pub fn retries(&self, route: &str) -> Retries {
        let s = &self.settings;
        Retries {
            route: route.to_string(),
            schedule: ExponentialBuilder::default()
                .with_min_delay(s.min_backoff)
                .with_max_delay(s.max_backoff)
                .with_jitter()
                .with_max_times(s.max_attempts.max(1) as usize - 1)
                .build(),
            attempt: 1,
            free_left: 2,
        }
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// What a client decided about a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Give up: the error is final.
    No,
    /// Try again after the backoff step, or after the server's `Retry-After` when given.
    After(Option<Duration>),
    /// Try again at once without spending an attempt (a renewed token, a re-resolved zone);
    /// allowed twice per request, then the error is final.
    Now,
}

impl Retry {
    /// `After(server)` when the failure is worth another attempt, else `No`.
    pub fn when(retryable: bool, server: Option<Duration>) -> Retry {
        if retryable {
            Retry::After(server)
        } else {
            Retry::No
        }
    }
}

/// One request's retries: the backoff schedule and the attempts left.
pub struct Retries {
    route: String,
    schedule: ExponentialBackoff,
    attempt: u32,
    free_left: u32,
}

impl Retries {
    /// The attempt about to be made (from 1).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// After a failed attempt: wait as `retry` says and return to try again, or hand the error
    /// back when it is final or the attempts are spent.
    pub async fn wait<E: std::fmt::Display>(&mut self, error: E, retry: Retry) -> Result<(), E> {
        let server = match retry {
            Retry::No => return Err(error),
            Retry::Now if self.free_left > 0 => {
                self.free_left -= 1;
                return Ok(());
            }
            Retry::Now => return Err(error),
            Retry::After(server) => server,
        };
        let Some(step) = self.schedule.next() else {
            return Err(error);
        };
        let wait = server.map_or(step, |s| s.min(MAX_RETRY_AFTER));
        tracing::warn!(
            "{}: attempt {} failed ({error}); retrying in {wait:?}",
            self.route,
            self.attempt
        );
        self.attempt += 1;
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_followed_only_to_the_same_scheme_host_and_port() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let from = url("https://eu.example.com/api/v2/users");
        let cases = [
            ("https://eu.example.com/api/v2/users?x=1", None),
            ("https://eu.example.com:443/other", None),
            (
                "http://eu.example.com/api/v2/users",
                Some("from https to plain http"),
            ),
            (
                "https://evil.example.net/api/v2/users",
                Some("another host"),
            ),
            (
                "https://eu.example.com:8443/api/v2/users",
                Some("another host"),
            ),
        ];
        for (to, want) in cases {
            assert_eq!(refusal(&from, &url(to), 1), want, "{to}");
        }
        let plain = url("http://127.0.0.1:8080/a");
        assert_eq!(
            refusal(&plain, &url("http://127.0.0.2:8080/a"), 1),
            Some("another host")
        );
        assert_eq!(
            refusal(&plain, &url("https://127.0.0.1:8080/a"), 1),
            Some("another host")
        );
        assert_eq!(
            refusal(&plain, &url("http://127.0.0.1:8080/b"), 9),
            Some("too many redirects")
        );
    }

    #[tokio::test]
    async fn retries_stop_after_max_attempts_and_never_on_a_final_error() {
        let http = Http::new(HttpSettings {
            max_attempts: 3,
            min_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..HttpSettings::default()
        })
        .unwrap();
        let mut r = http.retries("GET /x");
        assert!(r.wait("boom", Retry::After(None)).await.is_ok());
        assert!(r.wait("boom", Retry::After(None)).await.is_ok());
        assert_eq!(r.attempt(), 3);
        assert_eq!(r.wait("boom", Retry::After(None)).await, Err("boom"));
        let mut r = http.retries("GET /x");
        assert_eq!(r.wait("bad", Retry::No).await, Err("bad"));
        let mut r = http.retries("GET /x");
        assert!(r.wait("401", Retry::Now).await.is_ok());
        assert!(r.wait("401", Retry::Now).await.is_ok());
        assert_eq!(r.wait("401", Retry::Now).await, Err("401"));
        assert_eq!(r.attempt(), 1, "free retries spend no attempt");
    }
}
