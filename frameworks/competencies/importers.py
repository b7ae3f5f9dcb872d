"""Parse competency frameworks: CASE 1.1 ``CFPackage`` JSON and ESCO skills (CSV or JSON-LD).

Pure functions over text, so a file is understood (or refused) before anything is stored;
``services.import_competency_framework`` stores the result. Every item keeps its source URI
(research §5, §9.2).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any


class ImportFormatError(ValueError):
    """The file is not a CASE package or ESCO skills file we understand."""


@dataclass
class ParsedItem:
    identifier: str
    uri: str
    label: str
    code: str = ""
    statement: str = ""
    item_type: str = ""
    alt_labels: list[str] = field(default_factory=list)


@dataclass
class ParsedFramework:
    source: str
    identifier: str
    title: str
    uri: str = ""
    creator: str = ""
    version: str = ""
    language: str = ""
    items: list[ParsedItem] = field(default_factory=list)


ESCO_TITLE = "ESCO skills"


def _absolute(uri: str) -> bool:
    return uri.startswith(("https://", "http://"))


def parse_case(data: Any) -> ParsedFramework:
    """A CASE 1.1 ``CFPackage``: ``CFDocument`` + ``CFItems`` (CASE 1.1 §4.1)."""
    if not isinstance(data, dict) or not isinstance(data.get("CFDocument"), dict):
        raise ImportFormatError("not a CASE package: no CFDocument")
    document = data["CFDocument"]
    framework = ParsedFramework(
        source="case",
        identifier=str(document.get("identifier", "")),
        uri=str(document.get("uri", "")),
        title=str(document.get("title", "")),
        creator=str(document.get("creator", "")),
        version=str(document.get("version", "")),
        language=str(document.get("language", "")),
    )
    if not framework.identifier or not framework.title:
        raise ImportFormatError("the CFDocument has no identifier or title")
    for item in data.get("CFItems", []) or []:
        if not isinstance(item, dict):
            continue
        uri = str(item.get("uri", ""))
        identifier = str(item.get("identifier", ""))
        statement = str(item.get("fullStatement", ""))
        if not identifier or not _absolute(uri) or not statement:
            continue
        framework.items.append(
            ParsedItem(
                identifier=identifier,
                uri=uri,
                label=str(item.get("abbreviatedStatement") or statement)[:500],
                code=str(item.get("humanCodingScheme", ""))[:100],
                statement=statement,
                item_type=str(item.get("CFItemType", ""))[:100],
            )
        )
    return framework


def _esco_code(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1][:100]


def parse_esco_csv(text: str) -> ParsedFramework:
    """ESCO ``skills_<lang>.csv`` (columns conceptUri, preferredLabel, altLabels, …)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "conceptUri" not in reader.fieldnames:
        raise ImportFormatError("not an ESCO skills CSV: no conceptUri column")
    framework = ParsedFramework(source="esco", identifier="esco-skills", title=ESCO_TITLE)
    for row in reader:
        uri = (row.get("conceptUri") or "").strip()
        label = (row.get("preferredLabel") or "").strip()
        if not _absolute(uri) or not label:
            continue
        alt = [a.strip() for a in (row.get("altLabels") or "").splitlines() if a.strip()]
        framework.items.append(
            ParsedItem(
                identifier=uri,
                uri=uri,
                label=label[:500],
                code=_esco_code(uri),
                statement=(row.get("description") or row.get("definition") or "").strip(),
                item_type=(row.get("skillType") or "").strip()[:100],
                alt_labels=alt,
            )
        )
    return framework


def _literal(value: Any, language: str = "en") -> str:
    """A label from the shapes ESCO uses: a string, ``{"en": …}``, ``{"@value": …}`` or a list."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [(_literal(v, language), v) for v in value]
        for text, raw in texts:
            if isinstance(raw, dict) and raw.get("@language") == language:
                return text
        return texts[0][0] if texts else ""
    if isinstance(value, dict):
        if "@value" in value:
            return str(value["@value"])
        if "literal" in value:
            return str(value["literal"])
        if language in value:
            return _literal(value[language], language)
    return ""


def parse_esco_jsonld(data: Any) -> ParsedFramework:
    """ESCO skills as JSON-LD (a ``@graph`` of SKOS concepts) or the ESCO API's JSON."""
    if isinstance(data, dict):
        nodes = data.get("@graph") or data.get("_embedded", {}).get("results") or [data]
    elif isinstance(data, list):
        nodes = data
    else:
        raise ImportFormatError("not ESCO JSON-LD")
    framework = ParsedFramework(source="esco", identifier="esco-skills", title=ESCO_TITLE)
    for node in nodes:
        if not isinstance(node, dict):
            continue
        uri = str(node.get("@id") or node.get("uri") or "")
        label = _literal(
            node.get("skos:prefLabel") or node.get("prefLabel") or node.get("preferredLabel")
        ) or str(node.get("title", ""))
        if not _absolute(uri) or not label:
            continue
        statement = _literal(
            node.get("skos:definition") or node.get("description") or node.get("definition")
        )
        framework.items.append(
            ParsedItem(
                identifier=uri,
                uri=uri,
                label=label[:500],
                code=_esco_code(uri),
                statement=statement,
            )
        )
    if not framework.items:
        raise ImportFormatError("no ESCO concepts with a URI and a label")
    return framework


def parse(content: bytes, filename: str = "") -> ParsedFramework:
    """Detect the format of an uploaded file and parse it. A CSV value past the csv module's
    field limit and JSON nested past the recursion limit are format errors, not crashes."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFormatError("the file is not UTF-8 text") from error
    try:
        return _parse_text(text, filename)
    except csv.Error as error:
        raise ImportFormatError(f"the CSV cannot be read: {error}") from None
    except RecursionError:
        raise ImportFormatError("the JSON is nested too deeply") from None


def _parse_text(text: str, filename: str) -> ParsedFramework:
    if filename.lower().endswith(".csv") or text.lstrip().startswith("conceptType,"):
        return parse_esco_csv(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return parse_esco_csv(text)
    if isinstance(data, dict) and "CFDocument" in data:
        return parse_case(data)
    return parse_esco_jsonld(data)
