"""Hugging Face transformers: a TrainerCallback that records into runlog.

    from transformers import Trainer
    from runlog.integrations.transformers import RunlogCallback

    trainer = Trainer(model=model, args=args, train_dataset=train,
                      eval_dataset=val,
                      callbacks=[RunlogCallback(repo="/data/runs",
                                                experiment="bert")])
    trainer.train()

(`report_to="runlog"` is not possible: transformers only knows the
integrations listed in its own code. Set `report_to="none"` to keep the
others off.)

What it stores, on the main process only (state.is_world_process_zero):
  - params `args`: TrainingArguments.to_dict(); `model_config`: the model's
    config.to_dict() (when the model has one) -- at on_train_begin;
  - every number of `logs` (on_log) as a series at state.global_step, with
    the points' epoch state.epoch: `eval_x` and `eval/x` as series x with
    context {subset: eval}, `test_x` / `test/x` as x {subset: test}, `train/x`
    and the rest as x {subset: train}; values that are not numbers are
    dropped with a warning, as transformers' own callbacks do;
  - the metrics of on_evaluate / on_predict the same way, unless on_log
    already had them at that step (Trainer.evaluate logs them first);
  - params `checkpoint.last` (the checkpoint directory) at on_save, and
    `checkpoint.best` once the Trainer tracks a best one.
on_train_end commits the run (end_on_train_end=False keeps it open, e.g. for
a trainer.evaluate() afterwards; then call `callback.end()`). An exception
inside train() leaves the run open, and runlog's lifecycle rules end it:
with a `with`-less run that is when the interpreter exits on it
(on_exception), or Ctrl-C (on_interrupt: committed as failed,
"interrupted"); call `callback.end(reason)` where the exception is caught.

Subclasses transformers.TrainerCallback when transformers is installed;
otherwise a plain class defining every event the Trainer dispatches.
"""

import os

from runlog.integrations import _RunHolder

__all__ = ["RunlogCallback"]

try:
    from transformers import TrainerCallback as _Base
except ImportError:
    _Base = object

_PREFIXES = (("eval_", "eval"), ("eval/", "eval"), ("test_", "test"),
             ("test/", "test"), ("train/", "train"))


def _split(key):
    """(series name, context) of a key of the Trainer's logs."""
    for prefix, subset in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix):], {"subset": subset}
    return key, {"subset": "train"}


def _config_dict(model):
    config = getattr(model, "config", None)
    to_dict = getattr(config, "to_dict", None)
    return to_dict() if callable(to_dict) else None


class RunlogCallback(_Base):
    """A transformers TrainerCallback writing one runlog run.

    repo: a path or a runlog.Repo; run_options: those of Repo.create_run."""

    def __init__(self, repo=None, *, end_on_train_end=True, **run_options):
        self._holder = _RunHolder("RunlogCallback", repo, run_options)
        self._end_on_train_end = end_on_train_end
        # (name, subset) -> the global step it was last tracked at.
        self._tracked_at = {}

    @property
    def run(self):
        """The runlog.Run (created on first use)."""
        return self._holder.run()

    def end(self, reason=None):
        """Commits the run, or as failed with `reason`."""
        self._holder.end(reason)

    def _track(self, state, metrics, skip_seen):
        metrics = {k: v for k, v in dict(metrics).items()
                   if k not in ("epoch", "step")}
        step = int(state.global_step)
        epoch = None if state.epoch is None else float(state.epoch)
        if skip_seen:
            metrics = {k: v for k, v in metrics.items()
                       if self._tracked_at.get(self._seen_key(k)) != step}
        for k in metrics:
            self._tracked_at[self._seen_key(k)] = step
        self._holder.track(metrics, step=step, epoch=epoch, rename=_split)

    @staticmethod
    def _seen_key(key):
        name, context = _split(key)
        return name, context["subset"]

    # ---- the events -----------------------------------------------------
    def on_init_end(self, args, state, control, **kwargs):
        return None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not state.is_world_process_zero or self._holder.ended:
            return None
        params = {}
        to_dict = getattr(args, "to_dict", None)
        if callable(to_dict):
            params["args"] = to_dict()
        config = _config_dict(model)
        if config is not None:
            params["model_config"] = config
        self._holder.run()
        self._holder.set_params(params)
        return None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            self._track(state, logs, skip_seen=False)
        return None

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if state.is_world_process_zero and metrics:
            self._track(state, metrics, skip_seen=True)
        return None

    def on_predict(self, args, state, control, metrics=None, **kwargs):
        if state.is_world_process_zero and metrics:
            self._track(state, metrics, skip_seen=True)
        return None

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero or self._holder.ended:
            return None
        checkpoint = {"last": os.path.join(
            str(getattr(args, "output_dir", "") or ""),
            f"checkpoint-{state.global_step}")}
        best = getattr(state, "best_model_checkpoint", None)
        if best:
            checkpoint["best"] = str(best)
        self._holder.set_params({"checkpoint": checkpoint})
        return None

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self._end_on_train_end:
            self._holder.end()
        return None

    # Events runlog has nothing to record for; defined so that duck typing
    # works (the Trainer calls every event on every callback).
    def on_epoch_begin(self, args, state, control, **kwargs):
        return None

    def on_epoch_end(self, args, state, control, **kwargs):
        return None

    def on_step_begin(self, args, state, control, **kwargs):
        return None

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        return None

    def on_optimizer_step(self, args, state, control, **kwargs):
        return None

    def on_substep_end(self, args, state, control, **kwargs):
        return None

    def on_step_end(self, args, state, control, **kwargs):
        return None

    def on_prediction_step(self, args, state, control, **kwargs):
        return None
