"""How runs end: Ctrl-C and SystemExit inside `with` (committed as failed,
"interrupted"), ordinary exceptions (on_exception), and runs still open when
the interpreter exits on an uncaught exception (real subprocesses)."""

import signal

import pytest

import runlog
from conftest import SUBPROCESS_DEADLINE_S, python_script


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interrupt_inside_with_commits_as_failed(repo, exc):
    with pytest.raises(exc):
        with repo.create_run(experiment="e") as run:
            run.track(1.0, name="loss", step=0)
            raise exc()
    record = repo.get_run(run.id)
    assert record.state == "committed"
    assert record.status == "failed"
    assert record.failure_reason == "interrupted"
    assert repo.open_run(run.id).series("loss").values.tolist() == [1.0]
    # A later recovery keeps it.
    repo.recover()
    assert repo.get_run(run.id).status == "failed"


def test_on_interrupt_abandon_keeps_the_old_behaviour(repo):
    with pytest.raises(KeyboardInterrupt):
        with repo.create_run(experiment="e", on_interrupt="abandon") as run:
            run.track(1.0, name="loss")
            raise KeyboardInterrupt
    assert repo.get_run(run.id).state != "committed"


def test_on_interrupt_abandon_follows_on_exception(repo):
    with pytest.raises(KeyboardInterrupt):
        with repo.create_run(experiment="e", on_interrupt="abandon",
                             on_exception="fail") as run:
            raise KeyboardInterrupt
    record = repo.get_run(run.id)
    assert record.status == "failed"
    assert record.failure_reason == "KeyboardInterrupt: "


def test_ordinary_exception_still_leaves_the_run_uncommitted(repo):
    with pytest.raises(ValueError):
        with repo.create_run(experiment="e") as run:
            run.track(1.0, name="loss")
            raise ValueError("bad batch")
    assert repo.get_run(run.id).state != "committed"
    # Deletable from the handler, as before.
    repo.delete_run(run.id)
    assert repo.runs() == []


def test_bad_on_interrupt_is_invalid_argument(repo):
    with pytest.raises(runlog.InvalidArgumentError, match="on_interrupt"):
        repo.create_run(experiment="e", on_interrupt="ignore")


def _finish(proc):
    out, err = proc.communicate(timeout=SUBPROCESS_DEADLINE_S)
    return proc.returncode, out, err


def _script(repo_path, body, create="repo.create_run(experiment='x')"):
    return python_script(f"""
        import runlog
        repo = runlog.Repo({str(repo_path)!r})
        run = {create}
        run.track(1.0, name="loss", step=0)
        print(run.id, flush=True)
        {body}
    """)


def test_open_run_at_exit_on_uncaught_exception_is_not_finished(repo,
                                                                  repo_path):
    rc, out, err = _finish(_script(repo_path, "raise RuntimeError('boom')"))
    assert rc == 1 and "RuntimeError: boom" in err
    record = repo.get_run(out.strip())
    assert record.state != "committed", record
    assert record.status != "finished"


def test_open_run_at_exit_follows_on_exception_fail(repo, repo_path):
    rc, out, err = _finish(_script(
        repo_path, "raise RuntimeError('boom')",
        create="repo.create_run(experiment='x', on_exception='fail')"))
    assert rc == 1, err
    record = repo.get_run(out.strip())
    assert record.status == "failed"
    assert record.failure_reason == "RuntimeError: boom"


def test_open_run_at_exit_follows_on_exception_discard(repo, repo_path):
    rc, out, err = _finish(_script(
        repo_path, "raise RuntimeError('boom')",
        create="repo.create_run(experiment='x', on_exception='discard')"))
    assert rc == 1, err
    with pytest.raises(runlog.NotFoundError):
        repo.get_run(out.strip())


def test_open_run_at_exit_on_uncaught_interrupt_is_interrupted(repo,
                                                               repo_path):
    rc, out, err = _finish(_script(repo_path, "raise KeyboardInterrupt"))
    assert rc != 0, err
    record = repo.get_run(out.strip())
    assert record.status == "failed"
    assert record.failure_reason == "interrupted"


def test_open_run_at_normal_exit_is_finished(repo, repo_path):
    rc, out, err = _finish(_script(repo_path, "pass"))
    assert rc == 0, err
    assert repo.get_run(out.strip()).status == "finished"


def test_exception_caught_by_the_program_does_not_count(repo, repo_path):
    rc, out, err = _finish(_script(
        repo_path, "try: raise RuntimeError('handled')\n"
                   "        except RuntimeError: pass"))
    assert rc == 0, err
    assert repo.get_run(out.strip()).status == "finished"


def test_ctrl_c_of_a_real_process_inside_with_keeps_its_metrics(repo,
                                                                 repo_path):
    proc = python_script(f"""
        import sys
        import runlog
        repo = runlog.Repo({str(repo_path)!r})
        with repo.create_run(experiment="long") as run:
            for step in range(100):
                run.track(float(step), name="loss", step=step)
            print(run.id, flush=True)
            sys.stdin.readline()  # Ctrl-C arrives here
    """)
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    rc, _, err = _finish(proc)
    assert rc != 0 and "KeyboardInterrupt" in err
    record = repo.get_run(run_id)
    assert (record.state, record.status, record.failure_reason) == (
        "committed", "failed", "interrupted")
    assert len(repo.open_run(run_id).series("loss").steps) == 100
