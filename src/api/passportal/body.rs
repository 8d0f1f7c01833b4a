//! The one builder of Passportal write requests: method, path and the exact JSON bytes. The
//! client sends these bytes and `load --dry-run` prints them, so the dry run shows what the
//! load will really send.

use super::models::{NewClient, NewDocument, NewUser};
use super::routes::{self, Route};
use crate::model::pipeline::BatchShape;
use serde::Serialize;

/// A write request exactly as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub route: Route,
    /// The route's path with any `{id}` filled in.
    pub path: String,
    /// The JSON body, byte for byte.
    pub body: Vec<u8>,
}

/// A field value as documents carry it: `{"name": "<label>", "value": "<text>"}`.
#[derive(Serialize)]
struct Field<'a> {
    name: &'a str,
    value: &'a str,
}

/// `{"templateUid", "clientId", "title", "fields": [{"name", "value"}]}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentBody<'a> {
    template_uid: &'a str,
    client_id: i64,
    title: &'a str,
    fields: Vec<Field<'a>>,
}

/// `{"documents": [..]}`, the batch shape some instances take.
#[derive(Serialize)]
struct Wrapped<'a> {
    documents: Vec<DocumentBody<'a>>,
}

fn json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("request bodies serialise")
}

impl Request {
    /// `POST /api/v2/clients` `{"name"}` (assumed route).
    pub fn create_client(client: &NewClient) -> Request {
        Request::new(routes::CREATE_CLIENT, None, json(client))
    }

    /// `POST /api/v2/users` `{"firstName", "lastName", "email"?}` (assumed route; no `email`
    /// key when there is none).
    pub fn create_user(user: &NewUser) -> Request {
        Request::new(routes::CREATE_USER, None, json(user))
    }

    /// `PUT /api/v2/clients/{id}` with the create's body (assumed route).
    pub fn update_client(id: i64, client: &NewClient) -> Request {
        Request::new(routes::UPDATE_CLIENT, Some(id), json(client))
    }

    /// `PUT /api/v2/users/{id}` with the create's body (assumed route).
    pub fn update_user(id: i64, user: &NewUser) -> Request {
        Request::new(routes::UPDATE_USER, Some(id), json(user))
    }

    /// `POST /api/v2/documents` with the document of `template_uid`.
    pub fn create_document(doc: &NewDocument, template_uid: &str) -> Request {
        Request::new(routes::CREATE_DOCUMENT, None, document(doc, template_uid))
    }

    /// `POST /api/v2/documents` with several documents, each with its template uid, in the
    /// batch shape of the instance: `[{doc}, ..]` or `{"documents": [{doc}, ..]}` (assumed).
    pub fn create_documents(docs: &[(&NewDocument, &str)], shape: BatchShape) -> Request {
        let bodies: Vec<DocumentBody> = docs.iter().map(|(d, uid)| document_body(d, uid)).collect();
        let body = match shape {
            BatchShape::Array => json(&bodies),
            BatchShape::Wrapped => json(&Wrapped { documents: bodies }),
        };
        Request::new(routes::CREATE_DOCUMENT, None, body)
    }

    /// `PUT /api/v2/documents/{id}` with the same body as a create (assumed route).
    pub fn update_document(id: i64, doc: &NewDocument, template_uid: &str) -> Request {
        Request::new(
            routes::UPDATE_DOCUMENT,
            Some(id),
            document(doc, template_uid),
        )
    }

    fn new(route: Route, id: Option<i64>, body: Vec<u8>) -> Request {
        let path = id.map_or_else(|| route.path.to_string(), |id| route.path_for(id));
        Request { route, path, body }
    }

    /// `METHOD /path {json}`, as `load --dry-run` prints it.
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}",
            self.route.method,
            self.path,
            String::from_utf8_lossy(&self.body)
        )
    }
}

fn document(doc: &NewDocument, template_uid: &str) -> Vec<u8> {
    json(&document_body(doc, template_uid))
}

fn document_body<'a>(doc: &'a NewDocument, template_uid: &'a str) -> DocumentBody<'a> {
    DocumentBody {
        template_uid,
        client_id: doc.client_id,
        title: &doc.title,
        fields: doc
            .fields
            .iter()
            .map(|(name, value)| Field { name, value })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entity::DocType;

    #[test]
    fn bodies_are_the_contract_shapes() {
        let user = NewUser {
            first_name: "Zoë".into(),
            last_name: "Smith".into(),
            email: None,
        };
        assert_eq!(
            Request::create_user(&user).describe(),
            r#"POST /api/v2/users {"firstName":"Zoë","lastName":"Smith"}"#
        );
        let doc = NewDocument {
            client_id: 7,
            doc_type: DocType::Contact,
            title: "Front Desk".into(),
            fields: vec![("Autotask ID".into(), "30000012".into())],
        };
        assert_eq!(
            Request::update_document(9, &doc, "TPL-79").describe(),
            r#"PUT /api/v2/documents/9 {"templateUid":"TPL-79","clientId":7,"title":"Front Desk","fields":[{"name":"Autotask ID","value":"30000012"}]}"#
        );
        let one = r#"{"templateUid":"TPL-79","clientId":7,"title":"Front Desk","fields":[{"name":"Autotask ID","value":"30000012"}]}"#;
        let batch = [(&doc, "TPL-79"), (&doc, "TPL-79")];
        assert_eq!(
            Request::create_documents(&batch, BatchShape::Array).describe(),
            format!("POST /api/v2/documents [{one},{one}]")
        );
        assert_eq!(
            Request::create_documents(&batch, BatchShape::Wrapped).describe(),
            format!(r#"POST /api/v2/documents {{"documents":[{one},{one}]}}"#)
        );
    }
}
