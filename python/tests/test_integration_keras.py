"""runlog.integrations.keras.RunlogCallback, driven as Keras 3's
CallbackList drives a callback during fit() (set_params, set_model,
on_train_begin, per epoch on_epoch_begin, (on_train_batch_begin,
on_train_batch_end)*, the validation's on_test_begin / on_test_batch_* /
on_test_end, on_epoch_end with val_ logs; on_train_end) and evaluate()."""

import types

import pytest

from runlog.integrations.keras import RunlogCallback

HOOKS = ("set_params", "set_model", "on_epoch_begin", "on_epoch_end",
         "on_batch_begin", "on_batch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_batch_begin", "on_predict_batch_end", "on_train_begin",
         "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
         "on_predict_end")


class FakeModel:
    name = "cnn"

    def __init__(self):
        self.optimizer = types.SimpleNamespace(
            get_config=lambda: {"name": "adam", "learning_rate": 1e-3})

    def count_params(self):
        return 1234


def evaluate(cb, loss):
    cb.on_test_begin(None)
    for b in range(2):
        cb.on_test_batch_begin(b, None)
        cb.on_test_batch_end(b, {"loss": loss, "accuracy": 0.8})
    cb.on_test_end({"loss": loss, "accuracy": 0.8})


def fit(cb, epochs=3, steps=4, fail_at_epoch=None):
    cb.set_params({"verbose": 1, "epochs": epochs, "steps": steps})
    cb.set_model(FakeModel())
    cb.on_train_begin(None)
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch, None)
        if epoch == fail_at_epoch:
            raise KeyboardInterrupt
        for b in range(steps):
            cb.on_train_batch_begin(b, None)
            cb.on_train_batch_end(b, {"loss": 1.0 / (epoch * steps + b + 1),
                                      "accuracy": 0.5})
        evaluate(cb, 0.9)
        cb.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.5,
                                "val_loss": 2.0 / (epoch + 1),
                                "val_accuracy": 0.8})
    cb.on_train_end({"loss": 1.0 / epochs})


def test_the_callback_has_every_hook():
    for hook in HOOKS:
        assert callable(getattr(RunlogCallback, hook)), hook


def test_a_fit_is_stored_per_epoch_and_committed(repo):
    cb = RunlogCallback(repo=repo, experiment="cnn")
    fit(cb)
    (record,) = repo.runs()
    assert record.status == "finished"
    assert record.params == {
        "keras": {"verbose": 1, "epochs": 3, "steps": 4},
        "model": {"class": "FakeModel", "name": "cnn", "count_params": 1234},
        "optimizer": {"name": "adam", "learning_rate": 1e-3}}
    reader = repo.open_run(record.id)
    loss = reader.series("loss", {"subset": "train"})
    assert loss.steps.tolist() == [0, 1, 2]
    assert loss.epochs.tolist() == [0.0, 1.0, 2.0]
    assert loss.values.tolist() == [1.0, 0.5, 1 / 3]
    val = reader.series("loss", {"subset": "val"})
    assert val.values.tolist() == [2.0, 1.0, 2 / 3]  # once per epoch
    assert {s.context.get("per") for s in reader.series_summaries} == {None}


def test_batch_interval_records_every_nth_batch(repo):
    cb = RunlogCallback(repo=repo, experiment="cnn", batch_interval=3)
    fit(cb, epochs=2, steps=4)
    reader = repo.open_run(repo.runs()[0].id)
    batches = reader.series("loss", {"subset": "train", "per": "batch"})
    assert batches.steps.tolist() == [3, 6]
    assert batches.epochs.tolist() == [0.0, 1.0]
    assert batches.values.tolist() == [1 / 3, 1 / 6]


def test_evaluate_outside_fit_is_val(repo):
    cb = RunlogCallback(repo=repo, experiment="e", end_on_train_end=False)
    fit(cb, epochs=1)
    evaluate(cb, 0.7)
    evaluate(cb, 0.6)
    cb.end()
    reader = repo.open_run(repo.runs()[0].id)
    val = reader.series("loss", {"subset": "val"})
    # The epoch's val_loss at step 0, then the evaluations.
    assert val.values.tolist() == [2.0, 0.7, 0.6]
    assert val.steps.tolist() == [0, 1, 2]


def test_ctrl_c_in_fit_commits_the_run_as_interrupted(repo_path):
    from conftest import SUBPROCESS_DEADLINE_S, python_script
    import runlog
    proc = python_script(f"""
        import sys
        sys.path.insert(0, {str(__import__('os').path.dirname(__file__))!r})
        from test_integration_keras import fit
        from runlog.integrations.keras import RunlogCallback
        cb = RunlogCallback(repo={str(repo_path)!r}, experiment="e")
        fit(cb, fail_at_epoch=1)
    """)
    out, err = proc.communicate(timeout=SUBPROCESS_DEADLINE_S)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    (record,) = runlog.Repo(repo_path).runs()
    assert (record.status, record.failure_reason) == ("failed", "interrupted")


def test_an_uncaught_exception_in_fit_leaves_the_run_uncommitted(repo_path):
    from conftest import SUBPROCESS_DEADLINE_S, python_script
    import runlog
    proc = python_script(f"""
        from runlog.integrations.keras import RunlogCallback
        cb = RunlogCallback(repo={str(repo_path)!r}, experiment="e")
        cb.set_params({{"epochs": 1}})
        cb.on_train_begin(None)
        cb.on_epoch_end(0, {{"loss": 1.0}})
        raise ValueError("bad batch")
    """)
    out, err = proc.communicate(timeout=SUBPROCESS_DEADLINE_S)
    assert proc.returncode == 1 and "bad batch" in err
    (record,) = runlog.Repo(repo_path).runs()
    assert record.state != "committed" and record.status != "finished"


def test_bad_batch_interval(repo):
    with pytest.raises(ValueError, match="batch_interval"):
        RunlogCallback(repo=repo, batch_interval=0)
