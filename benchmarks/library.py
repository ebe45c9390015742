"""A library in one command against one command per book, and a Dask cluster against the
local pool, on the same books in one script.

    python benchmarks/library.py [BOOK ...] [--words N] [--books K] [--no-cluster]

Books default to the K shortest novels of ../shared/pdnc/dev (K=6), each cut to its first
N words when --words is given. Runs, each with an empty speech cache and a new output
folder, every narrate a fresh process:

1. one ``narrate render BOOK`` per book, one after the other (a shell loop);
2. one ``narrate render BOOK ...`` for them all;
3. the same library command with ``--executor`` on a dask.distributed LocalCluster of
   two worker processes (one thread each) started by this script, sharing the cache
   folder (unless --no-cluster, or dask is not installed).

Printed: wall times and ratios to the loop.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PDNC_DEV = ROOT.parent / "shared" / "pdnc" / "dev"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("books", nargs="*", type=Path)
    parser.add_argument("--words", type=int, default=0, help="cut each book to N words")
    parser.add_argument("--books", dest="count", type=int, default=6, help="how many novels")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-cluster", action="store_true")
    args = parser.parse_args()
    sources = args.books or _shortest_novels(args.count)
    if not sources:
        print("no books: give some, or put the PDNC corpus in ../shared", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        books = _copies(sources, work / "books", args.words)
        words = sum(len(book.read_text(encoding="utf-8").split()) for book in books)
        print(f"{len(books)} books, {words} words; {os.cpu_count()} cores, --jobs {args.jobs}")
        narrate = [sys.executable, "-m", "narrate.cli", "render", "-q", "--jobs", str(args.jobs)]
        rows = {}
        started = time.perf_counter()
        for book in books:
            out = ["--out", str(work / "loop"), "--cache-dir", str(work / "loop-cache")]
            subprocess.run([*narrate, str(book), *out], check=True)
        rows["one command per book (loop)"] = time.perf_counter() - started
        started = time.perf_counter()
        out = ["--out", str(work / "lib"), "--cache-dir", str(work / "lib-cache")]
        subprocess.run([*narrate, *map(str, books), *out], check=True)
        rows["one library command"] = time.perf_counter() - started
        if not args.no_cluster:
            seconds = _on_cluster(narrate, books, work)
            if seconds is not None:
                rows["one library command, Dask LocalCluster (2 workers)"] = seconds
    loop = rows["one command per book (loop)"]
    for label, seconds in rows.items():
        print(f"{label + ':':54} {seconds:7.1f} s  {seconds / loop:5.2f} x the loop")
    return 0


def _shortest_novels(count: int) -> list[Path]:
    novels = sorted(PDNC_DEV.glob("*/novel_text.txt"), key=lambda path: path.stat().st_size)
    return novels[:count]


def _copies(sources: list[Path], folder: Path, words: int) -> list[Path]:
    """Each book as its own file (PDNC names every novel novel_text.txt), cut if asked."""
    folder.mkdir(parents=True)
    books = []
    for source in sources:
        name = source.parent.name if source.name == "novel_text.txt" else source.stem
        text = source.read_text(encoding="utf-8")
        if words:
            text = " ".join(text.split(" ")[:words])
        book = folder / f"{name}.txt"
        book.write_text(text, encoding="utf-8")
        books.append(book)
    return books


def _on_cluster(narrate: list[str], books: list[Path], work: Path) -> float | None:
    """The library command with its speech made on a LocalCluster of two processes."""
    try:
        from distributed import LocalCluster
    except ImportError:
        print("dask.distributed not installed: no cluster run")
        return None
    (work / "cluster_executor.py").write_text(
        "import os\n"
        "from distributed import Client\n\n\n"
        "def executor(jobs):\n"
        "    return Client(os.environ['NARRATE_BENCH_SCHEDULER']).get_executor()\n",
        encoding="utf-8",
    )
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        env = {
            **os.environ,
            "NARRATE_BENCH_SCHEDULER": cluster.scheduler_address,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(work), os.environ.get("PYTHONPATH")])),
        }
        out = ["--out", str(work / "cluster"), "--cache-dir", str(work / "cluster-cache")]
        started = time.perf_counter()
        subprocess.run(
            [*narrate, *map(str, books), *out, "--executor", "cluster_executor:executor"],
            check=True,
            env=env,
        )
        return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
