"""The console pages of an institution's webhooks (``manage_patterns``).

Included by ``insignia/urls.py`` in the ``manage`` namespace, beside the other apps'
``manage_patterns``: ``from webhooks.urls import manage_patterns as webhook_patterns``. Every
pattern belongs in ``tests/issuers/test_tenant_isolation.py``.
"""

from django.urls import path

from webhooks import views

manage_patterns = [
    path("<slug:institution>/webhooks/", views.webhooks, name="webhooks"),
    path("<slug:institution>/webhooks/new/", views.webhook_create, name="webhook_create"),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/",
        views.webhook_detail,
        name="webhook_detail",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/edit/",
        views.webhook_edit,
        name="webhook_edit",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/rotate/",
        views.webhook_rotate,
        name="webhook_rotate",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/enable/",
        views.webhook_enable,
        name="webhook_enable",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/disable/",
        views.webhook_disable,
        name="webhook_disable",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/test/",
        views.webhook_test,
        name="webhook_test",
    ),
    path(
        "<slug:institution>/webhooks/<uuid:endpoint>/deliveries/<uuid:delivery>/redeliver/",
        views.webhook_redeliver,
        name="webhook_redeliver",
    ),
]
