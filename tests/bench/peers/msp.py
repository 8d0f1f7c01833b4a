"""A synthetic MSP made independently of atpp's own generator (src/sim/generator), so the
matching bench does not grade atpp on data shaped by atpp's own assumptions.

Each real-world company gets a canonical name; Autotask holds one company per real company,
Passportal holds a client for most of them under a name variant, plus clients Autotask no longer
has. The truth says which client is which company and which companies are new. The variants are
this file's own idea of how MSP staff mistype and restyle names: abbreviations, legal suffix
changes, typos, word order, punctuation, a leading "The", & for "and", accents and other unicode,
and case. Distinct companies with nearly the same name (siblings, franchise branches, a client
named like a new company but for another trade) are there to be told apart, not matched.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from faker import Faker

LEGAL = ["Inc", "Inc.", "LLC", "L.L.C.", "Ltd", "Ltd.", "Corp", "Corp.", "Corporation",
         "Incorporated", "Co.", "Company", "LLP", "PLLC", "P.C.", "GmbH", "S.A."]
TRADES = ["Plumbing", "Dental", "Dentistry", "Logistics", "Consulting", "Law Group",
          "Accounting", "Roofing", "Electric", "Veterinary Clinic", "Pediatrics",
          "Physical Therapy", "Insurance", "Realty", "Construction", "Landscaping",
          "Auto Repair", "Bakery", "Architects", "Engineering", "Financial Advisors",
          "Medical Center", "Family Practice", "Chiropractic", "Marketing", "Printing",
          "Manufacturing", "Distributors", "Title Company", "Credit Union", "Orthodontics",
          "HVAC", "Pharmacy", "Storage", "Trucking", "Surveying", "Optometry", "Tax Services",
          "Home Health", "Montessori School", "Brewing", "Catering", "Flooring", "Glass"]
NOUNS = ["Ridge", "River", "Oak", "Pine", "Summit", "Harbor", "Eagle", "Falcon", "Maple",
         "Cedar", "Granite", "Lakeside", "Prairie", "Valley", "Beacon", "Keystone", "Liberty",
         "Pioneer", "Frontier", "Heritage", "Crescent", "Meadow", "Canyon", "Coastal", "Bay",
         "Northstar", "Ironwood", "Willow", "Sterling", "Blue Sky", "Red Rock", "Silverline"]
ADJECTIVES = ["Blue", "Green", "Golden", "Bright", "First", "Premier", "United", "Advanced",
              "Precision", "Allied", "American", "National", "Pacific", "Atlantic", "Metro",
              "Northern", "Southern", "Western", "Eastern", "Central", "Royal", "Trusted"]
QUALIFIERS = ["Supply", "Holdings", "Foundation", "Services", "North", "South", "West", "East",
              "II", "Group", "Partners", "Rentals", "Properties", "Management"]
ABBREVIATIONS = {"and": "&", "Associates": "Assoc.", "Services": "Svcs", "Company": "Co.",
                 "International": "Intl", "Manufacturing": "Mfg.", "Brothers": "Bros.",
                 "Group": "Grp", "Saint": "St.", "Mountain": "Mtn", "Technologies": "Tech",
                 "Medical": "Med.", "Center": "Ctr", "Construction": "Constr.",
                 "Distributors": "Dist.", "Engineering": "Eng.", "Accounting": "Acctg",
                 "Insurance": "Ins.", "Physical Therapy": "PT", "Veterinary": "Vet",
                 "Financial": "Fin.", "Management": "Mgmt", "Properties": "Props",
                 "Family": "Fam.", "Heating, Ventilation": "HVAC", "North": "N.",
                 "South": "S.", "West": "W.", "East": "E.", "Orthodontics": "Ortho"}
TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


@dataclass
class Msp:
    """Both sides and the truth: companies and clients as (id, name); truth as
    autotask id -> passportal id (None: the company is new to Passportal)."""
    companies: list[tuple[int, str]]
    clients: list[tuple[int, str]]
    truth: dict[int, int | None]


class Namer:
    """Canonical names of distinct companies, never the same name twice."""

    def __init__(self, rng: random.Random, fake: Faker):
        self.rng, self.fake = rng, fake
        self.used: set[str] = set()

    def _surname(self) -> str:
        return self.fake.last_name()

    def _one(self) -> str:
        r, f = self.rng, self.fake
        form = r.randrange(9)
        if form == 0:
            return f"{self._surname()} {r.choice(TRADES)}"
        if form == 1:
            return f"{f.city()} {r.choice(TRADES)}"
        if form == 2:
            return f"{self._surname()} {r.choice(['&', 'and'])} {self._surname()} {r.choice(TRADES)}"
        if form == 3:
            return f"{r.choice(ADJECTIVES)} {r.choice(NOUNS)} {r.choice(TRADES)}"
        if form == 4:
            return f"{r.choice(NOUNS)} {r.choice(TRADES)}"
        if form == 5:
            return f"{f.first_name()} {self._surname()} {r.choice(TRADES)}"
        if form == 6:
            return f.company()
        if form == 7:
            return f"{self._surname()} {r.choice(['Brothers', 'Associates', 'Services', 'Technologies', 'International', 'Management'])}"
        return f"Saint {f.first_name()} {r.choice(['Medical Center', 'Academy', 'Parish', 'Family Practice'])}"

    def fresh(self) -> str:
        while True:
            name = self._one()
            if self.rng.random() < 0.45:
                name = f"{name} {self.rng.choice(LEGAL)}"
            if self.rng.random() < 0.06:
                name = "The " + name
            if self.claim(name):
                return name

    def claim(self, name: str) -> bool:
        key = strip_accents(name).lower()
        if key in self.used:
            return False
        self.used.add(key)
        return True


class Variants:
    """How the same company's name drifts between Autotask and Passportal."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def legal_suffix(self, s: str) -> str:
        words = s.split(" ")
        if words[-1] in LEGAL:
            if self.rng.random() < 0.5:
                return " ".join(words[:-1])
            return " ".join(words[:-1] + [self.rng.choice(LEGAL)])
        return s + self.rng.choice([", ", " "]) + self.rng.choice(LEGAL)

    def abbreviate(self, s: str) -> str:
        hits = [(k, v) for k, v in ABBREVIATIONS.items() if k in s]
        if hits:
            k, v = self.rng.choice(hits)
            return s.replace(k, v, 1)
        hits = [(k, v) for k, v in ABBREVIATIONS.items() if v in s.split(" ")]
        if hits:
            k, v = self.rng.choice(hits)
            return s.replace(v, k, 1)
        return s

    def typo(self, s: str) -> str:
        letters = [i for i, c in enumerate(s) if c.isalpha()]
        if len(letters) < 4:
            return s
        i = self.rng.choice(letters[1:])
        kind = self.rng.randrange(4)
        if kind == 0:
            return s[:i] + s[i + 1:]
        if kind == 1 and i + 1 < len(s):
            return s[:i] + s[i + 1] + s[i] + s[i + 2:]
        if kind == 2:
            c = self.rng.choice(KEYBOARD)
            return s[:i] + (c.upper() if s[i].isupper() else c) + s[i + 1:]
        return s[:i] + s[i] + s[i:]

    def word_order(self, s: str) -> str:
        for sep in (" & ", " and "):
            if sep in s:
                a, b = s.split(sep, 1)
                b_words = b.split(" ")
                # "Baker & Moss Law Group" -> "Moss & Baker Law Group"
                return f"{b_words[0]}{sep}{a} {' '.join(b_words[1:])}".strip()
        words = s.split(" ")
        if len(words) >= 3 and words[0] != "The":
            # "Springfield Dental Care" -> "Dental Care of Springfield"
            return f"{' '.join(words[1:])} of {words[0]}"
        if len(words) == 2:
            return f"{words[1]}, {words[0]}"
        return s

    def punctuation(self, s: str) -> str:
        r = self.rng.randrange(5)
        if r == 0:
            return "".join(c for c in s if c not in ",.'-")
        if r == 1:
            return s.replace(" ", "-", 1) if "-" not in s else s.replace("-", " ")
        if r == 2:
            words = s.split(" ")
            i = self.rng.randrange(len(words))
            words[i] = words[i] + ","
            return " ".join(words).rstrip(",")
        if r == 3:
            return s.replace("'", "\u2019") if "'" in s else s.replace(" ", "  ", 1)
        return s + "."

    def the(self, s: str) -> str:
        if s.startswith("The "):
            return s[4:] if self.rng.random() < 0.7 else s[4:] + ", The"
        return "The " + s

    def ampersand(self, s: str) -> str:
        if " & " in s:
            return s.replace(" & ", " and ")
        if " and " in s:
            return s.replace(" and ", " & ")
        return s.replace(" ", " & ", 1) if self.rng.random() < 0.1 else s

    def unicode(self, s: str) -> str:
        if strip_accents(s) != s:
            if any(c in s for c in TRANSLIT) and self.rng.random() < 0.5:
                return "".join(TRANSLIT.get(c, c) for c in s)
            return strip_accents(s)
        r = self.rng.randrange(3)
        if r == 0:
            return s.replace(" ", "\u00a0", 1)
        if r == 1:
            return s.replace("e", "é", 1)
        return unicodedata.normalize("NFD", s.replace("e", "é", 1))

    def case(self, s: str) -> str:
        return s.upper() if self.rng.random() < 0.7 else s.lower()

    def drift(self, s: str) -> str:
        """One to three changes, the common ones more often."""
        moves = [(self.legal_suffix, 22), (self.abbreviate, 12), (self.typo, 16),
                 (self.word_order, 6), (self.punctuation, 14), (self.the, 6),
                 (self.ampersand, 6), (self.unicode, 8), (self.case, 10)]
        fns, weights = zip(*moves)
        n = self.rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
        out = s
        for fn in self.rng.choices(fns, weights=weights, k=n):
            out = fn(out)
        return out.strip() or s


