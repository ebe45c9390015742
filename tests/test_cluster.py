"""The speech of two books made on a real Dask cluster (dask.distributed's LocalCluster:
a scheduler and two worker processes, as a cluster of machines would run them) through
``--executor``, the cluster and narrate sharing one cache folder: the MP3s equal a local
render's byte for byte (a deterministic plug-in engine, so that only the pipeline could
make them differ), and the scheduler ran narrate's batches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import narrate
from narrate.speech.engine import get_engine

distributed = pytest.importorskip("distributed", reason="dask[distributed], in the test extra")

import executors  # noqa: E402  (tests/ is on the path)

BOOKS = {
    "rooms.txt": (
        "Title: Two Rooms\nAuthor: Ada Quill\n\nChapter 1\n\nRosa filled the kettle.\n\n"
        '"Is it ready?" asked Owen.\n\n"Nearly," said Rosa.\n\nChapter 2\n\n'
        'The rain went on.\n\n"More tea?" said Rosa.\n'
    ),
    "lamp.txt": (
        "Title: The Lamp\nAuthor: Bo Penn\n\nChapter 1\n\nThe glass was falling.\n\n"
        '"Storm tonight," said Tom.\n\n"Then light the lamp," said Mara.\n'
    ),
}


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    tests = str(Path(__file__).resolve().parent)
    # The cluster's worker processes load the plug-in engine by name, as narrate's own do.
    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])))
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    patch.setenv(executors.SCHEDULER_VARIABLE, cluster.scheduler_address)
    yield client
    while executors.CLIENTS:
        executors.CLIENTS.pop().close()
    client.close()
    cluster.close()
    patch.undo()


@pytest.mark.slow
def test_two_books_made_on_a_dask_cluster_equal_a_local_render(scheduler, tmp_path):
    tone = get_engine("tone_engine:ToneEngine")
    shared_cache = tmp_path / "shared-cache"
    made = 0
    with distributed.get_task_stream(scheduler) as stream:
        for name, text in BOOKS.items():
            book = tmp_path / name
            book.write_text(text, encoding="utf-8")
            remote = narrate.render(
                book,
                out=tmp_path / "cluster",
                cache_dir=shared_cache,
                engine=tone,
                jobs=2,
                executor="executors:dask_cluster",
            )
            local = narrate.render(
                book, out=tmp_path / "local", use_cache=False, engine=tone, jobs=1
            )
            assert remote.synthesized > 0
            made += remote.synthesized
            assert [t.path.name for t in remote.tracks] == [t.path.name for t in local.tracks]
            for one, other in zip(remote.tracks, local.tracks, strict=True):
                assert one.path.read_bytes() == other.path.read_bytes()
    batches = [task for task in stream.data if "make_batch" in str(task["key"])]
    assert batches, "the scheduler ran none of narrate's batches"
    # Everything narrate synthesized came from the cluster, into the shared cache.
    assert sum(1 for path in (shared_cache / "speech").rglob("*") if path.is_file()) >= made


@pytest.mark.slow
def test_espeak_speech_made_on_the_cluster_lasts_as_long_as_local(scheduler, tmp_path):
    """With espeak-ng (which keeps state between utterances, so not byte for byte): the
    same chapters, each as long as a local render's within one MP3 frame."""
    book = tmp_path / "rooms.txt"
    book.write_text(BOOKS["rooms.txt"], encoding="utf-8")
    remote = narrate.render(
        book,
        out=tmp_path / "cluster",
        cache_dir=tmp_path / "shared-cache",
        jobs=2,
        executor="executors:dask_cluster",
    )
    local = narrate.render(book, out=tmp_path / "local", use_cache=False, jobs=1)
    assert remote.synthesized > 0
    for one, other in zip(remote.tracks, local.tracks, strict=True):
        assert one.path.name == other.path.name
        frame = 1152 / 44100  # one frame of the MP3
        assert abs(one.duration - other.duration) <= frame + 1e-9
