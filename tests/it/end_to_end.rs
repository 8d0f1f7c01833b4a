//! The whole pipeline for companies → clients against both simulators: the overview equals what
//! the generator planted, the load creates exactly the planned clients, and a re-run creates
//! nothing.

use crate::harness::{col, files_under, read_table, TestWorld};
use atpp::model::entity::Entity;
use atpp::sim::generator::MspSpec;
use atpp::store::ledger::Ledger;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_pipeline_ends_with_what_the_generator_planted() {
    let t = TestWorld::start(&MspSpec::demo(7)).await;
    let truth = t.world.msp.truth.companies.clone();
    let clients_before = t.world.passportal.clients().len();

    let (run, extract) = t.app.extract().await.expect("extract");
    assert_eq!(
        extract.files["extract/autotask/companies.parquet"],
        t.world.msp.autotask.companies.len() as u64
    );
    assert_eq!(
        extract.files["extract/passportal/clients.parquet"],
        clients_before as u64
    );
    t.app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = t.app.plan(Some(&run.id)).expect("plan");
    let companies = &plan.entities[&Entity::Companies];

    let links: BTreeMap<i64, i64> = companies
        .link
        .iter()
        .map(|l| (l.autotask_id.0, l.passportal_id.0))
        .collect();
    // Every planted identical or normalised pair is matched; every match is a planted pair (a
    // fuzzy one may be matched or only suggested).
    for (at, pp) in &truth.matches {
        assert_eq!(links.get(at), Some(pp), "company {at}");
    }
    for (at, pp) in &links {
        let planted = truth.matches.get(at).or(truth.suggest.get(at));
        assert_eq!(planted, Some(pp), "company {at} matched to a wrong client");
    }
    let suggested: BTreeSet<i64> = truth
        .suggest
        .keys()
        .filter(|at| !links.contains_key(at))
        .copied()
        .collect();
    let create: BTreeSet<i64> = companies.create.iter().map(|id| id.0).collect();
    let expected_create: BTreeSet<i64> = truth.create.union(&suggested).copied().collect();
    assert_eq!(create, expected_create);
    let exclude: BTreeSet<i64> = companies.exclude.iter().map(|id| id.0).collect();
    assert_eq!(exclude, truth.exclude);
    assert!(companies.linked.is_empty());
    let o = &plan.overview[&Entity::Companies];
    assert_eq!(o.to_match as usize, links.len());
    assert_eq!(o.to_create as usize, expected_create.len());
    assert_eq!(o.to_exclude as usize, truth.exclude.len());

    // Fuzzy pairs not matched automatically wait as suggestions: one cell turns them into a match.
    let table = read_table(&run.path("review/companies.create.csv"));
    let header = &table[0];
    let (at_col, pp_col) = (col(header, "autotask_id"), col(header, "passportal_id"));
    for at in &suggested {
        let row = table[1..]
            .iter()
            .find(|r| r[at_col] == at.to_string())
            .expect("suggested row in create table");
        assert_eq!(row[pp_col], truth.suggest[at].to_string(), "{row:?}");
    }

    // Ambiguous rows wait in the create table, saying so, with both candidates shown.
    let table = read_table(&run.path("review/companies.create.csv"));
    let header = &table[0];
    let (at, reason, runner) = (
        col(header, "autotask_id"),
        col(header, "reason"),
        col(header, "runner_up_id"),
    );
    for id in &truth.ambiguous {
        let row = table[1..]
            .iter()
            .find(|r| r[at] == id.to_string())
            .expect("ambiguous row in create table");
        assert!(row[reason].starts_with("ambiguous"), "{row:?}");
        if !row[runner].is_empty() {
            assert_ne!(row[runner], row[col(header, "passportal_id")]);
        }
    }

    let (_, load) = t.app.load(Some(&run.id)).await.expect("load");
    let counts = &load.entities[&Entity::Companies];
    assert_eq!(counts.created as usize, expected_create.len());
    assert_eq!(counts.linked as usize, links.len());
    assert_eq!(counts.failed, 0);
    assert_eq!(
        t.world.passportal.clients().len(),
        clients_before + expected_create.len()
    );
    let creates_after_load = t.world.passportal.creates();

    // Every child entity and the resources end as planted: planted pairs matched (never a
    // wrong one), new records created, out-of-scope ones excluded with their reason.
    let all = &t.world.msp.truth;
    for (entity, truth) in [
        (Entity::Resources, &all.resources),
        (Entity::Locations, &all.locations),
        (Entity::Contacts, &all.contacts),
        (Entity::ConfigurationItems, &all.assets),
    ] {
        let p = &plan.entities[&entity];
        let links: BTreeMap<i64, i64> = p
            .link
            .iter()
            .map(|l| (l.autotask_id.0, l.passportal_id.0))
            .collect();
        assert_eq!(links, truth.matches, "{entity}: matches");
        let create: BTreeSet<i64> = p.create.iter().map(|id| id.0).collect();
        assert_eq!(create, truth.create, "{entity}: creates");
        let exclude: BTreeSet<i64> = p.exclude.iter().map(|id| id.0).collect();
        assert_eq!(exclude, truth.exclude, "{entity}: exclusions");
        let c = &load.entities[&entity];
        assert_eq!(c.created as usize, truth.create.len(), "{entity}: created");
        assert_eq!(c.failed, 0, "{entity}: failed");
    }

    // Every matched and created company is linked in the ledger, to a client that exists.
    {
        let ledger = Ledger::open(&t.app.staging.ledger_path()).expect("ledger");
        let ledger_links = ledger.links(Entity::Companies).expect("links");
        assert_eq!(ledger_links.len(), links.len() + expected_create.len());
        let existing: BTreeSet<i64> = t.world.passportal.clients().iter().map(|c| c.id).collect();
        for (at, link) in &ledger_links {
            assert!(existing.contains(&link.passportal_id.0), "{at} → {link:?}");
            if let Some(planted) = truth.matches.get(&at.0) {
                assert_eq!(link.passportal_id.0, *planted);
            }
        }
    }

    // A second load of the same run creates nothing.
    let (_, again) = t.app.load(Some(&run.id)).await.expect("second load");
    assert!(again
        .entities
        .values()
        .all(|c| c.created == 0 && c.failed == 0));
    assert_eq!(t.world.passportal.creates(), creates_after_load);

    // A new run finds everything linked: nothing to create but the excluded stay excluded.
    let (run2, _) = t.app.extract().await.expect("second extract");
    t.app.match_run(Some(&run2.id)).expect("second match");
    let (_, plan2) = t.app.plan(Some(&run2.id)).expect("second plan");
    let o2 = &plan2.overview[&Entity::Companies];
    assert_eq!(o2.to_create, 0);
    assert_eq!(o2.to_match, 0);
    assert_eq!(
        o2.already_linked as usize,
        links.len() + expected_create.len()
    );
    assert_eq!(o2.to_exclude as usize, truth.exclude.len());

    t.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staging_is_private_checksummed_and_complete() {
    let t = TestWorld::start(&MspSpec::demo(3)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let manifest = run.manifest().expect("manifest");
    assert_eq!(manifest.run_id, run.id);
    assert_eq!(manifest.pipeline, "demo");
    assert_eq!(
        manifest.schema_version,
        atpp::store::staging::SCHEMA_VERSION
    );
    for stage in ["extract", "match"] {
        let record = &manifest.stages[stage];
        assert!(!record.files.is_empty());
        for (file, rec) in &record.files {
            let path = run.path(file);
            assert_eq!(
                atpp::store::staging::sha256_file(&path).unwrap(),
                rec.sha256,
                "{file}"
            );
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} is private");
        }
    }
    let mode = std::fs::metadata(&run.dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // No temporary files are left behind.
    let leftovers: Vec<_> = files_under(&run.dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn readme_first_command_runs_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atpp"))
        .arg("demo")
        .current_dir(dir.path())
        .output()
        .expect("atpp runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("to create"), "{stdout}");
    assert!(stdout.contains("companies"), "{stdout}");
    assert!(stdout.contains("Run folder:"), "{stdout}");
    assert!(dir.path().join("staging/demo/state.duckdb").is_file());
    // Run twice: the demo starts over instead of tripping on the last demo's ledger.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_atpp"))
        .arg("demo")
        .current_dir(dir.path())
        .output()
        .expect("atpp runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().nth(3),
        stdout.lines().nth(3)
    );
}
