//! The wire side of the Autotask simulator: a request as read off the socket (query
//! parameters, the opaque paging cursor) and the answers it sends (JSON, errors, the
//! thresholds' refusals, a dropped connection).

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};
use std::collections::HashMap;

pub(super) const JSON: &str = "application/json; charset=utf-8";

/// One request, read off the wire.
pub(super) struct Call {
    pub method: Method,
    /// As the client sent it (for messages).
    pub path_and_query: String,
    /// Query parameters, keys lower-cased, values decoded.
    pub params: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `http://<addr>`
    pub base: String,
}

pub(super) fn decode_component(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

pub(super) fn parse_params(query: Option<&str>) -> HashMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                decode_component(k).to_ascii_lowercase(),
                decode_component(v),
            )
        })
        .collect()
}

/// The opaque paging cursor: hex of `after:<last id>`.
pub(super) fn encode_token(last_id: i64) -> String {
    format!("after:{last_id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn decode_token(token: &str) -> Option<i64> {
    let token = token.trim();
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("after:")?
        .parse()
        .ok()
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, JSON)], body.to_string()).into_response()
}

pub(super) fn errors(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "errors": [message] }))
}

pub(super) fn too_many(retry_after_secs: u64) -> Response {
    let mut response = errors(
        StatusCode::TOO_MANY_REQUESTS,
        "The request threshold of this database has been exceeded. Try again later.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

pub(super) fn thread_threshold(max: usize) -> Response {
    errors(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!(
            "Thread Threshold Exceeded: the maximum number of concurrent requests ({max}) \
             for this endpoint has been reached. Itgenatr005"
        ),
    )
}

/// A 200 whose body fails at once: the server aborts the connection without a usable answer.
pub(super) fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        ))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, JSON)],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_token_round_trips_and_rejects_junk() {
        for id in [0, 1, 499, i64::MAX, -3] {
            assert_eq!(decode_token(&encode_token(id)), Some(id));
        }
        for junk in ["", "zz", "abc", "6166746572", "\u{e9}\u{e9}"] {
            assert_eq!(decode_token(junk), None);
        }
    }

    #[test]
    fn params_decode_and_lower_case_keys() {
        let p = parse_params(Some("User=a%40b.com&search=%7B%22x%22%3A1%7D&q=a+b&flag"));
        assert_eq!(p["user"], "a@b.com");
        assert_eq!(p["search"], "{\"x\":1}");
        assert_eq!(p["q"], "a b");
        assert_eq!(p["flag"], "");
    }
}
