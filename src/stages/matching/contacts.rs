//! Contacts → contact documents, probabilistically (Fellegi–Sunter) over every field both sides
//! hold: given and family name (straight or swapped, nicknames, initials, typos), address, city,
//! postal code, state, phone and e-mail. Candidates come from a union of blocking rules within the
//! client (a shared name word, postal code, phone, e-mail, address, or the same initials); `m` is
//! estimated from the blocked pairs by EM and `u` from random pairs, so the weights fit the data
//! at hand. An identical e-mail address stays an identifier: a candidate outright.

use super::compare::{
    code_level, email_key, equal_level, fold, name_level, phone_digits, text_level, CODE_LEVELS,
    EQUAL_LEVELS, NAME_LEVELS, TEXT_LEVELS,
};
use super::fs::{random_pairs, Field, Gamma, Model};
use super::{Candidate, Method};
use crate::model::records::{ContactRow, DocumentRow};
use std::collections::HashMap;

/// Candidates of one record, best first, with why the best one scores as it does.
#[derive(Debug, Clone, Default)]
pub struct Scored {
    pub candidates: Vec<Candidate>,
    /// The compared fields of the best candidate and the runner-up's probability; empty when
    /// there is nothing to say.
    pub reason: String,
}

/// How many candidates a record keeps (the best, the runner-up and one more).
const KEEP: usize = 3;
/// Random pairs drawn for `u`.
const RANDOM_PAIRS: usize = 20_000;
/// A blocking key shared by more documents of one client than this says too little to use.
const KEY_CAP: usize = 400;

/// The fields compared, in `Gamma` order.
fn fields() -> Vec<Field> {
    vec![
        Field {
            name: "first name",
            labels: NAME_LEVELS,
            m: &[0.75, 0.1, 0.05, 0.05, 0.05],
            u: &[0.01, 0.01, 0.005, 0.04, 0.935],
        },
        Field {
            name: "last name",
            labels: NAME_LEVELS,
            m: &[0.8, 0.1, 0.02, 0.04, 0.04],
            u: &[0.005, 0.01, 0.002, 0.03, 0.953],
        },
        Field {
            name: "address",
            labels: TEXT_LEVELS,
            m: &[0.7, 0.15, 0.05, 0.1],
            u: &[0.001, 0.01, 0.05, 0.939],
        },
        Field {
            name: "city",
            labels: TEXT_LEVELS,
            m: &[0.8, 0.1, 0.05, 0.05],
            u: &[0.01, 0.02, 0.07, 0.9],
        },
        Field {
            name: "postal code",
            labels: CODE_LEVELS,
            m: &[0.85, 0.1, 0.05],
            u: &[0.005, 0.02, 0.975],
        },
        Field {
            name: "state",
            labels: EQUAL_LEVELS,
            m: &[0.95, 0.05],
            u: &[0.3, 0.7],
        },
        Field {
            name: "phone",
            labels: EQUAL_LEVELS,
            m: &[0.85, 0.15],
            u: &[0.001, 0.999],
        },
        Field {
            name: "e-mail",
            labels: EQUAL_LEVELS,
            m: &[0.85, 0.15],
            u: &[0.001, 0.999],
        },
    ]
}

/// A person as compared: every field folded.
#[derive(Debug, Clone, Default)]
struct Person {
    first: Option<String>,
    last: Option<String>,
    address: Option<String>,
    city: Option<String>,
    postal: Option<String>,
    state: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

impl Person {
    fn of_contact(c: &ContactRow) -> Person {
        Person {
            first: fold(c.first_name.as_deref()),
            last: fold(c.last_name.as_deref()),
            address: fold(c.address_line.as_deref()),
            city: fold(c.city.as_deref()),
            postal: fold(c.zip_code.as_deref()).map(|p| p.replace(' ', "")),
            state: fold(c.state.as_deref()),
            phone: phone_digits(c.phone.as_deref())
                .or_else(|| phone_digits(c.mobile_phone.as_deref())),
            email: email_key(c.email_address.as_deref()),
        }
    }

