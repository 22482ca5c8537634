"""Shared fixtures of the runlog Python tests (run by ctest: python_tests)."""

import os
import subprocess
import sys
import textwrap

import pytest

import runlog

# Generous: the scripts take milliseconds; the deadline only catches a hang.
SUBPROCESS_DEADLINE_S = 60


@pytest.fixture
def repo_path(tmp_path):
    return tmp_path / "repo"


@pytest.fixture
def repo(repo_path):
    return runlog.Repo(repo_path)


def run_dirs(repo_path):
    runs = repo_path / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.exists() else []


def python_script(source):
    """Starts `python3 -c source` with this interpreter and import path."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(source)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
