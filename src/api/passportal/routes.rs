//! Every Passportal route the project uses, in one place, with the wire shapes the client and
//! the simulator (`crate::sim::passportal`) both speak. Routes marked `assumed` are not in any
//! public documentation: the native integration does these internally, and README lists them so
//! an operator can check them against their instance's Swagger (`/api/documentation/v2/swagger`).
//!
//! Wire shapes (`success` is `true` or `"true"` on any answer; errors are
//! `{"success": false, "code": 0, "status": N, "message": "..."}`, auth failures
//! `{"success": "false", "message": "Invalid token: ...", "code": 401}`):
//!
//! - `POST /api/v2/auth/client_token` (confirmed): headers `x-key`, `x-hash` (HMAC-SHA256 of
//!   `content` under the secret, lowercase hex), body `{"scope": "docs_api", "content": ".."}` →
//!   `{"success", "access_token", "refresh_token", "expiry_time": <unix seconds>}`.
//! - `GET /api/v2/documents/clients?resultsPerPage=&pageNum=` (confirmed) →
//!   `{"success": true, "results": [{"id", "name"}]}`; a page past the end is `[]`
//!   (`null`, a missing `results` or `success: false` is an error to retry, never the end).
//! - `POST /api/v2/clients` (**assumed**) `{"name"}` → `{"success": true, "id": N}`.
//! - `GET /api/v2/users?resultsPerPage=&pageNum=` (**assumed**) →
//!   `{"success": true, "results": [{"id", "firstName", "lastName", "email"}]}`, paged like
//!   clients; `email` may be null.
//! - `POST /api/v2/users` (**assumed**) `{"firstName", "lastName", "email"?}` →
//!   `{"success": true, "id": N}`.
//! - `GET /api/v2/documents?resultsPerPage=&pageNum=&type=&clientId=&searchTxt=` (confirmed;
//!   also `templateUid`, `orderBy=label|id`, `orderDir=asc|desc`) → `{"success": true,
//!   "results": [{"id", "organization_id", "label", "description", "client_id", "customId",
//!   "templateId", "templateName", "type"}]}`. `searchTxt` matches the label, case-insensitively,
//!   as a substring.
//! - `GET /api/v2/documents/{id}` (confirmed) →
//!   `{"success": true, "details": {"name", "tags": [], "0": slot, "1": slot, ..}}`, each slot
//!   null or
//!   `{"name": "<label>", "value": {"type": "string", "text": ".."}}`. An unknown id answers 400
//!   `invalid id`.
//! - `POST /api/v2/documents` (confirmed route; the `fields` shape is **our assumption** of how
//!   field values go in) `{"templateUid", "clientId", "title",
//!   "fields": [{"name": "<label>", "value": "<text>"}]}` → `{"success": "true"}`, **no id**: the
//!   client reads the client's documents of that type back by title (`searchTxt`) to learn it.
//!   The route is titled "Documents add batch": a batch is (**assumed**) a JSON array of those
//!   bodies, or on some instances `{"documents": [..]}` (`passportal.batch_shape`), answered the
//!   same way; a batch's ids are learned from one listing of the client's documents of the type.
//! - A document listing without `clientId` spans all clients (**assumed** from "every parameter
//!   is a filter"); each row names its `client_id`.
//! - `PUT /api/v2/documents/{id}` (**assumed**) with the same body → `{"success": true}`; fields
//!   sent replace the fields of the same label, others are kept.
//!
//! Labels, titles and names may come back URL- and/or HTML-encoded; the client decodes them
//! (URL, then HTML). Field labels the sync uses are in `fields`; template uids per document
//! type come from the pipeline's `[passportal.templates]`.

/// A route: method, path (with an `{id}` placeholder), and whether public sources confirm it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub confirmed: bool,
    pub purpose: &'static str,
}

impl Route {
    /// The path with `{id}` filled in.
    pub fn path_for(&self, id: i64) -> String {
        self.path.replace("{id}", &id.to_string())
    }
}

pub const TOKEN: Route = Route {
    method: "POST",
    path: "/api/v2/auth/client_token",
    confirmed: true,
    purpose: "exchange the access key for a token",
};

pub const LIST_CLIENTS: Route = Route {
    method: "GET",
    path: "/api/v2/documents/clients",
    confirmed: true,
    purpose: "list clients (paged)",
};

pub const CREATE_CLIENT: Route = Route {
    method: "POST",
    path: "/api/v2/clients",
    confirmed: false,
    purpose: "create a client",
};

pub const UPDATE_CLIENT: Route = Route {
    method: "PUT",
    path: "/api/v2/clients/{id}",
    confirmed: false,
    purpose: "rename a client (the create's body)",
};

pub const LIST_USERS: Route = Route {
    method: "GET",
    path: "/api/v2/users",
    confirmed: false,
    purpose: "list users (paged)",
};

pub const CREATE_USER: Route = Route {
    method: "POST",
    path: "/api/v2/users",
    confirmed: false,
    purpose: "create a user",
};

pub const UPDATE_USER: Route = Route {
    method: "PUT",
    path: "/api/v2/users/{id}",
    confirmed: false,
    purpose: "update a user (the create's body)",
};

pub const LIST_DOCUMENTS: Route = Route {
    method: "GET",
    path: "/api/v2/documents",
    confirmed: true,
    purpose: "list documents of a type, across clients or of one client (paged, searchTxt)",
};

pub const DOCUMENT: Route = Route {
    method: "GET",
    path: "/api/v2/documents/{id}",
    confirmed: true,
    purpose: "a document's detail fields",
};

pub const CREATE_DOCUMENT: Route = Route {
    method: "POST",
    path: "/api/v2/documents",
    confirmed: true,
    purpose: "create a document or a batch (answers without ids; read back)",
};

pub const UPDATE_DOCUMENT: Route = Route {
    method: "PUT",
    path: "/api/v2/documents/{id}",
    confirmed: false,
    purpose: "update a document",
};

/// Every route, for README and `atpp routes`.
pub const ALL: &[Route] = &[
    TOKEN,
    LIST_CLIENTS,
    CREATE_CLIENT,
    UPDATE_CLIENT,
    LIST_USERS,
    CREATE_USER,
    UPDATE_USER,
    LIST_DOCUMENTS,
    DOCUMENT,
    CREATE_DOCUMENT,
    UPDATE_DOCUMENT,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_per_method_and_ids_fill_in() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL {
            assert!(seen.insert((r.method, r.path)), "{r:?} twice");
        }
        assert_eq!(DOCUMENT.path_for(42), "/api/v2/documents/42");
        assert_eq!(UPDATE_DOCUMENT.path_for(7), "/api/v2/documents/7");
    }
}
