//! "Autotask wins" (`[load] update_matched = true`): matched documents, clients and users whose
//! Autotask-owned fields differ are updated, and only then — a run with nothing changed updates
//! nothing.

use crate::harness::TestWorld;
use atpp::api::passportal::fields;
use atpp::model::entity::Entity;
use atpp::sim::generator::MspSpec;
use atpp::store::ledger::{Ledger, WriteState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matched_documents_are_updated_only_when_autotask_differs() {
    let mut t = TestWorld::start(&MspSpec::demo(41)).await;
    t.app.pipeline.load.update_matched = true;
    let contacts = t.world.msp.truth.contacts.matches.clone();
    // A contact whose Passportal copy has the e-mail in capitals (a planted variant).
    let (contact, doc) = t
        .world
        .msp
        .passportal
        .documents
        .iter()
        .find_map(|d| {
            let email = d.field(fields::EMAIL)?;
            let at = contacts.iter().find(|(_, pp)| **pp == d.id)?.0;
            (email != email.to_lowercase()).then_some((*at, d.id))
        })
        .expect("a planted contact with an upper-case e-mail");

    let (run, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&run.id)).unwrap();
    t.app.plan(Some(&run.id)).unwrap();
    let (_, load) = t.app.load(Some(&run.id)).await.unwrap();
    let updated = load.entities[&Entity::Contacts].updated;
    assert!(updated > 0, "{:?}", load.entities);
    assert_eq!(load.failed(), 0);
    let email = t.world.passportal.with_instance(|i| {
        let d = i.documents.iter().find(|d| d.id == doc).unwrap();
        (
            d.field(fields::EMAIL).map(str::to_string),
            d.field(fields::AUTOTASK_ID).map(str::to_string),
        )
    });
    let planted = t
        .world
        .msp
        .autotask
        .contacts
        .iter()
        .find(|c| c.id == contact)
        .unwrap();
    assert_eq!(
        email.0,
        planted.email_address.clone(),
        "Autotask's e-mail wins"
    );
    assert_eq!(
        email.1,
        Some(contact.to_string()),
        "the Autotask ID is written"
    );

    // Nothing changed in Autotask: the next run updates nothing.
    let (run2, _) = t.app.extract().await.unwrap();
    t.app.match_run(Some(&run2.id)).unwrap();
    t.app.plan(Some(&run2.id)).unwrap();
    let (_, load2) = t.app.load(Some(&run2.id)).await.unwrap();
    let again: u64 = load2.entities.values().map(|c| c.updated).sum();
    assert_eq!(again, 0, "{:?}", load2.entities);
}

/// Clients and users follow Autotask too: a company renamed and a resource whose last name and
/// e-mail changed in Autotask are renamed in Passportal by the next load (asserted from the
/// simulator), the updates are in the ledger, and a night with nothing changed updates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_and_users_follow_autotask_renames() {
    let mut t = TestWorld::start(&MspSpec::demo(43)).await;
    t.app.pipeline.load.update_matched = true;
    night(&t.app).await;
    let ledger = || Ledger::open(&t.app.staging.ledger_path()).unwrap();
    let company_links = ledger().links(Entity::Companies).unwrap();
    let user_links = ledger().links(Entity::Resources).unwrap();
    let (&company, client) = company_links.iter().next().expect("a linked company");
    let (&resource, user) = user_links.iter().next().expect("a linked resource");
    t.world.autotask.with_tenant(|tenant| {
        let c = tenant
            .companies
            .iter_mut()
            .find(|c| c.id == company.0)
            .unwrap();
        c.company_name = "Quillon Harbour Logistics".into();
        c.last_tracked_modified_date_time = chrono::Utc::now();
        let r = tenant
            .resources
            .iter_mut()
            .find(|r| r.id == resource.0)
            .unwrap();
        r.last_name = "Okonkwo-Hale".into();
        r.email = Some("t.okonkwo-hale@example.net".into());
    });

    let load = night(&t.app).await;
    assert!(
        load.entities[&Entity::Companies].updated >= 1,
        "{:?}",
        load.entities
    );
    assert!(
        load.entities[&Entity::Resources].updated >= 1,
        "{:?}",
        load.entities
    );
    let (name, held_user) = t.world.passportal.with_instance(|i| {
        let c = i.clients.iter().find(|c| c.id == client.passportal_id.0);
        let u = i.users.iter().find(|u| u.id == user.passportal_id.0);
        (c.unwrap().name.clone(), u.unwrap().clone())
    });
    assert_eq!(name, "Quillon Harbour Logistics", "Autotask's name wins");
    assert_eq!(held_user.last_name, "Okonkwo-Hale");
    assert_eq!(
        held_user.email.as_deref(),
        Some("t.okonkwo-hale@example.net")
    );
    let recorded = ledger()
        .write_records(Entity::Companies, atpp::stages::load::UPDATE)
        .unwrap();
    assert_eq!(
        recorded.get(&company).map(|r| r.state),
        Some(WriteState::Done),
        "the update is in the ledger"
    );

    // Nothing changed since: no update, no request to an update route.
    let updates = t.world.passportal.updates();
    let load = night(&t.app).await;
    let again: u64 = load.entities.values().map(|c| c.updated).sum();
    assert_eq!(again, 0, "{:?}", load.entities);
    assert_eq!(t.world.passportal.updates(), updates);
}

/// Extract, match, plan and load one run; no row may fail.
async fn night(app: &atpp::commands::app::App) -> atpp::stages::load::LoadSummary {
    let (run, _) = app.extract().await.unwrap();
    app.match_run(Some(&run.id)).unwrap();
    app.plan(Some(&run.id)).unwrap();
    let (_, load) = app.load(Some(&run.id)).await.unwrap();
    assert_eq!(load.failed(), 0, "{:?}", load.errors);
    load
}
