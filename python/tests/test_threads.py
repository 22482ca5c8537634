"""The binding starts no thread."""

import os
import threading

import numpy as np


def thread_count():
    return threading.active_count(), len(os.listdir("/proc/self/task"))


def test_no_thread_is_started(repo):
    before = thread_count()
    with repo.create_run(experiment="e", params={"a": 1}) as run:
        for step in range(10_000):
            run.track(float(step), name="loss", step=step)
        run.track_many("many", np.arange(100_000), np.zeros(100_000))
        run.flush()
        assert thread_count() == before
    doomed = repo.create_run(experiment="e")
    doomed.track(1.0, name="loss")
    repo.delete_run(doomed.id)
    reader = repo.open_run(run.id)
    reader.series("loss", max_points=50)
    repo.runs()
    repo.recover()
    assert thread_count() == before


def test_threads_may_write_their_own_runs(repo):
    # Long calls release the GIL; runs of different threads stay whole.
    def work(index):
        with repo.create_run(experiment="threads", name=str(index)) as run:
            for chunk in range(20):
                steps = np.arange(chunk * 1000, (chunk + 1) * 1000)
                run.track_many("x", steps, steps.astype(float))
                run.track(float(chunk), name="chunk", step=chunk)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = repo.runs(experiment="threads")
    assert len(records) == 4
    for record in records:
        values = repo.open_run(record.id).series("x").values
        np.testing.assert_array_equal(values, np.arange(20_000, dtype=float))
