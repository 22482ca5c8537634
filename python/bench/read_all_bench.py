"""Reading every series of a run from Python (issue 19): one series() call
per series against RunReader.read_all(), for a run of 2,000 one-point
series, as a log run and compacted. Not a test; run by hand:

    PYTHONPATH=<build>/python /usr/bin/python3 python/bench/read_all_bench.py
"""

import tempfile
import time

import runlog

SERIES = 2000


def main():
    with tempfile.TemporaryDirectory() as root:
        repo = runlog.Repo(root + "/repo")
        with repo.create_run(experiment="bench") as run:
            for i in range(SERIES):
                run.track(float(i), name=f"s{i}", step=0)
        for form in ("log", "compacted"):
            if form == "compacted":
                repo.compact_run(run.id)
            reader = repo.open_run(run.id)
            start = time.perf_counter()
            one_by_one = sum(len(reader.series(s.name).steps)
                             for s in reader.series_summaries)
            per_series = time.perf_counter() - start
            start = time.perf_counter()
            at_once = sum(len(s.steps) for _, s in reader.read_all())
            read_all = time.perf_counter() - start
            assert one_by_one == at_once == SERIES
            print(f"{form} run, {SERIES} series: series() each "
                  f"{per_series * 1e3:.0f} ms, read_all() "
                  f"{read_all * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
