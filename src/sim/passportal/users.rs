//! Users (technicians): `GET /api/v2/users` and `POST /api/v2/users`, both assumed routes, in
//! the shapes written down in `crate::api::passportal::routes`.

use super::{wire, PassportalSim};
use crate::sim::generator::PpUser;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One page of users in id order, `{"id", "firstName", "lastName", "email"}`, names encoded
/// as clients' are. Past the end: `[]`, as for clients.
pub async fn list(State(sim): State<Arc<PassportalSim>>, RawQuery(query): RawQuery) -> Response {
    let (per_page, page) = match sim.paging(query.as_deref()) {
        Ok(p) => p,
        Err(message) => return wire::bad_request(&message),
    };
    let mut state = sim.state();
    let total = state.instance.users.len();
    let range = match state.page(total, per_page, page) {
        Ok(range) => range,
        Err(past_end) => return wire::ok(json!({ "success": true, "results": past_end })),
    };
    let results: Vec<Value> = state.instance.users[range]
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "firstName": wire::served_name(u.id, &u.first_name),
                "lastName": wire::served_name(u.id, &u.last_name),
                "email": u.email,
            })
        })
        .collect();
    drop(state);
    wire::ok(json!({ "success": true, "results": results }))
}

/// A required non-blank string field of a request body.
fn required<'a>(body: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// Create a user from `{"firstName", "lastName", "email"?}`; answers `{"success": true, "id"}`.
/// Stored as sent (with `normalise_names`, trimmed and re-cased).
pub async fn create(State(sim): State<Arc<PassportalSim>>, body: Bytes) -> Response {
    let body = match wire::json_object(&body) {
        Ok(body) => body,
        Err(message) => return wire::bad_request(message),
    };
    let (Some(first), Some(last)) = (required(&body, "firstName"), required(&body, "lastName"))
    else {
        return wire::bad_request("firstName and lastName are required");
    };
    let email = match body.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) if e.contains('@') => Some(sim.options.faults.stored_email(e)),
        Some(_) => return wire::bad_request("invalid email"),
    };
    let id = {
        let mut state = sim.state();
        let id = state.next_user_id;
        state.next_user_id += 1;
        state.instance.users.push(PpUser {
            id,
            first_name: sim.options.faults.stored_name(first),
            last_name: sim.options.faults.stored_name(last),
            email,
        });
        id
    };
    sim.creates.fetch_add(1, Ordering::SeqCst);
    wire::ok(json!({ "success": true, "id": id }))
}
