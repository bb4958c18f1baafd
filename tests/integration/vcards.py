"""Realistic vCard 3.0 test contacts, and comparing contacts the way a
SyncML round trip leaves them.

`generate(n)` is deterministic: the same n (and seed) always gives the same
bytes, so a failing run can be repeated exactly.  Every contact has a unique
FN, which is how tests match items across devices: SyncEvolution's Synthesis
engine does not carry UID.

`parse_vcard(text)` turns one vCard into a normalised dict so that the
rewrites Synthesis does on the way through (see SYNCEVOLUTION.md: PRODID
added, empty properties added, TYPE values reordered, UID dropped, base64
re-folded) compare equal, while a changed phone number, note or address does
not.
"""

import base64
import random
import re
import unicodedata

CRLF = "\r\n"

GIVEN = ["Anna", "Jürgen", "Zoë", "Hélène", "Søren", "Mateo", "Aiko",
         "Olusegun", "Priya", "Liam", "Małgorzata", "José", "Yuki", "Ingrid",
         "Dmitri", "Chloé", "Björn", "Fatima", "Kenji", "Noémie", "Ruairí",
         "Ximena", "Tomasz", "Elif"]
FAMILY = ["Müller", "Dubois", "Sørensen", "García", "Tanaka", "Okafor",
          "Sharma", "O'Brien", "Kowalski", "Fernández", "Nakamura", "Lindqvist",
          "Petrov", "Lefèvre", "Åberg", "Haddad", "Yamamoto", "Moreau",
          "Ní Bhriain", "Hernández", "Wiśniewski", "Yılmaz"]
# (street, locality, region, postal code, country)
PLACES = [
    ("Königstraße 12", "Stuttgart", "Baden-Württemberg", "70173",
     "Deutschland"),
    ("8 rue de l'Église", "Besançon", "", "25000", "France"),
    ("Østergade 3", "København", "", "1100", "Danmark"),
    ("丸の内1-1-1", "東京", "東京都", "100-0005", "日本"),
    ("Calle de Alcalá 45", "Madrid", "", "28014", "España"),
    ("221b Baker Street", "London", "", "NW1 6XE", "United Kingdom"),
    ("Torggata 5", "Tromsø", "Troms", "9008", "Norge"),
    ("Rua Augusta 100", "Lisboa", "", "1100-053", "Portugal"),
]
ORGS = [("Müller & Söhne GmbH", "Vertrieb"), ("Café Crème SARL", ""),
        ("株式会社サンプル", "開発部"), ("Nordlys AS", "Drift; Support"),
        ("Acme, Inc.", "R&D"), ("Universidad de Alcalá", "Física")]
TITLES = ["Engineer", "Directrice générale", "Sales Manager",
          "Senior Developer", "Chef de projet", "部長", "Consultant"]
CATEGORIES = ["Family", "Friends", "Work", "VIP", "Sports Club", "Café"]
TEL_TYPES = [("CELL", "VOICE"), ("WORK", "VOICE"), ("HOME", "VOICE"),
             ("WORK", "FAX"), ("HOME",), ("CELL",), ("PAGER",)]
NOTES = [
    "Met at the conference in Zürich, 2019; likes coffee, not tea.",
    "Prefers e-mail; call only after 18:00.",
    "Allergies: nuts; shellfish. Birthday party every year, usually in June.",
    "Line one\nLine two, with a comma; and a semicolon.",
    "Back-slash test: C:\\Users\\anna, done.",
    "Grüße aus München — schöne Tage!",
]


def escape_text(value):
    """RFC 2426 TEXT escaping: backslash, comma, semicolon, newline."""
    return (value.replace("\\", "\\\\").replace(",", "\\,")
            .replace(";", "\\;").replace("\n", "\\n"))


def fold(line):
    """Fold one content line at 75 octets (RFC 2425 5.8.1) without ever
    splitting a UTF-8 sequence."""
    out, cur, size = [], "", 0
    limit = 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(cur)
            cur, size = " ", 1
        cur += ch
        size += n
    out.append(cur)
    return CRLF.join(out)


def fake_jpeg(rng, size):
    """A few hundred bytes that look like a JPEG (SOI, APP0/JFIF, payload,
    EOI); nothing decodes it, only the bytes are compared."""
    head = bytes.fromhex("ffd8ffe000104a46494600010101004800480000")
    body = bytes(rng.randrange(256) for _ in range(size))
    return head + body + bytes.fromhex("ffd9")


def _phone(rng):
    return "+%d %d %07d" % (rng.choice([33, 44, 45, 49, 81, 34, 47]),
                            rng.randrange(10, 999), rng.randrange(10 ** 7))


