//! The `PUT` routes' common shape (clients, users, documents, all with the create's body): an id
//! in the path, a body read as its create reads it, a change to the held record, one count.
//! An id that is not a number or names no record answers 400 `invalid id`, as the confirmed
//! document routes do.

use super::{wire, PassportalSim, SimState};
use axum::response::Response;
use serde_json::json;
use std::sync::atomic::Ordering;

/// Why an update was refused: the 400 answer's message.
pub type Refusal = &'static str;

pub const UNKNOWN_ID: Refusal = "invalid id";

/// Update the record `id` names: `parse` reads the body, `apply` changes the held record
/// (`Err(UNKNOWN_ID)` when there is none). Answers `{"success": true}`.
pub fn update<T>(
    sim: &PassportalSim,
    id: &str,
    body: &[u8],
    parse: impl FnOnce(&PassportalSim, &[u8]) -> Result<T, Refusal>,
    apply: impl FnOnce(&mut SimState, i64, T) -> Result<(), Refusal>,
) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else {
        return wire::bad_request(UNKNOWN_ID);
    };
    let sent = match parse(sim, body) {
        Ok(sent) => sent,
        Err(message) => return wire::bad_request(message),
    };
    if let Err(message) = apply(&mut sim.state(), id, sent) {
        return wire::bad_request(message);
    }
    sim.updates.fetch_add(1, Ordering::SeqCst);
    wire::ok(json!({ "success": true }))
}
