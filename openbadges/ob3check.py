"""Structural checks of an OB 3.0 credential against the strict JSON binding (research §8).

The 1EdTech JSON schema is not published in the spec repository, so its constraints are
checked in code: required properties, ``type`` arrays versus plain-string types, the
``@context`` order, date-time formats, single-object ``credentialStatus``, arrays where the
schema wants them, no ``null`` and no empty arrays (serialization.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from openbadges.ob3 import VC_CONTEXT_V2

OB_CONTEXT_PATTERN: Final = re.compile(
    r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$"
)
DATETIME_PATTERN: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
BCP47_PATTERN: Final = re.compile(r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
IDENTITY_HASH_PATTERN: Final = re.compile(r"^(sha256|md5)\$[0-9a-fA-F]+$")
IDENTITY_OBJECT_KEYS: Final = frozenset({"type", "hashed", "identityHash", "identityType", "salt"})
IMAGE_KEYS: Final = frozenset({"id", "type", "caption"})
#: The OB 3.0 rule the JSON schema leaves to prose ("Either ``id`` or at least one
#: ``identifier`` MUST be supplied"; ``AchievementSubject.required`` is only ``type`` and
#: ``achievement``). Our own credentials must meet it; a verifier reports it on its own.
SUBJECT_ID_RULE: Final = "$.credentialSubject needs an id or at least one identifier"


def _nulls_and_empty_arrays(value: Any, path: str) -> Iterator[str]:
    if value is None:
        yield f"{path}: null values must be omitted"
    elif isinstance(value, list):
        if not value:
            yield f"{path}: empty arrays must be omitted"
        for index, item in enumerate(value):
            yield from _nulls_and_empty_arrays(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nulls_and_empty_arrays(item, f"{path}.{key}")


def _type_array(obj: dict[str, Any], required: str, path: str) -> Iterator[str]:
    types = obj.get("type")
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        yield f"{path}.type must be an array of strings"
    elif required not in types:
        yield f"{path}.type must contain {required!r}"


def _object(value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path} must be an object"


def _required(obj: dict[str, Any], keys: tuple[str, ...], path: str) -> Iterator[str]:
    for key in keys:
        if key not in obj:
            yield f"{path}.{key} is required"


def _datetime(obj: dict[str, Any], key: str, path: str) -> Iterator[str]:
    value = obj.get(key)
    if value is not None and (not isinstance(value, str) or not DATETIME_PATTERN.match(value)):
        yield f"{path}.{key} must be a date-time with a timezone"


def _image(value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path} must be an Image object"
        return
    if value.get("type") != "Image":
        yield f'{path}.type must be the string "Image"'
    if not isinstance(value.get("id"), str):
        yield f"{path}.id is required"
    for key in value.keys() - IMAGE_KEYS:
        yield f"{path}.{key} is not allowed on an Image"


def _array_of_objects(obj: dict[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _array_field(obj: dict[str, Any], key: str, path: str) -> Iterator[str]:
    if key in obj and not isinstance(obj[key], list):
        yield f"{path}.{key} must be an array"


def _profile(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        yield f"{path} must be a URI or a Profile object"
        return
    yield from _required(value, ("id",), path)
    yield from _type_array(value, "Profile", path)
    if "image" in value:
        yield from _image(value["image"], f"{path}.image")


def _identity_object(value: dict[str, Any], path: str) -> Iterator[str]:
    if value.get("type") != "IdentityObject":
        yield f'{path}.type must be the string "IdentityObject"'
    yield from _required(value, ("hashed", "identityHash", "identityType"), path)
    for key in value.keys() - IDENTITY_OBJECT_KEYS:
        yield f"{path}.{key} is not allowed on an IdentityObject"
    if not isinstance(value.get("hashed"), bool):
        yield f"{path}.hashed must be a boolean"
    identity = value.get("identityHash")
    if value.get("hashed") is True and not (
        isinstance(identity, str) and IDENTITY_HASH_PATTERN.match(identity)
    ):
        yield f"{path}.identityHash must be '<sha256|md5>$<hex>' when hashed"


def _achievement(value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path} must be an Achievement object"
        return
    yield from _required(value, ("id", "criteria", "description", "name"), path)
    yield from _type_array(value, "Achievement", path)
    yield from _object(value.get("criteria", {}), f"{path}.criteria")
    if "image" in value:
        yield from _image(value["image"], f"{path}.image")
    for key in ("alignment", "tag", "resultDescription", "otherIdentifier", "related"):
        yield from _array_field(value, key, path)
    language = value.get("inLanguage")
    if language is not None and not (isinstance(language, str) and BCP47_PATTERN.match(language)):
        yield f"{path}.inLanguage must be a BCP 47 tag like 'en' or 'zh-Hans'"
    if "creditsAvailable" in value and not isinstance(value["creditsAvailable"], int | float):
        yield f"{path}.creditsAvailable must be a number"
    for index, alignment in enumerate(_array_of_objects(value, "alignment", path)):
        here = f"{path}.alignment[{index}]"
        yield from _type_array(alignment, "Alignment", here)
        yield from _required(alignment, ("targetName", "targetUrl"), here)
    for index, result in enumerate(_array_of_objects(value, "resultDescription", path)):
        here = f"{path}.resultDescription[{index}]"
        yield from _type_array(result, "ResultDescription", here)
        yield from _required(result, ("id", "name", "resultType"), here)


def has_subject_id(subject: Any) -> bool:
    """Whether a credential subject names its holder: an ``id`` or at least one
    ``identifier`` (OB 3.0 ``AchievementSubject``, CLR 2.0 ``ClrSubject``)."""
    if not isinstance(subject, dict):
        return False
    subject_id = subject.get("id")
    return (isinstance(subject_id, str) and bool(subject_id.strip())) or bool(
        subject.get("identifier")
    )


def _subject(value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path} must be an AchievementSubject object"
        return
    yield from _type_array(value, "AchievementSubject", path)
    yield from _required(value, ("achievement",), path)
    if not has_subject_id(value):
        yield SUBJECT_ID_RULE
    yield from _array_field(value, "identifier", path)
    yield from _array_field(value, "result", path)
    if "creditsEarned" in value and (
        not isinstance(value["creditsEarned"], int | float)
        or isinstance(value["creditsEarned"], bool)
    ):
        yield f"{path}.creditsEarned must be a number"
    for index, identity in enumerate(_array_of_objects(value, "identifier", path)):
        yield from _identity_object(identity, f"{path}.identifier[{index}]")
    if "achievement" in value:
        yield from _achievement(value["achievement"], f"{path}.achievement")


def check_credential(credential: Any) -> list[str]:
    """Return the structural problems of an OB 3.0 credential; an empty list means none.

    Checks what the strict 1EdTech JSON schema checks (research §8) plus the rules it leaves to
    code (a subject needs ``id`` or ``identifier``). It does not verify the proof.
    """
    if not isinstance(credential, dict):
        return ["$ must be a JSON object"]
    problems = list(_nulls_and_empty_arrays(credential, "$"))
    problems += _required(
        credential, ("@context", "id", "type", "credentialSubject", "issuer", "validFrom"), "$"
    )
    context = credential.get("@context")
    if not isinstance(context, list) or len(context) < 2:
        problems.append("$.@context must be an array of at least 2 entries")
    else:
        if context[0] != VC_CONTEXT_V2:
            problems.append(f"$.@context[0] must be {VC_CONTEXT_V2}")
        if not isinstance(context[1], str) or not OB_CONTEXT_PATTERN.match(context[1]):
            problems.append("$.@context[1] must be an OB 3.0 context URL")
    types = credential.get("type")
    if not isinstance(types, list):
        problems.append("$.type must be an array")
    else:
        if "VerifiableCredential" not in types:
            problems.append("$.type must contain 'VerifiableCredential'")
        if not any(t in ("OpenBadgeCredential", "AchievementCredential") for t in types):
            problems.append("$.type must contain 'OpenBadgeCredential'")
    for key in ("validFrom", "validUntil", "awardedDate"):
        problems += _datetime(credential, key, "$")
    if "issuer" in credential:
        problems += _profile(credential["issuer"], "$.issuer")
    if "credentialSubject" in credential:
        problems += _subject(credential["credentialSubject"], "$.credentialSubject")
    if "image" in credential:
        problems += _image(credential["image"], "$.image")
    for key in ("evidence", "proof", "credentialSchema", "termsOfUse", "endorsement"):
        problems += _array_field(credential, key, "$")
    for index, evidence in enumerate(_array_of_objects(credential, "evidence", "$")):
        problems += _type_array(evidence, "Evidence", f"$.evidence[{index}]")
    status = credential.get("credentialStatus")
    if status is not None:
        if not isinstance(status, dict):
            problems.append("$.credentialStatus must be one object, not an array")
        else:
            problems += _required(status, ("id", "type"), "$.credentialStatus")
    return problems
