//! The review tables as spreadsheets really save them, and the mistakes analysts really make.
//! Every accepted variation must give exactly the decisions that were written; every refusal
//! must name the file, row and column and change nothing. The variations are produced from the
//! real tables of a real run, the way each program writes them: Excel "CSV UTF-8" (BOM, CRLF),
//! Excel "CSV (Comma delimited)" (Windows-1252, CRLF, unmappable characters as `?`), Excel in a
//! European locale (`;`, Windows-1252), LibreOffice (UTF-8 without BOM, LF, every text cell
//! quoted), tab-delimited text, plus rows reordered, moved between files, an extra column, blank
//! trailing rows and `action` in another case.

use crate::harness::{read_table, TestWorld};
use atpp::model::entity::Entity;
use atpp::sim::generator::MspSpec;
use atpp::stages::plan::Plan;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy)]
pub enum Encoding {
    Utf8Bom,
    Utf8,
    Windows1252,
}

/// How a program writes a table back.
#[derive(Clone, Copy)]
pub struct Save {
    pub encoding: Encoding,
    pub delimiter: u8,
    pub crlf: bool,
    pub quote_all: bool,
}

pub const EXCEL_UTF8: Save = Save {
    encoding: Encoding::Utf8Bom,
    delimiter: b',',
    crlf: true,
    quote_all: false,
};
pub const EXCEL_ANSI: Save = Save {
    encoding: Encoding::Windows1252,
    delimiter: b',',
    crlf: true,
    quote_all: false,
};
pub const EXCEL_EUROPE: Save = Save {
    encoding: Encoding::Windows1252,
    delimiter: b';',
    crlf: true,
    quote_all: false,
};
pub const LIBREOFFICE: Save = Save {
    encoding: Encoding::Utf8,
    delimiter: b',',
    crlf: false,
    quote_all: true,
};
pub const TAB_TEXT: Save = Save {
    encoding: Encoding::Utf8,
    delimiter: b'\t',
    crlf: true,
    quote_all: false,
};

fn to_windows_1252(text: &str) -> Vec<u8> {
    // Excel writes characters the code page lacks as '?'.
    let mappable: String = text
        .chars()
        .map(|c| {
            let (_, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut [0; 4]));
            if unmappable {
                '?'
            } else {
                c
            }
        })
        .collect();
    encoding_rs::WINDOWS_1252.encode(&mappable).0.into_owned()
}

pub fn save(path: &Path, rows: &[Vec<String>], how: Save) {
    let mut w = csv::WriterBuilder::new()
        .delimiter(how.delimiter)
        .terminator(if how.crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .quote_style(if how.quote_all {
            csv::QuoteStyle::NonNumeric
        } else {
            csv::QuoteStyle::Necessary
        })
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(row).unwrap();
    }
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    let bytes = match how.encoding {
        Encoding::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        Encoding::Utf8 => text.into_bytes(),
        Encoding::Windows1252 => to_windows_1252(&text),
    };
    std::fs::write(path, bytes).unwrap();
}

struct Tables {
    dir: PathBuf,
    originals: Vec<(PathBuf, Vec<u8>)>,
}

impl Tables {
    fn new(run_dir: &Path) -> Tables {
        let dir = run_dir.join("review");
        let originals = ["match", "create", "exclude"]
            .iter()
            .map(|a| {
                let p = dir.join(format!("companies.{a}.csv"));
                let bytes = std::fs::read(&p).unwrap();
                (p, bytes)
            })
            .collect();
        Tables { dir, originals }
    }

    fn path(&self, action: &str) -> PathBuf {
        self.dir.join(format!("companies.{action}.csv"))
    }

    fn restore(&self) {
        for (p, bytes) in &self.originals {
            std::fs::write(p, bytes).unwrap();
        }
    }

    /// Rewrite all three files, each transformed and saved the same way.
    fn resave(&self, how: Save, edit: impl Fn(&str, &mut Vec<Vec<String>>)) {
        for action in ["match", "create", "exclude"] {
            let mut rows = read_table(&self.path(action));
            edit(action, &mut rows);
            save(&self.path(action), &rows, how);
        }
    }
}

