//! Documents (contacts, locations, assets under clients): `GET /api/v2/documents` (paged list
//! with `type`, `clientId`, `templateUid`, `searchTxt`, `orderBy`, `orderDir`), `GET
//! /api/v2/documents/{id}` (numbered detail slots, some null), `POST /api/v2/documents`
//! (answers `{"success": "true"}` without the new id) and `PUT /api/v2/documents/{id}`
//! (assumed). Titles and field texts are served encoded the way names are.

use super::{updates, wire, BatchBodies, PassportalSim};
use crate::sim::generator::{DocType, PpDocument};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Every document `type` the contract lists; only contacts, locations and assets are held.
const CONTRACT_TYPES: &[&str] = &[
    "asset",
    "active_directory",
    "application",
    "backup",
    "email",
    "file_sharing",
    "contact",
    "location",
    "internet",
    "lan",
    "printing",
    "remote_access",
    "vendor",
    "virtualization",
    "voice",
    "wireless",
    "licencing",
    "custom",
    "ssl",
];

fn held_type(wire_type: &str) -> Option<DocType> {
    [DocType::Contact, DocType::Location, DocType::Asset]
        .into_iter()
        .find(|t| t.as_str() == wire_type)
}

fn template_name(doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Contact => "Contact",
        DocType::Location => "Location",
        DocType::Asset => "Asset",
    }
}

/// The filters and order of a list request.
struct ListQuery {
    per_page: usize,
    page: usize,
    /// `Some(None)`: a type of the contract that the instance holds none of.
    doc_type: Option<Option<DocType>>,
    client_id: Option<i64>,
    template_uid: Option<String>,
    /// Lower-cased.
    search: Option<String>,
    by_label: bool,
    descending: bool,
}

/// The filters of a list request; the error is the message of a 400 answer.
fn list_query(sim: &PassportalSim, query: Option<&str>) -> Result<ListQuery, String> {
    let (per_page, page) = sim.paging(query)?;
    let param = |key| wire::query_param(query, key).filter(|v| !v.trim().is_empty());
    let doc_type = match param("type") {
        None => None,
        Some(t) if CONTRACT_TYPES.contains(&t.as_str()) => Some(held_type(&t)),
        Some(_) => return Err("invalid type".into()),
    };
    let client_id = match param("clientId") {
        None => None,
        Some(v) => Some(
            v.trim()
                .parse::<i64>()
                .map_err(|_| "invalid clientId".to_string())?,
        ),
    };
    let by_label = match param("orderBy").as_deref() {
        None | Some("id") => false,
        Some("label") => true,
        Some(_) => return Err("invalid orderBy".into()),
    };
    let descending = match param("orderDir").as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err("invalid orderDir".into()),
    };
    Ok(ListQuery {
        per_page,
        page,
        doc_type,
        client_id,
        template_uid: param("templateUid"),
        search: param("searchTxt").map(|s| s.to_lowercase()),
        by_label,
        descending,
    })
}

