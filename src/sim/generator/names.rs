//! Company names for a generated MSP: a vocabulary large enough for hundreds of thousands of
//! distinct companies, the variant forms Passportal holds them under (case, legal forms,
//! accents, `&`/`and` — all undone by normalisation), the fuzzy variants that need a careful
//! matcher (typos, abbreviations, reordered or dropped words), and near-miss distractors that
//! are different companies ("North Star Dental" / "North Shore Dental").

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

const PLACES: &[&str] = &[
    "North Star",
    "Blue Ridge",
    "Summit",
    "Evergreen",
    "Harbor",
    "Riverside",
    "Pinnacle",
    "Cedar",
    "Lakeside",
    "Granite",
    "Silver Creek",
    "Oak Hill",
    "Maple",
    "Redwood",
    "Sunrise",
    "Iron Gate",
    "Bright Path",
    "Clearwater",
    "Golden Gate",
    "Highland",
    "Meadowbrook",
    "Stonebridge",
    "Willow",
    "Falcon",
    "Crescent",
    "Bayview",
    "Prairie",
    "Copper Canyon",
    "Westfield",
    "Eastgate",
    "Café Lumière",
    "Zürich",
    "Łódź",
    "Søndergaard",
    "Crème",
    "São Paulo",
    "Montréal",
    "Ålesund",
    "Smith & Jones",
    "Baker & Wright",
    "Patel & Young",
    "Garcia & Lee",
];

const ADJECTIVES: &[&str] = &[
    "Blue", "Red", "Golden", "Silver", "Green", "Bright", "Swift", "Noble", "Royal", "Grand",
    "Prime", "True", "Bold", "Quiet", "Rapid", "Clear", "Open", "Great", "Little", "Ancient",
];

const NOUNS: &[&str] = &[
    "Oak", "Pine", "River", "Valley", "Hill", "Stone", "Bridge", "Lake", "Peak", "Field", "Brook",
    "Anchor", "Ridge", "Creek", "Forest", "Meadow", "Canyon", "Coast", "Island", "Spring",
];

const SURNAMES: &[&str] = &[
    "Kowalski",
    "Hernandez",
    "Fitzgerald",
    "Okafor",
    "Lindqvist",
    "Nakamura",
    "Abernathy",
    "Castellano",
    "Delacroix",
    "Ivanova",
    "Mbeki",
    "Oyelaran",
    "Pemberton",
    "Quintero",
    "Rasmussen",
    "Schreiber",
    "Thorvaldsen",
    "Underwood",
    "Vasquez",
    "Whitfield",
];

const TRADES: &[&str] = &[
    "Dental",
    "Plumbing",
    "Law",
    "Accounting",
    "Veterinary Clinic",
    "Logistics",
    "Construction",
    "Realty",
    "Insurance",
    "Family Practice",
    "Architects",
    "Auto Repair",
    "Bakery",
    "Consulting",
    "Engineering",
    "Marketing",
    "Pharmacy",
    "Orthodontics",
    "Landscaping",
    "Brewing",
    "Physiotherapy",
    "Printing",
    "Roofing",
    "Electric",
    "Foods",
    "Medical",
    "Capital",
    "Freight",
    "Optometry",
    "Hospitality",
    "International Trading",
    "Property Management",
    "Manufacturing",
    "Distribution",
    "Imaging",
    "Dermatology",
    "Pediatrics",
    "Wealth Advisors",
    "Title",
    "Staffing",
];

const QUALIFIERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "Group",
    "Partners",
    "Associates",
    "Services",
    "Solutions",
    "Studio",
    "Works",
    "Supply",
    "Systems",
    "Holdings",
    "Labs",
];

const LEGAL_FORMS: &[&str] = &["Inc", "LLC", "Ltd", "Corp", "Co", "GmbH"];

/// Full words the fuzzy variants abbreviate, with their abbreviation.
const ABBREVIATE: &[(&str, &str)] = &[
    ("International", "Intl"),
    ("Management", "Mgmt"),
    ("Services", "Svcs"),
    ("Associates", "Assoc"),
    ("Manufacturing", "Mfg"),
    ("Engineering", "Eng"),
    ("Medical", "Med"),
    ("Distribution", "Dist"),
];

/// Near-miss replacements: a different company, not a typo of this one.
const NEAR_MISS: &[(&str, &str)] = &[
    ("Star", "Shore"),
    ("Summit", "Sunset"),
    ("Harbor", "Heritage"),
    ("Cedar", "Cypress"),
    ("Granite", "Garnet"),
    ("Oak", "Elm"),
    ("Peak", "Park"),
    ("Blue", "Black"),
    ("Golden", "Garden"),
    ("Dental", "Dermatology"),
    ("Plumbing", "Printing"),
    ("Realty", "Reliance"),
];

/// Draws company names never handed out before.
pub(super) struct NameSource {
    used: HashSet<String>,
    vocabulary: HashSet<String>,
}

impl NameSource {
    pub(super) fn new() -> Self {
        let vocabulary = PLACES
            .iter()
            .chain(ADJECTIVES)
            .chain(NOUNS)
            .chain(SURNAMES)
            .chain(TRADES)
            .chain(QUALIFIERS)
            .flat_map(|w| w.split_whitespace())
            .map(str::to_lowercase)
            .collect();
        NameSource {
            used: HashSet::new(),
            vocabulary,
        }
    }

