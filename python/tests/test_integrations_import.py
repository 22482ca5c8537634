"""Importing runlog, and runlog.integrations, imports no training framework;
each adapter module imports without its framework installed."""

import subprocess
import sys
import textwrap

from conftest import SUBPROCESS_DEADLINE_S

FRAMEWORKS = ("torch", "lightning", "pytorch_lightning", "transformers",
              "keras", "tensorflow")


def run_python(source):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(source)],
                          capture_output=True, text=True,
                          timeout=SUBPROCESS_DEADLINE_S)


def test_import_runlog_imports_no_framework():
    out = run_python(f"""
        import sys
        import runlog
        import runlog.integrations
        print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_each_adapter_imports_only_its_framework():
    # transformers and keras are not Debian packages: their adapters must
    # import (duck-typed) without them, and pull in no other framework.
    for module, allowed in (("transformers", {"transformers"}),
                            ("keras", {"keras", "tensorflow"}),
                            ("lightning", {"lightning", "pytorch_lightning",
                                           "torch"})):
        out = run_python(f"""
            import sys
            import runlog.integrations.{module} as m
            assert m.RunlogCallback if hasattr(m, "RunlogCallback") \\
                else m.RunlogLogger
            print(sorted(x for x in {FRAMEWORKS!r} if x in sys.modules))
        """)
        assert out.returncode == 0, out.stderr
        loaded = set(eval(out.stdout.strip()))
        assert loaded <= allowed, (module, loaded)
