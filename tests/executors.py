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
