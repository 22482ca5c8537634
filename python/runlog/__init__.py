"""runlog: crash-safe ML experiment tracking, backed by the C++ library.

    import runlog
    repo = runlog.Repo("/data/runs")
    with repo.create_run(experiment="sweep", params={"lr": 1e-3}) as run:
        for step in range(100):
            run.track(loss, name="loss", step=step)

A normal exit from the `with` block commits the run; an exception leaves it
uncommitted (or, by `on_exception="discard"`, deletes it; `"fail"` commits it
as failed) and propagates unchanged. Outside `with`, end a run with
`run.commit()`, `run.fail(reason)`, `run.close()` or `repo.delete_run(run.id)`;
a Run dropped while still open is committed, like the C++ Run.

Errors are `runlog.Error` subclasses carrying the C++ message:
NotFoundError (also a LookupError), InvalidArgumentError (also a ValueError),
DataLossError, FailedPreconditionError. A value that is not a number is a
TypeError naming it.

Calls that may block on I/O release the GIL; the package starts no thread.
A Run is meant for one thread at a time; calls on it from several threads are
serialized, not interleaved.
"""

import collections as _collections
import types as _types

from runlog import _runlog
from runlog._runlog import (
    DataLossError,
    Error,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    Run,
)

__all__ = [
    "Repo",
    "Run",
    "RunReader",
    "RunRecord",
    "Series",
    "SeriesSummary",
    "Error",
    "NotFoundError",
    "DataLossError",
    "InvalidArgumentError",
    "FailedPreconditionError",
]

# The points of one series: numpy arrays steps (int64), epochs (float64, NaN
# where none was given), times (int64 µs since the Unix epoch) and values:
# a float64 array for scalars, a list for texts (str), histograms
# ((edges, counts) arrays) and blobs ((bytes, content_type)).
Series = _collections.namedtuple("Series", ["steps", "values", "epochs", "times"])


class SeriesSummary(_types.SimpleNamespace):
    """name, context (dict), kind ("scalar", "text", ...), count, first_step,
    last_step, first, last, min, max (NaN where not applicable)."""


class RunRecord(_types.SimpleNamespace):
    """One run as listings see it: id, state ("committed", "live",
    "abandoned", "unknown"), status ("running", "finished", "failed",
    "crashed", "abandoned"), experiment, name, description, created and
    ended (seconds since the Unix epoch, NaN when not ended), tags, params,
    series (SeriesSummary list), failure_reason, detail, error (None or the
    message of the damage found), bytes_on_disk (None when the listing did
    not measure it: runs(disk_usage=True) and get_run do)."""


def _record(d):
    d = dict(d)
    d["series"] = [SeriesSummary(**s) for s in d["series"]]
    return RunRecord(**d)


class RunReader:
    """A reader of one run, committed or live (see Repo.open_run)."""

    def __init__(self, view):
        self._view = view
        self.record = _record(view.record)

    def __getattr__(self, name):
        # id, status, experiment, params, tags, series summaries...
        if name in ("_view", "record"):
            raise AttributeError(name)
        try:
            return getattr(self.record, name)
        except AttributeError:
            raise AttributeError(
                f"RunReader has no attribute {name!r}") from None

    @property
    def series_summaries(self):
        return self.record.series

    def series(self, name, context=None, steps=None, max_points=None):
        """The points of series `name` (+ `context`) as a Series.

        steps: optional inclusive (first, last) step range.
        max_points: for scalars, at most this many points, downsampled.
        NotFoundError if the run has no such series."""
        if steps is not None:
            first, last = steps
            steps = (int(first), int(last))
        return Series(*self._view._series(name, context, steps, max_points))

    def __repr__(self):
        return f"<runlog.RunReader {self.record.id} {self.record.status}>"


class Repo(_runlog.Repo):
    """A repository of runs on disk (created if missing).

    Several processes may use one repository at once; no lock, no thread,
    no server."""

    def __init__(self, path, create_if_missing=True):
        super().__init__(str(path), create_if_missing)

    def runs(self, experiment=None, tag=None, state=None, disk_usage=False):
        """RunRecords in creation order; `state` filters on status
        ("running", "finished", "failed", "crashed", "abandoned").
        `disk_usage` also measures each run's bytes_on_disk, which costs a
        stat of every file of every run; without it committed runs come from
        the repository's run catalog."""
        return [_record(d) for d in self._runs(experiment, tag, state,
                                               disk_usage)]

    def get_run(self, run_id):
        return _record(self._get_run(run_id))

    def open_run(self, run_id):
        return RunReader(self._open_run(run_id))

    def __repr__(self):
        return f"<runlog.Repo {self.path!r}>"
