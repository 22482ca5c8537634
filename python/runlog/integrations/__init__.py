"""Training-framework integrations of runlog, one module per framework:

    from runlog.integrations.lightning import RunlogLogger      # Lightning
    from runlog.integrations.transformers import RunlogCallback # HF Trainer
    from runlog.integrations.keras import RunlogCallback        # Keras

Each takes the repository (a path or an open runlog.Repo) and the options of
Repo.create_run as keywords: experiment, name, description, tags, params,
on_exception, on_interrupt, sync, system_metrics, system_metrics_interval.
Each records on the main process only, creates its run on first use, and
subclasses the framework's base class when the framework is importable
(otherwise it works by duck typing: every method the framework calls is
there). Neither `import runlog` nor `import runlog.integrations` imports a
framework; importing one adapter module imports (only) its framework, when
installed.

This module holds what the adapters share: the run they write to
(_RunHolder) and the conversion of framework values to params and points.
"""

import argparse
import enum
import numbers
import os
import sys
import warnings

import runlog

__all__ = []

_RANK_VARIABLES = ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")


def env_rank():
    """The process's rank as launchers announce it (torchrun, SLURM, LSF):
    the first of RANK, LOCAL_RANK, SLURM_PROCID, JSM_NAMESPACE_RANK that is
    set, as Lightning reads them; 0 when none is."""
    for key in _RANK_VARIABLES:
        value = os.environ.get(key)
        if value is not None:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def scalar(value):
    """`value` as a float when it is a number (int, float, bool, numpy or
    torch scalar, 0-d array or tensor); None otherwise."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", 0) == 0:
        try:
            v = item()
        except (TypeError, ValueError, RuntimeError):
            return None
        return float(v) if isinstance(v, numbers.Real) else None
    return None


def to_params(value, depth=0):
    """`value` as runlog params: dicts (keys as str) and argparse Namespaces
    as maps, sequences as lists, numbers and strings as they are, numpy and
    torch scalars as numbers, enums by value; anything else (dtypes,
    classes, callables, devices...) by its str()."""
    if depth > 32:
        return str(value)
    if isinstance(value, argparse.Namespace):
        value = vars(value)
    if isinstance(value, dict):
        return {str(k): to_params(v, depth + 1) for k, v in value.items()}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, enum.Enum):
        return to_params(value.value, depth + 1)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(
            value, (set, frozenset)) else value
        return [to_params(v, depth + 1) for v in items]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            v = item()
        except (TypeError, ValueError, RuntimeError):
            return str(value)
        if isinstance(v, (bool, numbers.Real)):
            return to_params(v, depth + 1)
    return str(value)


def failure_reason(default):
    """"interrupted" while a KeyboardInterrupt or SystemExit is being
    handled, "Type: message" for another exception, else `default`: what a
    framework's failure hook (called from its except block) records."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return "interrupted"
    if exc is not None:
        return f"{type(exc).__name__}: {exc}"
    return default


class _RunHolder:
    """The run an adapter writes to: created on first use (so that processes
    other than the main one never create one), ended once."""

    def __init__(self, owner, repo, run_options):
        if repo is None:
            raise TypeError(f"{owner}: repo= is required (a path or a "
                            "runlog.Repo)")
        if not isinstance(repo, (runlog.Repo, str, os.PathLike)):
            raise TypeError(f"{owner}: repo must be a path or a runlog.Repo, "
                            f"not {type(repo).__name__}")
        unknown = set(run_options) - _RUN_OPTIONS
        if unknown:
            raise TypeError(f"{owner}: unknown run option(s) "
                            f"{', '.join(sorted(unknown))} (known: "
                            f"{', '.join(sorted(_RUN_OPTIONS))})")
        self._owner = owner
        self._repo = repo
        self._options = dict(run_options)
        self._run = None
        self._ended = False
        self._warned = set()

    @property
    def repo(self):
        if not isinstance(self._repo, runlog.Repo):
            self._repo = runlog.Repo(self._repo)
        return self._repo

    @property
    def experiment(self):
        return self._options.get("experiment", "default")

    @property
    def started(self):
        return self._run is not None

    @property
    def ended(self):
        return self._ended

    def run(self):
        """The run, created on the first call."""
        if self._run is None:
            self._run = self.repo.create_run(**self._options)
        return self._run

    def set_params(self, params):
        if self._ended:
            self.warn_once("params-after-end", f"{self._owner}: the run has "
                           "ended; params set after it are dropped")
            return
        params = to_params(params)
        if params:
            self.run().set_params(params)

    def track(self, metrics, step=None, epoch=None, context=None,
              rename=None):
        """Tracks every number of `metrics` (a dict); `rename(key)` gives
        (name, context) per key, else (key, context). Values that are not
        numbers are dropped, with one warning per key."""
        if self._ended:
            self.warn_once("after-end", f"{self._owner}: the run has ended; "
                           "metrics logged after it are dropped")
            return
        run = self.run()
        for key, value in metrics.items():
            number = scalar(value)
            if number is None:
                self.warn_once(("value", key), f"{self._owner}: {key!r} = "
                               f"{value!r} is not a number; not tracked")
                continue
            name, ctx = rename(key) if rename else (key, context)
            run.track(number, name=str(name), step=step, epoch=epoch,
                      context=ctx)

    def end(self, reason=None):
        """Commits the run (finished), or as failed with `reason`. Only the
        first call ends it; a run never started is not created."""
        if self._ended:
            return
        self._ended = True
        if self._run is None or not self._run.is_open:
            return
        if reason is None:
            self._run.commit()
        else:
            self._run.fail(reason)

    def warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, RuntimeWarning, stacklevel=3)


_RUN_OPTIONS = frozenset({
    "experiment", "name", "description", "tags", "params", "on_exception",
    "on_interrupt", "sync", "system_metrics", "system_metrics_interval",
})