def _ascii(name):
    """A mailbox-safe spelling of a name: accents dropped (NFKD), letters
    without a decomposition (ø, ł, ß) spelled out."""
    name = name.translate(str.maketrans({"ø": "o", "Ø": "O", "ł": "l",
                                         "ß": "ss", "ı": "i", "'": ""}))
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
    return plain.decode().replace(" ", "").lower()


def contact(index, seed=1):
    """Contact number `index` (0-based) of the seeded set: a vCard 3.0
    text with CRLF line ends, folded, ending in CRLF."""
    rng = random.Random(seed * 1000003 + index)
    given = rng.choice(GIVEN)
    family = rng.choice(FAMILY)
    middle = "" if index % 3 else rng.choice(["Maria", "J.", "van"])
    # The number keeps FN unique however large n is.
    fn = f"{given} {family} {index:04d}"
    lines = ["BEGIN:VCARD", "VERSION:3.0",
             "N:" + ";".join(escape_text(v) for v in
                             [family, given, middle, "", ""]),
             "FN:" + escape_text(fn)]
    for types in rng.sample(TEL_TYPES, rng.randint(1, 3)):
        lines.append(f"TEL;TYPE={','.join(types)}:{_phone(rng)}")
    mail = f"{_ascii(given)}.{_ascii(family)}{index}@example.org"
    lines.append(f"EMAIL;TYPE=INTERNET,WORK:{mail}")
    if index % 2:
        lines.append(f"EMAIL;TYPE=INTERNET,HOME:{_ascii(given)}{index}@mail.example.net")
    street, city, region, code, country = rng.choice(PLACES)
    lines.append("ADR;TYPE=WORK:" + ";".join(
        escape_text(v) for v in ["", "", street, city, region, code, country]))
    if index % 4 == 0:
        street, city, region, code, country = rng.choice(PLACES)
        lines.append("ADR;TYPE=HOME:" + ";".join(
            escape_text(v) for v in ["", "", street, city, region, code,
                                     country]))
    org, unit = rng.choice(ORGS)
    lines.append("ORG:" + escape_text(org) + (";" + escape_text(unit)
                                               if unit else ""))
    lines.append("TITLE:" + escape_text(rng.choice(TITLES)))
    lines.append("NOTE:" + escape_text(rng.choice(NOTES) +
                                       f" (ref {index})"))
    lines.append("BDAY:%04d-%02d-%02d" % (rng.randrange(1940, 2005),
                                         rng.randrange(1, 13),
                                         rng.randrange(1, 29)))
    if index % 3 != 1:
        lines.append(f"URL:https://www.example.com/people/{_ascii(given)}-{index}")
    cats = rng.sample(CATEGORIES, rng.randint(1, 2))
    lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in cats))
    if index % 5 == 0:
        photo = base64.b64encode(fake_jpeg(rng, rng.randrange(200, 400)))
        lines.append("PHOTO;ENCODING=b;TYPE=JPEG:" + photo.decode())
    lines.append(f"UID:conflux-test-{seed}-{index:04d}")
    lines.append("END:VCARD")
    return CRLF.join(fold(line) for line in lines) + CRLF


def generate(n, seed=1, start=0):
    """[(file name, vCard text)] for contacts start .. start+n-1."""
    return [(f"contact-{i:04d}.vcf", contact(i, seed))
            for i in range(start, start + n)]


# -- parsing and comparing ---------------------------------------------

# Properties the client or server may add, drop or rewrite on every sync.
IGNORED = {"PRODID", "REV", "UID", "VERSION", "X-EVOLUTION-FILE-AS"}
STRUCTURED = {"N", "ADR", "ORG"}
LISTS = {"CATEGORIES", "NICKNAME"}
DATES = {"BDAY", "ANNIVERSARY", "X-ANNIVERSARY"}


def unfold(text):
    """Content lines of a vCard text (CRLF or LF), unfolded."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for raw in text.split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _split(value, sep):
    """Split on unescaped sep; components stay escaped."""
    parts, cur, i = [], "", 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            cur += value[i:i + 2]
            i += 2
            continue
        if ch == sep:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts


def _unescape(value):
    out, i = "", 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out += "\n" if nxt in "nN" else nxt
            i += 2
        else:
            out += ch
            i += 1
    return out


def _split_line(line):
    """(group-less upper-case name, [raw params], raw value): the first
    colon outside a quoted parameter value ends the name and params."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1:]
            break
    else:
        raise ValueError(f"not a content line: {line!r}")
    parts = _split(head, ";")
    name = parts[0].split(".")[-1].upper()
    return name, parts[1:], value