    fn of_document(d: &DocumentRow) -> Person {
        let (mut first, mut last) = (fold(d.first_name.as_deref()), fold(d.last_name.as_deref()));
        if first.is_none() && last.is_none() {
            // No name fields: the title is the name ("Ann Lee").
            if let Some(title) = fold(Some(&d.title)) {
                match title.split_once(' ') {
                    Some((f, l)) => (first, last) = (Some(f.into()), Some(l.into())),
                    None => last = Some(title),
                }
            }
        }
        Person {
            first,
            last,
            address: fold(d.address.as_deref()),
            city: fold(d.city.as_deref()),
            postal: fold(d.postal_code.as_deref()).map(|p| p.replace(' ', "")),
            state: fold(d.state.as_deref()),
            phone: phone_digits(d.phone.as_deref()),
            email: email_key(d.email.as_deref()),
        }
    }

    /// Blocking keys: any one shared makes a pair a candidate.
    fn keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in [&self.first, &self.last].into_iter().flatten() {
            out.extend(n.split(' ').map(|w| format!("n:{w}")));
        }
        for (tag, v) in [
            ("p", &self.postal),
            ("t", &self.phone),
            ("e", &self.email),
            ("a", &self.address),
        ] {
            if let Some(v) = v {
                out.push(format!("{tag}:{v}"));
            }
        }
        let initial = |s: &Option<String>| s.as_ref().and_then(|s| s.chars().next());
        if let (Some(a), Some(b)) = (initial(&self.first), initial(&self.last)) {
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            out.push(format!("i:{a}{b}"));
        }
        out
    }
}

/// The comparison vector of a pair, names straight or swapped (whichever agrees better), and
/// whether they were swapped.
fn gamma(a: &Person, b: &Person) -> (Gamma, bool) {
    fn s(x: &Option<String>) -> Option<&str> {
        x.as_deref()
    }
    let straight = (
        name_level(s(&a.first), s(&b.first)),
        name_level(s(&a.last), s(&b.last)),
    );
    let swapped = (
        name_level(s(&a.first), s(&b.last)),
        name_level(s(&a.last), s(&b.first)),
    );
    let cost = |(f, l): (Option<u8>, Option<u8>)| f.unwrap_or(3) + l.unwrap_or(3);
    let swap = cost(swapped) + 2 <= cost(straight);
    let (first, last) = if swap { swapped } else { straight };
    (
        vec![
            first,
            last,
            text_level(s(&a.address), s(&b.address)),
            text_level(s(&a.city), s(&b.city)),
            code_level(s(&a.postal), s(&b.postal)),
            equal_level(s(&a.state), s(&b.state)),
            equal_level(s(&a.phone), s(&b.phone)),
            equal_level(s(&a.email), s(&b.email)),
        ],
        swap,
    )
}

/// Shares of each value of a name field, for term-frequency adjustment.
fn shares<'a>(values: impl Iterator<Item = &'a Option<String>>) -> HashMap<&'a str, f64> {
    let mut counts: HashMap<&str, f64> = HashMap::new();
    let mut total = 0.0;
    for v in values.flatten() {
        *counts.entry(v.as_str()).or_default() += 1.0;
        total += 1.0;
    }
    counts.values_mut().for_each(|c| *c /= total);
    counts
}

/// Both sides folded, and each client's documents indexed by blocking key.
struct Prepared {
    people: Vec<Person>,
    doc_people: HashMap<i64, Vec<Person>>,
    postings: HashMap<i64, HashMap<String, Vec<u32>>>,
}

impl Prepared {
    fn new(queries: &[(&ContactRow, i64)], docs: &HashMap<i64, Vec<&DocumentRow>>) -> Prepared {
        let people = queries.iter().map(|(c, _)| Person::of_contact(c)).collect();
        let doc_people: HashMap<i64, Vec<Person>> = docs
            .iter()
            .map(|(client, ds)| (*client, ds.iter().map(|d| Person::of_document(d)).collect()))
            .collect();
        let mut postings: HashMap<i64, HashMap<String, Vec<u32>>> = HashMap::new();
        for (client, ps) in &doc_people {
            let index = postings.entry(*client).or_default();
            for (i, p) in ps.iter().enumerate() {
                for k in p.keys() {
                    index.entry(k).or_default().push(i as u32);
                }
            }
        }
        Prepared {
            people,
            doc_people,
            postings,
        }
    }

