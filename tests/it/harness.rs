//! Shared test scaffolding: a world of simulators with a temporary staging folder, and helpers
//! to edit review tables the way an analyst's spreadsheet would.

use atpp::commands::app::App;
use atpp::commands::demo::{World, DEMO_PIPELINE};
use atpp::sim::autotask::AutotaskSimOptions;
use atpp::sim::generator::MspSpec;
use atpp::sim::passportal::PassportalSimOptions;
use std::path::Path;

pub struct TestWorld {
    pub world: World,
    pub app: App,
    /// Kept so the staging folder lives as long as the world.
    pub _dir: tempfile::TempDir,
}

impl TestWorld {
    pub async fn start(spec: &MspSpec) -> TestWorld {
        Self::start_with(
            spec,
            AutotaskSimOptions::default(),
            PassportalSimOptions::default(),
        )
        .await
    }

    pub async fn start_with(
        spec: &MspSpec,
        autotask: AutotaskSimOptions,
        passportal: PassportalSimOptions,
    ) -> TestWorld {
        let dir = tempfile::tempdir().expect("temp dir");
        let world = World::start(spec, 0, 0, autotask, passportal)
            .await
            .expect("simulators start");
        let pipeline = world
            .pipeline(&by_hand_pipeline(), &dir.path().join("staging"))
            .expect("demo pipeline");
        let app = world.app(pipeline).expect("app");
        TestWorld {
            world,
            app,
            _dir: dir,
        }
    }

    /// Assert neither simulator saw a request its contract does not have.
    pub fn assert_no_unexpected_requests(&self) {
        assert_eq!(
            self.world.autotask.unexpected().take(),
            Vec::<String>::new()
        );
        assert_eq!(
            self.world.passportal.unexpected().take(),
            Vec::<String>::new()
        );
    }
}

/// The demo pipeline with `approval = "manual"`: the stages driven by hand, as a migration is,
/// so every proposal stands in the tables as written (no row is held back as `review`) and an
/// analyst's `plan` applies it. The tests of the load and the review tables start from this.
pub fn by_hand_pipeline() -> String {
    let text = DEMO_PIPELINE.replace("approval = \"auto\"", "approval = \"manual\"");
    assert_ne!(text, DEMO_PIPELINE, "the demo pipeline sets approval");
    text
}

/// A review table as rows of cells (header first), BOM removed.
pub fn read_table(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("table readable");
    let text = text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.expect("valid csv").iter().map(str::to_string).collect())
        .collect()
}

/// Write rows back as plain CSV (no BOM, LF), as many editors do.
pub fn write_table(path: &Path, rows: &[Vec<String>]) {
    let mut w = csv::Writer::from_path(path).expect("writable");
    for row in rows {
        w.write_record(row).expect("write");
    }
    w.flush().expect("flush");
}

/// The index of a column in a header row.
pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// Every file below a folder.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("readable folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
