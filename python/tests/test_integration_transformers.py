"""runlog.integrations.transformers.RunlogCallback, driven as transformers'
Trainer drives a callback (CallbackHandler.call_event: every event, with
(args, state, control, **kwargs); logs= for on_log, metrics= for
on_evaluate / on_predict), in Trainer.train()'s order."""

import types

import pytest

from runlog.integrations.transformers import RunlogCallback


class FakeArgs:
    output_dir = "/out"

    def to_dict(self):
        return {"learning_rate": 5e-5, "num_train_epochs": 2,
                "report_to": [], "lr_scheduler_type": "linear"}


class FakeConfig:
    def to_dict(self):
        return {"model_type": "bert", "hidden_size": 32, "id2label": {0: "a"}}


EVENTS = ("on_init_end", "on_train_begin", "on_train_end", "on_epoch_begin",
          "on_epoch_end", "on_step_begin", "on_pre_optimizer_step",
          "on_optimizer_step", "on_substep_end", "on_step_end", "on_evaluate",
          "on_predict", "on_save", "on_log", "on_prediction_step")


class FakeTrainer:
    """The calls of Trainer.train() (and evaluate()) on its callbacks."""

    def __init__(self, callback, main=True, steps_per_epoch=4, epochs=2):
        self.cb = callback
        self.args = FakeArgs()
        self.state = types.SimpleNamespace(
            is_world_process_zero=main, global_step=0, epoch=0.0,
            best_model_checkpoint=None)
        self.control = types.SimpleNamespace()
        self.model = types.SimpleNamespace(config=FakeConfig())
        self.steps_per_epoch, self.epochs = steps_per_epoch, epochs
        self.call("on_init_end")

    def call(self, event, **kwargs):
        result = getattr(self.cb, event)(self.args, self.state, self.control,
                                         model=self.model, tokenizer=None,
                                         optimizer=None, lr_scheduler=None,
                                         train_dataloader=None,
                                         eval_dataloader=None, **kwargs)
        assert result is None

    def evaluate(self):
        self.call("on_prediction_step")
        metrics = {"eval_loss": 0.4 / (self.state.global_step + 1),
                   "eval_runtime": 0.1, "epoch": self.state.epoch}
        self.call("on_log", logs=metrics)  # Trainer.evaluate: self.log first
        self.call("on_evaluate", metrics=metrics)

    def train(self, fail_at=None):
        self.call("on_train_begin")
        for epoch in range(self.epochs):
            self.call("on_epoch_begin")
            for i in range(self.steps_per_epoch):
                self.call("on_step_begin")
                if self.state.global_step == fail_at:
                    raise RuntimeError("CUDA out of memory")
                self.call("on_pre_optimizer_step")
                self.call("on_optimizer_step")
                self.state.global_step += 1
                self.state.epoch = epoch + (i + 1) / self.steps_per_epoch
                self.call("on_step_end")
                if self.state.global_step % 2 == 0:
                    self.call("on_log", logs={
                        "loss": 1.0 / self.state.global_step,
                        "learning_rate": 1e-4, "grad_norm": 2.0,
                        "epoch": self.state.epoch})
            self.call("on_epoch_end")
            self.evaluate()
            self.state.best_model_checkpoint = "/out/checkpoint-4"
            self.call("on_save")
        self.call("on_log", logs={"train_runtime": 12.5, "train_loss": 0.3,
                                  "total_flos": 1e9, "note": "done",
                                  "epoch": self.state.epoch})
        self.call("on_train_end")


def test_the_callback_defines_every_event():
    for event in EVENTS:
        assert callable(getattr(RunlogCallback, event)), event


def test_a_training_is_stored_and_committed(repo):
    cb = RunlogCallback(repo=repo, experiment="bert", tags=["hf"])
    trainer = FakeTrainer(cb)
    with pytest.warns(RuntimeWarning, match="'note'"):
        trainer.train()
    (record,) = repo.runs()
    assert record.status == "finished" and record.experiment == "bert"
    assert record.params["args"]["learning_rate"] == 5e-5
    assert record.params["model_config"] == {
        "model_type": "bert", "hidden_size": 32, "id2label": {"0": "a"}}
    assert record.params["checkpoint"] == {"last": "/out/checkpoint-8",
                                           "best": "/out/checkpoint-4"}
    reader = repo.open_run(record.id)
    loss = reader.series("loss", {"subset": "train"})
    assert loss.steps.tolist() == [2, 4, 6, 8]
    assert loss.epochs.tolist() == [0.5, 1.0, 1.5, 2.0]
    assert loss.values.tolist() == [0.5, 0.25, 1 / 6, 0.125]
    # eval_ keys: series `loss` {subset: eval}, once per evaluation even
    # though both on_log and on_evaluate carry them.
    eval_loss = reader.series("loss", {"subset": "eval"})
    assert eval_loss.steps.tolist() == [4, 8]
    assert reader.series("runtime", {"subset": "eval"}).steps.size == 2
    assert reader.series("train_loss", {"subset": "train"}).values[0] == 0.3
    names = {(s.name, s.context.get("subset")) for s in reader.series_summaries}
    assert ("epoch", "train") not in names and ("note", "train") not in names


@pytest.mark.filterwarnings("ignore:.*is not a number")
def test_slash_prefixed_keys_and_predict(repo):
    cb = RunlogCallback(repo=repo, experiment="e", end_on_train_end=False)
    trainer = FakeTrainer(cb, steps_per_epoch=1, epochs=1)
    trainer.train()
    trainer.state.global_step = 9
    trainer.call("on_log", logs={"train/acc": 0.9, "eval/acc": 0.8})
    trainer.call("on_predict", metrics={"test_acc": 0.7, "test_loss": 0.1})
    cb.end()
    reader = repo.open_run(repo.runs()[0].id)
    assert reader.series("acc", {"subset": "train"}).values.tolist() == [0.9]
    assert reader.series("acc", {"subset": "eval"}).values.tolist() == [0.8]
    assert reader.series("acc", {"subset": "test"}).steps.tolist() == [9]
    assert repo.runs()[0].status == "finished"


def test_only_the_main_process_records(repo):
    FakeTrainer(RunlogCallback(repo=repo, experiment="e"), main=False).train()
    assert repo.runs() == []


@pytest.mark.filterwarnings("ignore:.*is not a number")
def test_logs_after_the_end_are_dropped_with_a_warning(repo):
    cb = RunlogCallback(repo=repo, experiment="e")
    trainer = FakeTrainer(cb, steps_per_epoch=1, epochs=1)
    trainer.train()
    with pytest.warns(RuntimeWarning, match="end_on_train_end|ended"):
        trainer.evaluate()
    assert repo.runs()[0].status == "finished"


def test_an_exception_in_train_leaves_the_run_to_the_lifecycle(repo):
    cb = RunlogCallback(repo=repo, experiment="e", on_exception="fail")
    trainer = FakeTrainer(cb)
    with pytest.raises(RuntimeError):
        trainer.train(fail_at=3)
    assert cb.run.is_open  # the Trainer calls no event on an exception
    try:
        raise RuntimeError("CUDA out of memory")
    except RuntimeError as e:
        cb.end(f"RuntimeError: {e}")
    record = repo.runs()[0]
    assert (record.status, record.failure_reason) == (
        "failed", "RuntimeError: CUDA out of memory")
    assert repo.open_run(record.id).series(
        "loss", {"subset": "train"}).steps.tolist() == [2]
