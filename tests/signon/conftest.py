"""The real identity providers, for the sign-on tests outside their protocol's folder."""

from tests.signon.oidc.conftest import op, openid_provider  # noqa: F401 - fixtures
from tests.signon.saml.conftest import saml_idp  # noqa: F401 - fixture
