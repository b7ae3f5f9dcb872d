"""Credentials of this platform's own issuers: found in the database, never over HTTP.

A credential id ``<INSIGNIA_BASE_URL>/credentials/<uuid>`` is an :class:`badges.models.Award`;
its live state (expired, revoked, suspended) comes from :func:`badges.state.award_state`, and
the version it pins is compared with the achievement's current version.

When the credential presented is exactly the text an award stores (:func:`stored_award`),
the database is the reference for its signature: we checked that text when we signed it, so
the pipeline skips canonicalization and the signature arithmetic and still checks everything
that can change after signing (the key's status, the award's state, the dates).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connections, models, router
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from badges import selectors
from badges.credentials import credential_url
from badges.models import Achievement, Award
from badges.state import award_state
from verification.keyresolve import is_own_origin
from verification.report import Check, Report, Status, when


def successor_is_public(award: Award) -> bool:
    """May the verify page link to this (re-issued) award? The learner's privacy choices live
    in a higher layer, whose app config answers (``is_public_award``); without one, no."""
    for config in apps.get_app_configs():
        answer = getattr(config, "is_public_award", None)
        if callable(answer):
            return bool(answer(award))
    return False


def award_for_url(url: str) -> Award | None:
    """The award behind one of our credential URLs (``/credentials/<id>``, ``.json``, ``.jwt``)."""
    if not isinstance(url, str) or not is_own_origin(url):
        return None
    from urllib.parse import urlsplit

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    if match.url_name not in ("credential", "credential_json", "credential_jwt"):
        return None
    award_id = match.kwargs.get("award_id")
    if not isinstance(award_id, uuid.UUID):
        return None
    return award_by_id(award_id)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    at: int  # the position of the id among ``params``
    compiler: Any  # django.db.models.sql.compiler.SQLCompiler, compiled once
    fields: list[str]
    start: int
    end: int
    related: list[Any]
    converters: dict[int, Any]


class _Prepared:
    """A query Django builds the same way for every id, compiled to SQL once per process and
    database and run with the id swapped in. Building the award's (five joined models) cost
    25 times what running it did; this is the verifier's hot path for our own credentials.
    Rows become what the ``QuerySet`` itself gives: model instances made as
    ``ModelIterable`` makes them (``from_db`` and the related populators), or plain values.
    """

    _SENTINEL = uuid.UUID(int=0)

    def __init__(
        self,
        build: Callable[[uuid.UUID], QuerySet[Any, Any]],
        model: type[models.Model],
        *,
        flat: bool = False,
    ) -> None:
        self.build = build
        self.model = model  # whose primary key the id is
        self.flat = flat  # ``values_list(<one field>, flat=True)``: the value, not an instance
        # Per thread: a compiler keeps the connection it compiled for, and a connection
        # belongs to one thread (Django's rule); compiling costs a thread once.
        self.local = threading.local()

    def _compile(self, alias: str) -> _Compiled:
        compiled: dict[str, _Compiled] = self.local.__dict__.setdefault("compiled", {})
        found = compiled.get(alias)
        if found is not None:
            return found
        compiler = self.build(self._SENTINEL).query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        at = list(params).index(self._prep(self._SENTINEL, alias))
        select, info = compiler.select, compiler.klass_info
        fields: list[str] = []
        start = end = 0
        related: list[Any] = []
        if not self.flat:
            start, end = info["select_fields"][0], info["select_fields"][-1] + 1
            fields = [column[0].target.attname for column in select[start:end]]
            # Django 5.2's signature; the stubs describe a later one.
            related = get_related_populators(info, select, alias)  # type: ignore[call-arg]
        columns = [column[0] for column in select[: compiler.col_count]]
        converters = compiler.get_converters(columns)
        found = _Compiled(sql, tuple(params), at, compiler, fields, start, end, related, converters)
        compiled[alias] = found
        return found

    def _prep(self, value: uuid.UUID, alias: str) -> Any:
        return self.model._meta.pk.get_db_prep_value(value, connections[alias])

    def first(self, key: uuid.UUID) -> Any:
        """The first row as the query set's ``first()`` gives it, else ``None``."""
        alias = router.db_for_read(self.model)
        compiled = self._compile(alias)
        params = list(compiled.params)
        params[compiled.at] = self._prep(key, alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched = cursor.fetchmany(1)
        if not fetched:
            return None
        # SQLCompiler.results_iter, with the converters looked up once.
        row = fetched[0]
        if compiled.converters:
            row = next(iter(compiled.compiler.apply_converters([row], compiled.converters)))
        if self.flat:
            return row[0]
        instance = compiled.compiler.klass_info["model"].from_db(
            alias, compiled.fields, row[compiled.start : compiled.end]
        )
        for populator in compiled.related:
            populator.populate(row, instance)
        return instance


def _award_query(award_id: uuid.UUID) -> QuerySet[Award]:
    # The signing key (and its issuer) come in the same query: a stored credential's key
    # is then checked without another round trip (keyresolve.resolve, ``known``). No
    # ORDER BY: it is a primary-key lookup. Its re-issue, if any, comes along too
    # (:func:`note_superseded`), and the issuer's institution, which the issuer-identity check
    # reads for this platform's own registry entry (``issuers.registry.entry``).
    return (
        Award.objects.select_related(
            "issuer__institution",
            "achievement_version__achievement",
            "signing_key__issuer",
            "reissued_as",
        )
        .filter(pk=award_id)
        .order_by()
    )


def _latest_number_query(achievement_id: uuid.UUID) -> QuerySet[Any, Any]:
    return (
        selectors.published_versions(Achievement(pk=achievement_id))
        .order_by("-number")
        .values_list("number", flat=True)[:1]
    )


_AWARD = _Prepared(_award_query, Award)
_LATEST_NUMBER = _Prepared(_latest_number_query, Achievement, flat=True)


def award_by_id(award_id: uuid.UUID) -> Award | None:
    """The award with its issuer, version, achievement and signing key (with its issuer),
    in one query: what ``_award_query(award_id).first()`` gives."""
    award: Award | None = _AWARD.first(award_id)
    return award


def _exact(value: Any) -> str:
    """A JSON text that two documents share only when they are the same JSON: keys sorted,
    and 1, 1.0 and true kept apart (Python's ``==`` calls them equal; a JSON-LD processor
    does not, so they sign differently)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def stored_award(document: dict[str, Any], award: Award | None = None) -> Award | None:
    """The award whose stored signed text ``document`` is, exactly (same JSON after parsing,
    key order aside); ``None`` for anything else, a one-byte change included.

    ``award`` is the award already found for the document's ``id`` (a URL of ours was
    given), else it is looked up by that ``id``. An award with no signed text yet (pending)
    never matches.
    """
    identifier = document.get("id")
    if award is None:
        if not isinstance(identifier, str):
            return None
        award = award_for_url(identifier)
    if award is None or not award.credential_json:
        return None
    try:
        stored = json.loads(award.credential_json)
    except ValueError:
        return None
    if not isinstance(stored, dict) or stored.get("id") != identifier:
        return None
    return award if _exact(stored) == _exact(document) else None


def platform_facts(award: Award) -> dict[str, Any]:
    """What only the platform knows: version issued under vs current, live state."""
    version = award.achievement_version
    latest = _LATEST_NUMBER.first(version.achievement_id)
    current = latest if isinstance(latest, int) else version.number
    state = award_state(award)
    if current == version.number:
        note = _("Issued under version %(n)s, which is the current version.") % {
            "n": version.number
        }
    else:
        note = _("Issued under version %(n)s; the current version is %(m)s.") % {
            "n": version.number,
            "m": current,
        }
    return {
        "award_id": str(award.pk),
        "issuer": award.issuer.slug,
        "issued_version": version.number,
        "current_version": current,
        "version_note": note,
        "state": str(state.state),
        "state_reason": state.reason,
    }


def note_superseded(report: Report, award: Award) -> None:
    """A warning when ``award`` was re-issued (identity change, renewal): it still verifies,
    but a newer copy exists. The newer copy is linked only if its learner made it public."""
    try:
        successor = award.reissued_as  # fetched with the award by :func:`award_by_id`
    except Award.DoesNotExist:
        return
    message = _("Superseded by a re-issue on %(date)s.") % {"date": when(successor.created_at)}
    superseded: dict[str, Any] = {"reissued_at": successor.created_at.isoformat()}
    if successor_is_public(successor):
        superseded["current_url"] = credential_url(successor.pk)
    else:
        message += " " + _("Ask the holder for the current badge.")
    report.add(Check("superseded", Status.WARN, "superseded", message))
    if report.own is not None:
        report.own["superseded"] = superseded
