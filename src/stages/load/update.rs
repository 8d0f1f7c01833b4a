//! "Autotask wins": with `[load] update_matched = true`, a matched document whose title or
//! fields Autotask owns (those the schema table, `model::schema`, says a create fills) differ
//! from what Autotask holds is updated, and only then. An update sends the same body again on a
//! retry, so unlike a create it needs no intent in the ledger. Clients and users are not
//! updated: no update route is known for them.

use super::{LoadContext, LoadCounts, LoadError, LoadSummary, Payload, RowError, Sources};
use crate::api::passportal::{NewDocument, WriteError};
use crate::model::entity::Entity;
use crate::model::records::DocumentRow;
use crate::stages::extract::passportal::{read_document_fields, read_documents};
use crate::stages::plan::EntityPlan;
use futures::stream::{self, StreamExt};
use std::collections::HashMap;

/// A document's field by label, as `Document::field` reads it: the first of that label,
/// labels compared case-insensitively.
fn field<'f>(fields: &'f [(String, String)], label: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(label))
        .map(|(_, v)| v.as_str())
}

/// Whether the document differs from what Autotask holds, in what Autotask owns: its title and
/// every field the schema table says a create fills.
pub fn differs(title: &str, fields: &[(String, String)], wanted: &NewDocument) -> bool {
    title.trim() != wanted.title.trim()
        || wanted
            .fields
            .iter()
            .any(|(label, value)| field(fields, label).map(str::trim) != Some(value.trim()))
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
    let path = ctx.run.path(entity.passportal_file());
    let docs: HashMap<i64, DocumentRow> = read_documents(&path)?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let fields = read_document_fields(&path)?;
    let links = ctx.ledger.links(entity)?;
    let matched = plan
        .link
        .iter()
        .map(|l| (l.autotask_id.0, l.passportal_id.0))
        .chain(
            plan.linked
                .iter()
                .filter_map(|id| links.get(id).map(|l| (id.0, l.passportal_id.0))),
        );
    let mut todo: Vec<(i64, i64, NewDocument)> = Vec::new();
    for (at, pp) in matched {
        let Some(doc) = docs.get(&pp) else { continue };
        if let Some(Payload::Document(wanted)) = sources.payload(entity, at, Some(doc.client_id)) {
            let have = fields.get(&pp).map(Vec::as_slice).unwrap_or_default();
            if differs(&doc.title, have, &wanted) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::passportal::DocType;
    use crate::model::schema::fields as f;

    fn doc(fields: &[(&str, &str)]) -> NewDocument {
        NewDocument {
            client_id: 1,
            doc_type: DocType::Contact,
            title: "Ann Lee".into(),
            fields: fields
                .iter()
                .map(|(l, v)| (l.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Every field Autotask owns is compared, including those the staged row has no column for
    /// (mobile phone, job title, address line 2 were once never corrected).
    #[test]
    fn every_owned_field_is_compared() {
        let wanted = doc(&[
            (f::MOBILE, "555"),
            (f::TITLE, "CTO"),
            (f::ADDRESS_2, "Unit 4"),
        ]);
        let same: Vec<(String, String)> = wanted.fields.clone();
        assert!(!differs("Ann Lee", &same, &wanted));
        for i in 0..same.len() {
            let mut changed = same.clone();
            changed[i].1 = "other".into();
            assert!(differs("Ann Lee", &changed, &wanted), "{}", same[i].0);
            let mut missing = same.clone();
            missing.remove(i);
            assert!(
                differs("Ann Lee", &missing, &wanted),
                "{} missing",
                same[i].0
            );
        }
        // Labels are matched case-insensitively and values trimmed, as the extract reads them.
        let recased: Vec<(String, String)> = same
            .iter()
            .map(|(l, v)| (l.to_uppercase(), format!(" {v} ")))
            .collect();
        assert!(!differs(" Ann Lee ", &recased, &wanted));
        assert!(differs("Ann Leigh", &same, &wanted));
    }
}
