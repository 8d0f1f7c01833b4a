//! "Autotask wins": with `[load] update_matched = true`, a matched document whose fields
//! Autotask owns (title, name, e-mail, phone, address, serial number, type, host name) differ
//! from what Autotask holds is updated, and only then. An update sends the same body again on a
//! retry, so unlike a create it needs no intent in the ledger. Clients and users are not
//! updated: no update route is known for them.

use super::{LoadContext, LoadCounts, LoadError, LoadSummary, Payload, RowError, Sources};
use crate::entity::Entity;
use crate::extract::passportal::read_documents;
use crate::extract::rows::DocumentRow;
use crate::passportal::{fields, NewDocument, WriteError};
use crate::plan::EntityPlan;
use futures::stream::{self, StreamExt};
use std::collections::HashMap;

/// The staged value of a field the document row carries, or `None` when the row does not carry
/// that label (then it is not compared).
fn staged(doc: &DocumentRow, label: &str) -> Option<Option<String>> {
    let v = match label {
        fields::FIRST_NAME => &doc.first_name,
        fields::LAST_NAME => &doc.last_name,
        fields::EMAIL => &doc.email,
        fields::PHONE => &doc.phone,
        fields::ADDRESS => &doc.address,
        fields::CITY => &doc.city,
        fields::STATE => &doc.state,
        fields::POSTAL_CODE => &doc.postal_code,
        fields::SERIAL_NUMBER => &doc.serial_number,
        fields::ASSET_TYPE => &doc.asset_type,
        fields::HOSTNAME => &doc.hostname,
        fields::AUTOTASK_ID => return Some(doc.autotask_id.map(|i| i.to_string())),
        _ => return None,
    };
    Some(v.clone())
}

/// Whether the document differs from what Autotask holds, in what Autotask owns.
pub fn differs(doc: &DocumentRow, wanted: &NewDocument) -> bool {
    if doc.title.trim() != wanted.title.trim() {
        return true;
    }
    wanted.fields.iter().any(|(label, value)| {
        matches!(staged(doc, label), Some(have) if have.as_deref().map(str::trim) != Some(value.trim()))
    })
}

/// Update the matched documents of one entity where they differ.
pub async fn update_matched(
    ctx: &LoadContext<'_>,
    entity: Entity,
    plan: &EntityPlan,
    sources: &Sources,
    counts: &mut LoadCounts,
    summary: &mut LoadSummary,
) -> Result<(), LoadError> {
    if !entity.is_child() {
        return Ok(());
    }
    let docs: HashMap<i64, DocumentRow> = read_documents(&ctx.run.path(entity.passportal_file()))?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let links = ctx.ledger.links(entity)?;
    let matched = plan
        .link
        .iter()
        .map(|l| (l.autotask_id, l.passportal_id))
        .chain(plan.linked.iter().filter_map(|id| {
            links
                .get(&crate::ids::AutotaskId(*id))
                .map(|l| (*id, l.passportal_id.0))
        }));
    let mut todo: Vec<(i64, i64, NewDocument)> = Vec::new();
    for (at, pp) in matched {
        let Some(doc) = docs.get(&pp) else { continue };
        if let Some(Payload::Document(wanted)) = sources.payload(entity, at, Some(doc.client_id)) {
            if differs(doc, &wanted) {
                todo.push((at, pp, wanted));
            }
        }
    }
    let results: Vec<(i64, String, Result<(), WriteError>)> = stream::iter(todo)
        .map(|(at, pp, wanted)| async move {
            let result = ctx.client.update_document(pp, &wanted).await;
            (at, wanted.title.clone(), result)
        })
        .buffer_unordered(ctx.concurrency.max(1))
        .collect()
        .await;
    for (at, title, result) in results {
        match result {
            Ok(()) => counts.updated += 1,
            Err(e) => {
                counts.failed += 1;
                summary.errors.push(RowError {
                    entity: entity.to_string(),
                    autotask_id: at,
                    name: title,
                    what: "update (a later load tries again)".into(),
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(())
}