/// One page of documents. Without `clientId` and `type` every document is a candidate; with
/// both, the (client, type) index answers. `searchTxt` is a case-insensitive substring of the
/// title. Default order: id ascending.
pub async fn list(State(sim): State<Arc<PassportalSim>>, RawQuery(query): RawQuery) -> Response {
    let q = match list_query(&sim, query.as_deref()) {
        Ok(q) => q,
        Err(message) => return wire::bad_request(&message),
    };
    if sim.options.listing_needs_client && q.doc_type.is_some() && q.client_id.is_none() {
        return wire::bad_request("clientId is required");
    }
    let lag = std::time::Duration::from_millis(sim.options.faults.search_lag_ms);
    let mut state = sim.state();
    let candidates: Vec<usize> = match (q.client_id, q.doc_type) {
        (_, Some(None)) => Vec::new(),
        (Some(client), Some(Some(t))) => state
            .docs_by_owner
            .get(&(client, t))
            .cloned()
            .unwrap_or_default(),
        _ => (0..state.instance.documents.len()).collect(),
    };
    let docs = &state.instance.documents;
    let mut found: Vec<usize> = candidates
        .into_iter()
        .filter(|&pos| {
            let d = &docs[pos];
            q.client_id.is_none_or(|c| d.client_id == c)
                && q.doc_type.is_none_or(|t| Some(d.doc_type) == t)
                && q.template_uid
                    .as_deref()
                    .is_none_or(|uid| sim.options.template_uid(d.doc_type) == uid)
                && q.search.as_deref().is_none_or(|s| {
                    d.title.to_lowercase().contains(s) && state.indexed_for_search(d.id, lag)
                })
        })
        .collect();
    if q.by_label {
        found.sort_by_cached_key(|&pos| (docs[pos].title.to_lowercase(), docs[pos].id));
    }
    if q.descending {
        found.reverse();
    }
    let range = match state.page(found.len(), q.per_page, q.page) {
        Ok(range) => range,
        Err(past_end) => return wire::ok(json!({ "success": true, "results": past_end })),
    };
    let docs = &state.instance.documents;
    let results: Vec<Value> = found[range]
        .iter()
        .map(|&pos| {
            let d = &docs[pos];
            json!({
                "id": d.id,
                "organization_id": 1,
                "label": wire::served_name(d.id, &d.title),
                "description": Value::Null,
                "client_id": d.client_id,
                "customId": Value::Null,
                "templateId": sim.options.template_uid(d.doc_type),
                "templateName": template_name(d.doc_type),
                "type": d.doc_type.as_str(),
            })
        })
        .collect();
    drop(state);
    wire::ok(json!({ "success": true, "results": results }))
}

/// The detail slots of a document: `"0".."N"`, each `{"name", "value": {"type", "text"}}`. A
/// document whose id is a multiple of 3 has a null slot at `"1"` (or at the end), as real
/// instances leave emptied slots behind. Every document shows its template's `Autotask ID`
/// field (`templates.id_field`), empty (`"text": null`) when it holds no value — unless the
/// template lacks the field (`WriteFaultPlan::templates_without_id`).
fn details(sim: &PassportalSim, doc: &PpDocument) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), json!(wire::served_name(doc.id, &doc.title)));
    out.insert("tags".into(), json!([]));
    let with_gap = doc.id % 3 == 0;
    let mut slot = 0usize;
    for (k, (label, text)) in doc.fields.iter().enumerate() {
        if with_gap && k == 1 {
            out.insert(slot.to_string(), Value::Null);
            slot += 1;
        }
        let served = wire::served_name(doc.id + k as i64 + 1, text);
        out.insert(
            slot.to_string(),
            json!({ "name": label, "value": { "type": "string", "text": served } }),
        );
        slot += 1;
    }
    if with_gap && doc.fields.len() < 2 {
        out.insert(slot.to_string(), Value::Null);
        slot += 1;
    }
    if let Some(id_field) = sim.options.id_field(doc.doc_type).filter(|id_field| {
        !doc.fields
            .iter()
            .any(|(l, _)| l.eq_ignore_ascii_case(id_field))
    }) {
        out.insert(
            slot.to_string(),
            json!({ "name": id_field, "value": { "type": "string", "text": Value::Null } }),
        );
    }
    out
}

/// `GET /api/v2/documents/{id}`; an unknown or malformed id answers 400 `invalid id`.
pub async fn detail(State(sim): State<Arc<PassportalSim>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.trim().parse::<i64>() else {
        return wire::bad_request("invalid id");
    };
    let state = sim.state();
    let Some(doc) = state
        .doc_pos
        .get(&id)
        .map(|&p| &state.instance.documents[p])
    else {
        return wire::bad_request("invalid id");
    };
    let body = json!({ "success": true, "details": details(&sim, doc) });
    drop(state);
    wire::ok(body)
}

/// A create or update body, checked.
struct DocumentBody {
    doc_type: DocType,
    client_id: i64,
    title: String,
    fields: Vec<(String, String)>,
}

/// Check a create or update body; the error is the message of a 400 answer.
fn document_body(sim: &PassportalSim, body: &[u8]) -> Result<DocumentBody, &'static str> {
    document_of(sim, &wire::json_object(body)?)
}

