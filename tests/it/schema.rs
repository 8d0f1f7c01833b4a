//! The schema table (`model::schema`) is the one declaration of each entity: the review tables
//! show exactly its `shown` columns with the staged values, and the load's request bodies carry
//! exactly its template fields, so adding a field is one line there.

use crate::harness::{col, read_table, TestWorld};
use atpp::model::entity::Entity;
use atpp::model::schema::Schema;
use atpp::sim::generator::MspSpec;
use atpp::stages::extract::autotask::read_columns;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_tables_and_request_bodies_follow_the_schema_table() {
    let t = TestWorld::start(&MspSpec::demo(5)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");

    for entity in Entity::ALL {
        let schema = Schema::of(*entity);
        let shown: Vec<(&str, &str)> = schema.review_columns().collect();
        let columns: Vec<&str> = shown.iter().map(|(c, _)| *c).collect();
        let staged = read_columns(&run.path(entity.autotask_file()), &columns).expect("staged");
        let mut checked = 0;
        for table in ["match", "create", "exclude"] {
            let rows = read_table(&run.path(&format!("review/{entity}.{table}.csv")));
            let header = &rows[0];
            let at = col(header, "autotask_id");
            for (i, (column, title)) in shown.iter().enumerate() {
                let c = col(header, title);
                for row in &rows[1..] {
                    let id: i64 = row[at].parse().expect("id");
                    let want = staged[&id][i].clone().unwrap_or_default();
                    assert_eq!(
                        row[c], want,
                        "{entity}.{table} {id}: {column} shown as {title}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 0, "{entity}: some shown cell was checked");
    }

    // The bodies a load would send carry the schema's template fields and nothing else but the
    // Autotask id.
    t.app.plan(Some(&run.id)).expect("plan");
    let (_, summary) = t.app.load_with(Some(&run.id), true).await.expect("dry run");
    let docs: Vec<&String> = summary
        .dry_run_requests
        .iter()
        .filter(|r| r.contains("/api/v2/documents"))
        .collect();
    assert!(!docs.is_empty(), "the demo creates documents");
    let labels: Vec<&str> = Entity::ALL
        .iter()
        .flat_map(|e| Schema::of(*e).template_fields().map(|(_, l)| l))
        .chain([atpp::model::schema::fields::AUTOTASK_ID])
        .collect();
    for request in docs {
        // "POST /path {body}", and "  # ..." after it when the parent is created in the same load.
        let body = request
            .split_once(' ')
            .unwrap()
            .1
            .split_once(' ')
            .unwrap()
            .1;
        let body = body.split("  # ").next().unwrap();
        let body: serde_json::Value = serde_json::from_str(body).expect("the body is JSON");
        // One document, or a batch of them.
        let documents = match body {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for document in &documents {
            for f in document["fields"].as_array().expect("fields") {
                let name = f["name"].as_str().expect("a label");
                assert!(
                    labels.contains(&name),
                    "{name} is not declared in the schema table"
                );
            }
        }
    }
}

/// Each entity's match spec derives from the schema table: its rule reads exactly the table's
/// match keys (each a staged column), and a pipeline's thresholds and scope reach the spec of
/// the entity they were written for.
#[test]
fn match_specs_agree_with_the_schema_table_and_the_pipeline() {
    use atpp::model::pipeline::Pipeline;
    use atpp::stages::matching::{MatchSpec, Within};
    use std::collections::BTreeSet;
    use std::path::Path;

    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/migration.toml"),
    )
    .expect("migration.toml");
    // Give every entity its own auto-match threshold, so a spec reading another's shows.
    let sections: String = Entity::ALL
        .iter()
        .enumerate()
        .filter(|(_, e)| **e != Entity::Companies)
        .map(|(i, e)| format!("\n[matching.{e}]\nauto_match = {}\nsuggest = 70\n", 80 + i))
        .collect();
    let pipeline = Pipeline::parse(&(base + &sections), Path::new("specs.toml")).expect("parses");
    let specs = MatchSpec::all(&pipeline);
    assert_eq!(
        specs.iter().map(|s| s.entity).collect::<Vec<_>>(),
        Entity::ALL.to_vec(),
        "one spec per entity, parents first"
    );
    for (i, spec) in specs.iter().enumerate() {
        let entity = spec.entity;
        let schema = Schema::of(entity);
        let keys: BTreeSet<&str> = schema.match_keys.iter().copied().collect();
        for c in spec.rule.blocking() {
            assert!(keys.contains(c), "{entity}: blocks on {c}, not a match key");
        }
        for c in &keys {
            let field = schema.field(c).expect("a declared column");
            assert!(
                field.wire.is_some(),
                "{entity}: {c} is staged from the wire"
            );
        }
        assert_eq!(spec.within == Within::ParentClient, entity.is_child());
        let want = if entity == Entity::Companies {
            pipeline.matching.companies.auto_match
        } else {
            (80 + i) as f64
        };
        assert_eq!(
            spec.thresholds.auto_match, want,
            "{entity}: its own thresholds"
        );
    }
    let items = &specs[4];
    assert_eq!(items.types, pipeline.extract.configuration_item_types);
    assert_eq!(specs[0].types, pipeline.sync.company_types);
}
