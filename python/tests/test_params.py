"""Params: nested trees in, the same trees out."""

import math

import numpy as np
import pytest

import runlog


def test_nested_round_trip_through_commit(repo):
    params = {
        "model": {"layers": [64, 64, {"act": "gelu"}], "dropout": 0.1},
        "flags": [True, False, None],
        "ünïcødé ключ 鍵": "värde",
        "big": 2**63 - 1,
        "small": -(2**63),
        "empty": {},
        "none": [],
    }
    with repo.create_run(experiment="e", params=params) as run:
        assert run.params == params
    assert repo.runs()[0].params == params
    assert repo.open_run(run.id).params == params


def test_setitem_getitem_and_dotted_path(repo):
    run = repo.create_run(experiment="e")
    run["hparams"] = {"lr": 1e-3, "opt": {"name": "adam", "betas": (0.9, 0.99)}}
    assert run["hparams"] == {
        "lr": 1e-3, "opt": {"name": "adam", "betas": [0.9, 0.99]}}
    assert run["hparams.opt.name"] == "adam"
    run["hparams.lr"] = 2e-3
    assert run["hparams"]["lr"] == 2e-3
    run.commit()
    assert repo.get_run(run.id).params["hparams"]["lr"] == 2e-3


def test_nan_and_infinities_as_values(repo):
    run = repo.create_run(experiment="e")
    run["x"] = {"nan": float("nan"), "inf": math.inf, "-inf": -math.inf}
    run.commit()
    x = repo.get_run(run.id).params["x"]
    assert math.isnan(x["nan"])
    assert x["inf"] == math.inf
    assert x["-inf"] == -math.inf


def test_numpy_values_become_python_values(repo):
    run = repo.create_run(experiment="e")
    run["np"] = {"i": np.int32(3), "f": np.float64(0.5), "b": np.bool_(True),
                 "a": np.arange(3)}
    assert run["np"] == {"i": 3, "f": 0.5, "b": True, "a": [0, 1, 2]}
    assert type(run["np"]["i"]) is int


def test_int_over_64_bits_is_invalid_argument(repo):
    run = repo.create_run(experiment="e")
    with pytest.raises(runlog.InvalidArgumentError, match="64 bits"):
        run["huge"] = 2**64


def test_unsupported_param_is_type_error_naming_it(repo):
    run = repo.create_run(experiment="e")
    with pytest.raises(TypeError, match=r"object.*at hparams\.fn"):
        run["hparams"] = {"fn": object()}
    with pytest.raises(TypeError, match="not a str"):
        run["hparams"] = {1: "x"}


def test_missing_param_is_not_found(repo):
    run = repo.create_run(experiment="e")
    with pytest.raises(runlog.NotFoundError):
        run["nope"]
    with pytest.raises(LookupError):
        run["nope"]


def test_tags_and_metadata(repo):
    run = repo.create_run(experiment="exp", name="first", description="d",
                          tags=["a"])
    run.add_tag("b")
    run.commit()
    (record,) = repo.runs(experiment="exp", tag="b")
    assert record.tags == ["a", "b"]
    assert (record.name, record.description) == ("first", "d")
    assert repo.runs(experiment="other") == []
    assert repo.runs(tag="c") == []
    assert repo.runs(status="finished")[0].id == run.id
    assert repo.runs(status="failed") == []
