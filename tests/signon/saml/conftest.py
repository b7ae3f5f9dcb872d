"""One real SAML identity provider (pysaml2, tests/idp/saml_idp.py) for the whole session,
and the institutions whose SAML sign-on it serves: Poly (the cast's) and Rival College."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.base import Cast
from tests.idp.saml_idp import SamlIdP
from tests.signon.saml.helpers import Campus, make_saml_provider


@pytest.fixture(scope="session")
def saml_idp() -> Iterator[SamlIdP]:
    with SamlIdP() as idp:
        yield idp


@pytest.fixture
def campus(cast: Cast, saml_idp: SamlIdP) -> Campus:
    return Campus(make_saml_provider(cast.institution, saml_idp), saml_idp)


@pytest.fixture
def rival_campus(cast: Cast, saml_idp: SamlIdP) -> Campus:
    return Campus(make_saml_provider(cast.other_institution, saml_idp), saml_idp)
