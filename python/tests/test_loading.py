"""Where the package finds libclconv: CLCONV_LIBRARY, then next to the
package, then the system path (clconv/_lib.py).  Each case imports a copy
of the package in a fresh interpreter."""
import os
import shutil
import subprocess
import sys

import clconv

PACKAGE = os.path.dirname(clconv.__file__)


def loaded_library_file():
    """The file of the libclconv this process mapped, whichever way it was found."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libclconv" in line}
    assert len(paths) == 1, paths
    return paths.pop()


def import_copy(tmp_path, with_library, **env):
    """library_path() printed by a fresh interpreter importing a copy of the package."""
    shutil.copytree(PACKAGE, tmp_path / "clconv",
                    ignore=shutil.ignore_patterns("libclconv.so*", "__pycache__"))
    if with_library:
        shutil.copy(loaded_library_file(), tmp_path / "clconv" / "libclconv.so.0")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CLCONV_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
    clean.update(PYTHONPATH=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", "import clconv; print(clconv.library_path())"],
                          env=clean, capture_output=True, text=True, cwd=tmp_path)


def test_next_to_the_package(tmp_path):
    r = import_copy(tmp_path, True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "clconv" / "libclconv.so.0")


def test_clconv_library_comes_first_and_is_not_replaced(tmp_path):
    missing = str(tmp_path / "nowhere" / "libclconv.so")
    r = import_copy(tmp_path, True, CLCONV_LIBRARY=missing)
    assert r.returncode != 0
    assert "ImportError" in r.stderr and missing in r.stderr
    r = import_copy(tmp_path / "again", True, CLCONV_LIBRARY=loaded_library_file())
    assert r.stdout.strip() == loaded_library_file()


def test_system_path_last(tmp_path):
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copy(loaded_library_file(), libdir / "libclconv.so.0")
    r = import_copy(tmp_path / "pkg", False, LD_LIBRARY_PATH=str(libdir))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "libclconv.so.0"
    r = import_copy(tmp_path / "none", False)
    if r.returncode == 0:  # a libclconv installed system-wide (make install): still a soname
        assert r.stdout.strip() in ("libclconv.so.0", "libclconv.so")
    else:
        assert "cannot load libclconv" in r.stderr
