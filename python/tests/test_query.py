"""repo.runs(where=...), runs_df and series_df (issue: find and compare runs)."""

import math
import sys

import numpy as np
import pytest

import runlog

pd = pytest.importorskip(
    "pandas", reason="pandas is optional; scripts/setup.sh installs "
    "python3-pandas for the tests")


@pytest.fixture
def sweep(repo):
    """Four finished runs of a small sweep plus one failed run."""
    ids = []
    for i, lr in enumerate([0.001, 0.003, 0.01, 0.03]):
        with repo.create_run(experiment="sweep", name=f"lr={lr}",
                             params={"opt": {"lr": lr, "name": "adam"},
                                     "seed": i}) as run:
            for step in range(20):
                run.track(1.0 / (1 + step * lr * 10), name="loss", step=step,
                          context={"subset": "train"}, epoch=step / 10)
                if step % 5 == 0:
                    run.track(0.5 + lr * 10, name="acc", step=step)
            ids.append(run.id)
    failed = repo.create_run(experiment="other", params={"seed": 9},
                             tags=["oom"])
    failed.track(float("nan"), name="acc", step=0)
    failed.fail("out of memory")
    ids.append(failed.id)
    return ids


def test_where_selects_by_params_and_metrics(repo, sweep):
    # acc ends at 0.5 + 10 lr: 0.53, 0.6, 0.8 for lr >= 0.003.
    got = repo.runs("params.opt.lr >= 0.003 and metrics.acc > 0.55")
    assert [r.id for r in got] == sweep[2:4]
    got = repo.runs(where="'oom' IN tags")
    assert [r.id for r in got] == [sweep[4]]


def test_order_by_and_paging(repo, sweep):
    got = repo.runs(order_by="metrics.acc DESC", limit=2)
    assert [r.id for r in got] == [sweep[3], sweep[2]]
    got = repo.runs(order_by=["experiment", "params.seed DESC"], offset=1)
    assert [r.id for r in got] == [sweep[3], sweep[2], sweep[1], sweep[0]]


def test_mlflow_filter_works_as_written(repo, sweep):
    got = repo.runs("params.seed = '2' and attributes.status = 'FINISHED'")
    assert [r.id for r in got] == [sweep[2]]


def test_malformed_query_names_the_place(repo, sweep):
    with pytest.raises(runlog.InvalidArgumentError,
                       match=r"query:1:21: unknown field 'metrcs' \(did you "
                             r"mean 'metrics'\?\)"):
        repo.runs("metrics.acc > 1 and metrcs.x = 2")


def test_status_and_state_are_the_words_records_print(repo, sweep):
    (failed,) = repo.runs(status="failed")
    assert failed.status == "failed" and failed.state == "committed"
    assert len(repo.runs(state="committed")) == 5
    assert repo.runs(state="live") == []
    with pytest.raises(runlog.InvalidArgumentError,
                       match=r"'finished' is a status: pass "
                             r"status='finished'"):
        repo.runs(state="finished")
    with pytest.raises(runlog.InvalidArgumentError,
                       match=r"'committed' is a state: pass "
                             r"state='committed'"):
        repo.runs(status="committed")


def test_runs_df_has_one_flat_row_per_run(repo, sweep):
    df = repo.runs_df("experiment = 'sweep'", order_by="params.opt.lr")
    assert list(df["id"]) == sweep[:4]
    assert list(df["params.opt.lr"]) == [0.001, 0.003, 0.01, 0.03]
    assert list(df["params.opt.name"]) == ["adam"] * 4
    assert list(df["metrics.loss{subset=train}.count"]) == [20] * 4
    last = df["metrics.loss{subset=train}.last"]
    assert last.iloc[0] == pytest.approx(1 / (1 + 19 * 0.01))
    assert str(df["created"].dtype) == "datetime64[ns, UTC]"
    assert (df["duration"] >= 0).all()
    assert list(df.columns[:9]) == ["id", "experiment", "name", "description",
                                    "status", "state", "created", "ended",
                                    "duration"]


def test_runs_df_of_no_runs_is_empty_with_the_fixed_columns(repo):
    df = repo.runs_df()
    assert len(df) == 0
    assert "id" in df.columns and "duration" in df.columns


def test_series_df_is_long_format(repo, sweep):
    df = repo.series_df(sweep[:2], "loss")
    assert list(df.columns) == ["run", "context", "step", "value", "epoch",
                                "time"]
    assert len(df) == 40
    assert set(df["run"]) == set(sweep[:2])
    assert set(df["context"]) == {"subset=train"}
    first = df[df["run"] == sweep[0]]
    assert list(first["step"]) == list(range(20))
    assert first["epoch"].iloc[5] == pytest.approx(0.5)
    assert str(df["time"].dtype) == "datetime64[ns, UTC]"
    assert df["value"].dtype == np.float64


def test_series_df_with_context_and_downsampling(repo, sweep):
    df = repo.series_df(sweep[0], "loss", context={"subset": "train"},
                        max_points=4)
    assert 0 < len(df) <= 4
    assert df["step"].iloc[0] == 0 and df["step"].iloc[-1] == 19


def test_series_df_skips_runs_without_the_series(repo, sweep):
    df = repo.series_df(sweep, "acc")
    assert set(df["run"]) == set(sweep)
    assert math.isnan(df[df["run"] == sweep[4]]["value"].iloc[0])
    with pytest.raises(runlog.NotFoundError, match="nothing"):
        repo.series_df(sweep, "nothing")


def test_without_pandas_the_error_says_what_to_install(repo, sweep,
                                                       monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="python3-pandas"):
        repo.runs_df()
    with pytest.raises(ImportError, match="python3-pandas"):
        repo.series_df(sweep[0], "loss")
