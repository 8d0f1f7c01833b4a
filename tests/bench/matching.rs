//! Matching benchmarks: speed and memory of the match on generated MSPs (companies 10k, 30k and
//! 100k against as many Passportal clients; a million configuration items within their
//! clients), and matching quality per entity. Each measurement runs in its own child process so
//! its peak memory is its own.

use crate::quality::{ci_row, company_quality, company_row, document_row, entity_quality};
use atpp::model::pipeline::{MatchingConfig, SyncConfig, Thresholds};
use atpp::sim::generator::{generate, MspSpec};
use atpp::stages::matching::children::{match_children, parents_from, ChildScope};
use atpp::stages::matching::companies::{match_companies, CompanyInput};
use std::collections::BTreeMap;
use std::time::Instant;

fn spec(companies: usize, seed: u64) -> MspSpec {
    MspSpec {
        companies,
        passportal_share: 0.8,
        passportal_only: companies / 5,
        distractors: companies / 20,
        inactive: companies / 100,
        ambiguous: companies / 500,
        duplicate_names: companies / 1000,
        resources: 0,
        contacts_per_company: 0,
        locations_per_company: 1,
        cis_per_company: 0,
        ..MspSpec::demo(seed)
    }
}

/// Companies × clients: wall time of the match alone (records already in memory).
pub fn companies(n: usize) {
    let msp = generate(&spec(n, 5));
    let rows: Vec<_> = msp.autotask.companies.iter().map(company_row).collect();
    let clients: Vec<_> = msp
        .passportal
        .clients
        .iter()
        .map(|c| atpp::api::passportal::models::Client {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    let docs: Vec<_> = msp
        .passportal
        .documents
        .iter()
        .filter(|d| d.doc_type != atpp::sim::generator::DocType::Asset)
        .map(document_row)
        .collect();
    let started = Instant::now();
    let evidence = atpp::stages::matching::companies::evidence_from(docs.iter());
    let out = match_companies(&CompanyInput {
        companies: &rows,
        clients: &clients,
        links: &BTreeMap::new(),
        sync: &SyncConfig::default(),
        thresholds: Thresholds::default(),
        evidence: &evidence,
        own_evidence: &Default::default(),
    });
    let secs = started.elapsed().as_secs_f64();
    println!(
        "match companies: {} Autotask × {} Passportal in {secs:.2} s ({} rows), peak RSS {:.0} MiB",
        rows.len(),
        clients.len(),
        out.len(),
        super::peak_rss_mib()
    );
}

/// A million configuration items matched within their clients.
pub fn assets() {
    let s = MspSpec {
        cis_per_company: 50,
        passportal_child_share: 0.5,
        ..spec(20_000, 6)
    };
    let msp = generate(&s);
    let types: BTreeMap<i64, String> = msp
        .autotask
        .ci_types
        .iter()
        .map(|t| (t.id, t.name.clone()))
        .collect();
    let items: Vec<_> = msp
        .autotask
        .configuration_items
        .iter()
        .map(|c| ci_row(c, types.get(&c.configuration_item_type).cloned()))
        .collect();
    let docs: Vec<_> = msp
        .passportal
        .documents
        .iter()
        .filter(|d| d.doc_type == atpp::sim::generator::DocType::Asset)
        .map(document_row)
        .collect();
    let companies: Vec<_> = msp.autotask.companies.iter().map(company_row).collect();
    let clients: Vec<_> = msp
        .passportal
        .clients
        .iter()
        .map(|c| atpp::api::passportal::models::Client {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    let links = BTreeMap::new();
    let company_rows = match_companies(&CompanyInput {
        companies: &companies,
        clients: &clients,
        links: &links,
        sync: &SyncConfig::default(),
        thresholds: Thresholds::default(),
        evidence: &Default::default(),
        own_evidence: &Default::default(),
    });
    let parents = parents_from(&company_rows);
    let none = |_: i64| None;
    let started = Instant::now();
    let out = match_children(
        &items,
        &ChildScope {
            documents: &docs,
            parents: &parents,
            links: &links,
            include_inactive: false,
            thresholds: Thresholds::default(),
            exclusion: &none,
        },
    );
    println!(
        "match configuration items: {} items × {} asset documents within their clients in {:.2} s \
         ({} rows), peak RSS {:.0} MiB",
        items.len(),
        docs.len(),
        started.elapsed().as_secs_f64(),
        out.len(),
        super::peak_rss_mib()
    );
}

/// Quality per entity and of companies at several thresholds.
pub fn quality() {
    for seed in [1u64, 2, 3] {
        let msp = generate(&MspSpec {
            companies: 20_000,
            passportal_share: 0.6,
            variant_share: 0.6,
            fuzzy_share: 0.5,
            distractors: 2_000,
            passportal_only: 3_000,
            ..spec(20_000, seed)
        });
        for auto in [90.0, 92.0, 94.0] {
            let q = company_quality(
                &msp,
                Thresholds {
                    auto_match: auto,
                    ..Thresholds::default()
                },
            );
            println!(
                "quality companies seed {seed} auto_match {auto}: precision {:.4} recall {:.4} \
                 ({} true pairs, {} auto-matched, {} correct, {} found)",
                q.precision(),
                q.recall(),
                q.true_pairs,
                q.auto_matches,
                q.correct_auto,
                q.found
            );
        }
    }
    let msp = generate(&MspSpec {
        companies: 2_000,
        resources: 300,
        ..MspSpec::demo(9)
    });
    for (entity, q) in entity_quality(&msp, &MatchingConfig::default()) {
        println!(
            "quality {entity} (defaults): precision {:.4} recall {:.4} ({} true pairs, {} \
             auto-matched)",
            q.precision(),
            q.recall(),
            q.true_pairs,
            q.auto_matches
        );
    }
}