/// The documents of a create body: one object, or a batch in a shape the instance takes
/// (`PassportalSimOptions::batch_bodies`); every one checked, so a bad one refuses them all.
fn create_bodies(sim: &PassportalSim, body: &[u8]) -> Result<Vec<DocumentBody>, &'static str> {
    let items = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) if sim.options.batch_bodies == BatchBodies::Array => items,
        Ok(Value::Array(_)) => return Err("invalid body: expected a JSON object"),
        Ok(Value::Object(map)) => match map.get("documents") {
            Some(Value::Array(items)) if sim.options.batch_bodies == BatchBodies::Wrapped => {
                items.clone()
            }
            Some(_) => return Err("invalid body: unknown key documents"),
            None => return Ok(vec![document_of(sim, &map)?]),
        },
        _ => return Err("invalid body: expected a JSON object"),
    };
    if items.is_empty() {
        return Err("invalid body: no documents");
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(map) => document_of(sim, map),
            _ => Err("invalid body: a document is not a JSON object"),
        })
        .collect()
}

fn document_of(
    sim: &PassportalSim,
    body: &Map<String, Value>,
) -> Result<DocumentBody, &'static str> {
    let doc_type = body
        .get("templateUid")
        .and_then(Value::as_str)
        .and_then(|uid| sim.options.template_type(uid))
        .ok_or("invalid templateUid")?;
    let client_id = match body.get("clientId") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let client_id = client_id
        .filter(|id| {
            let state = sim.state();
            state
                .instance
                .clients
                .binary_search_by_key(id, |c| c.id)
                .is_ok()
        })
        .ok_or("invalid clientId")?;
    let title = body
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or("title is required")?
        .to_string();
    let fields = match body.get("fields") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| {
                let name = f.get("name").and_then(Value::as_str)?.trim();
                let value = match f.get("value")? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                (!name.is_empty()).then(|| (name.to_string(), value))
            })
            .collect::<Option<Vec<_>>>()
            .ok_or("invalid fields")?,
        Some(_) => return Err("invalid fields"),
    };
    Ok(DocumentBody {
        doc_type,
        client_id,
        title,
        fields,
    })
}

/// Create documents from `{"templateUid", "clientId", "title", "fields": [{"name", "value"}]}`,
/// or a batch of them (`PassportalSimOptions::batch_bodies`), all or none (stored as sent, less
/// the fields their template lacks); answers `{"success": "true"}` and no id, as the real
/// instance does.
pub async fn create(State(sim): State<Arc<PassportalSim>>, body: Bytes) -> Response {
    let docs = match create_bodies(&sim, &body) {
        Ok(docs) => docs,
        Err(message) => return wire::bad_request(message),
    };
    let n = docs.len() as u64;
    let mut state = sim.state();
    for mut b in docs {
        sim.options.kept_fields(b.doc_type, &mut b.fields);
        let id = state.add_document(PpDocument {
            id: 0,
            client_id: b.client_id,
            doc_type: b.doc_type,
            title: b.title,
            fields: b.fields,
        });
        state.created_at.insert(id, std::time::Instant::now());
    }
    drop(state);
    sim.creates.fetch_add(n, Ordering::SeqCst);
    wire::ok(json!({ "success": "true" }))
}

/// Update a document with the create body: the title is replaced, each field sent replaces
/// the field of the same label (case-insensitive) or is added, other fields are kept. The
/// template and client must be the document's own.
pub async fn update(
    State(sim): State<Arc<PassportalSim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    updates::update(&sim, &id, &body, document_body, |state, id, b| {
        let doc = state.document_mut(id).ok_or(updates::UNKNOWN_ID)?;
        if doc.doc_type != b.doc_type {
            return Err("templateUid does not match the document's template");
        }
        if doc.client_id != b.client_id {
            return Err("clientId does not match the document");
        }
        doc.title = b.title;
        for (label, text) in b.fields {
            match doc
                .fields
                .iter_mut()
                .find(|(l, _)| l.eq_ignore_ascii_case(&label))
            {
                Some(slot) => slot.1 = text,
                None => doc.fields.push((label, text)),
            }
        }
        Ok(())
    })
}
