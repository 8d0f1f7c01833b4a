//! Comparison levels for the fields people and places are recorded with: given and family names
//! (equal, Jaro–Winkler bands, nickname or initial), addresses, cities, postal codes, phone
//! numbers (digits only) and e-mail addresses. Each function returns the level a pair of values
//! falls into (0 = agrees best), or `None` when either side is blank: a blank is unknown, never a
//! disagreement.

use super::normalize::words;

/// Given names that are the same person's ("Bob" is "Robert"), each group once.
const NICKNAMES: &[&[&str]] = &[
    &["robert", "bob", "rob", "bobby", "robbie"],
    &["william", "bill", "will", "billy", "liam"],
    &["richard", "rick", "dick", "rich", "ricky"],
    &["james", "jim", "jimmy", "jamie"],
    &["john", "jack", "johnny", "jon"],
    &["joseph", "joe", "joey"],
    &["michael", "mike", "mick", "mickey"],
    &["thomas", "tom", "tommy"],
    &["charles", "charlie", "chuck"],
    &["christopher", "chris", "kit"],
    &["daniel", "dan", "danny"],
    &["david", "dave", "davey"],
    &["edward", "ed", "eddie", "ted", "ned"],
    &["anthony", "tony"],
    &["andrew", "andy", "drew"],
    &["stephen", "steven", "steve"],
    &["matthew", "matt"],
    &["nicholas", "nick", "nicky"],
    &["benjamin", "ben", "benny"],
    &["samuel", "sam", "sammy"],
    &["alexander", "alex", "sandy"],
    &["jonathan", "jon", "jonny"],
    &["patrick", "pat", "paddy"],
    &["peter", "pete"],
    &["timothy", "tim", "timmy"],
    &["gregory", "greg"],
    &["lawrence", "larry"],
    &["kenneth", "ken", "kenny"],
    &["ronald", "ron", "ronnie"],
    &["donald", "don", "donny"],
    &["elizabeth", "liz", "beth", "betty", "lizzie", "eliza"],
    &["margaret", "maggie", "meg", "peggy", "marge"],
    &[
        "catherine",
        "katherine",
        "kate",
        "cathy",
        "kathy",
        "katie",
        "kat",
    ],
    &["jennifer", "jen", "jenny"],
    &["rebecca", "becky", "becca"],
    &["susan", "sue", "susie"],
    &["patricia", "pat", "patty", "trish"],
    &["deborah", "debbie", "deb"],
    &["victoria", "vicky", "tori"],
    &["jessica", "jess", "jessie"],
    &["samantha", "sam", "sammy"],
    &["alexandra", "alex", "sandra", "lexi"],
    &["christine", "chris", "chrissy", "tina"],
    &["abigail", "abby", "abbey"],
    &["isabella", "bella", "izzy"],
    &["olivia", "liv", "livvy"],
];

fn nicknames(a: &str, b: &str) -> bool {
    NICKNAMES
        .iter()
        .any(|group| group.contains(&a) && group.contains(&b))
}

/// A text folded for comparison (lower-case ASCII words joined by one space), or none if blank.
pub fn fold(s: Option<&str>) -> Option<String> {
    let w = words(s?);
    (!w.is_empty()).then(|| w.join(" "))
}

/// The digits of a phone number, when there are enough to be one (7 or more).
pub fn phone_digits(s: Option<&str>) -> Option<String> {
    let d: String = s?.chars().filter(char::is_ascii_digit).collect();
    (d.len() >= 7).then_some(d)
}

/// An e-mail address folded for comparison.
pub fn email_key(e: Option<&str>) -> Option<String> {
    e.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty())
}

/// Labels of [`name_level`].
pub const NAME_LEVELS: &[&str] = &[
    "equal",
    "Jaro-Winkler >= 0.92",
    "nickname or initial",
    "Jaro-Winkler >= 0.80",
    "differs",
];

/// A personal name (given or family): equal, close, nickname or initial, similar, different.
pub fn name_level(a: Option<&str>, b: Option<&str>) -> Option<u8> {
    let (a, b) = (a?, b?);
    if a == b {
        return Some(0);
    }
    let jw = strsim::jaro_winkler(a, b);
    if jw >= 0.92 {
        return Some(1);
    }
    let initial = (a.len() == 1 || b.len() == 1) && a.chars().next() == b.chars().next();
    if initial || nicknames(a, b) {
        return Some(2);
    }
    Some(if jw >= 0.8 { 3 } else { 4 })
}

/// Labels of [`text_level`].
pub const TEXT_LEVELS: &[&str] = &[
    "equal",
    "Jaro-Winkler >= 0.90",
    "Jaro-Winkler >= 0.75",
    "differs",
];

/// A free text (address line, city): equal, close, similar, different.
pub fn text_level(a: Option<&str>, b: Option<&str>) -> Option<u8> {
    let (a, b) = (a?, b?);
    if a == b {
        return Some(0);
    }
    let jw = strsim::jaro_winkler(a, b);
    Some(if jw >= 0.9 {
        1
    } else if jw >= 0.75 {
        2
    } else {
        3
    })
}

/// Labels of [`code_level`].
pub const CODE_LEVELS: &[&str] = &["equal", "one character off", "differs"];

/// A code (postal code): equal, one typo apart, different.
pub fn code_level(a: Option<&str>, b: Option<&str>) -> Option<u8> {
    let (a, b) = (a?, b?);
    Some(if a == b {
        0
    } else if strsim::osa_distance(a, b) == 1 {
        1
    } else {
        2
    })
}

/// Labels of [`equal_level`].
pub const EQUAL_LEVELS: &[&str] = &["equal", "differs"];

/// An identifier-like value (phone digits, e-mail, state): equal or not.
pub fn equal_level(a: Option<&str>, b: Option<&str>) -> Option<u8> {
    Some(u8::from(a? != b?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_levels() {
        assert_eq!(name_level(Some("kayla"), Some("kayla")), Some(0));
        assert_eq!(name_level(Some("harrington"), Some("harringtn")), Some(1));
        assert_eq!(name_level(Some("bob"), Some("robert")), Some(2));
        assert_eq!(name_level(Some("k"), Some("kayla")), Some(2));
        assert_eq!(name_level(Some("kayla"), Some("zoe")), Some(4));
        assert_eq!(name_level(None, Some("zoe")), None);
        assert_eq!(code_level(Some("3465"), Some("3456")), Some(1));
        assert_eq!(
            phone_digits(Some("(555) 010-2030")).as_deref(),
            Some("5550102030")
        );
        assert_eq!(
            fold(Some("  Maltby  Circuit ")).as_deref(),
            Some("maltby circuit")
        );
    }
}
