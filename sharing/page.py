"""The badge page, drawn from a skeleton shared by every award of the same content.

Most of the page depends only on the achievement version as the credential states it, the
issuer's branding, the award's state and the reader's language; an award adds its own parts
(its id, the line naming the learner, dates, the status sentence, narrative and evidence).
The page is therefore rendered once per *skeleton*: those parts replaced by marks, keyed by
a digest of every value the template is given (so the key names all it depends on), kept in
this process and in the cache. A first view of an award then costs one lean query
(``load``), a skeleton lookup and one pass of replacements (``page_body``).

What the page shows follows one privacy rule for claimed and unclaimed badges: the learner's
name only once they chose to show it, and the reason of a revocation or suspension only
once they accepted the badge; a revoked badge offers no sharing or downloads but its signed
JSON, a suspended one no "Add to LinkedIn profile". About 500 lines: the lean award query,
the award's own parts of the page and the skeleton cache belong together.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Field, Model
from django.http import Http404, HttpRequest
from django.template import loader
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from badges import credentials, preview
from badges.models import Achievement, AchievementVersion, Award
from badges.state import AwardState, State, award_state
from common import markdown
from common.http import cached_body, fingerprint
from earners import selectors as earner_selectors
from earners.models import AwardPreference, HeldAward, InstitutionalIdentity, LearnerEmail
from issuers.models import Institution, Issuer, Securing
from sharing import meta
from verification import annex

PAGE_TEMPLATES = (
    "badges/credential.html",
    "verification/_annex.html",
    "base.html",
    "badges/_share_meta.html",
    "partials/messages.html",
)

# Marks for the award's own values in a skeleton: plain letters, digits and dashes, so HTML
# escaping and URL encoding leave them as they are. The id is a valid UUID so that the
# template's ``{% url %}`` accepts it.
AWARD_MARK = "5f0c7a5f-0c7a-4f0c-8a5f-0c7a5f0c7a5f"
ROBOTS_MARK = "insignia-robots-mark-5f0c7a"
STATUS_MARK = "insignia-status-mark-5f0c7a"
SUPERSEDED_MARK = "insignia-superseded-mark-5f0c7a"
LEAD_MARK = "insignia-lead-mark-5f0c7a"
ISSUED_MARK = "insignia-issued-mark-5f0c7a"
EXPIRES_MARK = "insignia-expires-mark-5f0c7a"
CREDITS_MARK = "insignia-credits-mark-5f0c7a"
TOLD_MARK = "insignia-told-mark-5f0c7a"
VERIFY_MARK = "insignia-verify-mark-5f0c7a"
DESCRIPTION_MARK = "insignia-description-mark-5f0c7a"
CHECKED_MARK = "insignia-checked-mark-5f0c7a"  # when the status was read: filled per request

SKELETONS_KEPT = 512  # per process; a skeleton is about 25 KB


@functools.cache
def release() -> str:
    """What a cached page was made with besides its data: the templates and the compiled
    translations, so that a deploy that changes either serves new pages at once."""
    parts: list[object] = [
        loader.get_template(name).template.source  # type: ignore[attr-defined]
        for name in PAGE_TEMPLATES
    ]
    for path in sorted(Path(p) for p in settings.LOCALE_PATHS):
        parts.extend(mo.read_bytes() for mo in sorted(path.glob("*/LC_MESSAGES/*.mo")))
    return fingerprint(*parts)


# --- The award with what its page shows, in one query --------------------------------------

_TABLES: tuple[tuple[str, type[Model]], ...] = (
    ("a", Award),
    ("i", Issuer),
    ("n", Institution),
    ("v", AchievementVersion),
    ("c", Achievement),
    ("p", AwardPreference),
)
Converter = Callable[[Any, Any, Any], Any]
Layout = tuple[tuple[type[Model], list[str], list[tuple[int, Any, list[Converter]]]], ...]


@functools.cache
def _award_query() -> tuple[str, Layout]:
    """The SQL of ``load`` and how to split its row into model instances, compiled once (the
    ORM's ``select_related`` compiled it on every first view: about a third of its CPU)."""
    columns: list[str] = []
    layout = []
    for alias, model in _TABLES:
        fields: list[Field[Any, Any]] = list(model._meta.concrete_fields)
        columns += [f"{alias}.{connection.ops.quote_name(str(field.column))}" for field in fields]
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, column, found))
        layout.append((model, [field.attname for field in fields], converters))

    def table(model: type[Model]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    # Who the award belongs to, as ``earners.selectors.owner_of`` ranks it: who was handed
    # it, else who confirmed its address, else who holds its identifier (lowest id first).
    owner = (
        f"COALESCE((SELECT min(h.user_id) FROM {table(HeldAward)} h WHERE h.award_id = a.id),"  # nosec B608  # noqa: S608 - model tables
        f" (SELECT min(e.user_id) FROM {table(LearnerEmail)} e WHERE a.recipient_email <> ''"
        "   AND e.email = a.recipient_email AND e.verified_at IS NOT NULL),"
        f" (SELECT min(d.user_id) FROM {table(InstitutionalIdentity)} d"
        "   WHERE a.recipient_identifier <> '' AND d.institution_id = i.institution_id"
        "   AND d.identity_type = a.recipient_identifier_type"
        "   AND d.value = a.recipient_identifier))"
    )
    # names from the models, the id a parameter
    sql = (
        f"SELECT {', '.join(columns)}, {owner} FROM {table(Award)} a"  # nosec B608  # noqa: S608 - model columns
        f" JOIN {table(Issuer)} i ON i.id = a.issuer_id"
        f" JOIN {table(Institution)} n ON n.id = i.institution_id"
        f" JOIN {table(AchievementVersion)} v ON v.id = a.achievement_version_id"
        f" JOIN {table(Achievement)} c ON c.id = v.achievement_id"
        f" LEFT JOIN {table(AwardPreference)} p ON p.award_id = a.id"
        " WHERE a.id = %s"
    )
    return sql, tuple(layout)


def load(award_id: uuid.UUID) -> Award:
    """The award with its issuer, institution, version, achievement, the learner's stored
    choices (as ``select_related`` would give them) and who it belongs to, with one query;
    404 if none."""
    sql, layout = _award_query()
    key = Award._meta.pk.get_db_prep_value(award_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    found: list[Model | None] = []
    start = 0
    for model, names, converters in layout:
        values = list(row[start : start + len(names)])
        start += len(names)
        for index, column, functions in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
        found.append(None if values[0] is None else model.from_db(connection.alias, names, values))
    award, issuer, institution, version, achievement, preference = found
    owner = row[-1]
    assert isinstance(award, Award) and isinstance(issuer, Issuer)  # noqa: S101 - inner joins
    assert isinstance(version, AchievementVersion)  # noqa: S101
    issuer.institution = institution  # type: ignore[assignment]
    version.achievement = achievement  # type: ignore[assignment]
    award.issuer = issuer
    award.achievement_version = version
    Award.preference.related.set_cached_value(award, preference)
    if preference is not None:
        AwardPreference.award.field.set_cached_value(preference, award)
    earner_selectors.remember_owner(award, owner)
    return award


# --- What the page shows -------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _shown_code(code: str, name: str) -> str:
    """A code worth showing beside ``name``: not one the name already holds, nor an opaque
    identifier (ESCO's concept UUIDs; the name links to the concept)."""
    if not code or _UUID.match(code) or _words(code) <= _words(name):
        return ""
    return code


def alignment_rows(alignments: Iterable[Any]) -> list[dict[str, str]]:
    """Framework levels and competencies as people read them: the name, then the framework
    unless the name already says it, then a code worth showing ("NZQCF Level 5", not
    "NZQCF Level 5 · … · 5")."""
    rows = []
    for item in alignments:
        if not isinstance(item, dict) or not item.get("targetName"):
            continue
        name = str(item["targetName"])
        framework = str(item.get("targetFramework") or "")
        code = str(item.get("targetCode") or "")
        rows.append(
            {
                "name": name,
                "url": _web_link(item.get("targetUrl")),
                "framework": "" if framework.casefold() in name.casefold() else framework,
                "code": _shown_code(code, name),
            }
        )
    return rows


def accepted(award: Award) -> bool:
    """Whether a learner accepted the badge: claimed it, or holds it in a backpack."""
    return award.claimed_at is not None or earner_selectors.effective_preference(award) is not None


def _date(value: Any) -> str:
    return escape(formats.date_format(timezone.localtime(value), "DATE_FORMAT"))


# The award's own parts of the page, as HTML (the skeleton holds a mark for each). Messages
# written with ``{% blocktranslate %}`` keep their msgid: the values are escaped, the
# message is not; those of ``{% translate %}`` are escaped whole, as the tag does.


def _status_html(award: Award, state: AwardState) -> str:
    since = _date(state.since) if state.since else ""
    text: str
    if state.state == State.VALID:
        text = escape(_("The issuer's records say this badge is in force."))
    elif state.state == State.EXPIRED:
        text = _("This badge expired on %(date)s.") % {"date": since}
    elif state.state == State.REVOKED:
        text = (
            _("The issuer revoked this badge on %(date)s.") % {"date": since}
            if since
            else escape(_("The issuer revoked this badge."))
        )
    else:
        text = (
            _("The issuer suspended this badge on %(date)s.") % {"date": since}
            if since
            else escape(_("The issuer suspended this badge."))
        )
    if state.reason and accepted(award):  # never named to a learner who did not accept it
        text += "<br>" + _("Reason: %(reason)s") % {"reason": escape(state.reason)}
    return text


def _superseded_html(award: Award) -> str:
    superseded = earner_selectors.superseded_by(award)
    if superseded is None:
        return ""
    return format_html(
        '<p class="bp-superseded">{} <a href="{}">{}</a></p>',
        _("Superseded: at the learner's request the issuer re-issued this badge."),
        reverse("credential", args=[superseded.pk]),
        _("See the current badge"),
    )


def _lead_html(award: Award) -> str:
    recipient = meta.recipient_display_name(award)
    if recipient:
        return _("Awarded to %(name)s") % {"name": escape(recipient)}
    if award.recipient_email:
        return escape(_("Awarded to a learner identified by a hashed e-mail address"))
    if award.recipient_identifier_type == "studentId":
        return escape(_("Awarded to a learner identified by a hashed student number"))
    return escape(_("Awarded to a learner identified by a hashed sign-in name"))


def _credits_html(credits: Any, earned: Any) -> str:
    if earned is None:
        return escape(str(credits))
    return _("%(earned)s of %(credits)s earned") % {
        "earned": escape(str(earned)),
        "credits": escape(str(credits)),
    }


def _web_link(value: object) -> str:
    """``value`` if it is an http(s) URL, else "": only web pages become links (a signed
    credential may carry any IRI, ``javascript:`` included)."""
    text = str(value or "")
    return text if text.lower().startswith(("https://", "http://")) else ""


def _told_html(award: Award, narrative: str) -> str:
    """The learner's narrative and evidence, as the issuer recorded them (the evidence only
    while the learner shows it)."""
    parts: list[str] = []
    if narrative:
        parts.append(format_html("<h2>{}</h2><p>{}</p>", _("Narrative"), linebreaksbr(narrative)))
    evidence = award.credential.get("evidence", []) if earner_selectors.show_evidence(award) else []
    items = []
    for item in evidence if isinstance(evidence, list) else []:
        given = str(item.get("id") or "")
        link = _web_link(given)
        told = str(item.get("narrative") or "")
        html: str
        if link:
            html = format_html('<a href="{}" rel="nofollow noopener">{}</a>', link, link)
        else:  # no link, or one that is not a web page (``urn:``, ``javascript:``): shown inert
            html = format_html("{}", given)
        if told:
            html += ("<br>" if given else "") + linebreaksbr(told)
        items.append(f"<li>{html}</li>")
    if items:
        parts.append(
            format_html("<h2>{}</h2>", _("Evidence")) + f'<ul class="list">{"".join(items)}</ul>'
        )
    return "\n".join(parts)


def values(award: Award) -> tuple[dict[str, Any], dict[str, str]]:
    """The skeleton's inputs (plain values, or marks for the award's own parts) and the
    HTML each mark stands for. The inputs name the content shared by awards of one version
    in one language and state; the parts differ per award."""
    document = award.credential
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {})
    issuer = award.issuer
    institution = issuer.institution
    version = award.achievement_version
    state = award_state(award)
    zh = award.language.lower().startswith("zh")
    name = credentials.credential_name(award)
    issuer_name = credentials.issuer_name(award)
    credits = achievement.get("creditsAvailable")
    alignments = achievement.get("alignment", [])
    inputs: dict[str, Any] = {
        "award_id": AWARD_MARK,
        "name": name,
        "description": str(achievement.get("description", "")),
        "criteria": str(achievement.get("criteria", {}).get("narrative", "")),
        "issuer_name": issuer_name,
        "issuer_slug": issuer.slug,
        "issuer_url": issuer.url,
        "issuer_image_id": issuer.image_id,
        # the badge's content in the badge's language, beside its issuer's name
        "institution_name": (institution.name_zh if zh else "") or institution.name_en,
        "logo_id": institution.logo_id,
        "brand_colour": institution.brand_colour,
        "content_language": award.language,
        "image_src": credentials.badge_image_path(version),
        "achievement_id": str(version.achievement_id),
        "version_number": version.number,
        "state": state.state,
        "credits": credits,
        "skills": [str(tag) for tag in achievement.get("tag", [])],
        "alignments": alignment_rows(alignments if isinstance(alignments, list) else []),
        # the EU micro-credential elements the credential states (verification.annex)
        "microcredential": annex.claims_of(document),
        "can_share": state.state != State.REVOKED,
        "can_add": state.state not in (State.REVOKED, State.SUSPENDED),
        "signed_as_jwt": issuer.securing == Securing.VC_JWT,
    }
    page_url = meta.badge_page_url(award)
    recipient = meta.recipient_display_name(award)
    noindex = not earner_selectors.is_indexable(award)
    fills = {
        AWARD_MARK: str(award.pk),
        ROBOTS_MARK: '<meta name="robots" content="noindex">' if noindex else "",
        STATUS_MARK: _status_html(award, state),
        SUPERSEDED_MARK: _superseded_html(award),
        LEAD_MARK: _lead_html(award),
        ISSUED_MARK: _date(award.valid_from),
        EXPIRES_MARK: (
            _date(award.valid_until) if award.valid_until else escape(_("Does not expire"))
        ),
        CREDITS_MARK: _credits_html(credits, subject.get("creditsEarned")),
        TOLD_MARK: _told_html(award, str(subject.get("narrative", ""))),
        VERIFY_MARK: escape(
            reverse("verify") + "?" + urlencode({"url": document.get("id", page_url)})
        ),
        DESCRIPTION_MARK: escape(meta.award_description(name, issuer_name, recipient)),
    }
    return inputs, fills


def _context(inputs: dict[str, Any]) -> dict[str, Any]:
    """What the template is given: the inputs, and what follows from them alone."""
    page_url = credentials.absolute(reverse("credential", args=[AWARD_MARK]))
    name, issuer_name = inputs["name"], inputs["issuer_name"]
    return {
        **inputs,
        "brand_text": preview.hex_colour(preview.brand_text(preview.rgb(inputs["brand_colour"]))),
        "criteria_html": markdown.render(inputs["criteria"]),
        "page_url": page_url,
        "robots": ROBOTS_MARK,
        "status_text": STATUS_MARK,
        "superseded": SUPERSEDED_MARK,
        "lead": LEAD_MARK,
        "issued_on": ISSUED_MARK,
        "expires_on": EXPIRES_MARK,
        "credits_text": CREDITS_MARK,
        "told": TOLD_MARK,
        "verify_url": VERIFY_MARK,
        "share": meta.award_share_meta(
            award_id=AWARD_MARK,
            name=name,
            issuer=issuer_name,
            description=DESCRIPTION_MARK,
            language=inputs["content_language"],
        ),
        "embed_snippet": meta.embed_snippet_for(AWARD_MARK, name=name, issuer=issuer_name),
        "download_name": f"badge-{AWARD_MARK}",
        "wechat_open": (translation.get_language() or "").startswith("zh"),
        "checked_at": CHECKED_MARK,
    }


class _Kept:
    """The skeletons this process drew or fetched last (least recently used out)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


kept = _Kept(SKELETONS_KEPT)


def skeleton_key(inputs: dict[str, Any]) -> str:
    """Names everything a skeleton depends on: every value its template is given, the
    templates and translations, the site's address and the reader's language."""
    return "page:skeleton:" + fingerprint(
        release(),
        settings.INSIGNIA_BASE_URL,
        translation.get_language(),
        json.dumps(inputs, sort_keys=True, default=str),
    )


def skeleton(inputs: dict[str, Any], request: HttpRequest, csrf_token: str) -> bytes:
    """The page of any award with these inputs, its own values as marks; drawn once for
    every anonymous reader (``request`` and ``csrf_token`` then carry marks too)."""
    key = skeleton_key(inputs)
    found = kept.get(key)
    if found is None:

        def render() -> bytes:
            context = {**_context(inputs), "csrf_token": csrf_token, "request": request}
            return render_to_string("badges/credential.html", context, request).encode("utf-8")

        found = cached_body(key, render)
        kept.put(key, found)
    return found


_MARKS = re.compile(
    "|".join(
        re.escape(mark)
        for mark in (
            *(AWARD_MARK, ROBOTS_MARK, STATUS_MARK, SUPERSEDED_MARK, LEAD_MARK),
            *(ISSUED_MARK, EXPIRES_MARK, CREDITS_MARK, TOLD_MARK, VERIFY_MARK),
            DESCRIPTION_MARK,
        )
    ).encode()
)


def fill(body: bytes, fills: dict[str, str]) -> bytes:
    """``body`` with each mark replaced by what it stands for, in one pass (a value that
    happens to hold a mark is not read again)."""
    encoded = {mark.encode(): value.encode("utf-8") for mark, value in fills.items()}
    return _MARKS.sub(lambda match: encoded[match.group(0)], body)


def page_body(award: Award, request: HttpRequest, csrf_token: str, *, shared: bool) -> bytes:
    """The badge page of ``award``; ``shared``: a page every anonymous reader gets (its
    skeleton is kept), else one for this reader alone."""
    inputs, fills = values(award)
    if shared:
        return fill(skeleton(inputs, request, csrf_token), fills)
    context = {**_context(inputs), "csrf_token": csrf_token}
    body = render_to_string("badges/credential.html", context, request).encode("utf-8")
    return fill(body, fills)
