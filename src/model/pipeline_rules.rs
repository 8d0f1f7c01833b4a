//! The limits a pipeline file's values must keep, checked when the file is read rather than
//! discovered mid-run (a `max_attempts = 0` that fails the first request, an `overlap_secs` that
//! re-reads a month every night, a secret pasted where an environment variable's name belongs).
//! Every refusal names the key; none repeats the value, which could be a secret — the same holds
//! for the TOML parser's own errors, which are reduced to the key, the line and what was expected.

use crate::model::pipeline::{Pipeline, Thresholds};

/// The longest `extract.overlap_secs` accepted: a week. Stamps land out of order by seconds or
/// minutes; more than a week is a mistake (a unit slip) that would re-read everything nightly.
pub const MAX_OVERLAP_SECS: u64 = 7 * 24 * 3600;

/// Records per Autotask query page: Autotask's own limit.
const AUTOTASK_PAGE_SIZES: std::ops::RangeInclusive<u32> = 1..=500;

/// Results per Passportal page: large pages lose records on real instances (a public tool lost
/// clients to one 1000-per-page call; 100 is advised), so past 1000 is refused.
const PASSPORTAL_PAGE_SIZES: std::ops::RangeInclusive<u32> = 1..=1000;

/// The most nights a failed create is tried again before it waits for a person: a month.
pub const MAX_CREATE_ATTEMPTS: u32 = 31;

/// A value the pipeline may not have: the key (dotted, as in the file) and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: String,
    pub rule: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.key, self.rule)
    }
}

fn refuse(key: &str, rule: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        key: key.to_string(),
        rule: rule.into(),
    })
}

fn at_least_one(key: &str, value: u64) -> Result<(), Refusal> {
    if value == 0 {
        return refuse(key, "must be at least 1");
    }
    Ok(())
}

fn share(key: &str, value: f64) -> Result<(), Refusal> {
    if !(0.0..=1.0).contains(&value) {
        return refuse(key, "is a share: it must be between 0 and 1");
    }
    Ok(())
}

/// Whether text can be an environment variable's name (`^[A-Za-z_][A-Za-z0-9_]*$`).
pub fn is_variable_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn variable_name(key: &str, value: &str) -> Result<(), Refusal> {
    if !is_variable_name(value) {
        return refuse(
            key,
            "must be the name of an environment variable (letters, digits and _); its value \
             looks like a secret, not a variable name, and is not shown",
        );
    }
    Ok(())
}

/// A URL may not carry a user name or password: they would end up in logs and manifests.
fn no_userinfo(key: &str, url: &str) -> Result<(), Refusal> {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return refuse(
            key,
            "must not carry a user name or password (the value is not shown); credentials \
             come from the environment variables named by the `*_env` keys",
        );
    }
    Ok(())
}

fn thresholds(entity: &str, t: &Thresholds) -> Result<(), Refusal> {
    let key = |field: &str| format!("matching.{entity}.{field}");
    for (field, value) in [("suggest", t.suggest), ("auto_match", t.auto_match)] {
        if !(0.0..=100.0).contains(&value) {
            return refuse(&key(field), "is a score: it must be between 0 and 100");
        }
    }
    if t.suggest > t.auto_match {
        return refuse(
            &key("suggest"),
            "must not be above auto_match (0 <= suggest <= auto_match <= 100)",
        );
    }
    if !(0.0..=100.0).contains(&t.ambiguity_margin) {
        return refuse(
            &key("ambiguity_margin"),
            "is in score points: it must be between 0 and 100",
        );
    }
    Ok(())
}

