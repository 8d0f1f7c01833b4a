//! "Autotask wins" (`[load] update_matched = true`): matched documents whose Autotask-owned
//! fields differ are updated, and only then — a second run with nothing changed updates nothing.

use crate::harness::TestWorld;
use atpp::api::passportal::fields;
use atpp::model::entity::Entity;
use atpp::sim::generator::MspSpec;

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
