//! `match_all` on small hand-made sides: children follow what their company's decision (or its
//! link) made of it, remembered decisions apply before the children see their parents, the
//! spec's scope excludes, and an entity not staged on both sides is left out.

use super::*;
use crate::model::ids::PassportalId;
use crate::model::pipeline::Thresholds;

fn company(id: i64, name: &str, active: bool) -> CompanyRow {
    CompanyRow {
        id,
        name: name.into(),
        is_active: active,
        ..CompanyRow::default()
    }
}

fn doc(id: i64, client_id: i64, doc_type: &str, title: &str) -> DocumentRow {
    DocumentRow {
        id,
        client_id,
        doc_type: doc_type.into(),
        title: title.into(),
        ..DocumentRow::default()
    }
}

fn sides() -> (AutotaskSide, PassportalSide) {
    let at = AutotaskSide {
        companies: vec![
            company(1, "Acme Plumbing", true),
            company(2, "Globex", false),
        ],
        resources: Some(Vec::new()),
        locations: Some(vec![LocationRow {
            id: 300,
            company_id: Some(3),
            name: Some("Head Office".into()),
            is_active: true,
            ..LocationRow::default()
        }]),
        contacts: Some(vec![
            ContactRow {
                id: 100,
                company_id: Some(1),
                first_name: Some("Ann".into()),
                last_name: Some("Lee".into()),
                email_address: Some("ann@acme.example".into()),
                is_active: true,
                ..ContactRow::default()
            },
            ContactRow {
                id: 200,
                company_id: Some(2),
                first_name: Some("Bo".into()),
                last_name: Some("Chen".into()),
                is_active: true,
                ..ContactRow::default()
            },
        ]),
        configuration_items: Some(vec![ConfigurationItemRow {
            id: 400,
            company_id: Some(1),
            configuration_item_type_label: Some("Printer".into()),
            reference_title: Some("PRN-1".into()),
            is_active: true,
            ..ConfigurationItemRow::default()
        }]),
    };
    let mut contact = doc(1000, 10, "contact", "Ann Lee");
    contact.email = Some("ANN@acme.example".into());
    let pp = PassportalSide {
        clients: vec![
            Client {
                id: 10,
                name: "Acme Plumbing".into(),
            },
            Client {
                id: 11,
                name: "Initech".into(),
            },
        ],
        users: None,
        documents: BTreeMap::from([
            (DocType::Contact, vec![contact]),
            (
                DocType::Location,
                vec![doc(1100, 11, "location", "Head Office")],
            ),
            (DocType::Asset, vec![doc(1200, 10, "asset", "PRN-1")]),
        ]),
    };
    (at, pp)
}

fn specs() -> Vec<MatchSpec> {
    let mut specs: Vec<MatchSpec> = Entity::ALL
        .iter()
        .map(|e| MatchSpec::new(*e, Thresholds::default()))
        .collect();
    specs[4].types = vec!["workstation".into()];
    specs
}

/// Company 3 is not in this (incremental) extract, known by its link to client 11.
fn memory() -> Memory {
    let link = Link {
        passportal_id: PassportalId(11),
        method: "exact".into(),
        run_id: "earlier".into(),
    };
    Memory {
        links: BTreeMap::from([(Entity::Companies, BTreeMap::from([(AutotaskId(3), link)]))]),
        decisions: BTreeMap::new(),
    }
}

fn row(decided: &[Decisions], entity: Entity, id: i64) -> &ReviewRow {
    let d = decided
        .iter()
        .find(|d| d.entity == entity)
        .expect("decided");
    d.rows.iter().find(|r| r.autotask_id == id).expect("a row")
}

#[test]
fn children_follow_their_company_and_its_link_within_its_client() {
    let (at, pp) = sides();
    let decided = match_all(&specs(), &at, &pp, &memory());
    // Resources: no users staged, so not decided at all.
    let entities: Vec<Entity> = decided.iter().map(|d| d.entity).collect();
    assert_eq!(
        entities,
        [
            Entity::Companies,
            Entity::Locations,
            Entity::Contacts,
            Entity::ConfigurationItems
        ]
    );
    let best = |r: &ReviewRow| r.best.as_ref().map(|c| c.passportal_id);
    let acme = row(&decided, Entity::Companies, 1);
    assert_eq!((acme.action, best(acme)), (Action::Match, Some(10)));
    let ann = row(&decided, Entity::Contacts, 100);
    assert_eq!(
        (ann.action, best(ann)),
        (Action::Match, Some(1000)),
        "{ann:?}"
    );
    let bo = row(&decided, Entity::Contacts, 200);
    assert_eq!(bo.action, Action::Exclude);
    assert!(bo.reason.starts_with("parent excluded"), "{}", bo.reason);
    let office = row(&decided, Entity::Locations, 300);
    assert_eq!((office.action, best(office)), (Action::Match, Some(1100)));
    let printer = row(&decided, Entity::ConfigurationItems, 400);
    assert_eq!(printer.action, Action::Exclude);
    assert_eq!(
        printer.reason,
        "configuration item type Printer is not selected"
    );
}

#[test]
fn a_remembered_exclusion_reaches_the_children() {
    let (at, pp) = sides();
    let mut memory = memory();
    memory
        .decisions
        .insert(Entity::Companies, vec![(AutotaskId(1), Action::Exclude)]);
    let decided = match_all(&specs(), &at, &pp, &memory);
    let acme = row(&decided, Entity::Companies, 1);
    assert_eq!((acme.action, acme.remembered), (Action::Exclude, true));
    let ann = row(&decided, Entity::Contacts, 100);
    assert_eq!(ann.action, Action::Exclude);
    assert!(ann.reason.starts_with("parent excluded"), "{}", ann.reason);
}