/// A change an analyst makes to one table (given its action name) before saving.
type Edit = Box<dyn Fn(&str, &mut Vec<Vec<String>>)>;

fn decisions(plan: &Plan) -> String {
    serde_json::to_string(&plan.entities[&Entity::Companies]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_spreadsheet_saves_the_tables_gives_the_same_decisions() {
    let t = TestWorld::start(&MspSpec::demo(21)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let (_, baseline) = t.app.plan(Some(&run.id)).expect("plan as written");
    let tables = Tables::new(&run.dir);
    let want = decisions(&baseline);

    let variations: Vec<(&str, Save, Edit)> = vec![
        ("Excel CSV UTF-8", EXCEL_UTF8, Box::new(|_, _| {})),
        ("Excel CSV (Windows-1252)", EXCEL_ANSI, Box::new(|_, _| {})),
        (
            "Excel, European locale (;)",
            EXCEL_EUROPE,
            Box::new(|_, _| {}),
        ),
        ("LibreOffice (LF, quoted)", LIBREOFFICE, Box::new(|_, _| {})),
        ("tab-delimited text", TAB_TEXT, Box::new(|_, _| {})),
        (
            "rows sorted by name, descending",
            EXCEL_UTF8,
            Box::new(|_, rows| {
                let name = rows[0].iter().position(|h| h == "autotask_name").unwrap();
                rows[1..].sort_by(|a, b| b[name].cmp(&a[name]));
            }),
        ),
        (
            "a notes column and blank trailing rows",
            EXCEL_EUROPE,
            Box::new(|_, rows| {
                rows[0].push("Notes".into());
                for r in rows[1..].iter_mut() {
                    r.push("checked".into());
                }
                let width = rows[0].len();
                rows.push(vec![String::new(); width]);
                rows.push(vec![String::new(); width]);
            }),
        ),
        (
            "action in other cases with stray spaces",
            LIBREOFFICE,
            Box::new(|_, rows| {
                for r in rows[1..].iter_mut() {
                    r[0] = format!("  {} ", r[0].to_uppercase());
                }
            }),
        ),
    ];
    for (what, how, edit) in variations {
        tables.restore();
        tables.resave(how, edit);
        let (_, plan) = t
            .app
            .plan(Some(&run.id))
            .unwrap_or_else(|e| panic!("{what}: refused: {e:#}"));
        assert_eq!(decisions(&plan), want, "{what}: decisions differ");
    }

    // A row moved from one file to another (cut and paste) keeps its decision.
    tables.restore();
    let mut create = read_table(&tables.path("create"));
    let mut exclude = read_table(&tables.path("exclude"));
    let moved = create.remove(1);
    exclude.push(moved);
    save(&tables.path("create"), &create, EXCEL_UTF8);
    save(&tables.path("exclude"), &exclude, EXCEL_UTF8);
    let (_, plan) = t.app.plan(Some(&run.id)).expect("moved row accepted");
    assert_eq!(decisions(&plan), want, "a moved row keeps its action");

    // Excel drops the leading zeros of a phone-like cell: the row no longer shows what was
    // staged, so it is refused naming both cells (never ignored).
    tables.restore();
    tables.resave(EXCEL_UTF8, |action, rows| {
        if action == "create" {
            let phone = rows[0].iter().position(|h| h == "phone").unwrap();
            rows[2][phone] = "3035551234".into();
            rows[5][phone] = "3035559876".into();
        }
    });
    let text = format!("{:#}", t.app.plan(Some(&run.id)).expect_err("edited phone"));
    for row in [3, 6] {
        assert!(
            text.contains(&format!(
                "review/companies.create.csv: row {row}, column phone: phone is \"303555"
            )),
            "{text}"
        );
    }
    tables.restore();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_mistake_is_refused_naming_file_row_and_column() {
    let t = TestWorld::start(&MspSpec::demo(22)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let tables = Tables::new(&run.dir);
    let col = |rows: &Vec<Vec<String>>, name: &str| rows[0].iter().position(|h| h == name).unwrap();

    let cases: Vec<(&str, Edit)> = vec![
        (
            "review/companies.create.csv: row 1, column passportal_id: required column is missing",
            Box::new(move |action, rows| {
                if action == "create" {
                    let c = col(rows, "passportal_id");
                    for r in rows.iter_mut() {
                        r.remove(c);
                    }
                }
            }),
        ),
        (
            "review/companies.create.csv: row 2, column passportal_id: a match needs a Passportal id",
            Box::new(move |action, rows| {
                if action == "create" {
                    let (a, p) = (col(rows, "action"), col(rows, "passportal_id"));
                    rows[1][a] = "match".into();
                    rows[1][p] = String::new();
                }
            }),
        ),
        (
            "column passportal_id: Passportal id",
            Box::new(move |action, rows| {
                // The first two creates both matched to the client of the first match row.
                if action == "create" {
                    let (a, p) = (col(rows, "action"), col(rows, "passportal_id"));
                    for i in [1, 2] {
                        rows[i][a] = "match".into();
                        rows[i][p] = "999999999".into();
                    }
                }
            }),
        ),
        (
            "review/companies.exclude.csv: row 2, column run_id: this row belongs to run \"20200101T000000Z\"",
            Box::new(move |action, rows| {
                if action == "exclude" {
                    let r = col(rows, "run_id");
                    rows[1][r] = "20200101T000000Z".into();
                }
            }),
        ),
        (
            "review/companies.{match,create,exclude}.csv, column autotask_id: 1 Autotask id(s) are missing from every table",
            Box::new(move |action, rows| {
                if action == "match" {
                    rows.remove(1);
                }
            }),
        ),
        (
            "review/companies.create.csv: row 3, column autotask_id: \"12x\" is not an Autotask id",
            Box::new(move |action, rows| {
                if action == "create" {
                    let c = col(rows, "autotask_id");
                    rows[2][c] = "12x".into();
                }
            }),
        ),
    ];
    for (want, edit) in cases {
        tables.restore();
        let _ = std::fs::remove_file(run.path("plan/plan.json"));
        tables.resave(EXCEL_UTF8, edit);
        let err = t.app.plan(Some(&run.id)).expect_err(want);
        let text = format!("{err:#}");
        assert!(text.contains(want), "want {want:?} in:\n{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(
            !run.path("plan/plan.json").exists(),
            "{want}: a plan was written"
        );
    }
    // Two rows matched to one existing client.
    tables.restore();
    let matched = read_table(&tables.path("match"));
    let client = matched[1][col(&matched, "passportal_id")].clone();
    tables.resave(EXCEL_UTF8, |action, rows| {
        if action == "create" {
            let (a, p) = (col(rows, "action"), col(rows, "passportal_id"));
            rows[1][a] = "match".into();
            rows[1][p] = client.clone();
        }
    });
    let text = format!("{:#}", t.app.plan(Some(&run.id)).expect_err("used twice"));
    assert!(
        text.contains(&format!("Passportal id {client} is matched twice")),
        "{text}"
    );
    assert_eq!(t.world.passportal.creates(), 0);
}

/// Names of every awkward kind: formula-looking, quoted, with delimiters and line breaks,
/// non-Latin. Written and read back, the decisions and the names are what was written.
#[test]
fn names_of_any_kind_survive_a_round_trip() {
    use atpp::stages::matching::{Action, Candidate, Method, ReviewRow};
    use rand::{Rng, SeedableRng};
    let pieces = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+1 555",
        "-minus",
        "@SUM(A1)",
        "\t",
        "\r",
        "\"",
        ",",
        ";",
        "\n",
        "'",
        "Łódź",
        "日本語",
        "Ωμέγα",
        "🙂",
        " ",
        "Acme",
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<ReviewRow> = (0..40)
            .map(|i| {
                let name: String = (0..rng.gen_range(1..5))
                    .map(|_| pieces[rng.gen_range(0..pieces.len())])
                    .collect();
                let action = Action::ALL[rng.gen_range(0..3)];
                let best = rng.gen_bool(0.6).then(|| Candidate {
                    passportal_id: rng.gen_range(1..1_000_000),
                    name: name.chars().rev().collect(),
                    score: 80.0,
                    method: Method::Fuzzy,
                });
                ReviewRow {
                    action,
                    best,
                    runner_up: None,
                    autotask_id: i64::from(round) * 1000 + i,
                    autotask_name: name,
                    reason: "test".into(),
                    context: vec![("city", "=cmd|' /C calc'!A0".into())],
                    remembered: false,
                }
            })
            .collect();
        atpp::stages::review::write_tables(dir.path(), "RUN", Entity::Companies, &rows, &[])
            .unwrap();
        let mut back =
            atpp::stages::review::read_decisions(dir.path(), "RUN", Entity::Companies).unwrap();
        back.sort_by_key(|d| d.autotask_id);
        assert_eq!(back.len(), rows.len());
        for (d, r) in back.iter().zip(&rows) {
            assert_eq!(d.autotask_id, r.autotask_id);
            assert_eq!(d.action, r.action);
            assert_eq!(d.passportal_id, r.best.as_ref().map(|c| c.passportal_id));
            assert_eq!(d.cells["autotask_name"], r.autotask_name, "round {round}");
            assert_eq!(d.cells["city"], "=cmd|' /C calc'!A0");
        }
        // No cell of the files starts like a formula.
        for action in ["match", "create", "exclude"] {
            let text =
                std::fs::read_to_string(dir.path().join(format!("review/companies.{action}.csv")))
                    .unwrap();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            for rec in reader.records() {
                for cell in rec.unwrap().iter() {
                    assert!(
                        !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                        "cell {cell:?} would run as a formula"
                    );
                }
            }
        }
    }
}

/// `--format xlsx`: one workbook per run; an analyst's edits in it are read back like the CSV
/// files' (a create turned into an exclude, a suggestion accepted), and a workbook changed after
/// the plan is refused by the load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_is_read_back_like_the_csv_files() {
    use atpp::stages::review::workbook::{read_sheet, WORKBOOK};
    let mut t = TestWorld::start(&MspSpec::demo(23)).await;
    t.app.pipeline.review.format = atpp::model::pipeline::ReviewFormat::Xlsx;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let path = run.path(WORKBOOK);
    assert!(path.is_file());
    assert!(!run.path("review/companies.create.csv").exists());
    let (_, baseline) = t.app.plan(Some(&run.id)).expect("plan as written");

    // Rewrite the workbook with one create excluded, as Excel would save it.
    let mut sheets = Vec::new();
    let book = calamine::open_workbook_auto(&path).unwrap();
    use calamine::Reader;
    for name in book.sheet_names() {
        let mut rows: Vec<Vec<String>> = read_sheet(&path, &name)
            .unwrap()
            .unwrap()
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        if name == "companies.create" {
            rows[1][0] = "Exclude".into();
        }
        sheets.push((name, rows));
    }
    let excluded: i64 = sheets
        .iter()
        .find(|(n, _)| n == "companies.create")
        .map(|(_, rows)| rows[1][2].parse().unwrap())
        .unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in &sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                // Excel keeps ids typed as numbers: write them so.
                match cell.parse::<f64>() {
                    Ok(n) if c == 2 => ws.write_number(r as u32, c as u16, n).map(|_| ()),
                    _ => ws.write_string(r as u32, c as u16, cell).map(|_| ()),
                }
                .unwrap();
            }
        }
    }
    wb.save(&path).unwrap();

    // The load refuses: the workbook changed after the plan.
    let err = t.app.load(Some(&run.id)).await.expect_err("stale");
    assert!(format!("{err:#}").contains("re-run `atpp plan`"), "{err:#}");
    let (_, plan) = t
        .app
        .plan(Some(&run.id))
        .expect("plan of the edited workbook");
    let before = &baseline.entities[&Entity::Companies];
    let after = &plan.entities[&Entity::Companies];
    assert_eq!(after.create.len(), before.create.len() - 1);
    assert!(after
        .exclude
        .contains(&atpp::model::ids::AutotaskId(excluded)));
    assert_eq!(after.link, before.link);
}
