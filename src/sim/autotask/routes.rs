//! The simulator's routing: which route a request's path names (case-insensitively, as IIS
//! does), the one handler every request goes through, and serving it on loopback.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum EntityOp {
    Query,
    Next,
    Count,
    Fields,
    Get(i64),
}

#[derive(Clone, Copy)]
pub(super) enum Route {
    Threshold,
    Entity(&'static EntityDef, EntityOp),
}

/// The route of a lower-cased path below `v1.0/`; `None` for a route (or entity) that does
/// not exist.
pub(super) fn classify(segments: &[&str]) -> Option<Route> {
    let (name, op) = match segments {
        ["thresholdinformation"] => return Some(Route::Threshold),
        [name, "query"] => (name, EntityOp::Query),
        [name, "query", "count"] => (name, EntityOp::Count),
        [name, "query", "next"] => (name, EntityOp::Next),
        [name, "entityinformation", "fields"] => (name, EntityOp::Fields),
        [name, id] => (name, EntityOp::Get(id.parse().ok()?)),
        _ => return None,
    };
    records::entity(name).map(|e| Route::Entity(e, op))
}

/// The one handler: lower-cases the path (Autotask runs on IIS) and routes it.
pub(super) async fn handle(State(sim): State<Arc<AutotaskSim>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let base = sim.base_url(&parts.headers);
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(e) => {
            return errors(
                StatusCode::BAD_REQUEST,
                &format!("Could not read the request: {e}"),
            )
        }
    };
    let call = Call {
        method: parts.method,
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.to_string()),
        params: parse_params(parts.uri.query()),
        headers: parts.headers,
        body,
        base,
    };
    let path = parts.uri.path().to_ascii_lowercase();
    // `/zone<n>/atservicesrest/...` is zone n's base; the first zone has no prefix.
    let (zone, path) = match path.strip_prefix("/zone").and_then(|p| p.split_once('/')) {
        Some((n, rest)) if n.parse::<u64>().is_ok() => (n.parse().unwrap_or(0), format!("/{rest}")),
        _ => (0, path),
    };
    let Some(rest) = path
        .trim_end_matches('/')
        .strip_prefix("/atservicesrest/v1.0/")
    else {
        return sim.not_found(&call);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    if segments == ["zoneinformation"] {
        return sim.zone_information(&call);
    }
    sim.count_request(segments[0]);
    if zone != sim.zone.load(Ordering::SeqCst) {
        // A zone the tenant left: 401 with an empty body, as for a wrong secret.
        return StatusCode::UNAUTHORIZED.into_response();
    }
    sim.rest(Arc::new(call), &segments).await
}

/// Serve the simulator on `bind` (127.0.0.1:0 for a free port).
pub async fn serve(sim: Arc<AutotaskSim>, bind: SocketAddr) -> std::io::Result<RunningSim> {
    let router = Router::new().fallback(handle).with_state(Arc::clone(&sim));
    let running = RunningSim::serve(router, bind).await?;
    *lock(&sim.addr) = Some(running.addr);
    Ok(running)
}

/// The zone-discovery base URL a client is configured with: `{base_url}/atservicesrest/`
/// (the client appends `v1.0/zoneInformation?user=...`).
pub fn discovery_url(sim: &RunningSim) -> String {
    format!("{}/atservicesrest/", sim.base_url())
}