    /// The union of the blocking rules: indexes (within the client's documents) of the
    /// documents sharing a key with query `q`.
    fn block(&self, q: usize, client: i64) -> Vec<u32> {
        let Some(index) = self.postings.get(&client) else {
            return Vec::new();
        };
        let mut found: Vec<u32> = self.people[q]
            .keys()
            .iter()
            .filter_map(|k| index.get(k))
            .filter(|l| l.len() <= KEY_CAP)
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// The documents the blocking rules pair each query with (their Passportal ids), for measuring
/// how many true pairs the blocking keeps.
pub fn blocked_candidates(
    queries: &[(&ContactRow, i64)],
    docs: &HashMap<i64, Vec<&DocumentRow>>,
) -> Vec<Vec<i64>> {
    let prepared = Prepared::new(queries, docs);
    queries
        .iter()
        .enumerate()
        .map(|(q, (_, client))| {
            prepared
                .block(q, *client)
                .into_iter()
                .map(|i| docs[client][i as usize].id)
                .collect()
        })
        .collect()
}

/// Score contacts against the documents of their clients: `queries` are (contact, client id),
/// `docs` the documents by client. One `Scored` per query, in order.
pub fn score_contacts(
    queries: &[(&ContactRow, i64)],
    docs: &HashMap<i64, Vec<&DocumentRow>>,
) -> Vec<Scored> {
    let prepared = Prepared::new(queries, docs);
    let (people, doc_people) = (&prepared.people, &prepared.doc_people);
    // Blocked pairs (document index within its client) per query, and their vectors.
    let blocked: Vec<Vec<(u32, Gamma, bool)>> = queries
        .iter()
        .enumerate()
        .map(|(q, (_, client))| {
            prepared
                .block(q, *client)
                .into_iter()
                .map(|i| {
                    let (g, swap) = gamma(&people[q], &doc_people[client][i as usize]);
                    (i, g, swap)
                })
                .collect()
        })
        .collect();
    let mut clients: Vec<i64> = doc_people.keys().copied().collect();
    clients.sort_unstable();
    let all_docs: Vec<&Person> = clients.iter().flat_map(|c| &doc_people[c]).collect();
    let random: Vec<Gamma> = random_pairs(people.len(), all_docs.len(), RANDOM_PAIRS)
        .into_iter()
        .map(|(a, b)| gamma(&people[a], all_docs[b]).0)
        .collect();
    let gammas: Vec<Gamma> = blocked
        .iter()
        .flatten()
        .map(|(_, g, _)| g.clone())
        .collect();
    // Every pair a record could be matched with: each query against its client's documents.
    let all_pairs: usize = queries
        .iter()
        .map(|(_, client)| doc_people.get(client).map_or(0, Vec::len))
        .sum();
    let max_matches = people.len().min(all_docs.len());
    let model = Model::fit(fields(), &gammas, &random, max_matches, all_pairs);
    let first_tf = shares(
        people
            .iter()
            .chain(all_docs.iter().copied())
            .map(|p| &p.first),
    );
    let last_tf = shares(
        people
            .iter()
            .chain(all_docs.iter().copied())
            .map(|p| &p.last),
    );

    queries
        .iter()
        .zip(people)
        .zip(blocked)
        .map(|(((_, client), q), pairs)| {
            if pairs.is_empty() {
                return Scored::default();
            }
            let client_docs = &docs[client];
            let ps = &doc_people[client];
            let mut scored: Vec<(Candidate, String)> = pairs
                .into_iter()
                .map(|(i, g, swap)| {
                    let d = client_docs[i as usize];
                    let theirs = &ps[i as usize];
                    let (tf_first, tf_last) = if swap {
                        (&theirs.last, &theirs.first)
                    } else {
                        (&theirs.first, &theirs.last)
                    };
                    let tf = |table: &HashMap<&str, f64>, v: &Option<String>| {
                        v.as_deref().and_then(|v| table.get(v).copied())
                    };
                    let mut tfs = vec![None; g.len()];
                    tfs[0] = tf(&first_tf, tf_first);
                    tfs[1] = tf(&last_tf, tf_last);
                    let p = model.probability(&g, Some(&tfs));
                    let method = if g[0] == Some(0) && g[1] == Some(0) && !swap {
                        Method::Exact
                    } else {
                        Method::Fuzzy
                    };
                    let mut why = model.explain(&g);
                    if swap {
                        why.push_str(", first/last swapped");
                    }
                    let email_equal = q.email.is_some() && q.email == theirs.email;
                    let (score, method) = if email_equal {
                        (100.0, Method::Email)
                    } else {
                        (100.0 * p, method)
                    };
                    (
                        Candidate {
                            passportal_id: d.id,
                            name: d.title.clone(),
                            score,
                            method,
                        },
                        why,
                    )
                })
                .collect();
            scored.sort_by(|a, b| {
                b.0.score
                    .total_cmp(&a.0.score)
                    .then(a.0.passportal_id.cmp(&b.0.passportal_id))
            });
            scored.truncate(KEEP);
            let reason = match scored.as_slice() {
                [] => String::new(),
                [(_, why)] => format!("{why}; "),
                [(_, why), (second, _), ..] => format!(
                    "{why}; runner-up {} p={:.2}; ",
                    second.passportal_id,
                    second.score / 100.0
                ),
            };
            Scored {
                candidates: scored.into_iter().map(|(c, _)| c).collect(),
                reason,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: i64, first: &str, last: &str, city: &str, zip: &str) -> ContactRow {
        ContactRow {
            id,
            company_id: Some(1),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            city: Some(city.into()),
            zip_code: Some(zip.into()),
            is_active: true,
            ..ContactRow::default()
        }
    }

    fn doc(id: i64, first: &str, last: &str, city: &str, zip: &str) -> DocumentRow {
        DocumentRow {
            id,
            client_id: 7,
            doc_type: "contact".into(),
            title: format!("{first} {last}"),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            city: Some(city.into()),
            postal_code: Some(zip.into()),
            ..DocumentRow::default()
        }
    }

    #[test]
    fn typos_swaps_and_nicknames_found_and_explained() {
        let contacts = [
            contact(1, "Kayla", "Harrington", "Coolaroo", "3465"),
            contact(2, "Robert", "Stone", "Yass", "2594"),
            contact(3, "Lee", "Ann", "Bittern", "4814"),
            contact(4, "Zoe", "Quill", "Perth", "6000"),
        ];
        let docs = [
            doc(10, "Kayla", "Harringtn", "Coolaroo", "3465"),
            doc(11, "Bob", "Stone", "Yass", "2594"),
            doc(12, "Ann", "Lee", "Bittern", "4814"),
            doc(13, "Max", "Smith", "Darwin", "0800"),
        ];
        let by_client: HashMap<i64, Vec<&DocumentRow>> = [(7, docs.iter().collect())].into();
        let queries: Vec<(&ContactRow, i64)> = contacts.iter().map(|c| (c, 7)).collect();
        let scored = score_contacts(&queries, &by_client);
        let best = |i: usize| {
            scored[i]
                .candidates
                .first()
                .map(|c| (c.passportal_id, c.score))
        };
        for (i, want) in [(0, 10), (1, 11), (2, 12)] {
            let (id, score) = best(i).expect("a candidate");
            assert_eq!(id, want, "{:?}", scored[i]);
            assert!(score > 90.0, "{:?}", scored[i]);
        }
        assert!(
            scored[2].reason.contains("first/last swapped"),
            "{}",
            scored[2].reason
        );
        assert!(
            scored[1].reason.contains("first name nickname"),
            "{}",
            scored[1].reason
        );
        assert!(best(3).is_none_or(|(_, s)| s < 50.0), "{:?}", scored[3]);
    }
}
