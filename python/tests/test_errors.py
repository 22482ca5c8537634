"""absl status codes map to the runlog.Error hierarchy with the C++ message."""

import numpy as np
import pytest

import runlog


def test_hierarchy():
    for cls in (runlog.NotFoundError, runlog.DataLossError,
                runlog.InvalidArgumentError, runlog.FailedPreconditionError):
        assert issubclass(cls, runlog.Error)
    assert issubclass(runlog.Error, Exception)
    assert issubclass(runlog.NotFoundError, LookupError)
    assert issubclass(runlog.InvalidArgumentError, ValueError)


def test_not_found_names_the_run(repo):
    with pytest.raises(runlog.NotFoundError, match="nosuchrun"):
        repo.open_run("nosuchrun")
    with pytest.raises(runlog.NotFoundError, match="nosuchrun"):
        repo.delete_run("nosuchrun")


def test_missing_series_is_not_found(repo):
    with repo.create_run(experiment="e") as run:
        run.track(1.0, name="loss")
    with pytest.raises(runlog.NotFoundError, match="nope"):
        repo.open_run(run.id).series("nope")


def test_missing_repo_without_create_is_not_found(tmp_path):
    with pytest.raises(runlog.NotFoundError):
        runlog.Repo(tmp_path / "absent", create_if_missing=False)


def test_empty_series_name_is_invalid_argument(repo):
    run = repo.create_run(experiment="e")
    with pytest.raises(runlog.InvalidArgumentError):
        run.track(1.0, name="")


def test_kind_mismatch_is_invalid_argument(repo):
    run = repo.create_run(experiment="e")
    run.track(1.0, name="x")
    with pytest.raises(runlog.InvalidArgumentError, match="x"):
        run.track_text("t", name="x")


def test_unknown_state_filter_is_invalid_argument(repo):
    with pytest.raises(runlog.InvalidArgumentError, match="sleeping"):
        repo.runs(state="sleeping")


def test_writing_after_commit_is_failed_precondition(repo):
    run = repo.create_run(experiment="e")
    run.commit()
    with pytest.raises(runlog.FailedPreconditionError):
        run.track(1.0, name="loss")
    with pytest.raises(runlog.FailedPreconditionError):
        run.commit()


def test_damaged_segment_is_data_loss_naming_the_file(repo, repo_path):
    with repo.create_run(experiment="e") as run:
        run.track_many("x", np.arange(1000), np.arange(1000.0))
    (segment,) = (repo_path / "runs" / run.id).glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    with pytest.raises(runlog.DataLossError, match=segment.name):
        repo.open_run(run.id).series("x")