    fn prefix(rng: &mut ChaCha8Rng) -> String {
        match rng.gen_range(0..10) {
            0..=3 => PLACES.choose(rng).expect("non-empty").to_string(),
            4..=7 => format!(
                "{} {}",
                ADJECTIVES.choose(rng).expect("non-empty"),
                NOUNS.choose(rng).expect("non-empty")
            ),
            _ => SURNAMES.choose(rng).expect("non-empty").to_string(),
        }
    }

    /// A fresh company name: prefix, trade, maybe a qualifier, sometimes a legal form. Unique
    /// on its words (never two companies that differ only by a legal form or letter case), but
    /// different companies may share a prefix and trade ("Blue Oak Dental" and "Blue Oak Dental
    /// Group"), as real tenants have them.
    pub(super) fn fresh(&mut self, rng: &mut ChaCha8Rng) -> String {
        loop {
            let prefix = Self::prefix(rng);
            let trade = TRADES.choose(rng).expect("non-empty");
            let qualifier = QUALIFIERS.choose(rng).expect("non-empty");
            let name = format!("{prefix} {trade} {qualifier}").trim().to_string();
            if self.reserve(&name) {
                if rng.gen_bool(0.25) {
                    let form = LEGAL_FORMS.choose(rng).expect("non-empty");
                    return format!("{name} {form}");
                }
                return name;
            }
        }
    }

    /// Mark a name as taken, legal form aside (a distractor must not be another company's
    /// name); false when it already was.
    pub(super) fn reserve(&mut self, name: &str) -> bool {
        self.used.insert(core(name).to_lowercase())
    }

    /// A typo in one long word that does not turn it into another word of the vocabulary.
    fn typo(&self, base: &str, rng: &mut ChaCha8Rng) -> Option<String> {
        let words: Vec<&str> = base.split(' ').collect();
        let long: Vec<usize> = (0..words.len())
            .filter(|i| words[*i].chars().count() >= 6 && words[*i].is_ascii())
            .collect();
        let &i = long.choose(rng)?;
        let w = words[i];
        let pos = rng.gen_range(1..w.len() - 1);
        let mut chars: Vec<char> = w.chars().collect();
        match rng.gen_range(0..3) {
            0 => {
                chars.remove(pos);
            }
            1 => chars.swap(pos, pos + 1),
            _ => chars.insert(pos, chars[pos]),
        }
        let typo: String = chars.into_iter().collect();
        if typo == w || self.vocabulary.contains(&typo.to_lowercase()) {
            return None;
        }
        let mut out = words.clone();
        out[i] = &typo;
        Some(out.join(" "))
    }

    /// A fuzzy variant of `base` (a true pair a careful matcher must find): a typo, an
    /// abbreviation, or the words reordered.
    pub(super) fn fuzzy_variant(&self, base: &str, rng: &mut ChaCha8Rng) -> Option<String> {
        for _ in 0..6 {
            let v = match rng.gen_range(0..3) {
                0 => self.typo(base, rng),
                1 => ABBREVIATE
                    .iter()
                    .find(|(full, _)| base.split(' ').any(|w| w == *full))
                    .map(|(full, abbr)| base.replacen(full, abbr, 1)),
                _ => {
                    // Reorder the name's own words; a legal form stays last.
                    let core = core(base);
                    let form = base[core.len()..].to_string();
                    let mut words: Vec<&str> = core.split(' ').collect();
                    (words.len() >= 3).then(|| {
                        words.rotate_left(1);
                        format!("{}{form}", words.join(" "))
                    })
                }
            };
            if let Some(v) = v.filter(|v| v != base) {
                return Some(v);
            }
        }
        None
    }

    /// A different company whose name looks like `base`: one word swapped for a near miss.
    pub(super) fn near_miss(&mut self, base: &str) -> Option<String> {
        let base = core(base);
        let (from, to) = NEAR_MISS
            .iter()
            .find(|(from, _)| base.split(' ').any(|w| w == *from))?;
        let name = base
            .split(' ')
            .map(|w| if w == *from { *to } else { w })
            .collect::<Vec<_>>()
            .join(" ");
        self.reserve(&name).then_some(name)
    }
}

/// A name without its trailing legal form ("Acme Dental LLC" → "Acme Dental").
fn core(name: &str) -> &str {
    match name.rsplit_once(' ') {
        Some((rest, last)) if LEGAL_FORMS.contains(&last) => rest,
        _ => name,
    }
}

/// A variant form in which Passportal may hold a company that Autotask holds as `base`; every
/// one normalises to the same name as `base`.
pub(super) fn variant_name(base: &str, rng: &mut ChaCha8Rng) -> String {
    let has_amp = base.contains('&');
    let has_accent = deunicode::deunicode(base) != base;
    loop {
        let v = match rng.gen_range(0..7) {
            0 => base.to_uppercase(),
            1 => format!("{base} Corporation"),
            2 => format!("{base} Corp."),
            3 => format!("{base}, Inc."),
            4 if has_amp => base.replace('&', "and"),
            5 if has_accent => deunicode::deunicode(base),
            6 => format!("The {base} LLC"),
            _ => continue,
        };
        if v != base {
            return v;
        }
    }
}
