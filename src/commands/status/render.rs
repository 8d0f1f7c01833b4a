//! `atpp status` as text: the one screen an administrator reads the morning after a nightly
//! run (what `gather` found, laid out with counts and sizes a person reads at a glance). Kept
//! apart from the gathering so what is shown and how it is found change separately.

use super::*;

fn counts(map: &BTreeMap<String, u64>) -> String {
    map.iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

/// The status as text.
pub fn render(status: &Status) -> String {
    let mut out = format!("staging folder {}\n", status.staging.display());
    match &status.running {
        Some(h) => out.push_str(&format!("running now: {h}\n")),
        None => out.push_str("running now: nothing\n"),
    }

    out.push_str("\nrecent runs (newest first):\n");
    if status.runs.is_empty() {
        out.push_str("  none yet: run `atpp extract` (or `atpp run`)\n");
    }
    for r in &status.runs {
        out.push_str(&format!(
            "  {:<20} {:<12} {}  stages: {:<24} {}\n",
            r.run_id,
            r.pipeline,
            r.created_at.format("%Y-%m-%d %H:%M UTC"),
            if r.stages.is_empty() {
                "-".to_string()
            } else {
                r.stages.join(",")
            },
            r.outcome
        ));
        let mut parts = vec![format!("{} rows extracted", r.extracted_rows)];
        if !r.proposed.is_empty() {
            parts.push(format!("proposed {}", counts(&r.proposed)));
        }
        if !r.loaded.is_empty() {
            let loaded = counts(&r.loaded);
            parts.push(format!(
                "loaded {}",
                if loaded.is_empty() {
                    "nothing"
                } else {
                    &loaded
                }
            ));
        }
        out.push_str(&format!("  {:<20} {}\n", "", parts.join("; ")));
    }

    out.push_str("\nwaiting for review:\n");
    let review = &status.review;
    let uncertain: u64 = review.latest_waiting.values().sum();
    if let Some(latest) = &review.latest_run {
        if uncertain > 0 {
            out.push_str(&format!(
                "  latest run {latest}: {uncertain} row(s) ambiguous, suggested or held for \
                 review, not applied ({})\n",
                counts(&review.latest_waiting)
            ));
        }
    }
    for u in &review.unplanned_runs {
        out.push_str(&format!(
            "  run {}: {} row(s) in review tables not planned yet (`atpp plan --run {}`)\n",
            u.run_id, u.rows, u.run_id
        ));
    }
    for note in &review.notes {
        out.push_str(&format!("  {note}\n"));
    }
    if uncertain == 0 && review.unplanned_runs.is_empty() && review.notes.is_empty() {
        out.push_str("  nothing\n");
    }

    out.push_str("\norphans (linked records deleted in Autotask; kept in Passportal):\n");
    match &status.orphans {
        Some(o) if !o.is_empty() => {
            for (entity, o) in o {
                let shown: Vec<String> =
                    o.autotask_ids.iter().take(10).map(i64::to_string).collect();
                out.push_str(&format!(
                    "  {entity}: {} (Autotask ids {}{}), the oldest first seen in run {}\n",
                    o.count,
                    shown.join(", "),
                    if o.autotask_ids.len() > 10 {
                        ", ..."
                    } else {
                        ""
                    },
                    o.first_seen_run.as_deref().unwrap_or("?")
                ));
            }
        }
        Some(_) => out.push_str("  none\n"),
        None => out.push_str("  the ledger could not be read\n"),
    }

    let l = &status.ledger;
    out.push_str(&format!(
        "\nledger {}: {}\n",
        l.path.display(),
        human_bytes(l.bytes)
    ));
    if !l.links.is_empty() {
        out.push_str(&format!("  links: {}\n", counts(&l.links)));
    }
    if let Some(id) = &l.last_success {
        out.push_str(&format!("  last load that ended in success: run {id}\n"));
    }
    for (entity, o) in &l.owed_creates {
        out.push_str(&format!(
            "  owed {entity} creates: {} outcome unknown, {} failed (oldest from run {}); the next \
             load reconciles and retries them\n",
            o.unknown,
            o.failed,
            o.oldest_run.as_deref().unwrap_or("?")
        ));
    }
    if let Some(note) = &l.note {
        out.push_str(&format!("  {note}\n"));
    }

    out.push_str(&crate::commands::backlog::render(&status.backlog));
    out.push_str("\nAutotask request threshold:\n");
    match &status.threshold {
        Some(t) => {
            let share = |n: u64| {
                if t.limit == 0 {
                    0.0
                } else {
                    100.0 * n as f64 / t.limit as f64
                }
            };
            out.push_str(&format!(
                "  extract of run {}: {} of {} requests this hour used at its end ({:.1}%), {} at \
                 its start ({:.1}%); it spent {}\n",
                t.run_id,
                t.used_at_end,
                t.limit,
                share(t.used_at_end),
                t.used_at_start,
                share(t.used_at_start),
                t.spent
            ));
        }
        None => out.push_str("  no finished extract yet\n"),
    }
    out
}
