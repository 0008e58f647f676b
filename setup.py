"""Builds the extension edgeint8._core with the project's CMake (target edgeint8_core) and puts
it beside the package python/edgeint8/. Offline: `pip install --no-build-isolation .` uses the
setuptools, pybind11 and compilers of the machine (Debian packages; scripts/setup.sh)."""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        # EI8_CMAKE_BUILD_DIR: an already configured build tree (e.g. build/release of the
        # README's commands) whose module is reused; otherwise a build tree of our own.
        build = os.environ.get("EI8_CMAKE_BUILD_DIR")
        if build:
            build = os.path.abspath(build)
        else:
            build = os.path.abspath(os.path.join(self.build_temp, "cmake"))
            os.makedirs(build, exist_ok=True)
            configure = [
                "cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
                "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG",
                "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG", "-DEI8_WERROR=ON",
                "-DEI8_WITH_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}",
                # The module links neither the libtorch trainer nor the benchmarks.
                "-DEI8_WITH_TORCH=OFF", "-DEI8_WITH_BENCH=OFF",
            ]
            if shutil.which("ninja") is None:
                configure.remove("-G")
                configure.remove("Ninja")
            subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", build, "--target", "edgeint8_python", "-j", jobs],
                       check=True)
        src = os.path.join(build, "python", "edgeint8")
        dest = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        os.makedirs(dest, exist_ok=True)
        for name in os.listdir(src):
            if name.startswith("_core") and name.endswith(".so"):
                shutil.copy2(os.path.join(src, name), self.get_ext_fullpath(ext.name))
        shutil.copytree(os.path.join(src, "share"), os.path.join(dest, "share"),
                        dirs_exist_ok=True)


setup(
    packages=["edgeint8"],
    package_dir={"": "python"},
    ext_modules=[Extension("edgeint8._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
