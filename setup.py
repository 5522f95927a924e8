"""pip install . : the Python package edgeq (python/edgeq), built by the project's CMake.

    python3 -m venv --system-site-packages venv
    venv/bin/pip install --no-build-isolation --no-index .

The compiled module edgeq._edgeq is the CMake target edgeq_python: this script
configures the build directory (EDGEQ_BUILD_DIR, default build/) when it has not been
configured yet, builds that one target there (nothing to do when it is up to date) and
installs it beside the pure-Python files. Needs nothing from the network: Debian's
setuptools, pybind11-dev and the packages of tools/setup.sh.
"""

import os
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def cmake_build_dir():
    return os.path.abspath(os.environ.get("EDGEQ_BUILD_DIR", os.path.join(ROOT, "build")))


class CMakeBuild(build_ext):
    """Builds edgeq._edgeq with CMake instead of compiling sources itself."""

    def build_extension(self, ext):
        build = cmake_build_dir()
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                                   "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DPython3_EXECUTABLE=" + sys.executable])
        jobs = os.environ.get("EDGEQ_JOBS", str(os.cpu_count() or 1))
        subprocess.check_call(["cmake", "--build", build, "-j", jobs, "--target", "edgeq_python"])
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        built = os.path.join(build, "python", "edgeq", "_edgeq" + suffix)
        if not os.path.exists(built):
            sys.exit("edgeq: %s not found: the build directory %s was configured for another Python "
                     "(reconfigure it with -DPython3_EXECUTABLE=%s, or set EDGEQ_BUILD_DIR)"
                     % (built, build, sys.executable))
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built, target)


setup(
    name="edgeq",
    version="0.1.0",
    description="edgeq: an int8 inference runtime for edge CPUs (convert, run, calibrate, report)",
    packages=["edgeq"],
    package_dir={"edgeq": "python/edgeq"},
    package_data={"edgeq": ["py.typed", "*.pyi"]},
    ext_modules=[Extension("edgeq._edgeq", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own scratch directory inside the CMake build directory, not beside it.
    options={"build": {"build_base": os.path.join(cmake_build_dir(), "setuptools")}},
    python_requires=">=3.9",
    install_requires=["numpy"],
    zip_safe=False,
)
