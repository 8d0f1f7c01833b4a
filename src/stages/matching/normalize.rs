//! Name normalisation: the form in which "ACME Corporation", "Acme Corp." and "Acme, Inc." are
//! the same company. Case, accents (Ł, Ø, ß too), punctuation, `&`/`and`, a leading or inverted ("Smith Co, The") "The" and
//! legal forms standing as a separate first or last word are folded away — never stripping a
//! name to nothing, and keeping "(UK)"-style qualifiers.

/// Legal forms folded away when they stand as a separate first or last word.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "sarl",
    "bv",
    "nv",
    "pty",
    "plc",
    "srl",
    "oy",
    "ab",
];

fn is_legal_form(word: &str) -> bool {
    LEGAL_FORMS.contains(&word)
}

/// Lower-case ASCII words of a text: accents folded, `&` read as "and", periods and apostrophes
/// dropped inside words (so "L.L.C." is "llc" and "O'Brien" is "obrien"), other punctuation a
/// word break.
pub fn words(text: &str) -> Vec<String> {
    let folded = deunicode::deunicode(&text.replace('&', " and ")).to_lowercase();
    let mut out = Vec::new();
    let mut word = String::new();
    for ch in folded.chars() {
        if ch.is_ascii_alphanumeric() {
            word.push(ch);
        } else if ch == '.' || ch == '\'' {
            continue;
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Split off parenthesised qualifiers: "Acme Ltd (UK)" → ("Acme Ltd ", ["UK"]).
fn split_qualifiers(name: &str) -> (String, Vec<String>) {
    let mut base = String::new();
    let mut quals = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for ch in name.chars() {
        match ch {
            '(' | '[' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    quals.push(std::mem::take(&mut current));
                    continue;
                }
            }
            _ => {}
        }
        if depth > 0 {
            current.push(ch);
        } else {
            base.push(ch);
        }
    }
    if !current.is_empty() {
        base.push_str(&current);
    }
    (base, quals)
}

/// The normalised words of a company name.
pub fn company_words(name: &str) -> Vec<String> {
    let (base, quals) = split_qualifiers(name);
    let mut w = base_words(&base);
    for q in quals {
        w.extend(words(&q));
    }
    if w.is_empty() {
        // Nothing alphanumeric at all: fall back to the lower-cased text so names stay distinct.
        return vec![name.trim().to_lowercase()];
    }
    w
}

/// The normalised words of a company name without its parenthesised qualifiers ("Acme Ltd
/// (Denver)" → "acme"), or none when that leaves nothing or there were no qualifiers.
pub fn company_base(name: &str) -> Option<String> {
    let (base, quals) = split_qualifiers(name);
    let w = base_words(&base);
    (!quals.is_empty() && !w.is_empty()).then(|| w.join(" "))
}

/// A name's words with a leading or inverted article ("Smith Co, The") and legal forms folded.
fn base_words(base: &str) -> Vec<String> {
    let mut w = words(base);
    if w.len() > 1 && w[0] == "the" {
        w.remove(0);
    }
    if w.len() > 1
        && w.last().is_some_and(|l| l == "the")
        && base.trim_end().to_lowercase().ends_with(", the")
    {
        w.pop();
    }
    // Trailing legal forms, repeatedly ("Pty Ltd"), and a dangling "and" ("Smith & Co").
    while w.len() > 1
        && (is_legal_form(w.last().expect("non-empty")) || w.last() == Some(&"and".to_string()))
    {
        w.pop();
    }
    if w.len() > 1 && is_legal_form(&w[0]) {
        w.remove(0);
    }
    w
}

/// The normalised form of a company name, words joined by single spaces.
pub fn company_name(name: &str) -> String {
    company_words(name).join(" ")
}

#[cfg(test)]
mod tests {
    use super::company_name as n;

    #[test]
    fn variants_of_one_company_normalise_alike() {
        let want = "acme";
        for v in [
            "Acme Corp",
            "ACME Corporation",
            "Acme Corp.",
            "Acme, Inc.",
            "The Acme LLC",
            "acme l.l.c.",
            "Acme Pty Ltd",
            "Acme GmbH",
        ] {
            assert_eq!(n(v), want, "{v}");
        }
        assert_eq!(n("Smith & Jones"), n("Smith and Jones"));
        assert_eq!(n("Café Lumière"), n("Cafe Lumiere"));
        assert_eq!(n("Łódź Søndergaard Straße"), "lodz sondergaard strasse");
        assert_eq!(n("Smith & Co"), "smith");
        assert_eq!(n("Smith Co, The"), n("The Smith Company"));
        assert_eq!(n("Theatre, The"), "theatre");
    }

    #[test]
    fn never_strips_to_nothing_and_keeps_qualifiers() {
        assert_eq!(n("Limited"), "limited");
        assert_eq!(n("The Company"), "company");
        assert_eq!(n("Co"), "co");
        assert_eq!(n("Acme Ltd (UK)"), "acme uk");
        assert_ne!(n("Acme (UK)"), n("Acme (US)"));
        assert_eq!(n("!!!"), "!!!");
        assert_eq!(
            super::company_base("Acme Ltd (Denver)").as_deref(),
            Some("acme")
        );
        assert_eq!(super::company_base("Acme Ltd"), None);
    }

    #[test]
    fn legal_words_inside_a_name_stay() {
        assert_eq!(n("Company Store Inc"), "store");
        assert_eq!(n("Blue Co Dental"), "blue co dental");
    }
}
