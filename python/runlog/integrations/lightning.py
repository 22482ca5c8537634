"""PyTorch Lightning: a Logger that records into a runlog repository.

    from lightning.pytorch import Trainer
    from runlog.integrations.lightning import RunlogLogger

    logger = RunlogLogger(repo="/data/runs", experiment="mnist",
                          tags=["baseline"])
    Trainer(logger=logger, max_epochs=3).fit(model, data)

What it stores: the hyperparameters Lightning passes (`save_hyperparameters`,
nested dicts and argparse Namespaces as nested params; other values by
str()), every metric of `self.log` as a series of that name at Lightning's
step (the `epoch` Lightning adds becomes the points' epoch, not a series of
its own), and the best checkpoint's path and score as params
`checkpoint.best_model_path` / `checkpoint.best_model_score`. The Trainer's
finalize("success") commits the run; finalize("failed") -- an exception or
Ctrl-C inside fit -- commits it as failed, with the reason "interrupted" or
the exception's "Type: message".

Only the process of rank zero records (Lightning's rank_zero_only rank when
Lightning is importable, else the RANK / LOCAL_RANK / SLURM_PROCID /
JSM_NAMESPACE_RANK variables); on other ranks the logger does nothing and
`experiment` is a stand-in whose every method does nothing.

Subclasses lightning.pytorch.loggers.Logger (or pytorch_lightning's) when
Lightning is installed; otherwise a plain class with the same methods, which
Lightning accepts as well (it does not check the logger's type).
"""

import os

from runlog.integrations import _RunHolder, env_rank, failure_reason

__all__ = ["RunlogLogger"]


def _lightning():
    """(Logger base class, rank_zero_only) of the installed Lightning, or
    (object, None)."""
    for package in ("lightning.pytorch", "pytorch_lightning"):
        try:
            loggers = __import__(f"{package}.loggers", fromlist=["Logger"])
            utilities = __import__(f"{package}.utilities",
                                   fromlist=["rank_zero_only"])
            return loggers.Logger, utilities.rank_zero_only
        except ImportError:
            continue
    return object, None


_Base, _rank_zero_only = _lightning()


def _rank():
    rank = getattr(_rank_zero_only, "rank", None)
    return env_rank() if rank is None else rank


class _DummyRun:
    """The `experiment` of ranks other than zero: every attribute is a
    function doing nothing, as Lightning's own _DummyExperiment."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def __getitem__(self, key):
        return self

    def __setitem__(self, key, value):
        pass


class RunlogLogger(_Base):
    """A Lightning logger writing one runlog run.

    repo: a path or a runlog.Repo; run_options: those of Repo.create_run
    (experiment, name, description, tags, params, on_exception, ...).
    save_dir: where Lightning puts checkpoints of this logger
    (save_dir/experiment/run id/checkpoints); by default None, and Lightning
    uses the Trainer's default_root_dir. Never the repository: it holds runs
    only."""

    def __init__(self, repo=None, *, save_dir=None, **run_options):
        super().__init__()
        self._holder = _RunHolder("RunlogLogger", repo, run_options)
        self._save_dir = None if save_dir is None else os.fspath(save_dir)

    # ---- identity -------------------------------------------------------
    @property
    def name(self):
        return self._holder.experiment

    @property
    def version(self):
        """The run id (the run is created here on rank zero); None on other
        ranks."""
        if _rank() != 0:
            return None
        return self._holder.run().id

    @property
    def save_dir(self):
        return self._save_dir

    @property
    def root_dir(self):
        if self._save_dir is None:
            return None
        return os.path.join(self._save_dir, self.name)

    @property
    def log_dir(self):
        if self._save_dir is None:
            return None
        return os.path.join(self._save_dir, self.name, str(self.version))

    @property
    def group_separator(self):
        return "/"

    @property
    def experiment(self):
        """The runlog.Run (a stand-in doing nothing on other ranks)."""
        if _rank() != 0:
            return _DummyRun()
        return self._holder.run()

    @property
    def repo(self):
        return self._holder.repo

    # ---- what the Trainer calls -----------------------------------------
    def log_hyperparams(self, params, *args, **kwargs):
        if _rank() != 0 or params is None:
            return
        self._holder.set_params(params)

    def log_metrics(self, metrics, step=None):
        if _rank() != 0:
            return
        metrics = dict(metrics)
        epoch = metrics.pop("epoch", None)
        if epoch is not None:
            epoch = float(epoch)
        self._holder.track(metrics, step=None if step is None else int(step),
                           epoch=epoch)

    def log_graph(self, model, input_array=None):
        pass

    def save(self):
        # Called after every log_metrics: runlog buffers and flushes on its
        # own, so there is nothing to do here.
        pass

    def after_save_checkpoint(self, checkpoint_callback):
        if _rank() != 0:
            return
        params = {}
        path = getattr(checkpoint_callback, "best_model_path", None)
        if path:
            params["best_model_path"] = str(path)
        score = getattr(checkpoint_callback, "best_model_score", None)
        if score is not None:
            params["best_model_score"] = score
        if params:
            self._holder.set_params({"checkpoint": params})

    def finalize(self, status):
        """"success" (or "finished") commits the run; anything else
        ("failed": an exception or Ctrl-C in the Trainer) commits it as
        failed."""
        if _rank() != 0:
            return
        if status in ("success", "finished"):
            self._holder.end()
        else:
            self._holder.end(failure_reason(f"Lightning finalize({status!r})"))

    def __getstate__(self):
        # Lightning pickles loggers for spawn-based strategies: the run (a
        # C++ object) stays in this process.
        state = self.__dict__.copy()
        state["_holder"] = _RunHolder("RunlogLogger",
                                      os.fspath(self._holder.repo.path),
                                      self._holder._options)
        return state
