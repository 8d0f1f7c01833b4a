//! Passportal → `extract/passportal/*.parquet`: clients, users, and the contact, location and
//! asset documents of every client, one row per record, names decoded. A document's detail
//! fields are flattened into typed columns (the `DocumentRow` contract) and kept whole in a
//! `fields` JSON column for anything the columns do not carry. Documents are written client by
//! client in batches, so memory does not grow with the instance.

use crate::api::passportal::fields;
use crate::api::passportal::models::{Client, DocType, Document, User};
use crate::api::passportal::{PassportalClient, PassportalError};
use crate::model::records::{DocumentRow, UserRow};
use crate::store::parquet::{
    frame, int_col, read_frame, text_col, write_frame, Columns, ParquetError, ParquetSink,
};
use futures::stream::{self, StreamExt};
use polars::prelude::DataFrame;
use std::collections::BTreeMap;
use std::path::Path;

pub use crate::model::entity::staged::passportal::*;

/// Rows buffered before a batch is written.
const BATCH_ROWS: usize = 5_000;

/// Where documents of a type are staged, relative to the run folder.
pub fn documents_path(doc_type: DocType) -> &'static str {
    match doc_type {
        DocType::Contact => CONTACTS,
        DocType::Location => LOCATIONS,
        DocType::Asset => ASSETS,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractPassportalError {
    #[error(transparent)]
    Passportal(#[from] PassportalError),
    #[error(transparent)]
    Parquet(#[from] ParquetError),
}

/// The extract stage's error keeps the two causes apart, as it does for Autotask.
impl From<ExtractPassportalError> for super::ExtractStageError {
    fn from(e: ExtractPassportalError) -> Self {
        match e {
            ExtractPassportalError::Passportal(e) => super::ExtractStageError::Passportal(e),
            ExtractPassportalError::Parquet(e) => super::ExtractStageError::Parquet(e),
        }
    }
}

/// Stage everything the sync reads from Passportal into `run_dir`; returns relative path → rows.
pub async fn extract_passportal(
    client: &PassportalClient,
    run_dir: &Path,
) -> Result<BTreeMap<String, u64>, ExtractPassportalError> {
    let mut files = BTreeMap::new();
    let clients = client.clients().await?;
    files.insert(CLIENTS.to_string(), stage_clients(run_dir, &clients)?);
    tracing::debug!("Passportal clients: {} staged", clients.len());
    let users = client.users().await?;
    files.insert(USERS.to_string(), stage_users(run_dir, &users)?);
    tracing::debug!("Passportal users: {} staged", users.len());
    for doc_type in DocType::ALL {
        let rows = stage_documents(client, &clients, doc_type, run_dir).await?;
        tracing::debug!("Passportal {doc_type} documents: {rows} staged");
        files.insert(documents_path(doc_type).to_string(), rows);
    }
    Ok(files)
}

/// Stage clients; returns rows written.
pub fn stage_clients(run_dir: &Path, clients: &[Client]) -> Result<u64, ParquetError> {
    let df = frame(vec![
        int_col("id", clients.iter().map(|c| Some(c.id))),
        text_col("name", clients.iter().map(|c| Some(c.name.as_str()))),
    ]);
    write_frame(&run_dir.join(CLIENTS), &df)
}

/// Read staged clients back.
pub fn read_clients(path: &Path) -> Result<Vec<Client>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.ids("id")?;
    let names = c.text("name")?;
    Ok(ids
        .into_iter()
        .zip(names)
        .map(|(id, name)| Client {
            id,
            name: name.unwrap_or_default(),
        })
        .collect())
}

/// Stage users; returns rows written.
pub fn stage_users(run_dir: &Path, users: &[User]) -> Result<u64, ParquetError> {
    let t = |f: fn(&User) -> &Option<String>| users.iter().map(move |u| f(u).as_deref());
    let df = frame(vec![
        int_col("id", users.iter().map(|u| Some(u.id))),
        text_col("first_name", t(|u| &u.first_name)),
        text_col("last_name", t(|u| &u.last_name)),
        text_col("email", t(|u| &u.email)),
    ]);
    write_frame(&run_dir.join(USERS), &df)
}

/// Read staged users back.
pub fn read_users(path: &Path) -> Result<Vec<UserRow>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.ids("id")?;
    let mut first = c.text("first_name")?.into_iter();
    let mut last = c.text("last_name")?.into_iter();
    let mut email = c.text("email")?.into_iter();
    Ok(ids
        .into_iter()
        .map(|id| UserRow {
            id,
            first_name: first.next().flatten(),
            last_name: last.next().flatten(),
            email: email.next().flatten(),
        })
        .collect())
}

/// A document flattened into its staged row: each known field label into its column (the
/// first field of a label wins; labels match case-insensitively), the Autotask id (the field
/// labelled `id_field`) as a number.
pub fn document_row(doc: &Document, id_field: &str) -> DocumentRow {
    let f = |label: &str| doc.field(label).map(str::to_string);
    DocumentRow {
        id: doc.id,
        client_id: doc.client_id,
        doc_type: doc.doc_type.as_str().to_string(),
        title: doc.title.clone(),
        autotask_id: doc.autotask_id(id_field),
        first_name: f(fields::FIRST_NAME),
        last_name: f(fields::LAST_NAME),
        email: f(fields::EMAIL),
        phone: f(fields::PHONE),
        address: f(fields::ADDRESS),
        city: f(fields::CITY),
        state: f(fields::STATE),
        postal_code: f(fields::POSTAL_CODE),
        serial_number: f(fields::SERIAL_NUMBER),
        asset_type: f(fields::ASSET_TYPE),
        hostname: f(fields::HOSTNAME),
    }
}

fn documents_frame(docs: &[Document], id_field: &str) -> DataFrame {
    let rows: Vec<DocumentRow> = docs.iter().map(|d| document_row(d, id_field)).collect();
    let t = |f: fn(&DocumentRow) -> &Option<String>| rows.iter().map(move |r| f(r).as_deref());
    let all_fields: Vec<String> = docs
        .iter()
        .map(|d| serde_json::to_string(&d.fields).expect("serialises"))
        .collect();
    frame(vec![
        int_col("id", rows.iter().map(|r| Some(r.id))),
        int_col("client_id", rows.iter().map(|r| Some(r.client_id))),
        text_col("doc_type", rows.iter().map(|r| Some(r.doc_type.as_str()))),
        text_col("title", rows.iter().map(|r| Some(r.title.as_str()))),
        int_col("autotask_id", rows.iter().map(|r| r.autotask_id)),
        text_col("first_name", t(|r| &r.first_name)),
        text_col("last_name", t(|r| &r.last_name)),
        text_col("email", t(|r| &r.email)),
        text_col("phone", t(|r| &r.phone)),
        text_col("address", t(|r| &r.address)),
        text_col("city", t(|r| &r.city)),
        text_col("state", t(|r| &r.state)),
        text_col("postal_code", t(|r| &r.postal_code)),
        text_col("serial_number", t(|r| &r.serial_number)),
        text_col("asset_type", t(|r| &r.asset_type)),
        text_col("hostname", t(|r| &r.hostname)),
        // Every field as [[label, text], ...], for what the columns do not carry.
        text_col("fields", all_fields.iter().map(|s| Some(s.as_str()))),
    ])
}

/// Stage the documents of `doc_type` of every client, in batches; returns rows written. They
/// are listed by type across all clients (one request per page); an instance that insists on
/// `clientId` is read client by client (a few clients at once), and the log says so.
async fn stage_documents(
    client: &PassportalClient,
    clients: &[Client],
    doc_type: DocType,
    run_dir: &Path,
) -> Result<u64, ExtractPassportalError> {
    let mut sink = ParquetSink::create(&run_dir.join(documents_path(doc_type)))?;
    let mut batch: Vec<Document> = Vec::new();
    match client.documents_across(doc_type).await? {
        Some(listed) => {
            let mut listed = listed.into_iter().peekable();
            while listed.peek().is_some() {
                let chunk: Vec<_> = listed.by_ref().take(BATCH_ROWS).collect();
                batch.extend(client.details(doc_type, chunk, clients).await?);
                sink.write(&documents_frame(&batch, client.id_field()))?;
                batch.clear();
            }
        }
        None => {
            tracing::warn!(
                "Passportal refused to list {doc_type} documents without clientId: reading \
                 them client by client ({} clients, one listing each)",
                clients.len()
            );
            let mut per_client = stream::iter(clients)
                .map(|c| client.client_documents(c, doc_type))
                .buffered(client.concurrency());
            while let Some(docs) = per_client.next().await {
                batch.extend(docs?);
                if batch.len() >= BATCH_ROWS {
                    sink.write(&documents_frame(&batch, client.id_field()))?;
                    batch.clear();
                }
            }
        }
    }
    if !batch.is_empty() {
        sink.write(&documents_frame(&batch, client.id_field()))?;
    }
    Ok(sink.finish(&documents_frame(&[], client.id_field()))?)
}

/// Every field of each staged document, by document id, as (label, text) in slot order (the
/// `fields` column): what an update compares, whatever columns the staged row carries.
pub fn read_document_fields(
    path: &Path,
) -> Result<std::collections::HashMap<i64, Vec<(String, String)>>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.ids("id")?;
    let fields = c.text("fields")?;
    ids.into_iter()
        .zip(fields)
        .map(|(id, json)| {
            let bad = |message: String| ParquetError::Polars {
                path: path.to_path_buf(),
                message,
            };
            let fields = match json {
                Some(j) => serde_json::from_str(&j)
                    .map_err(|e| bad(format!("document {id}: fields: {e}")))?,
                None => Vec::new(),
            };
            Ok((id, fields))
        })
        .collect()
}

