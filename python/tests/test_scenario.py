"""The failure runlog was born from: a run that must go after an exception."""

import pytest

import runlog
from conftest import SUBPROCESS_DEADLINE_S, python_script, run_dirs


def test_delete_in_exception_handler_as_a_user_writes_it(repo_path):
    proc = python_script(f"""
        import runlog
        repo = runlog.Repo({str(repo_path)!r})
        run = repo.create_run(experiment="mnist", params={{"lr": 0.1}})
        run_id = run.id
        try:
            for step in range(100):
                run.track(1.0 / (step + 1), name="loss", step=step)
            1 / 0
        except ZeroDivisionError:
            repo.delete_run(run_id)
        print("deleted", run_id)
    """)
    out, err = proc.communicate(timeout=SUBPROCESS_DEADLINE_S)
    assert proc.returncode == 0, err
    assert err == ""
    assert out.startswith("deleted ")
    assert run_dirs(repo_path) == []
    assert runlog.Repo(repo_path).runs() == []


def test_delete_while_run_is_referenced_then_del(repo, repo_path):
    run = repo.create_run(experiment="e")
    run.track(0.5, name="loss", step=0)
    run.flush()
    repo.delete_run(run.id)
    assert run_dirs(repo_path) == []
    assert not run.is_open
    with pytest.raises(runlog.FailedPreconditionError):
        run.track(0.25, name="loss", step=1)
    del run  # must neither commit nor recreate anything
    assert run_dirs(repo_path) == []
    assert repo.runs() == []


def test_with_commits_on_normal_exit(repo):
    with repo.create_run(experiment="e") as run:
        run.track(1.0, name="loss")
    (record,) = repo.runs()
    assert record.id == run.id
    assert record.status == "finished"
    assert record.state == "committed"


def test_with_leaves_uncommitted_by_default_and_propagates(repo):
    error = ValueError("boom")
    with pytest.raises(ValueError) as raised:
        with repo.create_run(experiment="e") as run:
            run.track(1.0, name="loss")
            raise error
    assert raised.value is error
    (record,) = repo.runs()
    assert record.state != "committed"
    assert record.series[0].count == 1


def test_with_discard_deletes_the_run(repo, repo_path):
    with pytest.raises(ZeroDivisionError):
        with repo.create_run(experiment="e", on_exception="discard") as run:
            run.track(1.0, name="loss")
            1 / 0
    assert run_dirs(repo_path) == []
    assert repo.runs() == []


def test_with_fail_commits_as_failed_with_the_exception(repo):
    with pytest.raises(ZeroDivisionError):
        with repo.create_run(experiment="e", on_exception="fail") as run:
            run.track(1.0, name="loss")
            1 / 0
    (record,) = repo.runs()
    assert record.status == "failed"
    assert "ZeroDivisionError" in record.failure_reason


def test_delete_inside_with_then_exit_is_quiet(repo, repo_path):
    with repo.create_run(experiment="e") as run:
        run.track(1.0, name="loss")
        repo.delete_run(run.id)
    assert run_dirs(repo_path) == []


def test_explicit_fail_and_close(repo):
    failed = repo.create_run(experiment="e")
    failed.fail("diverged")
    closed = repo.create_run(experiment="e")
    closed.close()
    records = {r.id: r for r in repo.runs()}
    assert records[failed.id].status == "failed"
    assert records[failed.id].failure_reason == "diverged"
    assert records[closed.id].state != "committed"


def test_bad_on_exception_is_invalid_argument(repo):
    with pytest.raises(runlog.InvalidArgumentError):
        repo.create_run(experiment="e", on_exception="ignore")
