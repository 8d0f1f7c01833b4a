//! Clients: `GET /api/v2/documents/clients` (confirmed) and `POST /api/v2/clients` (assumed).

use super::{wire, PassportalSim};
use crate::sim::generator::PpClient;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const DEFAULT_RESULTS_PER_PAGE: usize = 20;

/// One page of clients in id order, names encoded as real instances serve them. A page past
/// the end answers `"results": []` and `"results": null` alternately.
pub async fn list(State(sim): State<Arc<PassportalSim>>, RawQuery(query): RawQuery) -> Response {
    let query = query.as_deref();
    let per_page = match wire::page_param(query, "resultsPerPage", DEFAULT_RESULTS_PER_PAGE) {
        Ok(n) => n,
        Err(message) => return wire::bad_request(&message),
    };
    let max = sim.options.max_results_per_page;
    if per_page > max {
        return wire::bad_request(&format!("resultsPerPage must not exceed {max}"));
    }
    let page = match wire::page_param(query, "pageNum", 1) {
        Ok(n) => n,
        Err(message) => return wire::bad_request(&message),
    };

    let mut state = sim.state();
    let clients = &state.instance.clients;
    let start = (page - 1).saturating_mul(per_page);
    if start >= clients.len() {
        state.past_end_pages += 1;
        let results = if state.past_end_pages % 2 == 0 {
            Value::Null
        } else {
            json!([])
        };
        return wire::ok(json!({ "success": true, "results": results }));
    }
    let end = start.saturating_add(per_page).min(clients.len());
    let results: Vec<Value> = clients[start..end]
        .iter()
        .map(|c| json!({ "id": c.id, "name": wire::served_name(c.id, &c.name) }))
        .collect();
    drop(state);
    wire::ok(json!({ "success": true, "results": results }))
}

/// Create a client from `{"name": ..., ...}` (other fields accepted and ignored). Duplicate
/// names are allowed, as in real Passportal. The name is stored as sent, not decoded.
pub async fn create(State(sim): State<Arc<PassportalSim>>, body: Bytes) -> Response {
    let body = match wire::json_object(&body) {
        Ok(body) => body,
        Err(message) => return wire::bad_request(message),
    };
    let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return wire::bad_request("name is required");
    };
    let id = {
        let mut state = sim.state();
        let id = state.next_client_id;
        state.next_client_id += 1;
        state.instance.clients.push(PpClient {
            id,
            name: name.to_string(),
        });
        id
    };
    sim.creates.fetch_add(1, Ordering::SeqCst);
    wire::ok(json!({ "success": true, "id": id }))
}
