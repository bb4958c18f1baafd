"""Deterministic, realistic vCard 3.0 contacts for the benchmarks.

`generate(n, seed)` returns n (file name, vCard text) pairs.  The same n and
seed always give the same bytes, so two runs (and Conflux and the peer in
one run) sync exactly the same data.  Every contact has a unique FN and N:
SyncEvolution's engine does not carry UID, and a slow sync matches items by
their content, so unique names keep "1000 in, 1000 stored" checkable.

The fields vary from contact to contact (phones, e-mails, addresses,
organisation, birthday, note, URL, categories); about a third of the names,
addresses and organisations are non-ASCII; a contact is a few hundred bytes.
Long lines are folded at 75 octets as RFC 2425 says.
"""

import random

CRLF = "\r\n"

GIVEN = ["Anna", "Bernd", "Chiara", "Dagny", "Émile", "Farah", "Gonzalo",
         "Hanna", "Ismael", "Jörg", "Katarzyna", "Lars", "Mei", "Nikolaj",
         "Oona", "Pál", "Quentin", "Rosalía", "Sven", "Thi Lan", "Ulrike",
         "Václav", "Wanjiru", "Xavier", "Yasmin", "Zoltán", "Ærling", "Brónach",
         "Chidi", "Dörte", "Esperanza", "Fumiko", "Grzegorz", "Hyun-woo",
         "Iñaki", "Jana", "Kwame", "Léa", "Matthias", "Nuala"]
FAMILY = ["Adler", "Brandão", "Castellanos", "Dąbrowski", "Eriksson",
          "Fischer", "Gallagher", "Håkansson", "Ibáñez", "Jovanović", "Kim",
          "Lemaître", "Mäkinen", "Nguyen", "Oyelaran", "Peña", "Quast",
          "Rønning", "Schröder", "Tóth", "Uçar", "Vasquez", "Weiß", "Xu",
          "Yıldız", "Zieliński", "Abernethy", "Bianchi", "Çelik", "Dufresne",
          "Engström", "Fontaine", "Grünewald", "Hoffmann", "Iwasaki", "Jansen",
          "Kowalczyk", "Løvås", "Moreno", "Novák"]
# (street, locality, region, postal code, country)
PLACES = [
    ("Hauptstraße 17", "München", "Bayern", "80331", "Deutschland"),
    ("14 avenue des Gobelins", "Paris", "Île-de-France", "75005", "France"),
    ("Storgatan 8", "Göteborg", "", "411 38", "Sverige"),
    ("Calle Mayor 3, 2º", "Zaragoza", "Aragón", "50001", "España"),
    ("1600 Amphitheatre Pkwy", "Mountain View", "CA", "94043", "USA"),
    ("ul. Marszałkowska 84", "Warszawa", "", "00-514", "Polska"),
    ("Nørrebrogade 52", "Aarhus", "", "8000", "Danmark"),
    ("12 Queen Street", "Auckland", "", "1010", "New Zealand"),
    ("Via della Spiga 5", "Milano", "MI", "20121", "Italia"),
    ("新宿3-38-1", "新宿区", "東京都", "160-0022", "日本"),
]
ORGS = [("Bäckerei Schmidt KG", "Verkauf"), ("Northwind Traders", "Logistics"),
        ("Société Générale d'Études", "R&D"), ("Fjord Analytics AS", ""),
        ("Contoso Ltd.", "Finance, Controlling"), ("Łódź Software sp. z o.o.",
                                                   "QA"),
        ("Hospital São João", "Cardiologia"), ("", "")]
TITLES = ["Project Manager", "Ingénieure logiciel", "Head of Sales",
          "Buchhalterin", "CTO", "Student", "Account Executive", ""]
TEL_TYPES = ["CELL", "WORK,VOICE", "HOME,VOICE", "WORK,FAX", "HOME", "PAGER"]
MAIL_DOMAINS = ["example.com", "example.org", "mail.example.net",
                "post.example.de", "correo.example.es"]
