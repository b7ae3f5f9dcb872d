"""The console's LTI pages, under the ``manage`` namespace (``manage_patterns``, included by
``insignia/urls.py``). The tool's public routes are in ``lti.urls``.

Every pattern is listed in ``tests/issuers/test_tenant_isolation.py``.
"""

from django.urls import path

from lti import console_views

manage_patterns = [
    path("<slug:institution>/lti/", console_views.overview, name="lti"),
    path(
        "<slug:institution>/lti/platforms/new/",
        console_views.platform_new,
        name="lti_platform_new",
    ),
    path(
        "<slug:institution>/lti/platforms/<uuid:platform>/",
        console_views.platform_edit,
        name="lti_platform_edit",
    ),
    path(
        "<slug:institution>/lti/platforms/<uuid:platform>/remove/",
        console_views.platform_remove,
        name="lti_platform_remove",
    ),
    path("<slug:institution>/lti/invites/new/", console_views.invite_new, name="lti_invite_new"),
    path(
        "<slug:institution>/lti/invites/<int:invite>/withdraw/",
        console_views.invite_revoke,
        name="lti_invite_revoke",
    ),
    path(
        "<slug:institution>/lti/placements/<uuid:placement>/check/",
        console_views.check,
        name="lti_check",
    ),
    path(
        "<slug:institution>/lti/grants/<int:grant>/decide/",
        console_views.decide,
        name="lti_decide",
    ),
]
