"""DOT's validator with Insignia's rules: a revoked client cannot authenticate, and a client
may ask only for the scopes its owner granted it, narrowed to issuers it may reach."""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import OAuth2Validator

from integrations.models import ApiClient
from integrations.oauth import scopes as scope_names
from issuers.models import Issuer


def _client(application: Any) -> ApiClient | None:
    try:
        return application.insignia  # type: ignore[no-any-return]
    except ApiClient.DoesNotExist:
        return None


def allowed_issuer_slugs(client: ApiClient) -> frozenset[str]:
    """The ``issuer:<slug>`` scopes the client may ask for."""
    if client.institution_id is None:
        return frozenset()
    issuers = client.issuers.all() if client.pk else Issuer.objects.none()
    slugs = [i.slug for i in issuers] or list(
        Issuer.objects.filter(institution_id=client.institution_id).values_list("slug", flat=True)
    )
    return frozenset(slugs)


class Validator(OAuth2Validator):
    def _load_application(self, client_id: str, request: Any) -> Any:
        application = super()._load_application(client_id, request)
        if application is not None:
            client = _client(application)
            if client is None or client.revoked_at is not None:
                request.client = None
                return None
        return application

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kw: Any
    ) -> bool:
        found = _client(client)
        if found is None:
            return False
        wanted = set(scopes)
        issuers = {s for s in wanted if s.startswith(scope_names.ISSUER_PREFIX)}
        if not (wanted - issuers) <= found.scope_set:
            return False
        slugs = {s[len(scope_names.ISSUER_PREFIX) :] for s in issuers}
        return not slugs or slugs <= allowed_issuer_slugs(found)

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kw: Any
    ) -> bool:
        found = _client(client)
        if found is None:
            return False
        if grant_type == AbstractApplication.GRANT_CLIENT_CREDENTIALS and found.kind != (
            ApiClient.Kind.INSTITUTION
        ):
            return False  # a wallet only ever acts for a learner who approved it
        return bool(
            super().validate_grant_type(client_id, grant_type, client, request, *args, **kw)
        )