/// Read staged documents (contacts, locations or assets) back.
pub fn read_documents(path: &Path) -> Result<Vec<DocumentRow>, ParquetError> {
    let df = read_frame(path)?;
    let c = Columns { path, df: &df };
    let ids = c.ids("id")?;
    let mut client = c.ids("client_id")?.into_iter();
    let mut autotask = c.int("autotask_id")?.into_iter();
    let text = |name: &str| c.text(name).map(Vec::into_iter);
    let mut doc_type = text("doc_type")?;
    let mut title = text("title")?;
    let mut first = text("first_name")?;
    let mut last = text("last_name")?;
    let mut email = text("email")?;
    let mut phone = text("phone")?;
    let mut address = text("address")?;
    let mut city = text("city")?;
    let mut state = text("state")?;
    let mut postal = text("postal_code")?;
    let mut serial = text("serial_number")?;
    let mut asset_type = text("asset_type")?;
    let mut hostname = text("hostname")?;
    let next = |it: &mut std::vec::IntoIter<Option<String>>| it.next().flatten();
    Ok(ids
        .into_iter()
        .map(|id| DocumentRow {
            id,
            client_id: client.next().unwrap_or_default(),
            doc_type: next(&mut doc_type).unwrap_or_default(),
            title: next(&mut title).unwrap_or_default(),
            autotask_id: autotask.next().flatten(),
            first_name: next(&mut first),
            last_name: next(&mut last),
            email: next(&mut email),
            phone: next(&mut phone),
            address: next(&mut address),
            city: next(&mut city),
            state: next(&mut state),
            postal_code: next(&mut postal),
            serial_number: next(&mut serial),
            asset_type: next(&mut asset_type),
            hostname: next(&mut hostname),
        })
        .collect())
}
