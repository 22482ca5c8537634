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


def _pandas(what):
    try:
        import pandas
    except ImportError as e:
        raise ImportError(
            f"runlog.Repo.{what} needs pandas: install Debian's python3-pandas "
            "(apt-get install python3-pandas) or pandas for your Python"
        ) from e
    return pandas


def _context_text(context):
    return ",".join(f"{k}={v}" for k, v in sorted(dict(context).items()))


def _series_key(name, context):
    return f"{name}{{{_context_text(context)}}}" if context else name


def _flatten_params(value, prefix, out):
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten_params(v, f"{prefix}.{k}", out)
    elif prefix != "params":
        out[prefix] = value


def _ordered_columns(fixed, rows):
    cols = list(fixed)
    seen = set(cols)
    for row in rows:
        for k in row:
            if k not in seen:
                seen.add(k)
                cols.append(k)
    return cols


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

    def runs(self, where=None, order_by=None, limit=None, offset=0, *,
             experiment=None, tag=None, status=None, state=None,
             disk_usage=False):
        """RunRecords the query selects, in creation order or by `order_by`.

        where: a filter in runlog's query language (docs/query.md), e.g.
            "metrics.acc > 0.9 and params.model = 'resnet'" (MLflow's
            filter strings work as written).
        order_by: "FIELD [ASC|DESC]" or a list of them; runs missing a key
            come last, ties by run id.
        limit, offset: paging after filtering and sorting.
        status: "running", "finished", "failed", "crashed", "abandoned";
        state: "committed", "live", "abandoned", "unknown" -- the words the
            records print.
        disk_usage: also measure each run's bytes_on_disk (a stat of every
            file of every run); without it committed runs come from the
            repository's run catalog.
        A malformed query is InvalidArgumentError naming the place
        ("query:1:18: unknown field 'metrcs' (did you mean 'metrics'?)")."""
        if isinstance(order_by, str):
            order_by = [order_by]
        return [_record(d) for d in self._runs(
            experiment=experiment, tag=tag, status=status, state=state,
            where=where or "", order_by=list(order_by or []),
            offset=int(offset), limit=None if limit is None else int(limit),
            disk_usage=disk_usage)]

    def runs_df(self, where=None, order_by=None, limit=None, offset=0,
                **filters):
        """runs() as a pandas DataFrame, one row per run, flat columns:
        id, experiment, name, description, status, state, created, ended
        (datetime64, UTC), duration (seconds), tags (list), params.<path>
        for every param leaf, and metrics.<series>.last/.min/.max/.count
        for every scalar series (metrics.loss{subset=train}.last).
        Needs pandas (Debian: python3-pandas)."""
        pd = _pandas("runs_df")
        rows = []
        for r in self.runs(where, order_by, limit, offset, **filters):
            row = {
                "id": r.id, "experiment": r.experiment, "name": r.name,
                "description": r.description, "status": r.status,
                "state": r.state, "created": r.created, "ended": r.ended,
                "tags": list(r.tags),
            }
            _flatten_params(r.params, "params", row)
            for s in r.series:
                if s.kind != "scalar":
                    continue
                key = "metrics." + _series_key(s.name, s.context)
                row[key + ".last"] = s.last
                row[key + ".min"] = s.min
                row[key + ".max"] = s.max
                row[key + ".count"] = s.count
            rows.append(row)
        fixed = ["id", "experiment", "name", "description", "status",
                 "state", "created", "ended", "tags"]
        df = pd.DataFrame(rows, columns=_ordered_columns(fixed, rows))
        for col in ("created", "ended"):
            df[col] = pd.to_datetime(df[col], unit="s", utc=True)
        duration = (df["ended"] - df["created"]).dt.total_seconds()
        df.insert(df.columns.get_loc("ended") + 1, "duration", duration)
        return df

    def series_df(self, run_ids, name, context=None, max_points=None,
                  steps=None):
        """The scalar series `name` of the runs `run_ids` (ids, or records)
        as one long pandas DataFrame: run, context ("subset=train", "" for
        none), step, value, epoch (NaN where none was given), time
        (datetime64, UTC). With `context` (a dict) only that series of each
        run; without, every series of that name. max_points downsamples
        each series (min/max kept, see segtool cat --max-points); steps is
        an inclusive (first, last) range. Runs without the series are left
        out; NotFoundError when none has it. Needs pandas."""
        pd = _pandas("series_df")
        import numpy as np
        if isinstance(run_ids, (str, RunRecord)):
            run_ids = [run_ids]
        frames = []
        for rid in run_ids:
            rid = rid.id if isinstance(rid, RunRecord) else rid
            reader = self.open_run(rid)
            for s in reader.series_summaries:
                if s.name != name or s.kind != "scalar":
                    continue
                if context is not None and dict(s.context) != dict(context):
                    continue
                points = reader.series(name, s.context, steps=steps,
                                       max_points=max_points)
                n = len(points.steps)
                frames.append(pd.DataFrame({
                    "run": np.full(n, rid, dtype=object),
                    "context": np.full(n, _context_text(s.context),
                                       dtype=object),
                    "step": points.steps,
                    "value": points.values,
                    "epoch": points.epochs,
                    "time": pd.to_datetime(points.times, unit="us", utc=True),
                }))
        if not frames:
            what = name if context is None else _series_key(name, context)
            raise NotFoundError(
                f"no run of {list(run_ids)!r} has a scalar series {what!r}")
        return pd.concat(frames, ignore_index=True)

    def get_run(self, run_id):
        return _record(self._get_run(run_id))

    def open_run(self, run_id):
        return RunReader(self._open_run(run_id))

    def __repr__(self):
        return f"<runlog.Repo {self.path!r}>"
