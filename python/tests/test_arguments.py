"""Wrong arguments: one clear TypeError naming the argument (never pybind's
overload dump), series() lookups that list the alternatives, bad step
ranges as ValueError; and the time units of series and records."""

import time

import numpy as np
import pytest

import runlog


def assert_clear(excinfo, *words):
    text = str(excinfo.value)
    assert "incompatible function arguments" not in text
    assert "\n" not in text
    for w in words:
        assert w in text, text


@pytest.mark.parametrize("kwargs, words", [
    (dict(name=5), ("name", "str", "5 (int)")),
    (dict(name="x", step=1.5), ("step", "int", "1.5 (float)")),
    (dict(name="x", step=True), ("step", "bool")),
    (dict(name="x", epoch="one"), ("epoch", "number", "'one' (str)")),
])
def test_track_argument_types(repo, kwargs, words):
    run = repo.create_run(experiment="e")
    with pytest.raises(TypeError) as e:
        run.track(1.0, **kwargs)
    assert_clear(e, "track", *words)


def test_track_accepts_numpy_step_and_epoch(repo):
    with repo.create_run(experiment="e") as run:
        run.track(1.0, name="x", step=np.int64(3), epoch=np.float32(0.5))
    s = repo.open_run(run.id).series("x")
    assert s.steps.tolist() == [3] and s.epochs.tolist() == [0.5]


@pytest.mark.parametrize("call, words", [
    (lambda run: run.add_tag(5), ("Run.add_tag", "tag must be a str", "5 (int)")),
    (lambda run: run.remove_tag(None), ("Run.remove_tag", "tag")),
    (lambda run: run.fail(3), ("Run.fail", "reason")),
    (lambda run: run.track_text(3, name="t"), ("Run.track_text", "text")),
    (lambda run: run.track_text("t", name=3), ("Run.track_text", "name")),
    (lambda run: run.track_blob("str", "image/png", name="b"),
     ("Run.track_blob", "data must be bytes")),
    (lambda run: run.track_histogram([0, 1], [1], name="h", step="1"),
     ("Run.track_histogram", "step")),
    (lambda run: run.track_histogram("ab", object(), name="h"),
     ("track_histogram", "edges")),
    (lambda run: run.__setitem__(1, 2), ("Run.__setitem__", "path")),
    (lambda run: run.track_many(1, [0], [1.0]), ("Run.track_many", "name")),
])
def test_run_method_argument_types(repo, call, words):
    run = repo.create_run(experiment="e")
    with pytest.raises(TypeError) as e:
        call(run)
    assert_clear(e, *words)


@pytest.mark.parametrize("call, words", [
    (lambda repo: repo.create_run(experiment=1), ("experiment", "str")),
    (lambda repo: repo.create_run(tags="abc"), ("tags", "list of str")),
    (lambda repo: repo.create_run(tags=[1]), ("tags",)),
    (lambda repo: repo.create_run(system_metrics="yes"), ("system_metrics",)),
    (lambda repo: repo.create_run(system_metrics_interval="10"),
     ("system_metrics_interval",)),
    (lambda repo: repo.delete_run(5), ("Repo.delete_run", "id")),
    (lambda repo: repo.compact_run(None), ("Repo.compact_run", "id")),
    (lambda repo: repo.recover(dry_run="yes"), ("Repo.recover", "dry_run")),
    (lambda repo: repo.get_run(5), ("get_run", "run_id")),
    (lambda repo: repo.open_run(b"x"), ("open_run", "run_id")),
])
def test_repo_method_argument_types(repo, call, words):
    with pytest.raises(TypeError) as e:
        call(repo)
    assert_clear(e, *words)


def test_unknown_keyword_is_pythons_own_type_error(repo):
    with pytest.raises(TypeError, match="experment"):
        repo.create_run(experment="e")


def test_bad_system_metrics_interval_is_invalid_argument(repo):
    with pytest.raises(runlog.InvalidArgumentError, match="interval"):
        repo.create_run(system_metrics=True, system_metrics_interval=0)


@pytest.fixture
def reader(repo):
    with repo.create_run(experiment="e") as run:
        for subset in ("train", "eval"):
            run.track_many("loss", np.arange(20), np.arange(20.0),
                           context={"subset": subset})
        run.track(0.5, name="accuracy", step=0)
    return repo.open_run(run.id)


def test_series_without_its_context_lists_the_contexts(reader):
    with pytest.raises(runlog.NotFoundError) as e:
        reader.series("loss")
    assert_clear(e, "context={'subset': 'eval'}", "context={'subset': 'train'}")
    with pytest.raises(runlog.NotFoundError) as e:
        reader.series("loss", context={"subset": "test"})
    assert_clear(e, "loss{subset=test}", "context={'subset': 'train'}")
    assert reader.series("loss", {"subset": "eval"}).steps.size == 20


def test_series_with_a_mistyped_name_suggests_names(reader):
    with pytest.raises(runlog.NotFoundError) as e:
        reader.series("acuracy")
    assert_clear(e, "did you mean 'accuracy'")
    with pytest.raises(runlog.NotFoundError) as e:
        reader.series("zzz")
    assert_clear(e, "'accuracy'", "'loss'")


def test_reversed_step_range_is_a_value_error(reader):
    with pytest.raises(ValueError) as e:
        reader.series("loss", {"subset": "train"}, steps=(12, 10))
    assert isinstance(e.value, runlog.InvalidArgumentError)
    assert_clear(e, "steps=(12, 10)", "first step is after the last")
    s = reader.series("loss", {"subset": "train"}, steps=(10, 12))
    assert s.steps.tolist() == [10, 11, 12]


@pytest.mark.parametrize("steps", [5, (1, 2, 3), ("a", 3), (1.5, 3)])
def test_malformed_step_range_is_a_type_error(reader, steps):
    with pytest.raises(TypeError) as e:
        reader.series("loss", {"subset": "train"}, steps=steps)
    assert_clear(e, "steps")


def test_max_points_must_be_at_least_two(reader):
    with pytest.raises(runlog.InvalidArgumentError, match="max_points"):
        reader.series("loss", {"subset": "train"}, max_points=-5)
    with pytest.raises(TypeError, match="max_points"):
        reader.series("loss", {"subset": "train"}, max_points="3")


def test_series_times_and_created_count_from_one_epoch(repo):
    before = time.time()
    with repo.create_run(experiment="e") as run:
        run.track(1.0, name="x")
    after = time.time()
    record = repo.get_run(run.id)
    times = repo.open_run(run.id).series("x").times
    assert isinstance(record.created, float)
    assert times.dtype == np.int64
    # created: seconds; times: microseconds; both since the Unix epoch.
    assert before - 1 <= record.created <= after + 1
    assert record.created * 1e6 <= times[0] + 1 <= after * 1e6 + 1e6
    assert times.astype("datetime64[us]")[0].astype(float) == times[0]