def make(companies: int, seed: int) -> Msp:
    """An MSP with `companies` Autotask companies: about 70 % already Passportal clients, the rest
    new; Passportal also holds clients for 10 % as many companies Autotask no longer has."""
    rng = random.Random(seed)
    fake = Faker(["en_US", "en_US", "en_US", "de_DE", "fr_FR", "es_ES"])
    fake.seed_instance(seed)
    namer, drift = Namer(rng, fake), Variants(rng)
    names: list[str] = []
    while len(names) < companies:
        base = namer.fresh()
        names.append(base)
        roll = rng.random()
        if roll < 0.05:
            # A sibling: another company, named like this one plus a word.
            sib = f"{base} {rng.choice(QUALIFIERS)}"
            if namer.claim(sib):
                names.append(sib)
        elif roll < 0.08:
            # Franchise branches: the same brand in several cities, each its own company.
            for _ in range(rng.randint(1, 3)):
                branch = f"{base} - {fake.city()}"
                if namer.claim(branch):
                    names.append(branch)
    names = names[:companies]
    rng.shuffle(names)

    company_rows: list[tuple[int, str]] = []
    client_names: list[tuple[str, int | None]] = []  # (name, autotask id it is)
    truth: dict[int, int | None] = {}
    for i, canonical in enumerate(names):
        at_id = 29_000_000 + i * 7
        at_name = canonical if rng.random() < 0.8 else drift.drift(canonical)
        company_rows.append((at_id, at_name))
        truth[at_id] = None
        if rng.random() < 0.70:
            pp_name = canonical if rng.random() < 0.3 else drift.drift(canonical)
            client_names.append((pp_name, at_id))
        elif rng.random() < 0.25:
            # A client for another company in another trade, named almost like this new one.
            words = canonical.split(" ")
            trade_words = [j for j, w in enumerate(words) if any(w in t for t in TRADES)]
            j = rng.choice(trade_words) if trade_words else len(words) - 1
            words[j] = rng.choice(TRADES)
            decoy = " ".join(words)
            if namer.claim(decoy):
                client_names.append((decoy, None))
    for _ in range(companies // 10):
        client_names.append((namer.fresh(), None))
    rng.shuffle(client_names)

    clients: list[tuple[int, str]] = []
    for j, (name, at_id) in enumerate(client_names):
        pp_id = 100_000 + j * 3
        clients.append((pp_id, name))
        if at_id is not None:
            truth[at_id] = pp_id
    return Msp(company_rows, clients, truth)
