//! Incremental runs read only what changed since the watermark (minus the overlap) and advance
//! the watermark only after the stage succeeded; `--full-refresh` ignores it. Deletion sweeps
//! stage the linked records gone from Autotask, and refuse a mass deletion.

use super::app_with;
use crate::harness::TestWorld;
use atpp::commands::app::ExtractOptions;
use atpp::model::entity::Entity;
use atpp::model::ids::{AutotaskId, PassportalId};
use atpp::sim::generator::MspSpec;
use atpp::stages::extract::autotask::{read_contacts, read_deleted, Mode, CONTACTS, DELETED};
use atpp::store::ledger::Ledger;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;

fn watermark(app: &atpp::commands::app::App, entity: Entity) -> Option<DateTime<Utc>> {
    let ledger = Ledger::open(&app.staging.ledger_path()).expect("ledger");
    ledger.watermark(entity).expect("watermark")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_run_picks_up_planted_changes_and_nothing_else() {
    let t = TestWorld::start(&MspSpec::demo(19)).await;
    let sim = &t.world.autotask;
    let app = app_with(&t, "nightly", |p| {
        p.extract.incremental = true;
        p.extract.overlap_secs = 120;
        p.autotask.max_attempts = 2;
    });
    let at = &t.world.msp.autotask;

    // The first run has no watermark: everything, in full; the watermark is the latest stamp.
    let (_, first) = app.extract().await.expect("first extract");
    assert!(first.autotask.values().all(|e| e.mode == Mode::Full));
    let max_contact = at
        .contacts
        .iter()
        .map(|c| c.last_modified_date)
        .max()
        .unwrap();
    let max_ci = at
        .configuration_items
        .iter()
        .map(|c| c.last_modified_time)
        .max()
        .unwrap();
    assert_eq!(watermark(&app, Entity::Contacts), Some(max_contact));
    assert_eq!(watermark(&app, Entity::ConfigurationItems), Some(max_ci));

    // Plant changes: two contacts edited, one added, one device's serial changed.
    let (edited, added) = sim.with_tenant(|tenant| {
        let mut edited = Vec::new();
        for i in [5, 40] {
            let c = &mut tenant.contacts[i];
            c.title = Some("Practice Manager".into());
            c.last_modified_date = max_contact + Duration::hours(1 + i as i64);
            edited.push(c.id);
        }
        let mut new = tenant.contacts[0].clone();
        new.id = tenant.contacts.last().unwrap().id + 7;
        new.first_name = "Newly".into();
        new.last_modified_date = max_contact + Duration::days(2);
        tenant.contacts.push(new.clone());
        let ci = &mut tenant.configuration_items[3];
        ci.serial_number = Some("SN-CHANGED-0001".into());
        ci.last_modified_time = max_ci + Duration::minutes(5);
        (edited, new.id)
    });
    // What the window must return: stamps after the watermark minus the overlap (the overlap
    // re-reads the last records of the previous run on purpose).
    let since = max_contact - Duration::seconds(120);
    let want: BTreeSet<i64> = sim.with_tenant(|tenant| {
        tenant
            .contacts
            .iter()
            .filter(|c| c.last_modified_date > since)
            .map(|c| c.id)
            .collect()
    });
    assert!(want.contains(&added) && edited.iter().all(|id| want.contains(id)));
    assert!(
        want.len() <= edited.len() + 1 + 3,
        "the overlap holds a few records at most"
    );

    let (second, run) = app.extract().await.expect("incremental extract");
    let contacts = read_contacts(&second.path(CONTACTS)).unwrap();
    let got: BTreeSet<i64> = contacts.iter().map(|c| c.id).collect();
    assert_eq!(got, want);
    let c = contacts.iter().find(|c| c.id == edited[0]).unwrap();
    assert_eq!(c.title.as_deref(), Some("Practice Manager"));
    assert_eq!(run.autotask["contacts"].mode, Mode::Since { since });
    assert!(run.autotask["configuration_items"].rows >= 1);
    // Entities without a change stamp are read in full every time.
    for key in ["resources", "company_locations", "configuration_item_types"] {
        assert_eq!(run.autotask[key].mode, Mode::Full, "{key}");
    }
    assert_eq!(run.autotask["resources"].rows as usize, at.resources.len());
    let newest = max_contact + Duration::days(2);
    assert_eq!(watermark(&app, Entity::Contacts), Some(newest));

    // A run that fails does not move the watermark.
    sim.with_tenant(|tenant| {
        tenant.contacts[9].last_modified_date = newest + Duration::days(1);
    });
    sim.fail_endpoint_after("Contacts", 0);
    app.extract().await.expect_err("contacts are down");
    sim.heal();
    assert_eq!(watermark(&app, Entity::Contacts), Some(newest));

    // --full-refresh reads everything, whatever the watermark.
    let (_, full) = app
        .extract_with(ExtractOptions {
            full_refresh: true,
            ..ExtractOptions::default()
        })
        .await
        .expect("full refresh");
    assert_eq!(full.autotask["contacts"].mode, Mode::Full);
    assert_eq!(
        full.autotask["contacts"].rows as usize,
        at.contacts.len() + 1
    );
    assert_eq!(
        watermark(&app, Entity::Contacts),
        Some(newest + Duration::days(1))
    );
    t.assert_no_unexpected_requests();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_stages_deletions_and_refuses_a_mass_deletion() {
    let t = TestWorld::start(&MspSpec::demo(23)).await;
    let sim = &t.world.autotask;
    let app = app_with(&t, "sweeps", |p| {
        p.extract.incremental = true;
        p.extract.sweep_deletions = true;
        p.extract.max_deleted_share = 0.1;
        p.autotask.page_size = 100;
    });
    let (first, _) = app.extract().await.expect("first extract");
    assert!(read_deleted(&first.path(DELETED)).unwrap().is_empty());

    // Everything is linked to Passportal (as after a load).
    let at = &t.world.msp.autotask;
    {
        let ledger = Ledger::open(&app.staging.ledger_path()).unwrap();
        let link = |ids: Vec<i64>| -> Vec<(AutotaskId, PassportalId, &str)> {
            ids.into_iter()
                .map(|id| (AutotaskId(id), PassportalId(900_000 + id), "test"))
                .collect()
        };
        let companies = link(at.companies.iter().map(|c| c.id).collect());
        ledger
            .link_many(Entity::Companies, &companies, &first.id)
            .unwrap();
        let contacts = link(at.contacts.iter().map(|c| c.id).collect());
        ledger
            .link_many(Entity::Contacts, &contacts, &first.id)
            .unwrap();
    }

    // A few deleted in Autotask: the incremental run's sweep finds exactly them.
    let gone: Vec<(Entity, i64)> = sim.with_tenant(|tenant| {
        let mut gone = Vec::new();
        for i in [3, 10, 20] {
            gone.push((Entity::Companies, tenant.companies[i].id));
        }
        for i in [1, 50] {
            gone.push((Entity::Contacts, tenant.contacts[i].id));
        }
        let dead: BTreeSet<(Entity, i64)> = gone.iter().copied().collect();
        tenant
            .companies
            .retain(|c| !dead.contains(&(Entity::Companies, c.id)));
        tenant
            .contacts
            .retain(|c| !dead.contains(&(Entity::Contacts, c.id)));
        gone
    });
    let (second, summary) = app.extract().await.expect("extract with a sweep");
    let mut want = gone.clone();
    want.sort();
    assert_eq!(read_deleted(&second.path(DELETED)).unwrap(), want);
    let companies = &summary.autotask["companies"];
    assert_eq!(companies.swept, Some(at.companies.len() as u64 - 3));
    assert_eq!(companies.deleted, 3);
    assert!(
        companies.requests <= companies.floor + 6,
        "{companies:?}: the sweep costs its pages and little more"
    );
    assert!(companies.deletions_checked);

    // Swept today: a pipeline that sweeps weekly does not sweep again (nor find anything).
    let weekly = app_with(&t, "sweeps", |p| {
        p.extract.incremental = true;
        p.extract.sweep_deletions = true;
        p.extract.sweep_every_days = 7;
        p.autotask.page_size = 100;
    });
    let (third, summary) = weekly.extract().await.expect("extract, no sweep due");
    assert_eq!(summary.autotask["companies"].swept, None);
    assert!(!summary.autotask["companies"].deletions_checked);
    assert!(read_deleted(&third.path(DELETED)).unwrap().is_empty());

    // Most of the companies gone at once is a fault, not a fact.
    sim.with_tenant(|tenant| {
        let keep = tenant.companies.len() * 6 / 10;
        tenant.companies.truncate(keep);
    });
    let err = format!(
        "{:#}",
        app.extract().await.expect_err("mass deletion refused")
    );
    assert!(err.contains("refusing to retire"), "{err}");
    assert!(err.contains("max_deleted_share"), "{err}");
    assert!(err.contains("Companies"), "{err}");
}
