//! The people, streets and dates of a generated MSP: first and last names (accented and not),
//! the e-mail and phone forms made from them, location names, street names and creation times.
//! Kept apart from the records that use them (`children`) so the vocabulary reads in one place.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub(super) const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Zoë",
    "José",
    "Renée",
    "Björn",
    "Siobhán",
    "Łukasz",
    "Aoife",
    "Priya",
    "Wei",
    "Yusuf",
];
pub(super) const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "O'Brien",
    "Müller",
    "Nguyen",
    "Kowalski",
    "Søndergaard",
    "Dubois",
    "Rossi",
    "Tanaka",
];
pub(super) const LOCATION_NAMES: &[&str] = &[
    "Main Office",
    "Warehouse",
    "North Branch",
    "South Branch",
    "Annex",
    "Clinic",
    "Data Center",
    "Showroom",
];
pub(super) const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Pine Rd",
    "Elm St",
    "Market St",
    "Lake Dr",
];

pub(super) fn person(rng: &mut ChaCha8Rng) -> (String, String) {
    (
        FIRST[rng.gen_range(0..FIRST.len())].to_string(),
        LAST[rng.gen_range(0..LAST.len())].to_string(),
    )
}

pub(super) fn email_of(first: &str, last: &str, domain: &str) -> String {
    let clean = |s: &str| {
        deunicode::deunicode(s)
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    };
    format!("{}.{}@{domain}", clean(first), clean(last))
}

pub(super) fn phone(rng: &mut ChaCha8Rng) -> String {
    format!(
        "({:03}) 555-{:04}",
        rng.gen_range(200..999),
        rng.gen_range(0..10_000)
    )
}

pub(super) fn stamp(rng: &mut ChaCha8Rng) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + Duration::seconds(rng.gen_range(0..(9 * 365 * 86_400)))
}
