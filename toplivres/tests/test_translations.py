"""The French translation is complete, and the compiled catalogue matches the source."""

import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES"


def _unquote(lines):
    return "".join(
        bytes(re.match(r'^"(.*)"$', line.strip()).group(1), "utf-8")
        .decode("unicode_escape")
        .encode("latin-1")
        .decode("utf-8")
        for line in lines
    )


def parse_po(path):
    """Yield (msgid, [msgstr...], flags) for each entry of a .po file."""
    entries, current, key, flags = [], None, None, set()
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current, key, flags = None, None, set()
            continue
        if line.startswith("#,"):
            flags = {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        m = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
        if m:
            if current is None:
                current = {"flags": flags, "msgstr": {}}
            key = m.group(1)
            current.setdefault("lines", {}).setdefault(key, []).append(m.group(2))
        elif line.startswith('"') and current is not None:
            current["lines"][key].append(line)
    result = []
    for e in entries:
        lines = e["lines"]
        msgid = _unquote(lines.get("msgid", []))
        strs = [_unquote(v) for k, v in lines.items() if k.startswith("msgstr")]
        context = _unquote(lines["msgctxt"]) if "msgctxt" in lines else None
        result.append((msgid, strs, e["flags"], "msgid_plural" in lines, context))
    return result


def test_french_catalogue_has_no_missing_or_fuzzy_entry():
    entries = [e for e in parse_po(LOCALE / "django.po") if e[0]]
    assert len(entries) > 50
    missing = [msgid for msgid, strs, _flags, _p, _c in entries if not all(strs)]
    fuzzy = [msgid for msgid, _strs, flags, _p, _c in entries if "fuzzy" in flags]
    assert missing == []
    assert fuzzy == []


def test_compiled_catalogue_is_up_to_date():
    with open(LOCALE / "django.mo", "rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    stale = [
        msgid
        for msgid, strs, _flags, plural, context in parse_po(LOCALE / "django.po")
        if msgid
        and not plural
        and (catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)) != strs[0]
    ]
    assert stale == [], "run `make messages` to recompile"
