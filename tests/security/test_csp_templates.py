"""No page of ours carries a script the Content-Security-Policy would refuse (issue 20 item 7).

The policy's ``script-src 'self'`` (settings.INSIGNIA_CSP) runs only script files served by
this server: an inline ``<script>`` block or an ``onclick=``-style attribute in a template
would silently do nothing in the browser. These checks read every template, and the HTML our
Python code writes itself, so such a script fails here rather than in a user's browser.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# A <script> start tag without a src attribute: an inline script.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
# An inline event handler attribute (onclick=, onload=, onsubmit=, ...), inside a tag.
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", re.IGNORECASE)
# Data blocks are not run (json_script): allowed.
DATA_BLOCK = re.compile(r"type\s*=\s*[\"']application/(ld\+)?json[\"']", re.IGNORECASE)
# Directories that hold no code of ours.
SKIPPED = {".venv", "var", "node_modules", "tests", ".git", "static", "docs", "bench"}
# The SVG sanitiser names the <script> elements it removes from uploaded images.
NOT_HTML = {"openbadges/svg.py"}


def _templates() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html"))
    found += sorted(ROOT.glob("*/templates/**/*.html"))
    return [p for p in found if not SKIPPED & set(p.relative_to(ROOT).parts[:-1])]


def _python_modules() -> list[Path]:
    return [
        p
        for p in sorted(ROOT.glob("*/**/*.py"))
        if p.relative_to(ROOT).parts[0] not in SKIPPED
        and p.relative_to(ROOT).as_posix() not in NOT_HTML
    ]


def _offences(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(ROOT)
    found = [
        f"{where}: inline script {match.group(0)!r}"
        for match in INLINE_SCRIPT.finditer(text)
        if not DATA_BLOCK.search(match.group(0))
    ]
    found += [f"{where}: event handler {m.group(0)[-40:]!r}" for m in EVENT_HANDLER.finditer(text)]
    return found


def test_the_checks_find_what_they_look_for() -> None:
    assert INLINE_SCRIPT.search("<script>document.forms[0].submit();</script>")
    assert INLINE_SCRIPT.search('<SCRIPT type="text/javascript">')
    assert not INLINE_SCRIPT.search('<script src="/static/js/copy.js" defer></script>')
    assert EVENT_HANDLER.search('<button type="button" onclick="go()">')
    assert EVENT_HANDLER.search("<body onload='x()'>")
    assert not EVENT_HANDLER.search("<p>Click the button once</p>")
    assert not EVENT_HANDLER.search('<input name="consent" data-on="yes">')


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    templates = _templates()
    assert len(templates) > 100, "the templates were not found"
    assert [o for path in templates for o in _offences(path)] == []


def test_no_html_written_in_python_has_an_inline_script() -> None:
    modules = _python_modules()
    assert any(p.name == "docs.py" for p in modules), "the app modules were not found"
    offences = [
        f"{p.relative_to(ROOT)}: {m.group(0)!r}"
        for p in modules
        for m in INLINE_SCRIPT.finditer(p.read_text(encoding="utf-8"))
    ]
    assert offences == []