def _params(raw_params):
    """{NAME: frozenset(values)} with values upper-cased for TYPE/ENCODING;
    a bare value (vCard 2.1 `TEL;CELL:`) counts as a TYPE."""
    params = {}
    for p in raw_params:
        if "=" in p:
            k, v = p.split("=", 1)
        else:
            k, v = "TYPE", p
        k = k.strip().upper()
        vals = {x.strip().strip('"') for x in v.split(",") if x.strip()}
        if k in ("TYPE", "ENCODING", "VALUE", "CHARSET"):
            vals = {x.upper() for x in vals}
        params.setdefault(k, set()).update(vals)
    # TYPE=PREF and PREF=1 mean the same; INTERNET is implied for EMAIL by
    # some engines; none of those are what the tests check.
    if "TYPE" in params:
        params["TYPE"] -= {"PREF", "INTERNET"}
        if not params["TYPE"]:
            del params["TYPE"]
    params.pop("PREF", None)
    params.pop("CHARSET", None)
    return {k: frozenset(v) for k, v in params.items()}


def parse_vcard(text):
    """Normalised content of one vCard: {property name: sorted list of
    (params, value)}.  params is a sorted tuple of (NAME, sorted values);
    value is a str, a tuple of components (N, ADR, ORG: unescaped, trailing
    empties dropped), a tuple of list items (CATEGORIES), or the decoded
    bytes (PHOTO).  PRODID/REV/UID/VERSION and properties whose value is
    empty are left out."""
    lines = unfold(text)
    if not lines or lines[0].upper() != "BEGIN:VCARD" \
            or lines[-1].upper() != "END:VCARD":
        raise ValueError("not one vCard: " + repr(text[:80]))
    props = {}
    for line in lines[1:-1]:
        name, raw_params, raw = _split_line(line)
        if name in IGNORED:
            continue
        params = _params(raw_params)
        encoding = params.get("ENCODING", frozenset())
        if name == "PHOTO" or encoding & {"B", "BASE64"}:
            data = "".join(raw.split())
            if not data:
                continue
            if data.startswith("data:") and "," in data:   # vCard 4 style
                data = data.split(",", 1)[1]
            value = base64.b64decode(data)
            params.pop("ENCODING", None)
            params.pop("VALUE", None)
        elif name in STRUCTURED:
            comps = [_unescape(c).strip() for c in _split(raw, ";")]
            while comps and not comps[-1]:
                comps.pop()
            if not comps:
                continue
            value = tuple(comps)
        elif name in LISTS:
            value = tuple(_unescape(c).strip() for c in _split(raw, ",")
                          if _unescape(c).strip())
            if not value:
                continue
        else:
            value = _unescape(raw).strip()
            if not value.strip(";, "):
                continue
            if name in DATES and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                # 1948-08-27 and 19480827 are the same ISO 8601 date.
                value = value.replace("-", "")
        key = tuple(sorted((k, tuple(sorted(v))) for k, v in params.items()))
        props.setdefault(name, []).append((key, value))
    return {k: sorted(v, key=repr) for k, v in props.items()}


def contact_diff(a, b):
    """Human-readable differences between two vCards (text or parsed);
    empty when they are the same contact."""
    pa = a if isinstance(a, dict) else parse_vcard(a)
    pb = b if isinstance(b, dict) else parse_vcard(b)
    diffs = []
    for name in sorted(set(pa) | set(pb)):
        if pa.get(name) != pb.get(name):
            diffs.append(f"{name}: {pa.get(name)!r} != {pb.get(name)!r}")
    return diffs


def same_contact(a, b):
    """True when the two vCards (text or parsed) hold the same content."""
    return not contact_diff(a, b)


def fn_of(text):
    """The (unescaped) FN of a vCard text."""
    for line in unfold(text):
        name, _, raw = _split_line(line)
        if name == "FN":
            return _unescape(raw)
    raise ValueError("vCard without FN: " + repr(text[:80]))


def by_fn(texts):
    """{FN: text} for an iterable of vCard texts; fails on a duplicate FN,
    because matching by FN is only sound when FN is unique."""
    out = {}
    for t in texts:
        fn = fn_of(t)
        if fn in out:
            raise AssertionError(f"two contacts with FN {fn!r}")
        out[fn] = t
    return out


def replace_property(text, name, new_line):
    """Replace the first property called name (unfolded) by new_line
    (unfolded; it is folded here).  Returns the new vCard text, CRLF."""
    lines = unfold(text)
    for i, line in enumerate(lines):
        if _split_line(line)[0] == name.upper() and i not in (0, len(lines) - 1):
            lines[i] = new_line
            break
    else:
        raise KeyError(name)
    return CRLF.join(fold(line) for line in lines) + CRLF


if __name__ == "__main__":
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for _, text in generate(n):
        sys.stdout.write(text)
