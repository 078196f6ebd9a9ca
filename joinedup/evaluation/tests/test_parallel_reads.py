"""A report's reads run at once on PostgreSQL, each on its own connection, and one after
another on SQLite and inside a transaction."""

import threading

import pytest
from django.db import connections, transaction

from joinedup.evaluation.reports import in_parallel


def _reads(count: int):
    """Reads that note the thread they ran on, and wait until all have started where they can
    run at once (so a pool cannot hand them to one thread in turn)."""
    started = threading.Barrier(count, timeout=10)
    threads: dict[int, object] = {}  # thread: the connection wrapper it read through

    def read(n: int):
        def run():
            with connections["reports"].cursor() as cursor:
                cursor.execute("SELECT %s", [n])
                value = cursor.fetchone()[0]
            threads[threading.get_ident()] = connections["reports"]
            if (
                connections["reports"].vendor == "postgresql"
                and not connections["reports"].in_atomic_block
            ):
                started.wait()
            return value

        return run

    return [read(n) for n in range(count)], threads


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_reads_run_at_once_on_postgresql_and_close_their_connections():
    reads, threads = _reads(3)
    assert in_parallel("reports", *reads) == [0, 1, 2]
    main = threading.get_ident()
    if connections["reports"].vendor == "postgresql":
        assert len(threads) == 3
        workers = [wrapper for thread, wrapper in threads.items() if thread != main]
        assert all(wrapper.connection is None for wrapper in workers)  # closed
    else:
        assert set(threads) == {main}


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_inside_a_transaction_the_reads_share_its_connection():
    reads, threads = _reads(3)
    with transaction.atomic(using="reports"):
        assert in_parallel("reports", *reads) == [0, 1, 2]
    assert set(threads) == {threading.get_ident()}


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_an_error_in_any_read_reaches_the_caller():
    def fails():
        raise ValueError("no such table")

    reads, _ = _reads(1)
    with pytest.raises(ValueError, match="no such table"):
        in_parallel("reports", reads[0], fails)
