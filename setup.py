"""Builds the Python package runlog: the pybind11 module through CMake.

    python3 -m pip install --no-build-isolation .    # or: pip wheel --no-build-isolation --no-deps .

--no-build-isolation: the build uses the setuptools, pybind11 and CMake
already installed (Debian packages, scripts/setup.sh) and needs no package
index. build_ext configures the repository with CMake (Release, tests,
benchmarks and tools off) in setuptools' build_temp, builds the target
_runlog, and copies the module and the generated runlog/_version.py next to
python/runlog/__init__.py in the wheel. Environment: RUNLOG_CMAKE_ARGS (extra
configure arguments, split on spaces), CMAKE_BUILD_PARALLEL_LEVEL (jobs,
default 2), RUNLOG_NO_CCACHE=1 (do not use ccache even when installed).
docs/packaging.md has the details.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def project_version():
    """The version of project(runlog VERSION x.y.z): segtool's, the module's."""
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(\s*runlog\s+VERSION\s+([0-9][0-9.]*)", text)
    if not match:
        raise RuntimeError("no project(runlog VERSION ...) in CMakeLists.txt")
    return match.group(1)


class CMakeExtension(Extension):
    """An extension whose sources CMake knows; setuptools compiles nothing."""

    def __init__(self, name, target):
        super().__init__(name, sources=[])
        self.target = target


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        cmake = shutil.which("cmake")
        if cmake is None:
            raise RuntimeError("building runlog needs cmake (Debian package cmake)")
        build_dir = Path(self.build_temp).resolve()
        configure = [
            cmake, "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            "-DRUNLOG_BUILD_TESTS=OFF",
            "-DRUNLOG_BUILD_BENCH=OFF",
            "-DRUNLOG_BUILD_TOOLS=OFF",
            "-DRUNLOG_BUILD_PYTHON=ON",
            # The interpreter pip runs is the one the module is for (a
            # venv's python finds its base installation's headers).
            "-DPython_EXECUTABLE=" + sys.executable,
        ]
        if shutil.which("ninja") and not (build_dir / "CMakeCache.txt").exists():
            configure += ["-G", "Ninja"]
        if shutil.which("ccache") and os.environ.get("RUNLOG_NO_CCACHE") != "1":
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        configure += os.environ.get("RUNLOG_CMAKE_ARGS", "").split()
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        subprocess.run(configure, check=True)
        subprocess.run([cmake, "--build", str(build_dir), "--target", ext.target,
                        "-j", jobs], check=True)

        package_dir = build_dir / "python" / "runlog"
        built = sorted(package_dir.glob(ext.target + ".*.so")) or sorted(
            package_dir.glob(ext.target + "*.so"))
        if not built:
            raise RuntimeError("CMake built no %s module in %s" % (ext.target, package_dir))
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], dest)
        shutil.copyfile(package_dir / "_version.py", dest.parent / "_version.py")


# setuptools writes <name>.egg-info next to the package (python/) unless told
# otherwise; build/ is ignored by git like every build directory.
(ROOT / "build").mkdir(exist_ok=True)

setup(
    name="runlog",
    version=project_version(),
    description="Crash-safe embedded store for ML experiment tracking",
    long_description=(ROOT / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={"pandas": ["pandas"]},
    package_dir={"": "python"},
    packages=["runlog"],
    ext_modules=[CMakeExtension("runlog._runlog", target="_runlog")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    options={"egg_info": {"egg_base": str(ROOT / "build")}},
)
