"""runlog.integrations.lightning.RunlogLogger, driven as Lightning's Trainer
drives a logger (reference: trainer/call.py, loggers/utilities.py,
logger_connector.py): experiment touched at setup, log_hyperparams,
log_graph, save, then (log_metrics, save)* per logging step,
after_save_checkpoint, and finalize("success") -- or finalize("failed") from
the except block on an exception or Ctrl-C."""

import argparse
import types

import pytest

import runlog
from runlog.integrations.lightning import RunlogLogger


class FakeCheckpoint:
    best_model_path = "/ckpt/epoch=1.ckpt"
    best_model_score = 0.25


def fake_fit(logger, steps=6, fail_at=None, exc=RuntimeError("nan loss")):
    """The Trainer's calls on a logger during fit()."""
    try:
        if hasattr(logger, "experiment"):
            logger.experiment  # noqa: B018 -- _call_setup_hook touches it
        logger.log_hyperparams(
            {"lr": 0.01, "model": {"layers": [64, 32], "act": "relu"},
             "ns": argparse.Namespace(seed=7, amp=False)})
        logger.log_graph(object())
        logger.save()
        for step in range(steps):
            if step == fail_at:
                raise exc
            logger.log_metrics({"train_loss": 1.0 / (step + 1),
                                "epoch": float(step // 3)}, step=step)
            logger.save()
            if step % 3 == 2:
                logger.log_metrics({"val_loss": 0.5 / (step + 1),
                                    "epoch": float(step // 3)}, step=step)
                logger.save()
                logger.after_save_checkpoint(FakeCheckpoint())
    except BaseException:
        logger.finalize("failed")
        raise
    logger.finalize("success")


def test_a_fit_is_stored_and_committed(repo, monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    logger = RunlogLogger(repo=repo, experiment="mnist", tags=["baseline"])
    assert logger.name == "mnist"
    fake_fit(logger)
    run_id = logger.version
    record = repo.get_run(run_id)
    assert record.status == "finished" and record.tags == ["baseline"]
    assert record.params == {
        "lr": 0.01, "model": {"layers": [64, 32], "act": "relu"},
        "ns": {"seed": 7, "amp": False},
        "checkpoint": {"best_model_path": "/ckpt/epoch=1.ckpt",
                       "best_model_score": 0.25}}
    reader = repo.open_run(run_id)
    loss = reader.series("train_loss")
    assert loss.steps.tolist() == list(range(6))
    assert loss.values.tolist() == [1.0 / (s + 1) for s in range(6)]
    assert loss.epochs.tolist() == [0, 0, 0, 1, 1, 1]
    val = reader.series("val_loss")
    assert val.steps.tolist() == [2, 5]
    assert "epoch" not in {s.name for s in reader.series_summaries}


def test_namespace_hyperparams_and_a_path_repo(repo_path):
    logger = RunlogLogger(repo=str(repo_path), experiment="e")
    logger.log_hyperparams(argparse.Namespace(lr=0.1, dtype=float,
                                              nested={"a": (1, 2)}))
    logger.finalize("success")
    record = runlog.Repo(repo_path).get_run(logger.version)
    assert record.params == {"lr": 0.1, "dtype": "<class 'float'>",
                             "nested": {"a": [1, 2]}}


def test_an_exception_in_fit_commits_the_run_as_failed(repo):
    logger = RunlogLogger(repo=repo, experiment="e")
    with pytest.raises(RuntimeError):
        fake_fit(logger, fail_at=4)
    record = repo.get_run(logger.version)
    assert (record.status, record.failure_reason) == (
        "failed", "RuntimeError: nan loss")
    assert repo.open_run(record.id).series("train_loss").steps.tolist() == [
        0, 1, 2, 3]


def test_ctrl_c_in_fit_is_failed_interrupted(repo):
    logger = RunlogLogger(repo=repo, experiment="e")
    with pytest.raises(KeyboardInterrupt):
        fake_fit(logger, fail_at=1, exc=KeyboardInterrupt())
    record = repo.get_run(logger.version)
    assert (record.status, record.failure_reason) == ("failed", "interrupted")


def test_other_ranks_record_nothing(repo, monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    logger = RunlogLogger(repo=repo, experiment="e")
    fake_fit(logger)
    assert logger.version is None
    logger.experiment.track(1.0, name="x")  # the stand-in does nothing
    assert repo.runs() == []


def test_dirs_are_never_the_repository(repo, tmp_path):
    logger = RunlogLogger(repo=repo, experiment="e")
    assert logger.save_dir is None and logger.log_dir is None
    with_dir = RunlogLogger(repo=repo, experiment="e", save_dir=tmp_path)
    assert with_dir.save_dir == str(tmp_path)
    assert with_dir.log_dir == str(tmp_path / "e" / with_dir.version)
    assert isinstance(with_dir.experiment, runlog.Run)
    with_dir.finalize("success")
    logger.finalize("success")  # never started: creates no run
    assert len(repo.runs()) == 1


def test_tensor_like_metrics_and_non_numbers(repo):
    class Scalar:  # what a 0-d tensor offers
        ndim = 0

        def __init__(self, v):
            self.v = v

        def item(self):
            return self.v

    logger = RunlogLogger(repo=repo, experiment="e")
    with pytest.warns(RuntimeWarning, match="'note'"):
        logger.log_metrics({"loss": Scalar(0.5), "note": "text"}, step=3)
    logger.finalize("success")
    s = repo.open_run(logger.version).series("loss")
    assert (s.steps.tolist(), s.values.tolist()) == ([3], [0.5])


def test_bad_arguments(repo):
    with pytest.raises(TypeError, match="repo"):
        RunlogLogger(experiment="e")
    with pytest.raises(TypeError, match="experment"):
        RunlogLogger(repo=repo, experment="e")


def test_run_options_are_passed_on(repo):
    logger = RunlogLogger(repo=repo, experiment="e", name="n1",
                          description="d", params={"a": 1})
    logger.log_hyperparams({"b": 2})
    logger.finalize("success")
    record = repo.get_run(logger.version)
    assert (record.name, record.description) == ("n1", "d")
    assert record.params == {"a": 1, "b": 2}


def test_lightning_style_attribute_dict(repo):
    class AttributeDict(dict):  # lightning.fabric.utilities.data
        pass

    logger = RunlogLogger(repo=repo, experiment="e")
    logger.log_hyperparams(AttributeDict(lr=1e-3,
                                         opt=types.SimpleNamespace(x=1)))
    logger.finalize("success")
    params = repo.get_run(logger.version).params
    assert params["lr"] == 1e-3 and params["opt"] == "namespace(x=1)"
