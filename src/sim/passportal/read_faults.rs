//! Read faults of the Passportal simulator, switched on per test and deterministic: list pages
//! that answer 200 with `success: false` or `results: null`, an empty page in the middle of a
//! listing, a page that hangs, a route that ignores `pageNum` (always page 1), a redirect to another host carrying
//! the request, and an oversized answer. These are the ways real instances have made syncs
//! believe a listing was complete when it was not, or leak credentials, or hang.
//!
//! The same layer keeps the simulator's own account of its traffic, which tests assert from:
//! GET requests per path, and every write's method, path and body bytes as received.

use super::PassportalSim;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A fault on one page of listings on one path (every listing on the path, any filters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageFault {
    /// The route path, e.g. `/api/v2/documents/clients`.
    pub path: String,
    /// The `pageNum` it hits.
    pub page: usize,
    /// How many requests it hits before the page answers normally again.
    pub times: u32,
}

impl PageFault {
    pub fn new(path: &str, page: usize, times: u32) -> PageFault {
        PageFault {
            path: path.to_string(),
            page,
            times,
        }
    }
}

/// Answer requests to `path` with a redirect to the same path and query on `to` (another
/// host, e.g. `http://127.0.0.2:<port>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub path: String,
    pub to: String,
    /// 301, 302, 307 or 308.
    pub status: u16,
}

/// Which read faults are on (all off by default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadFaultPlan {
    /// List pages answered 200 `{"success": false, "message": ..}`.
    pub success_false: Vec<PageFault>,
    /// List pages answered 200 `{"success": true, "results": null}`.
    pub null_results: Vec<PageFault>,
    /// List pages answered 200 `{"success": true, "results": []}` although records remain.
    pub empty_page: Vec<PageFault>,
    /// Paths whose listings ignore `pageNum`: every page is page 1.
    pub ignore_page_num: Vec<String>,
    pub redirect: Option<Redirect>,
    /// List pages answered only after `slow_ms` (a hung server, for the client's timeout).
    pub slow: Vec<PageFault>,
    pub slow_ms: u64,
    /// Answers to GETs on this path are padded with whitespace (sent in chunks, without a
    /// length) to at least this many bytes: `(path, bytes)`.
    pub oversized: Option<(String, usize)>,
}

/// A write as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedWrite {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

/// The plan and what it has done so far, with the traffic log.
#[derive(Default)]
pub(super) struct ReadFaults {
    plan: ReadFaultPlan,
    /// Hits spent per (fault kind, index in its list).
    spent: Mutex<HashMap<(&'static str, usize), u32>>,
    gets: Mutex<BTreeMap<String, u64>>,
    writes: Mutex<Vec<ReceivedWrite>>,
}

impl ReadFaults {
    pub(super) fn new(plan: ReadFaultPlan) -> ReadFaults {
        ReadFaults {
            plan,
            ..ReadFaults::default()
        }
    }

