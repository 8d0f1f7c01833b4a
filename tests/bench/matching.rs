//! Matching benchmarks: speed and memory of the match on generated MSPs (companies 10k, 30k and
//! 100k against as many Passportal clients; a million configuration items within their
//! clients), and matching quality per entity. Each measurement runs in its own child process so
//! its peak memory is its own.

use crate::quality::{company_quality, entity_quality, sides};
use atpp::model::entity::{DocType, Entity};
use atpp::model::pipeline::{MatchingConfig, Thresholds};
use atpp::sim::generator::{generate, MspSpec};
use atpp::stages::matching::children::parents_from;
use atpp::stages::matching::decide::match_entity;
use atpp::stages::matching::{match_all, MatchSpec, Memory};
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

/// Companies × clients: wall time of the match alone (records already in memory), through
/// `match_all` as the match stage calls it.
pub fn companies(n: usize) {
    let msp = generate(&spec(n, 5));
    let (at, pp) = sides(&msp);
    let started = Instant::now();
    let spec = MatchSpec::new(Entity::Companies, Thresholds::default());
    let out = match_all(&[spec], &at, &pp, &Memory::default());
    let secs = started.elapsed().as_secs_f64();
    println!(
        "match companies: {} Autotask × {} Passportal in {secs:.2} s ({} rows), peak RSS {:.0} MiB",
        at.companies.len(),
        pp.clients.len(),
        out[0].rows.len(),
        super::peak_rss_mib()
    );
}

/// A million configuration items matched within their clients (the companies decided first,
/// untimed, as their parents).
pub fn assets() {
    let s = MspSpec {
        cis_per_company: 50,
        passportal_child_share: 0.5,
        ..spec(20_000, 6)
    };
    let msp = generate(&s);
    let (mut at, mut pp) = sides(&msp);
    // The companies are matched by name alone here, as before: no location evidence.
    at.locations = None;
    pp.documents.retain(|t, _| *t == DocType::Asset);
    let memory = Memory::default();
    let companies = MatchSpec::new(Entity::Companies, Thresholds::default());
    let decided = match_all(&[companies], &at, &pp, &memory);
    let parents = parents_from(&decided[0].rows);
    let started = Instant::now();
    let items = MatchSpec::new(Entity::ConfigurationItems, Thresholds::default());
    let out = match_entity(&items, &at, &pp, &memory, &parents).expect("staged");
    println!(
        "match configuration items: {} items × {} asset documents within their clients in {:.2} s \
         ({} rows), peak RSS {:.0} MiB",
        at.configuration_items.as_ref().map_or(0, Vec::len),
        pp.documents[&DocType::Asset].len(),
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
