"""A writer killed with SIGKILL: abandoned, readable to its last flush,
removed by recover."""

import signal

import numpy as np

from conftest import SUBPROCESS_DEADLINE_S, python_script, run_dirs


def test_sigkilled_run_is_abandoned_readable_and_recovered(repo, repo_path):
    proc = python_script(f"""
        import sys
        import runlog
        repo = runlog.Repo({str(repo_path)!r})
        run = repo.create_run(experiment="crash", params={{"seed": 7}})
        for step in range(50):
            run.track(float(step), name="loss", step=step)
        run.flush()
        for step in range(50, 60):  # buffered, never flushed
            run.track(float(step), name="loss", step=step)
        print(run.id, flush=True)
        sys.stdin.readline()  # killed while waiting here
    """)
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=SUBPROCESS_DEADLINE_S)
    proc.stdout.close()
    proc.stderr.close()
    proc.stdin.close()
    assert proc.returncode == -signal.SIGKILL

    (record,) = repo.runs()
    assert record.id == run_id
    assert record.status == "abandoned"
    assert record.params == {"seed": 7}
    assert repo.runs(status="abandoned")[0].id == run_id

    series = repo.open_run(run_id).series("loss")
    np.testing.assert_array_equal(series.steps, np.arange(50))
    np.testing.assert_array_equal(series.values, np.arange(50, dtype=float))

    dry = repo.recover(dry_run=True)
    assert [a["done"] for a in dry["actions"]] == [False]
    assert run_dirs(repo_path) == [run_id]

    report = repo.recover()
    assert [(a["kind"], a["done"]) for a in report["actions"]] == [
        ("delete_abandoned_run", True)
    ]
    assert run_dirs(repo_path) == []
    assert repo.runs() == []
