//! The access-key exchange: `POST /api/v2/auth/client_token`.

use super::{now_ms, wire, Issued, PassportalSim};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

fn random_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

/// Check the headers and body in order (headers, body, key id, hash) and issue a token pair.
/// Every other successful answer says `"success": "true"` (a string), as real instances do.
pub async fn client_token(
    State(sim): State<Arc<PassportalSim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (Some(key), Some(hash)) = (header(&headers, "x-key"), header(&headers, "x-hash")) else {
        return wire::bad_request("x-key and x-hash headers are required");
    };
    let body = match wire::json_object(&body) {
        Ok(body) => body,
        Err(message) => return wire::bad_request(message),
    };
    let Some(content) = body
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    else {
        return wire::bad_request("content is required");
    };
    if body.get("scope").and_then(Value::as_str) != Some("docs_api") {
        return wire::bad_request("scope must be docs_api");
    }
    if key != sim.credentials.key_id.expose() {
        return wire::auth_error("Invalid key");
    }
    if !wire::hash_matches(sim.credentials.secret.expose(), content, hash) {
        return wire::auth_error("Invalid hash");
    }

    let access = random_token();
    let refresh = random_token();
    let now = now_ms();
    let expiry_ms = now.saturating_add(sim.options.token_lifetime_secs.saturating_mul(1000));
    {
        let mut state = sim.state();
        state.tokens.retain(|_, issued| issued.expiry_ms > now);
        state
            .tokens
            .insert(access.clone(), Issued { expiry_ms, uses: 0 });
    }
    let n = sim.token_exchanges.fetch_add(1, Ordering::SeqCst);
    let success = if n % 2 == 0 {
        json!(true)
    } else {
        json!("true")
    };
    wire::ok(json!({
        "success": success,
        "access_token": access,
        "refresh_token": refresh,
        // Whole seconds, rounded down: never later than the instant the token stops working.
        "expiry_time": expiry_ms.div_euclid(1000),
    }))
}
