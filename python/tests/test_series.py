"""Tracking every series kind and reading it back as numpy arrays."""

import math

import numpy as np
import pytest

import runlog


def test_track_scalars_with_steps_epochs_and_context(repo):
    with repo.create_run(experiment="e") as run:
        for step in range(5):
            run.track(step * 0.5, name="loss", step=step, epoch=step // 2)
        run.track(1, name="loss", context={"subset": "val"})
        run.track(np.float32(0.25), name="acc")
        run.track(np.int64(2), name="acc")
        run.track(np.array(3.5), name="acc")
    reader = repo.open_run(run.id)
    s = reader.series("loss")
    np.testing.assert_array_equal(s.steps, np.arange(5))
    np.testing.assert_array_equal(s.values, np.arange(5) * 0.5)
    np.testing.assert_array_equal(s.epochs, [0, 0, 1, 1, 2])
    assert s.steps.dtype == np.int64 and s.values.dtype == np.float64
    assert s.times.dtype == np.int64 and (s.times > 0).all()
    val = reader.series("loss", context={"subset": "val"})
    assert val.values.tolist() == [1.0]
    assert math.isnan(val.epochs[0])
    assert reader.series("acc").values.tolist() == [0.25, 2.0, 3.5]
    assert reader.series("acc").steps.tolist() == [0, 1, 2]


def test_dict_form_tracks_each_key(repo):
    with repo.create_run(experiment="e") as run:
        run.track({"loss": 0.5, "acc": 0.75}, step=3, context={"subset": "train"})
    reader = repo.open_run(run.id)
    for name, value in [("loss", 0.5), ("acc", 0.75)]:
        s = reader.series(name, context={"subset": "train"})
        assert (s.steps.tolist(), s.values.tolist()) == ([3], [value])


def test_track_many_numpy(repo):
    steps = np.arange(100_000, dtype=np.int64)
    values = np.sin(steps / 1000.0)
    with repo.create_run(experiment="e") as run:
        run.track_many("sin", steps, values)
        run.track_many("int32", np.arange(3, dtype=np.int32),
                       np.array([1, 2, 3], dtype=np.float32))
    reader = repo.open_run(run.id)
    s = reader.series("sin")
    np.testing.assert_array_equal(s.steps, steps)
    np.testing.assert_array_equal(s.values, values)
    assert reader.series("int32").values.tolist() == [1.0, 2.0, 3.0]
    (summary,) = [x for x in reader.series_summaries if x.name == "sin"]
    assert summary.count == 100_000
    assert summary.last_step == 99_999


def test_step_range_and_downsampled_view(repo):
    with repo.create_run(experiment="e") as run:
        run.track_many("x", np.arange(10_000), np.arange(10_000, dtype=float))
    reader = repo.open_run(run.id)
    part = reader.series("x", steps=(100, 199))
    assert part.steps.tolist() == list(range(100, 200))
    small = reader.series("x", max_points=100)
    assert 0 < len(small.steps) <= 100
    assert small.steps[0] == 0 and small.steps[-1] == 9_999
    assert len(small.values) == len(small.steps)


def test_track_many_length_mismatch_is_invalid_argument(repo):
    run = repo.create_run(experiment="e")
    with pytest.raises(runlog.InvalidArgumentError, match="one length"):
        run.track_many("x", np.arange(3), np.arange(4, dtype=float))


def test_text_histogram_and_blob_round_trip(repo):
    with repo.create_run(experiment="e") as run:
        run.track_text("hello ✓", name="log", step=1)
        run.track_histogram([0.0, 1.0, 2.0], [3.0, 4.0], name="w", step=2)
        run.track_blob(b"\x89PNG\x00", "image/png", name="img", step=3)
    reader = repo.open_run(run.id)
    text = reader.series("log")
    assert (text.steps.tolist(), text.values) == ([1], ["hello ✓"])
    (edges, counts), = reader.series("w").values
    assert edges.tolist() == [0.0, 1.0, 2.0] and counts.tolist() == [3.0, 4.0]
    assert reader.series("img").values == [(b"\x89PNG\x00", "image/png")]
    kinds = {s.name: s.kind for s in reader.series_summaries}
    assert kinds == {"log": "text", "w": "histogram", "img": "blob"}


def test_live_run_is_readable_after_flush(repo):
    run = repo.create_run(experiment="e")
    run.track(1.5, name="loss", step=0)
    run.flush()
    (record,) = repo.runs(status="running")
    assert record.id == run.id
    assert repo.open_run(run.id).series("loss").values.tolist() == [1.5]
    run.commit()


@pytest.mark.parametrize("bad", ["0.5", None, [1.0], {1}, True, object()])
def test_non_number_is_type_error_naming_the_value(repo, bad):
    run = repo.create_run(experiment="e")
    with pytest.raises(TypeError, match="track: value .* for 'loss'"):
        run.track(bad, name="loss")
    with pytest.raises(TypeError, match="for 'acc'"):
        run.track({"acc": bad})


# run.track is a C method with a fast path for the common call (an exact
# float or int value, a str name, an int or no step); everything else goes
# through the checked path. Both must store and refuse the same things.
def test_track_fast_and_checked_paths_store_the_same(repo):
    with repo.create_run(experiment="e") as run:
        run.track(0.5, name="a", step=0)           # fast, keywords
        run.track(1.5, "a", 1)                     # fast, positional
        run.track(2, name="a")                     # fast, int value, no step
        run.track(np.float64(3.5), name="a")       # checked: numpy value
        run.track(4.5, name="a", step=None, epoch=None, context=None)
        run.track(5.5, name="a", step=np.int64(10))  # checked: numpy step
        run.track(value=6.5, name="a")             # fast, value by keyword
    s = repo.open_run(run.id).series("a")
    assert s.steps.tolist() == [0, 1, 2, 3, 4, 10, 11]
    assert s.values.tolist() == [0.5, 1.5, 2.0, 3.5, 4.5, 5.5, 6.5]


@pytest.mark.parametrize("call, error", [
    (lambda run: run.track(True, name="a"), TypeError),       # bool value
    (lambda run: run.track(1.0, name="a", step=2**70), Exception),
    (lambda run: run.track(1.0, name="a", stepp=3), TypeError),
    (lambda run: run.track(1.0, name="a", step=1, value=2.0), TypeError),
    (lambda run: run.track(1.0), TypeError),                  # no name
    (lambda run: run.track(), TypeError),
    (lambda run: run.track(1.0, "a", 1, None, None, 7), TypeError),
])
def test_track_refusals_are_the_checked_paths(repo, call, error):
    run = repo.create_run(experiment="e")
    with pytest.raises(error):
        call(run)
    run.commit()
    assert repo.open_run(run.id).record.series == []


@pytest.mark.parametrize("call, words", [
    (lambda run: run.track(), ("Run.track", "missing the value")),
    (lambda run: run.track(1.0, name="a", stepp=3),
     ("Run.track", "unexpected keyword argument 'stepp'")),
    (lambda run: run.track(1.0, name="a", value=2.0),
     ("Run.track", "multiple values for argument 'value'")),
    (lambda run: run.track(1.0, "a", 1, None, None, 7),
     ("Run.track", "at most 5 arguments", "6 given")),
])
def test_track_arity_errors_are_clear(repo, call, words):
    run = repo.create_run(experiment="e")
    with pytest.raises(TypeError) as e:
        call(run)
    text = str(e.value)
    assert "incompatible function arguments" not in text
    for w in words:
        assert w in text, text


def test_track_on_a_committed_run_raises_from_the_fast_path(repo):
    run = repo.create_run(experiment="e")
    run.track(1.0, name="a", step=0)
    run.commit()
    with pytest.raises(runlog.FailedPreconditionError):
        run.track(2.0, name="a", step=1)


@pytest.mark.parametrize("compact", [False, True])
def test_read_all_gives_what_series_gives_in_one_pass(repo, compact):
    with repo.create_run(experiment="e") as run:
        for step in range(50):
            run.track(step * 0.25, name="loss", step=step,
                      context={"subset": "train"})
            if step % 10 == 0:
                run.track(1.0 / (step + 1), name="loss",
                          context={"subset": "val"})
        run.track_text("hello", name="note", step=3)
        run.track_histogram([0.0, 1.0, 2.0], [4.0, 5.0], name="w", step=1)
    if compact:
        repo.compact_run(run.id)
    reader = repo.open_run(run.id)
    pairs = reader.read_all()
    assert [s.name for s, _ in pairs] == [s.name for s in
                                          reader.series_summaries]
    for summary, got in pairs:
        want = reader.series(summary.name, dict(summary.context) or None)
        np.testing.assert_array_equal(got.steps, want.steps)
        np.testing.assert_array_equal(got.times, want.times)
        if summary.kind == "scalar":
            np.testing.assert_array_equal(got.values, want.values)
        elif summary.kind == "text":
            assert list(got.values) == list(want.values) == ["hello"]