    /// Whether a fault of `kind` hits this request (and spends one of its hits).
    fn hits(&self, kind: &'static str, faults: &[PageFault], path: &str, page: usize) -> bool {
        let mut spent = super::lock(&self.spent);
        for (i, f) in faults.iter().enumerate() {
            if f.path == path && f.page == page {
                let used = spent.entry((kind, i)).or_default();
                if *used < f.times {
                    *used += 1;
                    return true;
                }
            }
        }
        false
    }
}

impl PassportalSim {
    /// GET requests received on `path` (any query), faults and refusals included.
    pub fn gets(&self, path: &str) -> u64 {
        super::lock(&self.reads.gets)
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// GET requests received per path (any query): the simulator's own count by route (a
    /// document's detail is one path per document).
    pub fn gets_by_path(&self) -> BTreeMap<String, u64> {
        super::lock(&self.reads.gets).clone()
    }

    /// Every write (POST/PUT other than the token exchange) as received, in order.
    pub fn writes_received(&self) -> Vec<ReceivedWrite> {
        super::lock(&self.reads.writes).clone()
    }
}

/// The `pageNum` of a query (1 when absent or not a number).
fn page_of(query: Option<&str>) -> usize {
    super::wire::query_param(query, "pageNum")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
}

/// The request's URI with `pageNum=1`.
fn first_page(uri: &Uri) -> Uri {
    let query: Vec<String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("pageNum="))
        .map(str::to_string)
        .chain(["pageNum=1".to_string()])
        .collect();
    format!("{}?{}", uri.path(), query.join("&"))
        .parse()
        .unwrap_or_else(|_| uri.clone())
}

/// What every request goes through first: the traffic log, then the read faults.
pub(super) async fn layer(
    State(sim): State<Arc<PassportalSim>>,
    mut req: Request,
    next: Next,
) -> Response {
    let faults = &sim.reads;
    let plan = &faults.plan;
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if method == Method::GET {
        *super::lock(&faults.gets).entry(path.clone()).or_default() += 1;
    } else if (method == Method::POST || method == Method::PUT)
        && path != crate::api::passportal::routes::TOKEN.path
    {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
            return super::wire::bad_request("body too large");
        };
        super::lock(&faults.writes).push(ReceivedWrite {
            method: method.to_string(),
            path: path.clone(),
            body: bytes.to_vec(),
        });
        req = Request::from_parts(parts, Body::from(bytes));
    }
    if let Some(r) = plan.redirect.as_ref().filter(|r| r.path == path) {
        let target = req
            .uri()
            .path_and_query()
            .map_or(path.clone(), |pq| pq.as_str().to_string());
        let location = format!("{}{target}", r.to.trim_end_matches('/'));
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
        return match HeaderValue::from_str(&location) {
            Ok(v) => (status, [(header::LOCATION, v)]).into_response(),
            Err(_) => super::wire::internal_error(),
        };
    }
    if method != Method::GET {
        return next.run(req).await;
    }
    if plan.ignore_page_num.contains(&path) {
        let uri = first_page(req.uri());
        *req.uri_mut() = uri;
    }
    let page = page_of(req.uri().query());
    if faults.hits("slow", &plan.slow, &path, page) {
        tokio::time::sleep(std::time::Duration::from_millis(plan.slow_ms)).await;
    }
    if faults.hits("success_false", &plan.success_false, &path, page) {
        return super::wire::ok(json!({
            "success": false, "code": 0, "message": "temporarily unavailable"
        }));
    }
    if faults.hits("null_results", &plan.null_results, &path, page) {
        return super::wire::ok(json!({ "success": true, "results": null }));
    }
    if faults.hits("empty_page", &plan.empty_page, &path, page) {
        return super::wire::ok(json!({ "success": true, "results": [] }));
    }
    match &plan.oversized {
        Some((p, bytes)) if *p == path => oversized(next.run(req).await, *bytes).await,
        _ => next.run(req).await,
    }
}

/// The answer padded with trailing whitespace to `size` bytes, streamed in 64 KiB chunks with
/// no `Content-Length`, so only a reader that counts as it goes notices.
async fn oversized(resp: Response, size: usize) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return super::wire::internal_error();
    };
    let pad = size.saturating_sub(bytes.len());
    let mut chunks = vec![Ok::<Bytes, std::io::Error>(bytes)];
    let chunk = 64 * 1024;
    let mut left = pad;
    while left > 0 {
        let n = left.min(chunk);
        chunks.push(Ok(Bytes::from(vec![b' '; n])));
        left -= n;
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(futures::stream::iter(chunks)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_faults_hit_their_page_the_given_number_of_times() {
        let f = ReadFaults::new(ReadFaultPlan::default());
        let faults = [PageFault::new("/a", 2, 2)];
        assert!(!f.hits("k", &faults, "/a", 1));
        assert!(!f.hits("k", &faults, "/b", 2));
        assert!(f.hits("k", &faults, "/a", 2));
        assert!(f.hits("k", &faults, "/a", 2));
        assert!(!f.hits("k", &faults, "/a", 2));
    }

    #[test]
    fn ignoring_page_num_rewrites_it_to_one() {
        let uri: Uri = "/api/v2/users?resultsPerPage=5&pageNum=3".parse().unwrap();
        assert_eq!(
            first_page(&uri).to_string(),
            "/api/v2/users?resultsPerPage=5&pageNum=1"
        );
        assert_eq!(page_of(Some("pageNum=4&x=1")), 4);
        assert_eq!(page_of(None), 1);
    }
}
