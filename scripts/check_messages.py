"""Check the translation catalogues: every string in the code is in the zh_Hans catalogue,
translated, not fuzzy, with the same placeholders, and compiled into the committed .mo.

Extraction runs GNU gettext (through Django's makemessages) on a copy of the source tree, so
the working tree is never touched. Run `make messages` to update the catalogues.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from gettext import GNUTranslations
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
SKIP = shutil.ignore_patterns(".*", "var", "node_modules", "__pycache__", "*.egg-info", "locale")


def extracted_msgids() -> set[tuple[str | None, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "src"
        shutil.copytree(ROOT, tree, ignore=SKIP)
        (tree / "locale").mkdir()
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location"],
            cwd=tree,
            env={**os.environ, "INSIGNIA_ENV": "test"},
            check=True,
            capture_output=True,
        )
        fresh = polib.pofile(str(tree / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
        return {(entry.msgctxt, entry.msgid) for entry in fresh}


def main() -> int:
    problems: list[str] = []
    catalogue = polib.pofile(str(PO))
    known = {(entry.msgctxt, entry.msgid): entry for entry in catalogue if not entry.obsolete}
    for key in sorted(extracted_msgids() - set(known), key=str):
        problems.append(f"not in the catalogue (run `make messages`): {key[1]!r}")
    with MO.open("rb") as handle:
        compiled = GNUTranslations(handle)
    for entry in known.values():
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not all(translations):
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for text in translations:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
        simple = not entry.msgid_plural and not entry.msgctxt
        if simple and compiled.gettext(entry.msgid) != entry.msgstr:
            problems.append(f"the .mo is out of date (run `make messages`): {entry.msgid!r}")
    for problem in problems:
        print(problem)
    print(f"zh_Hans catalogue: {len(known)} strings, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