/// Check every value with a limit; the first one out of bounds is refused.
pub fn check(p: &Pipeline) -> Result<(), Refusal> {
    let a = &p.autotask;
    for (key, value) in [
        ("autotask.username_env", &a.username_env),
        ("autotask.integration_code_env", &a.integration_code_env),
        ("autotask.secret_env", &a.secret_env),
        ("passportal.key_id_env", &p.passportal.key_id_env),
        ("passportal.secret_env", &p.passportal.secret_env),
    ] {
        variable_name(key, value)?;
    }
    no_userinfo("autotask.discovery_url", &a.discovery_url)?;
    if !AUTOTASK_PAGE_SIZES.contains(&a.page_size) {
        return refuse(
            "autotask.page_size",
            "must be between 1 and 500 (Autotask's limit)",
        );
    }
    at_least_one("autotask.max_attempts", a.max_attempts.into())?;
    at_least_one("autotask.timeout_secs", a.timeout_secs)?;

    let pp = &p.passportal;
    no_userinfo("passportal.base_url", &pp.base_url)?;
    if !PASSPORTAL_PAGE_SIZES.contains(&pp.page_size) {
        return refuse(
            "passportal.page_size",
            "must be between 1 and 1000 (large pages lose records; 100 is advised)",
        );
    }
    at_least_one("passportal.max_attempts", pp.max_attempts.into())?;
    at_least_one("passportal.timeout_secs", pp.timeout_secs)?;
    at_least_one("passportal.requests_per_sec", pp.requests_per_sec.into())?;
    at_least_one("passportal.concurrency", pp.concurrency as u64)?;
    if !(1..=super::pipeline::MAX_BATCH_SIZE).contains(&pp.batch_size) {
        return refuse(
            "passportal.batch_size",
            format!(
                "must be between 1 and {} (1: one document per request)",
                super::pipeline::MAX_BATCH_SIZE
            ),
        );
    }
    if pp.renew_before_secs < 0 {
        return refuse("passportal.renew_before_secs", "must be at least 0");
    }
    let id_field = &pp.templates.id_field;
    if id_field.trim().is_empty()
        || id_field.trim() != id_field
        || id_field.chars().any(char::is_control)
    {
        return refuse(
            "passportal.templates.id_field",
            "must be the label of a template field, e.g. \"Autotask ID\" (not empty, no \
             leading or trailing spaces)",
        );
    }

    let x = &p.extract;
    if x.overlap_secs > MAX_OVERLAP_SECS {
        return refuse(
            "extract.overlap_secs",
            format!("must be at most {MAX_OVERLAP_SECS} (7 days)"),
        );
    }
    if !(1..=3).contains(&x.max_in_flight_per_endpoint) {
        return refuse(
            "extract.max_in_flight_per_endpoint",
            "must be 1 to 3 (Autotask refuses a fourth)",
        );
    }
    at_least_one("extract.parallel_entities", x.parallel_entities as u64)?;
    at_least_one("extract.batch_rows", x.batch_rows as u64)?;
    share("extract.max_deleted_share", x.max_deleted_share)?;
    if let Some(v) = x.max_threshold_share {
        share("extract.max_threshold_share", v)?;
    }

    let m = &p.matching;
    for (entity, t) in [
        ("companies", &m.companies),
        ("resources", &m.resources),
        ("contacts", &m.contacts),
        ("locations", &m.locations),
        ("configuration_items", &m.configuration_items),
    ] {
        thresholds(entity, t)?;
    }

    at_least_one("load.concurrency", p.load.concurrency as u64)?;
    if !(1..=MAX_CREATE_ATTEMPTS).contains(&p.run.max_create_attempts) {
        refuse(
            "run.max_create_attempts",
            format!(
                "must be between 1 and {MAX_CREATE_ATTEMPTS} (nights a failed create is retried)"
            ),
        )?;
    }
    Ok(())
}

/// The TOML parser's error, reduced to what cannot be a secret: the key (from `path`, as serde
/// walked it), the line and column, and the parser's message with any quoted value taken out.
pub fn describe_parse_error(text: &str, path: &str, e: &toml::de::Error) -> String {
    let mut key = match path {
        "" | "." | "?" => None,
        path => Some(path.to_string()),
    };
    let mut at = String::new();
    if let Some(span) = e.span() {
        let before = &text[..span.start.min(text.len())];
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        let column = before.len() - start + 1;
        at = format!(" (line {line}, column {column})");
        // A syntax error has no path: name the key the line begins with (never what follows).
        let line_text = text[start..].lines().next().unwrap_or_default();
        if let Some((name, _)) = line_text.split_once('=') {
            let name = name.trim();
            let bare = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
            if key.is_none() && !name.is_empty() && name.chars().all(bare) {
                key = Some(name.to_string());
            }
        }
    }
    let key = key.map(|k| format!("`{k}`: ")).unwrap_or_default();
    format!("{key}{}{at}", without_values(e.message()))
}

/// Serde's messages quote the offending value ("invalid type: string \"…\", expected u32",
/// "unknown variant `…`, expected one of …"): keep what was wrong and what was expected.
fn without_values(message: &str) -> String {
    let message = message.trim();
    for lead in [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ] {
        if let Some(rest) = message.strip_prefix(lead) {
            return match rest.find(", expected") {
                Some(i) => format!("{lead}{}", &rest[i..]),
                None => lead.to_string(),
            };
        }
    }
    message.replace('\n', "; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_and_secrets_are_told_apart() {
        for name in ["AUTOTASK_SECRET", "_X", "a1"] {
            assert!(is_variable_name(name), "{name}");
        }
        for text in ["", "1ABC", "sk-live-4f9a", "abc def", "p@ss", "ÄBC"] {
            assert!(!is_variable_name(text), "{text}");
        }
    }

    #[test]
    fn quoted_values_are_taken_out_of_parser_messages() {
        assert_eq!(
            without_values("invalid type: string \"hunter2\", expected u32"),
            "invalid type, expected u32"
        );
        assert_eq!(
            without_values("unknown variant `hunter2`, expected `csv` or `xlsx`"),
            "unknown variant, expected `csv` or `xlsx`"
        );
        assert_eq!(
            without_values("unknown field `concurency`, expected one of `concurrency`"),
            "unknown field `concurency`, expected one of `concurrency`"
        );
    }
}
