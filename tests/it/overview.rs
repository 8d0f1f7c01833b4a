//! `plan` writes `review/overview.html`: its counts are plan.json's, its charts show every
//! candidate pair's score with the run's thresholds, its waiting rows point at real table rows;
//! and a real headless browser draws it without any script or network error.

use crate::harness::{col, read_table, TestWorld};
use atpp::sim::generator::MspSpec;
use atpp::stages::plan::overview::OVERVIEW_FILE;
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// One element of the page: name, attributes, and the text directly inside it.
#[derive(Debug, Clone)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
}

/// Parse the page as XML (it is written well-formed): every element in document order.
fn elements(html: &str) -> Vec<Element> {
    let mut reader = quick_xml::Reader::from_str(html);
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let element = |e: &quick_xml::events::BytesStart| Element {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("attribute");
                (
                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                    a.unescape_value().expect("attribute value").into_owned(),
                )
            })
            .collect(),
        text: String::new(),
    };
    loop {
        match reader.read_event().expect("the page is well-formed") {
            Event::Start(e) => {
                out.push(element(&e));
                open.push(out.len() - 1);
            }
            Event::Empty(e) => out.push(element(&e)),
            Event::End(_) => {
                open.pop();
            }
            Event::Text(t) => {
                if let Some(i) = open.last() {
                    out[*i].text.push_str(&t.decode().expect("text"));
                }
            }
            Event::GeneralRef(r) => {
                let name: &[u8] = &r;
                let c = match name {
                    b"amp" => "&",
                    b"lt" => "<",
                    b"gt" => ">",
                    b"quot" => "\"",
                    b"apos" => "'",
                    other => panic!("entity {:?}", String::from_utf8_lossy(other)),
                };
                if let Some(i) = open.last() {
                    out[*i].text.push_str(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_are_the_plans() {
    let t = TestWorld::start(&MspSpec::demo(51)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    let (_, plan) = t.app.plan(Some(&run.id)).expect("plan");
    let html = std::fs::read_to_string(run.path(OVERVIEW_FILE)).expect("overview written");
    let els = elements(&html);
    // Self-contained: nothing to fetch, nothing to run.
    for e in &els {
        assert!(
            !["script", "link", "img", "iframe", "object", "embed"].contains(&e.name.as_str()),
            "{e:?}"
        );
        for (k, v) in &e.attrs {
            assert!(!k.starts_with("on"), "{e:?}");
            if ["href", "src", "xlink:href"].contains(&k.as_str()) {
                assert!(!v.contains(':') && !v.starts_with("//"), "{e:?}");
            }
        }
    }

    // Counts per entity and action: exactly plan.json's.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.path("plan/plan.json")).unwrap()).unwrap();
    let overview = json["overview"].as_object().expect("plan.json overview");
    let mut seen = 0;
    let mut entity = String::new();
    for e in &els {
        if e.name == "tr" {
            if let Some(name) = e.attrs.get("data-entity") {
                entity = name.clone();
            }
        }
        if e.name == "td" {
            if let Some(key) = e.attrs.get("data-count") {
                let want = overview[&entity][key]
                    .as_u64()
                    .expect("a count in plan.json");
                assert_eq!(e.text.parse::<u64>().unwrap(), want, "{entity} {key}");
                seen += 1;
            }
        }
    }
    let keys: usize = overview
        .values()
        .map(|o| o.as_object().unwrap().len())
        .sum();
    assert_eq!(seen, keys, "every count of plan.json is on the page");
    assert_eq!(overview.len(), plan.overview.len());

    // One chart per entity: its bars hold every score the tables show, its thresholds are the
    // pipeline's.
    for entity in plan.overview.keys() {
        let name = entity.as_str();
        let mut scores = 0u64;
        for action in ["match", "create", "exclude"] {
            let table = read_table(&run.path(&format!("review/{name}.{action}.csv")));
            for c in ["score", "runner_up_score"] {
                let i = col(&table[0], c);
                scores += table[1..].iter().filter(|r| !r[i].is_empty()).count() as u64;
            }
        }
        let svg = els
            .iter()
            .position(|e| e.name == "svg" && e.attrs.get("data-entity") == Some(&name.to_string()))
            .unwrap_or_else(|| panic!("a chart of {name}"));
        let in_chart: Vec<&Element> = els[svg + 1..]
            .iter()
            .take_while(|e| e.name != "svg")
            .collect();
        let bars: u64 = in_chart
            .iter()
            .filter(|e| e.attrs.get("class").map(String::as_str) == Some("bar"))
            .map(|e| e.attrs["data-count"].parse::<u64>().unwrap())
            .sum();
        assert_eq!(bars, scores, "{name}: every pair's score is in the chart");
        let t_of = |class: &str| -> f64 {
            in_chart
                .iter()
                .find(|e| e.attrs.get("class").map(String::as_str) == Some(class))
                .unwrap_or_else(|| panic!("{name}: {class} line"))
                .attrs["data-score"]
                .parse()
                .unwrap()
        };
        assert_eq!(t_of("threshold suggest"), 75.0);
        assert_eq!(t_of("threshold auto-match"), 94.0);
    }

    // The warnings are listed; every waiting row links to its table, and that row of the table
    // holds that record.
    for w in &plan.warnings {
        assert!(
            els.iter()
                .any(|e| e.name == "li" && e.text.contains(w.as_str())),
            "warning {w:?} on the page"
        );
    }
    let waiting: Vec<&Element> = els
        .iter()
        .filter(|e| e.name == "li" && e.attrs.contains_key("data-autotask-id"))
        .collect();
    assert!(!waiting.is_empty(), "the demo has uncertain rows");
    let links: Vec<&Element> = els.iter().filter(|e| e.name == "a").collect();
    assert_eq!(links.len(), waiting.len());
    for (li, a) in waiting.iter().zip(&links) {
        let href = &a.attrs["href"];
        let (file, row) = a.text.split_once(" row ").expect("file row N");
        assert_eq!(file, href);
        let table = read_table(&run.dir.join("review").join(href));
        let row: usize = row.parse().unwrap();
        let at = col(&table[0], "autotask_id");
        assert_eq!(
            &table[row - 1][at],
            &li.attrs["data-autotask-id"],
            "{href} row {row}"
        );
    }
}

/// Pixels of a colour (within a small tolerance) in a PNG screenshot.
fn count_colour(png: &[u8], rgb: [u8; 3]) -> usize {
    let (bpp, rows) = decode_png(png);
    rows.iter()
        .flat_map(|r| r.chunks(bpp))
        .filter(|p| p.iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 6))
        .count()
}

/// A non-interlaced 8-bit RGB or RGBA PNG as (bytes per pixel, rows of pixels).
fn decode_png(png: &[u8]) -> (usize, Vec<Vec<u8>>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (mut pos, mut data) = (8, Vec::new());
    let (mut w, mut h, mut bpp) = (0usize, 0usize, 0usize);
    while pos + 8 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &png[pos + 4..pos + 8];
        let body = &png[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!(body[8], 8, "8-bit");
                bpp = match body[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(body[12], 0, "not interlaced");
            }
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    use std::io::Read;
    flate2::read::ZlibDecoder::new(&data[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = w * bpp;
    let mut rows: Vec<Vec<u8>> = Vec::with_capacity(h);
    for y in 0..h {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, line) = (line[0], &line[1..]);
        let prev = rows.last().cloned().unwrap_or_else(|| vec![0; stride]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let p = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                4 => {
                    let pa = (b as i16 - c as i16).abs();
                    let pb = (a as i16 - c as i16).abs();
                    let pc = (a as i16 + b as i16 - 2 * c as i16).abs();
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            cur[i] = line[i].wrapping_add(p);
        }
        rows.push(cur);
    }
    (bpp, rows)
}

/// Chromium, installed the way CI installs it when it is missing.
fn chromium() -> Option<&'static str> {
    let found = || {
        ["chromium", "chromium-browser"].into_iter().find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    };
    if let Some(c) = found() {
        return Some(c);
    }
    let _ = std::process::Command::new("apt-get")
        .args(["install", "-y", "-qq", "chromium"])
        .status();
    found()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_draws_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        println!("SKIPPED: chromium is not installed and apt-get could not install it");
        return;
    };
    let t = TestWorld::start(&MspSpec::demo(52)).await;
    let (run, _) = t.app.extract().await.expect("extract");
    t.app.match_run(Some(&run.id)).expect("match");
    t.app.plan(Some(&run.id)).expect("plan");
    let page = run.path(OVERVIEW_FILE);
    let out = tempfile::tempdir().unwrap();
    let shot = out.path().join("overview.png");
    let result = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,1800",
        ])
        .arg(format!(
            "--user-data-dir={}",
            out.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let log = String::from_utf8_lossy(&result.stderr);
    assert!(shot.is_file(), "no screenshot:\n{log}");
    for bad in [
        "CONSOLE",
        "Uncaught",
        "Refused to",
        "Content Security Policy",
        "ERR_",
    ] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(bad)).collect();
        assert!(
            lines.is_empty(),
            "the browser logged {bad}:\n{}",
            lines.join("\n")
        );
    }
    let png = std::fs::read(&shot).unwrap();
    // The charts' bars and both thresholds are drawn (their colours are nowhere else).
    let bars = count_colour(&png, [0x30, 0x60, 0xc0]);
    let suggest = count_colour(&png, [0xe0, 0x70, 0x00]);
    let auto = count_colour(&png, [0x20, 0x80, 0x40]);
    println!("screenshot pixels: bars {bars}, suggest {suggest}, auto-match {auto}");
    assert!(bars > 500, "the bars are drawn ({bars} pixels)");
    assert!(
        suggest > 50,
        "the suggest thresholds are drawn ({suggest} pixels)"
    );
    assert!(
        auto > 50,
        "the auto-match thresholds are drawn ({auto} pixels)"
    );
}
