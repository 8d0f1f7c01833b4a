//! Users (technicians): `GET /api/v2/users`, `POST /api/v2/users` and `PUT /api/v2/users/{id}`,
//! all assumed routes, in the shapes written down in `crate::api::passportal::routes`.

use super::{updates, wire, PassportalSim};
use crate::sim::generator::PpUser;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
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

/// Create a user from `{"firstName", "lastName", "email"?}`; answers `{"success": true, "id"}`.
/// Stored as sent (with `normalise_names`, trimmed and re-cased).
pub async fn create(State(sim): State<Arc<PassportalSim>>, body: Bytes) -> Response {
    let user = match user_body(&sim, &body) {
        Ok(user) => user,
        Err(message) => return wire::bad_request(message),
    };
    let id = {
        let mut state = sim.state();
        let id = state.next_user_id;
        state.next_user_id += 1;
        state.instance.users.push(PpUser { id, ..user });
        id
    };
    sim.creates.fetch_add(1, Ordering::SeqCst);
    wire::ok(json!({ "success": true, "id": id }))
}

/// Update a user from the create's body; an unknown id answers 400 `invalid id`.
pub async fn update(
    State(sim): State<Arc<PassportalSim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    updates::update(&sim, &id, &body, user_body, |state, id, user| {
        let held = state.instance.users.iter_mut().find(|u| u.id == id);
        *held.ok_or(updates::UNKNOWN_ID)? = PpUser { id, ..user };
        Ok(())
    })
}

/// A user as a create or update body gives it `{"firstName", "lastName", "email"?}`, stored as
/// the instance keeps it (with `normalise_names`, trimmed and re-cased); id 0.
fn user_body(sim: &PassportalSim, body: &[u8]) -> Result<PpUser, &'static str> {
    let body = wire::json_object(body)?;
    let (Some(first), Some(last)) = (
        wire::required(&body, "firstName"),
        wire::required(&body, "lastName"),
    ) else {
        return Err("firstName and lastName are required");
    };
    let email = match body.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) if e.contains('@') => Some(sim.options.faults.stored_email(e)),
        Some(_) => return Err("invalid email"),
    };
    Ok(PpUser {
        id: 0,
        first_name: sim.options.faults.stored_name(first),
        last_name: sim.options.faults.stored_name(last),
        email,
    })
}
