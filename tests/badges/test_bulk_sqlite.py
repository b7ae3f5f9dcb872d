"""Bulk issuing on the embedded default (issue #8, DESIGN.md §2): `make run` has SQLite, no
broker and a background thread instead of Celery; an upload must issue there too.

The suite itself runs on PostgreSQL, so this runs `manage.py` in a child process with
development settings on a throw-away SQLite file, as `make run` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = r"""
import json, time
from awarding.bulk import services as bulk_services
from badges.models import Award, BatchState, BulkBatch
from tests.badges.helpers import make_published
from tests.base import make_cast
from verification import pipeline

cast = make_cast()
version = make_published(cast.editor, cast.issuer)
data = (
    "电子邮箱,姓名,证据链接,语言\n"
    "mei.wang@example.com,王美,https://example.com/mei,zh\n"
    "ana@example.com,Ana,,en\n"
    "li@example.com,李雷,,zh\n"
).encode("gb18030")
batch = bulk_services.create_batch(
    actor=cast.awarder, version=version, file_name="班级.csv", data=data
)
bulk_services.start_batch(actor=cast.awarder, batch=batch)
deadline = time.monotonic() + 120
while BulkBatch.objects.get(pk=batch.pk).state != BatchState.DONE:
    assert time.monotonic() < deadline, "the batch did not finish"
    time.sleep(0.2)
awards = list(Award.objects.filter(bulk_row__batch=batch))
verdicts = sorted(
    pipeline.verify(pipeline.VerifyRequest(text=a.credential_json)).verdict for a in awards
)
states = sorted(BulkBatch.objects.get(pk=batch.pk).rows.values_list("state", flat=True))
print("RESULT " + json.dumps({"awards": len(awards), "verdicts": verdicts, "states": states}))
"""


def test_a_csv_upload_is_issued_on_sqlite_with_the_background_thread(tmp_path: Path) -> None:
    prefixes = ("INSIGNIA_", "DATABASE_", "DJANGO_", "CELERY_", "BULK_", "EMAIL_")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(prefixes)},
        "INSIGNIA_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'insignia.sqlite3'}",
        "SECRET_KEY": "development-secret-for-the-sqlite-bulk-test-" + "x" * 20,
        "INSIGNIA_KEY_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    issued = manage("shell", "-c", SCRIPT)

    assert issued.returncode == 0, issued.stderr[-3000:]
    line = next(x for x in issued.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    assert result == {
        "awards": 3,
        "verdicts": ["valid", "valid", "valid"],
        "states": ["notified", "notified", "notified"],
    }
    # The console e-mail backend printed each learner's claim link.
    assert issued.stdout.count("/claim/") >= 3
