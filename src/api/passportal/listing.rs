//! Passportal listings, complete or an error (`shared/api/passportal.md`, "Paging"). Every
//! paged read (clients, users, documents by type and client) goes through [`list_all`]: a page
//! must say `success` and hold `results` (otherwise it is read again, never taken as the end);
//! a short page ends the listing; an empty page ends it only when a re-read is still empty; a
//! page repeating ids already listed means the server ignores `pageNum` and stops the listing
//! with an error; and no listing reads more than `max_pages` pages. Taking a broken page as the
//! end would make a sync believe records are missing and create them twice.
//!
//! [`list_all`]: PassportalClient::list_all

use super::client::{decode, PassportalClient};
use super::error::PassportalError;
use super::models::{
    decode_name, Client, ClientWire, DocType, Document, DocumentSummary, ListResponse, UserWire,
};
use super::records::for_client;
use super::routes::{self, Route};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};

/// A listed record: what paging needs to know of it.
pub trait Listed: DeserializeOwned {
    fn id(&self) -> i64;
}

impl Listed for ClientWire {
    fn id(&self) -> i64 {
        self.id
    }
}

impl Listed for UserWire {
    fn id(&self) -> i64 {
        self.id
    }
}

impl Listed for DocumentSummary {
    fn id(&self) -> i64 {
        self.id
    }
}

impl PassportalClient {
    /// Every page of a paged list (page numbers from 1), complete or an error naming the route
    /// and the page.
    pub(super) async fn list_all<T: Listed>(
        &self,
        route: &Route,
        extra: &[(&str, String)],
    ) -> Result<Vec<T>, PassportalError> {
        let per_page = self.settings().page_size.max(1) as usize;
        let max_pages = self.settings().max_pages.max(1);
        let mut all: Vec<T> = Vec::new();
        let mut seen: HashSet<i64> = HashSet::new();
        let mut page: u32 = 1;
        loop {
            let mut items: Vec<T> = self.page(route, extra, page).await?;
            if items.is_empty() {
                // An empty page right after a full one is the end only when it stays empty.
                items = self.page(route, extra, page).await?;
                if items.is_empty() {
                    return Ok(all);
                }
            }
            let fresh = items.iter().filter(|t| !seen.contains(&t.id())).count();
            if fresh == 0 {
                return Err(PassportalError::Paging {
                    route: label(route, extra),
                    page,
                    message: "repeats the ids of earlier pages (the server ignores `pageNum`)"
                        .into(),
                });
            }
            let short = items.len() < per_page;
            for item in items {
                if seen.insert(item.id()) {
                    all.push(item);
                }
            }
            if short {
                return Ok(all);
            }
            if page >= max_pages {
                return Err(PassportalError::Paging {
                    route: label(route, extra),
                    page,
                    message: format!(
                        "is full and the listing has reached its bound of {max_pages} pages"
                    ),
                });
            }
            page += 1;
        }
    }

    /// One page's results: `success` must be true and `results` a list, or the page is read
    /// again (and fails naming the route and the page once the attempts are spent).
    async fn page<T: DeserializeOwned>(
        &self,
        route: &Route,
        extra: &[(&str, String)],
        page: u32,
    ) -> Result<Vec<T>, PassportalError> {
        let mut query = vec![
            (
                "resultsPerPage",
                self.settings().page_size.max(1).to_string(),
            ),
            ("pageNum", page.to_string()),
        ];
        query.extend(extra.iter().cloned());
        let label = format!("{} (page {page})", label(route, extra));
        self.read(&label, route.path, &query, |body| {
            let resp: ListResponse<T> = decode(&label, body)?;
            let incomplete = |message: &str| PassportalError::IncompletePage {
                route: label.clone(),
                page,
                message: message.into(),
            };
            match resp.results {
                _ if !resp.success => Err(incomplete("answered `success: false`")),
                None => Err(incomplete("answered without `results`")),
                Some(items) => Ok(items),
            }
        })
        .await
    }

    /// Only the first page of a list route, `per_page` results at most, as the raw answer: a
    /// cheap read proving the token and the route work (`atpp check`).
    pub async fn first_page(
        &self,
        route: &Route,
        per_page: u32,
        extra: &[(&str, String)],
    ) -> Result<ListResponse<serde_json::Value>, PassportalError> {
        let mut query = vec![
            ("resultsPerPage", per_page.to_string()),
            ("pageNum", "1".to_string()),
        ];
        query.extend(extra.iter().cloned());
        self.get(route.path, &query).await
    }

    /// Every client, names decoded.
    pub async fn clients(&self) -> Result<Vec<Client>, PassportalError> {
        let wire: Vec<ClientWire> = self.list_all(&routes::LIST_CLIENTS, &[]).await?;
        Ok(wire
            .into_iter()
            .map(|c| Client {
                id: c.id,
                name: decode_name(c.name.as_deref().unwrap_or_default()),
            })
            .collect())
    }
}

impl PassportalClient {
    /// Every document of `doc_type` across all clients, listed by type without `clientId`
    /// (one request per page, not one per client), in id order, each row naming its client.
    /// `None` when the instance refuses a listing without `clientId` (a 400): list client by
    /// client instead. A row without `client_id` cannot be placed: an error.
    pub async fn documents_across(
        &self,
        doc_type: DocType,
    ) -> Result<Option<Vec<DocumentSummary>>, PassportalError> {
        let route = &routes::LIST_DOCUMENTS;
        let query = [
            ("type", doc_type.as_str().to_string()),
            ("orderBy", "id".to_string()),
            ("orderDir", "asc".to_string()),
        ];
        let mut rows: Vec<DocumentSummary> = match self.list_all(route, &query).await {
            Ok(rows) => rows,
            Err(PassportalError::Http { status: 400, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if let Some(row) = rows.iter().find(|r| r.client_id.is_none()) {
            return Err(PassportalError::Decode {
                route: label(route, &query),
                path: "results[].client_id".into(),
                message: format!("document {} names no client", row.id),
            });
        }
        rows.sort_by_key(|s| s.id);
        rows.dedup_by_key(|s| s.id);
        Ok(Some(rows))
    }

    /// The listed documents (each row naming its client) with their detail fields, in the
    /// listing's order, read concurrently. A failure names the document's client, by its name
    /// among `clients`.
    pub async fn details(
        &self,
        doc_type: DocType,
        listed: Vec<DocumentSummary>,
        clients: &[Client],
    ) -> Result<Vec<Document>, PassportalError> {
        let names: HashMap<i64, &str> = clients.iter().map(|c| (c.id, c.name.as_str())).collect();
        let names = &names;
        let read: Vec<Vec<Document>> = stream::iter(listed)
            .map(|s| async move {
                let client = s.client_id.unwrap_or_default();
                self.with_details(client, doc_type, vec![s])
                    .await
                    .map_err(|e| {
                        let name = names.get(&client).copied().unwrap_or("(not listed)");
                        for_client(e, doc_type, client, name)
                    })
            })
            .buffered(self.concurrency())
            .try_collect()
            .await?;
        Ok(read.into_iter().flatten().collect())
    }
}

/// `GET /path?filters` (no paging parameters), naming a listing in errors.
fn label(route: &Route, extra: &[(&str, String)]) -> String {
    let filters: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if filters.is_empty() {
        format!("{} {}", route.method, route.path)
    } else {
        format!("{} {}?{}", route.method, route.path, filters.join("&"))
    }
}
