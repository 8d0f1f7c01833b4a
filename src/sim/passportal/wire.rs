//! The pure parts of the Passportal simulator: how names look on the wire, the access-key hash,
//! query parsing and the error bodies. No state, no I/O, so they are tested directly.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use sha2::Sha256;

/// Bytes that stay literal in a URL-encoded name: RFC 3986 unreserved characters.
const URL_NAME: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A client name as a real instance serves it. Names holding `&`, a space or non-ASCII come
/// back encoded, chosen deterministically by id: `id % 3 == 0` URL-encoded (UTF-8 percent
/// encoding, space as `%20`, never `+`), `1` HTML-encoded (`&amp;`, non-ASCII as decimal
/// entities such as `&#233;`), `2` plain. Any other name is served as it is.
pub fn served_name(id: i64, name: &str) -> String {
    let needs = name.chars().any(|c| c == '&' || c == ' ' || !c.is_ascii());
    if !needs {
        return name.to_string();
    }
    match id.rem_euclid(3) {
        0 => utf8_percent_encode(name, URL_NAME).to_string(),
        1 => html_encode(name),
        _ => name.to_string(),
    }
}

/// HTML-encode the markup characters and every non-ASCII character (as a decimal entity).
fn html_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 16);
    for c in name.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if !c.is_ascii() => out.push_str(&format!("&#{};", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// `x-hash` for `content` under `secret`: HMAC-SHA256 as lowercase hex.
pub fn content_hash(secret: &str, content: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(content.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `given` is the hash of `content` under `secret`. Lowercase hex only, as the contract
/// says: an uppercase rendering of the right hash does not pass.
pub fn hash_matches(secret: &str, content: &str, given: &str) -> bool {
    given == content_hash(secret, content)
}

/// The first value of query parameter `key` in a raw query string, percent-decoded.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// A paging parameter: absent gives `default`; present must be a whole number of at least 1.
/// The error is the message of a 400 answer.
pub fn page_param(query: Option<&str>, key: &str, default: usize) -> Result<usize, String> {
    match query_param(query, key) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("invalid {key}")),
        },
    }
}

/// The ordinary error body: `{"success": false, "code": 0, "status": N, "message": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "success": false,
        "code": 0,
        "status": status.as_u16(),
        "message": message,
    });
    (status, Json(body)).into_response()
}

/// The authentication error body: `{"success": "false", "message": "...", "code": 401}`.
pub fn auth_error(message: &str) -> Response {
    let body = json!({ "success": "false", "message": message, "code": 401 });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

/// 429 with `Retry-After: 1`.
pub fn throttled() -> Response {
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "too many requests");
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// 500 with the ordinary error body.
pub fn internal_error() -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// The same answer with its body cut in half (a truncated transfer that still says 200).
pub async fn truncated(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return internal_error();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let cut = bytes.slice(..bytes.len() / 2);
    Response::from_parts(parts, axum::body::Body::from(cut))
}

/// An answer whose connection breaks before the body arrives.
pub fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        ))
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// 200 with a JSON body.
pub fn ok(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// 400 with the ordinary error body.
pub fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

/// Parse a request body as a JSON object. The error is the message of a 400 answer.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, &'static str> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err("invalid body: expected a JSON object"),
    }
}

/// A required non-blank string field of a request body.
pub fn required<'a>(body: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(wire: &str) -> String {
        let url = percent_encoding::percent_decode_str(wire)
            .decode_utf8()
            .expect("utf-8")
            .into_owned();
        html_escape::decode_html_entities(&url).into_owned()
    }

    #[test]
    fn names_are_encoded_by_id() {
        assert_eq!(served_name(3, "Acme & Sons"), "Acme%20%26%20Sons");
        assert_eq!(served_name(4, "Acme & Sons"), "Acme &amp; Sons");
        assert_eq!(served_name(5, "Acme & Sons"), "Acme & Sons");
        assert_eq!(served_name(0, "Café Zürich"), "Caf%C3%A9%20Z%C3%BCrich");
        assert_eq!(served_name(1, "Café Zürich"), "Caf&#233; Z&#252;rich");
        assert_eq!(served_name(2, "Café Zürich"), "Café Zürich");
        assert_eq!(served_name(-3, "A B"), "A%20B");
    }

    #[test]
    fn names_without_specials_are_plain() {
        for id in 0..3 {
            assert_eq!(served_name(id, "Acme"), "Acme");
            assert_eq!(served_name(id, "Acme,Inc."), "Acme,Inc.");
        }
    }

    #[test]
    fn url_encoding_keeps_unreserved_and_escapes_the_rest() {
        assert_eq!(
            served_name(6, "Baker & Wright, Inc. (A+B)"),
            "Baker%20%26%20Wright%2C%20Inc.%20%28A%2BB%29"
        );
        assert_eq!(served_name(6, "a-b_c.d~e f"), "a-b_c.d~e%20f");
    }

    #[test]
    fn html_encoding_covers_markup() {
        assert_eq!(
            served_name(7, "O'Brien & <Co> \"X\""),
            "O&#39;Brien &amp; &lt;Co&gt; &quot;X&quot;"
        );
    }

    #[test]
    fn every_encoding_decodes_back_url_then_html() {
        let names = [
            "Acme & Sons",
            "Café Lumière Dental",
            "Łódź Law LLC",
            "Søndergaard & São Paulo",
            "Smith & Jones Corp.",
            "Plain",
        ];
        for name in names {
            for id in 0..3 {
                assert_eq!(decode(&served_name(id, name)), name, "id {id}");
            }
        }
    }

    #[test]
    fn hash_is_lowercase_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            content_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hash_check_accepts_only_the_lowercase_hash() {
        let h = content_hash("s3cret", "hello");
        assert!(hash_matches("s3cret", "hello", &h));
        assert!(!hash_matches("s3cret", "hello", &h.to_uppercase()));
        assert!(!hash_matches("other", "hello", &h));
        assert!(!hash_matches("s3cret", "hello!", &h));
        assert!(!hash_matches("s3cret", "hello", ""));
    }

    #[test]
    fn query_params_parse() {
        let q = Some("resultsPerPage=50&pageNum=2&x");
        assert_eq!(query_param(q, "pageNum").as_deref(), Some("2"));
        assert_eq!(query_param(q, "x").as_deref(), Some(""));
        assert_eq!(query_param(q, "y"), None);
        assert_eq!(query_param(None, "pageNum"), None);
        assert_eq!(
            query_param(Some("s=a%20b+c"), "s").as_deref(),
            Some("a b c")
        );
        assert_eq!(page_param(q, "resultsPerPage", 20).ok(), Some(50));
        assert_eq!(page_param(q, "missing", 20).ok(), Some(20));
        assert!(page_param(Some("pageNum=0"), "pageNum", 1).is_err());
        assert!(page_param(Some("pageNum=-1"), "pageNum", 1).is_err());
        assert!(page_param(Some("pageNum=abc"), "pageNum", 1).is_err());
    }
}
