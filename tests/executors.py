"""An executor plug-in for tests of ``--executor``: narrate's work sent to a pool it did
not make, counting what it was given."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

SUBMITTED: list[int] = []


class CountingPool(ProcessPoolExecutor):
    def submit(self, function, /, *args, **kwargs):
        SUBMITTED.append(len(args[-1]))  # the batch's sentences
        return super().submit(function, *args, **kwargs)


def counting(jobs: int) -> CountingPool:
    return CountingPool(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


def not_an_executor(jobs: int) -> str:
    return "no"


#: Where the Dask scheduler of tests/test_cluster.py listens.
SCHEDULER_VARIABLE = "NARRATE_TEST_SCHEDULER"


def dask_cluster(jobs: int):
    """The executor of a real Dask cluster (the one tests/test_cluster.py starts), as the
    README's recipe makes it: a client of the scheduler, and its executor."""
    import os

    from distributed import Client

    client = Client(os.environ[SCHEDULER_VARIABLE])
    CLIENTS.append(client)  # closed by the test before the cluster goes
    return client.get_executor()


CLIENTS: list = []
