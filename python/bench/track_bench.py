"""Throughput of the Python binding (issue 7): run.track calls/s and
track_many points/s. Not a test; run by hand:

    PYTHONPATH=<build>/python python3 python/bench/track_bench.py
"""

import tempfile
import time

import numpy as np

import runlog


def rate(count, seconds):
    return count / seconds / 1e6


def main():
    with tempfile.TemporaryDirectory() as root:
        repo = runlog.Repo(root)
        run = repo.create_run(experiment="bench")
        track = run.track
        calls = 1_000_000
        start = time.perf_counter()
        for step in range(calls):
            track(0.5, name="loss", step=step)
        print(f"run.track(value, name=, step=): "
              f"{rate(calls, time.perf_counter() - start):.2f} M calls/s")

        points = 10_000_000
        steps = np.arange(points, dtype=np.int64)
        values = np.random.default_rng(1).random(points)
        start = time.perf_counter()
        run.track_many("many", steps, values)
        print(f"run.track_many(numpy): "
              f"{rate(points, time.perf_counter() - start):.1f} M points/s")
        run.commit()


if __name__ == "__main__":
    main()
