"""Builds the native module simdoptim._simdoptim with the project's CMake for `pip install .`.

pyproject.toml holds the metadata; this file only adds the CMake step: configure the project
for the interpreter running pip (Python3_EXECUTABLE), build the target simdoptim_python alone
(no tests, benchmarks or tools) and put the module where setuptools packs it. Extra CMake
arguments: the environment variable SIMDOPTIM_CMAKE_ARGS (split as a shell would); parallel
jobs: CMAKE_BUILD_PARALLEL_LEVEL, as for any CMake build; scratch folder (default build-pip/):
SIMDOPTIM_PIP_BUILD_DIR.
"""
import os
import re
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
# setuptools' scratch folder; not build/, the CMake build folder of tools/run_tests.sh.
BUILD_BASE = os.environ.get("SIMDOPTIM_PIP_BUILD_DIR", os.path.join(ROOT, "build-pip"))
os.makedirs(BUILD_BASE, exist_ok=True)


def project_version():
    """The version of CMakeLists.txt's project() call, the library's single source of it."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        match = re.search(r"project\(simdoptim\s+VERSION\s+([0-9.]+)", f.read())
    if not match:
        sys.exit("setup.py: no project(simdoptim VERSION ...) in CMakeLists.txt")
    return match.group(1)


class CMakeBuild(build_ext):
    """build_ext that builds simdoptim._simdoptim with CMake instead of compiling sources."""

    def build_extension(self, ext):
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        out_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        configure = [
            "cmake", "-S", ROOT, "-B", build_dir,
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSIMDOPTIM_PYTHON=ON",
            "-DSIMDOPTIM_BUILD_TESTS=OFF",
            "-DSIMDOPTIM_BUILD_BENCHMARKS=OFF",
            "-DSIMDOPTIM_BUILD_TOOLS=OFF",
        ] + shlex.split(os.environ.get("SIMDOPTIM_CMAKE_ARGS", ""))
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", build_dir, "--target", "simdoptim_python"],
                       check=True)
        built = os.path.join(build_dir, "python", "simdoptim", os.path.basename(
            self.get_ext_filename(ext.name)))
        os.makedirs(out_dir, exist_ok=True)
        self.copy_file(built, os.path.join(out_dir, os.path.basename(built)))


setup(
    version=project_version(),
    ext_modules=[Extension("simdoptim._simdoptim", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
)
