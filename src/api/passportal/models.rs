//! Passportal wire models, decoded leniently: `success` is a boolean or the string "true", a
//! list page's `results` may be `null` (an error to retry, see `listing`), names (and document
//! titles and field texts) arrive URL- and/or HTML-encoded, and a document's fields sit in
//! numbered detail slots, some null. Request bodies are built in `body`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

pub use crate::model::entity::DocType;

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

/// A bare answer: `{"success": true|"true", "message"?}` (document writes answer only this).
#[derive(Debug, Clone, Deserialize)]
pub struct OkResponse {
    #[serde(default, deserialize_with = "success")]
    pub success: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// A user as listed by `GET /api/v2/users` (assumed route; names still encoded).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserWire {
    pub id: i64,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A Passportal user (technician), names decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

impl From<UserWire> for User {
    fn from(w: UserWire) -> User {
        let text = |v: Option<String>| v.map(|t| decode_name(&t)).filter(|t| !t.is_empty());
        User {
            id: w.id,
            first_name: text(w.first_name),
            last_name: text(w.last_name),
            email: text(w.email),
        }
    }
}

/// A user to create (assumed route `POST /api/v2/users`).
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A document as `GET /api/v2/documents` lists it (label still encoded).
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentSummary {
    pub id: i64,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub client_id: Option<i64>,
    #[serde(default, rename = "type")]
    pub doc_type: Option<String>,
}

/// `GET /api/v2/documents/{id}`: `{"success": .., "details": {"name", "tags", "0": slot, ..}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentDetailResponse {
    #[serde(default = "yes", deserialize_with = "success")]
    pub success: bool,
    #[serde(default)]
    pub details: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub message: Option<String>,
}

/// The detail's name and its fields as (label, text), decoded, in slot order. Slots are the
/// keys `"0".."N"` (sorted as numbers); a null slot, one without a label, or one whose value
/// has no text (a reference without a rendered value) is skipped. A value is read from
/// `value.text`, or taken as is when it is a plain string or number.
pub fn detail_fields(
    details: &serde_json::Map<String, Value>,
) -> (Option<String>, Vec<(String, String)>) {
    let name = details
        .get("name")
        .and_then(Value::as_str)
        .map(decode_name)
        .filter(|n| !n.is_empty());
    let mut slots: Vec<(u64, &Value)> = details
        .iter()
        .filter_map(|(k, v)| k.parse::<u64>().ok().map(|n| (n, v)))
        .collect();
    slots.sort_by_key(|(n, _)| *n);
    let fields = slots
        .into_iter()
        .filter_map(|(_, slot)| {
            let label = slot.get("name")?.as_str()?.trim();
            let text = match slot.get("value")? {
                Value::Object(v) => match v.get("text")? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                },
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            (!label.is_empty()).then(|| (decode_name(label), decode_name(&text)))
        })
        .collect();
    (name, fields)
}

/// A Passportal document (contact, location or asset) with its detail fields, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: i64,
    pub client_id: i64,
    pub doc_type: DocType,
    pub title: String,
    /// The detail slots in order, as (label, text).
    pub fields: Vec<(String, String)>,
}

impl Document {
    /// The text of a field by label (case-insensitive; the first if the label repeats).
    pub fn field(&self, label: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
    }

    /// The Autotask id an earlier sync wrote into the field labelled `id_field`
    /// ([`crate::api::passportal::PassportalClient::id_field`]), as a number.
    pub fn autotask_id(&self, id_field: &str) -> Option<i64> {
        self.field(id_field).and_then(|v| v.trim().parse().ok())
    }
}

/// A document to create or update. The template uid comes from the pipeline's
/// `[passportal.templates]` for `doc_type`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    pub client_id: i64,
    pub doc_type: DocType,
    pub title: String,
    /// (label, text), e.g. `("Autotask ID", "30000012")` (the pipeline's `id_field`).
    pub fields: Vec<(String, String)>,
}

impl NewDocument {
    /// The Autotask id being sent in the field labelled `id_field`, if any.
    pub fn autotask_id(&self, id_field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(id_field))
            .map(|(_, v)| v.trim())
    }
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
    fn detail_slots_are_read_in_order_skipping_nulls_and_references() {
        let v: DocumentDetailResponse = serde_json::from_str(
            r#"{"success": "true", "details": {"name": "Front%20Desk", "tags": [],
                "10": {"name": "Phone", "value": {"type": "string", "text": "555 1"}},
                "2": {"name": "Email", "value": {"type": "string", "text": "a&amp;b@x"}},
                "3": null,
                "4": {"name": "Location", "id": 7, "type": "locations", "value": null},
                "5": {"name": "Autotask ID", "value": 30000012}}}"#,
        )
        .unwrap();
        assert!(v.success);
        let (name, fields) = detail_fields(v.details.as_ref().unwrap());
        assert_eq!(name.as_deref(), Some("Front Desk"));
        let labels: Vec<&str> = fields.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["Email", "Autotask ID", "Phone"]);
        assert_eq!(fields[0].1, "a&b@x");
        let doc = Document {
            id: 1,
            client_id: 2,
            doc_type: DocType::Contact,
            title: "x".into(),
            fields,
        };
        assert_eq!(doc.autotask_id("autotask id"), Some(30000012));
        assert_eq!(doc.field("email"), Some("a&b@x"));
    }

    #[test]
    fn doc_types_round_trip() {
        for t in DocType::ALL {
            assert_eq!(DocType::from_wire(t.as_str()), Some(t));
        }
        assert_eq!(DocType::from_wire("Asset"), Some(DocType::Asset));
        assert_eq!(DocType::from_wire("ssl"), None);
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