CATEGORIES = ["Family", "Friends", "Work", "Customers", "Sports club",
              "Nachbarn", "VIP"]
NOTES = [
    "Met at the trade fair in Hannover; interested in the annual plan.",
    "Prefers e-mail over phone. Allergic to peanuts — remember for dinner.",
    "Rappeler après les vacances d'été, de préférence le matin.",
    "Birthday party every year in the garden; bring the kids.",
    "Zuständig für die Rechnungen; Ansprechpartnerin bei Rückfragen.",
    "",
]


def _escape(value):
    """vCard 3.0 text value escaping (backslash, comma, semicolon, newline)."""
    return (value.replace("\\", "\\\\").replace(",", "\\,")
            .replace(";", "\\;").replace("\n", "\\n"))


def _fold(line):
    """Fold one content line at 75 octets without splitting a UTF-8
    sequence."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, 74          # continuation lines start with " "
    return (CRLF + " ").join(parts)


def _contact(rng, index, given, family):
    middle = rng.choice(["", "", "", "A.", "M.", "J."])
    fn = " ".join(p for p in (given, middle, family) if p)
    lines = ["BEGIN:VCARD", "VERSION:3.0",
             f"N:{_escape(family)};{_escape(given)};{_escape(middle)};;",
             f"FN:{_escape(fn)}"]
    org, unit = rng.choice(ORGS)
    if org:
        lines.append("ORG:" + ";".join(_escape(p) for p in (org, unit) if p))
        title = rng.choice(TITLES)
        if title:
            lines.append(f"TITLE:{_escape(title)}")
    for tel_type in rng.sample(TEL_TYPES, rng.randint(1, 3)):
        number = f"+{rng.randint(1, 99)} {rng.randint(100, 999)} " \
                 f"{rng.randint(1000000, 9999999)}"
        lines.append(f"TEL;TYPE={tel_type}:{number}")
    local = (given.split()[0] + "." + family).lower()
    local = "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "x"
                    for c in local)
    for n in range(rng.randint(1, 2)):
        kind = "INTERNET,WORK" if n else "INTERNET,HOME"
        lines.append(f"EMAIL;TYPE={kind}:{local}{index}@"
                     f"{rng.choice(MAIL_DOMAINS)}")
    if rng.random() < 0.7:
        street, city, region, code, country = rng.choice(PLACES)
        kind = rng.choice(["HOME", "WORK"])
        lines.append(f"ADR;TYPE={kind}:;;" + ";".join(
            _escape(p) for p in (street, city, region, code, country)))
    if rng.random() < 0.5:
        lines.append(f"BDAY:{rng.randint(1940, 2005)}-"
                     f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
    if rng.random() < 0.3:
        lines.append(f"URL:https://www.{rng.choice(MAIL_DOMAINS)}/~{local}")
    note = rng.choice(NOTES)
    if note:
        lines.append(f"NOTE:{_escape(note)}")
    if rng.random() < 0.6:
        lines.append("CATEGORIES:" + ",".join(
            _escape(c) for c in rng.sample(CATEGORIES, rng.randint(1, 2))))
    lines.append(f"UID:bench-{index:05d}")
    lines.append("END:VCARD")
    return CRLF.join(_fold(line) for line in lines) + CRLF


def generate(n, seed=20240917):
    """[(file name, vCard 3.0 text)] for n contacts with unique names."""
    rng = random.Random(seed)
    pairs = [(g, f) for g in GIVEN for f in FAMILY]
    if n > len(pairs):
        raise ValueError(f"at most {len(pairs)} unique contacts, not {n}")
    names = rng.sample(pairs, n)
    return [(f"contact-{i:05d}.vcf", _contact(rng, i, g, f))
            for i, (g, f) in enumerate(names)]


if __name__ == "__main__":
    import sys
    items = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    for _, text in items:
        sys.stdout.write(text)
    sizes = sorted(len(t.encode()) for _, t in items)
    print(f"# {len(items)} contacts, bytes min {sizes[0]} median "
          f"{sizes[len(sizes) // 2]} max {sizes[-1]}", file=sys.stderr)
