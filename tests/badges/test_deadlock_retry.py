"""A transaction that PostgreSQL picks as a deadlock's victim is run again (parallel bulk
chunks and API awards can wait on each other's uncommitted status indexes)."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, transaction

from common.db import retrying_deadlocks
from issuers.models import Institution

pytestmark = pytest.mark.django_db(transaction=True)


def test_both_sides_of_a_real_deadlock_finish_when_retried() -> None:
    first = Institution.objects.create(slug="first", name_en="First")
    second = Institution.objects.create(slug="second", name_en="Second")
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts: dict[str, int] = {"a": 0, "b": 0}
    outcomes: dict[str, object] = {}

    def work(name: str, mine: Institution, theirs: Institution) -> str:
        attempts[name] += 1
        with transaction.atomic():
            Institution.objects.filter(pk=mine.pk).update(name_en=f"{name} was here")
            if attempts[name] == 1:  # the first time, each waits until the other holds a row
                both_hold_one.wait()
            Institution.objects.filter(pk=theirs.pk).update(name_en=f"{name} was here")
        return name

    def run(name: str, mine: Institution, theirs: Institution, retry: bool) -> None:
        def call() -> str:
            return work(name, mine, theirs)

        try:
            outcomes[name] = retrying_deadlocks(call) if retry else call()
        except OperationalError as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("a", first, second, True)),
        threading.Thread(target=run, args=("b", second, first, True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == {"a": "a", "b": "b"}
    assert sorted(attempts.values()) == [1, 2]  # one side lost the deadlock and ran again


def test_other_database_errors_are_not_retried() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_here")

    with pytest.raises(Exception, match="no_such_table_here"):
        retrying_deadlocks(broken)
    assert calls == [1]
