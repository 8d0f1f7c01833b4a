//! Passportal wire models, decoded leniently: `success` is a boolean or the string "true", a
//! page past the end is `[]` or `null`, and names arrive URL- and/or HTML-encoded.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `success` as Passportal sends it: `true`, `"true"`, `false`, `"false"` or absent.
pub fn success<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_f64() == Some(1.0),
        _ => false,
    })
}

/// The token exchange answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    #[serde(default, deserialize_with = "success")]
    pub success: bool,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expiry_time: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A paged list answer: `{"success": true, "results": [...] | null}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListResponse<T> {
    #[serde(default = "yes", deserialize_with = "success")]
    pub success: bool,
    #[serde(default = "Option::default")]
    pub results: Option<Vec<T>>,
}

fn yes() -> bool {
    true
}

/// A create answer: `{"success": true, "id": N}` (documents answer without an id).
#[derive(Debug, Clone, Deserialize)]
pub struct CreateResponse {
    #[serde(default, deserialize_with = "success")]
    pub success: bool,
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A client as listed by `documents/clients` (name still encoded).
#[derive(Debug, Clone, Deserialize)]
pub struct ClientWire {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
}

/// A Passportal client, name decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: i64,
    pub name: String,
}

/// A client to create.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct NewClient {
    pub name: String,
}

/// Decode a name as Passportal serves it: URL-decoding first, then HTML entities.
pub fn decode_name(raw: &str) -> String {
    let url = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    html_escape::decode_html_entities(&url).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decode_from_url_and_html_forms() {
        assert_eq!(decode_name("Acme%20%26%20Sons"), "Acme & Sons");
        assert_eq!(decode_name("Acme &amp; Sons"), "Acme & Sons");
        assert_eq!(decode_name("Caf%C3%A9%20Lumi%C3%A8re"), "Café Lumière");
        assert_eq!(decode_name("Caf&#233; Lumi&#232;re"), "Café Lumière");
        assert_eq!(decode_name("100% Dental"), "100% Dental");
        assert_eq!(decode_name("Plain Name"), "Plain Name");
    }

    #[test]
    fn success_is_read_leniently() {
        let t: TokenResponse =
            serde_json::from_str(r#"{"success": "true", "access_token": "x"}"#).unwrap();
        assert!(t.success);
        let t: TokenResponse = serde_json::from_str(r#"{"success": "false"}"#).unwrap();
        assert!(!t.success);
        let l: ListResponse<ClientWire> =
            serde_json::from_str(r#"{"success": true, "results": null}"#).unwrap();
        assert!(l.results.is_none());
    }
}
