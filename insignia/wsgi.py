"""WSGI entry point for gunicorn."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insignia.settings")

application = get_wsgi_application()

# What a worker has loaded by now (Django, every app, the URL map) lives as long as the
# process. Frozen, it is left out of the collector's full passes, which otherwise walk it all:
# measured with bench/console.py, those passes paused a request for 70-170 ms now and then.
gc.collect()
gc.freeze()
