//! Clients: `GET /api/v2/documents/clients` (confirmed), `POST /api/v2/clients` and
//! `PUT /api/v2/clients/{id}` (assumed).

use super::{updates, wire, PassportalSim};
use crate::sim::generator::PpClient;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One page of clients in id order, names encoded as real instances serve them. A page past
/// the end answers `"results": []`.
pub async fn list(State(sim): State<Arc<PassportalSim>>, RawQuery(query): RawQuery) -> Response {
    let (per_page, page) = match sim.paging(query.as_deref()) {
        Ok(p) => p,
        Err(message) => return wire::bad_request(&message),
    };
    let mut state = sim.state();
    let total = state.instance.clients.len();
    let range = match state.page(total, per_page, page) {
        Ok(range) => range,
        Err(past_end) => return wire::ok(json!({ "success": true, "results": past_end })),
    };
    let results: Vec<Value> = state.instance.clients[range]
        .iter()
        .map(|c| json!({ "id": c.id, "name": wire::served_name(c.id, &c.name) }))
        .collect();
    drop(state);
    wire::ok(json!({ "success": true, "results": results }))
}

/// Create a client from `{"name": ..., ...}` (other fields accepted and ignored). Duplicate
/// names are allowed, as in real Passportal. The name is stored as sent, not decoded (with
/// `normalise_names`, trimmed and re-cased).
pub async fn create(State(sim): State<Arc<PassportalSim>>, body: Bytes) -> Response {
    let name = match client_name(&sim, &body) {
        Ok(name) => name,
        Err(message) => return wire::bad_request(message),
    };
    let id = {
        let mut state = sim.state();
        let id = state.next_client_id;
        state.next_client_id += 1;
        state.instance.clients.push(PpClient { id, name });
        id
    };
    sim.creates.fetch_add(1, Ordering::SeqCst);
    wire::ok(json!({ "success": true, "id": id }))
}

/// Rename a client from the create's body `{"name"}`; an unknown id answers 400 `invalid id`.
pub async fn update(
    State(sim): State<Arc<PassportalSim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    updates::update(&sim, &id, &body, client_name, |state, id, name| {
        let held = state.instance.clients.iter_mut().find(|c| c.id == id);
        held.ok_or(updates::UNKNOWN_ID)?.name = name;
        Ok(())
    })
}

/// The name a create or update body gives, as the instance stores it (with `normalise_names`,
/// trimmed and re-cased).
fn client_name(sim: &PassportalSim, body: &[u8]) -> Result<String, updates::Refusal> {
    let body = wire::json_object(body)?;
    let name = wire::required(&body, "name").ok_or("name is required")?;
    Ok(sim.options.faults.stored_name(name))
}
