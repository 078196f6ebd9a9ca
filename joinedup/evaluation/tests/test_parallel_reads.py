"""A report's scores and episodes are read in the background on PostgreSQL, each on a
thread and a connection of its own, and at once, here, on SQLite and inside a transaction;
the cycle collector pauses while a report is built."""

import gc
import threading

import pytest
from django.db import connections, transaction

from joinedup.evaluation.reports import in_background, without_cycle_collection


def _background() -> bool:
    connection = connections["reports"]
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _read(n: int, threads: dict, started: threading.Barrier):
    """A read that notes the thread it ran on and the connection it read through, and where
    reads go to the background, waits until the others have started too (so they can only
    pass if they run at once)."""

    def read():
        with connections["reports"].cursor() as cursor:
            cursor.execute("SELECT %s", [n])
            value = cursor.fetchone()[0]
        threads[threading.get_ident()] = connections["reports"]
        if _background():
            started.wait()
        return value

    return read


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_reads_run_in_the_background_on_postgresql_and_close_their_connections():
    threads: dict[int, object] = {}
    started = threading.Barrier(3, timeout=10)
    futures = [in_background("reports", _read(n, threads, started)) for n in (1, 2)]
    if _background():
        started.wait()  # both reads are under way while this thread goes on
    assert [future.result(timeout=10) for future in futures] == [1, 2]
    main = threading.get_ident()
    if connections["reports"].vendor == "postgresql":
        assert main not in threads
        assert len(threads) == 2
        assert all(wrapper.connection is None for wrapper in threads.values())  # closed
    else:
        assert set(threads) == {main}


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_inside_a_transaction_a_read_runs_at_once_on_its_connection():
    threads: dict[int, object] = {}
    started = threading.Barrier(1)
    with transaction.atomic(using="reports"):
        future = in_background("reports", _read(7, threads, started))
        assert future.done()
        assert future.result() == 7
    assert set(threads) == {threading.get_ident()}


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_an_error_in_a_read_reaches_the_caller():
    def fails():
        raise ValueError("no such table")

    with pytest.raises(ValueError, match="no such table"):
        in_background("reports", fails).result(timeout=10)


@pytest.mark.parametrize("running", [True, False])
def test_the_cycle_collector_pauses_while_a_report_is_built_and_resumes_as_it_was(running):
    seen = []
    build = without_cycle_collection(lambda: seen.append(gc.isenabled()))
    (gc.enable if running else gc.disable)()
    try:
        build()
        assert seen == [False]
        assert gc.isenabled() is running
    finally:
        gc.enable()


def test_the_cycle_collector_resumes_after_a_report_fails():
    def fails():
        raise ValueError("no such service")

    with pytest.raises(ValueError, match="no such service"):
        without_cycle_collection(fails)()
    assert gc.isenabled()
