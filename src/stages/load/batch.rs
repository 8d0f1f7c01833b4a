//! Which creates go out in one request, and sending them. Documents are grouped per (client,
//! type) in batches of `passportal.batch_size` (each batch's ids are learned from one listing of
//! that client's documents of that type, see `api::passportal::batch`); clients, users and a
//! lone document go one per request. The load and `load --dry-run` group with the same function,
//! so the dry run prints the very batch bodies the load sends.

use super::Payload;
use crate::api::passportal::{
    BatchOutcome, DocType, Known, NewDocument, PassportalClient, WriteError,
};
use std::collections::HashMap;

/// `items` in requests: those with a key grouped per key (in order of the key's first
/// appearance, `size` at most each), the others alone.
pub(super) fn units<T, K: std::hash::Hash + Eq>(
    items: Vec<T>,
    size: usize,
    key: impl Fn(&T) -> Option<K>,
) -> Vec<Vec<T>> {
    let size = size.max(1);
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut open: HashMap<K, usize> = HashMap::new();
    for item in items {
        let Some(k) = key(&item) else {
            out.push(vec![item]);
            continue;
        };
        match open.get(&k) {
            Some(&at) if out[at].len() < size => out[at].push(item),
            _ => {
                open.insert(k, out.len());
                out.push(vec![item]);
            }
        }
    }
    out
}

/// The (client, type) a payload is batched by: documents only.
pub(super) fn document_key(payload: &Payload) -> Option<(i64, DocType)> {
    match payload {
        Payload::Document(d) => Some((d.client_id, d.doc_type)),
        _ => None,
    }
}

/// Rows to create: Autotask id and what is sent.
pub(super) type Unit = Vec<(i64, Payload)>;

/// What sending one unit came to.
pub(super) struct Sent {
    /// Per row sent: its id, or why not.
    pub results: Vec<(i64, Payload, Result<i64, WriteError>)>,
    /// A batch the instance refused (nothing applied): its rows, to be sent one per request,
    /// and what to tell the user when this was the first refusal.
    pub refused: Option<(Unit, Option<String>)>,
}

/// Send one unit from [`units`]: a single create, or a batch of documents of one client and
/// type. `known`: documents whose identity is known (see `PassportalClient::create_batch`).
pub(super) async fn send(client: &PassportalClient, unit: Unit, known: &Known) -> Sent {
    let docs: Option<Vec<NewDocument>> = unit
        .iter()
        .map(|(_, p)| match p {
            Payload::Document(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    let docs = match docs {
        Some(docs) if docs.len() > 1 => docs,
        _ => {
            let mut results = Vec::with_capacity(unit.len());
            for (id, payload) in unit {
                let result = match &payload {
                    Payload::Client(c) => client.create_client(c).await,
                    Payload::User(u) => client.create_user(u).await,
                    Payload::Document(d) => client.create_document(d).await,
                };
                results.push((id, payload, result));
            }
            return Sent {
                results,
                refused: None,
            };
        }
    };
    match client.create_batch(&docs, known).await {
        BatchOutcome::Sent(outcomes) => Sent {
            results: unit
                .into_iter()
                .zip(outcomes)
                .map(|((id, payload), result)| (id, payload, result))
                .collect(),
            refused: None,
        },
        BatchOutcome::Refused { first, error } => {
            let note = first.then(|| {
                format!(
                    "Passportal refused a batch of {} documents ({error}): nothing of it was \
                     applied; creating one document per request from now on (set \
                     passportal.batch_size = 1, or try passportal.batch_shape = \"wrapped\", for \
                     this instance)",
                    docs.len()
                )
            });
            Sent {
                results: Vec::new(),
                refused: Some((unit, note)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::units;

    #[test]
    fn documents_group_per_key_in_batches_and_the_rest_go_alone() {
        // (row, key): key None is a client or user.
        let items = vec![
            (1, Some('a')),
            (2, None),
            (3, Some('b')),
            (4, Some('a')),
            (5, Some('a')),
            (6, Some('b')),
        ];
        let got: Vec<Vec<i32>> = units(items, 2, |(_, k)| *k)
            .into_iter()
            .map(|u| u.into_iter().map(|(r, _)| r).collect())
            .collect();
        assert_eq!(got, vec![vec![1, 4], vec![2], vec![3, 6], vec![5]]);
        let ones = units(vec![1, 2, 3], 1, |_| Some(0));
        assert_eq!(ones, vec![vec![1], vec![2], vec![3]]);
    }
}
