//! Matching quality on a labelled MSP from the generator: planted true pairs with typos,
//! abbreviations, reordered words, legal forms, accents and `&`/`and`, duplicates, and near-miss
//! distractors that are different companies. The goals of the issue are asserted with the
//! default thresholds (the bench `quality` case reports the same figures at scale).

use crate::quality::company_quality;
use atpp::model::pipeline::Thresholds;
use atpp::sim::generator::{generate, MspSpec};

#[test]
fn company_matching_meets_the_quality_goals() {
    let spec = MspSpec {
        companies: 3_000,
        passportal_share: 0.6,
        variant_share: 0.6,
        fuzzy_share: 0.5,
        distractors: 300,
        passportal_only: 400,
        ambiguous: 20,
        duplicate_names: 10,
        inactive: 30,
        ..MspSpec::demo(2024)
    };
    let msp = generate(&spec);
    let q = company_quality(&msp, Thresholds::default());
    assert!(q.true_pairs > 1_500, "{q:?}");
    assert!(
        q.precision() >= 0.995,
        "precision {:.4}: {q:?}",
        q.precision()
    );
    assert!(q.recall() >= 0.95, "recall {:.4}: {q:?}", q.recall());
}

#[test]
fn every_entity_meets_the_quality_goals() {
    let msp = generate(&MspSpec::demo(31));
    let quality = crate::quality::entity_quality(&msp, &Default::default());
    assert_eq!(quality.len(), 5);
    for (entity, q) in quality {
        assert!(q.true_pairs > 10, "{entity}: {q:?}");
        assert!(
            q.precision() >= 0.995,
            "{entity}: precision {:.4} {q:?}",
            q.precision()
        );
        assert!(
            q.recall() >= 0.95,
            "{entity}: recall {:.4} {q:?}",
            q.recall()
        );
    }
}

/// The independent FEBRL data (not committed: `tests/bench/fetch_febrl.sh DIR`), on demand:
/// `ATPP_FEBRL_DIR=DIR cargo test --test it febrl -- --ignored --nocapture`.
#[test]
#[ignore = "needs the FEBRL data sets: set ATPP_FEBRL_DIR"]
fn febrl_people_meet_the_quality_goals() {
    for f in crate::febrl::run() {
        assert!(f.auto_precision() >= 0.995, "{f:?}");
        assert!(f.f1() >= 0.97, "{f:?}");
        assert!(
            f.blocking_kept as f64 >= 0.995 * f.true_pairs as f64,
            "{f:?}"
        );
    }
}
