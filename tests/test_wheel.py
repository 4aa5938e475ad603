"""The wheel, built out of tree, holds exactly the source tree's packages (nothing stale, nothing
missing), installs into a fresh venv, and its `cvexplorer screenshot welcome` works (slow: builds
and installs for real)."""

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _build_module():
    spec = importlib.util.spec_from_file_location("cvexplorer_packaging_build", ROOT / "packaging" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def expected_wheel_files() -> set[str]:
    """What the wheel must hold, derived from the source tree (not a list kept by hand).

    Every file git knows in a package folder (a folder with ``__init__.py``, as are all its
    parents up to a ``package-dir`` root), at its installed path: ``ui/x.py`` -> ``cvexplorer/ui/x.py``.
    A new subpackage is expected as soon as it exists, so one missing from ``packages`` fails here.
    """
    roots = {src.rstrip("/"): pkg.replace(".", "/")
             for pkg, src in _pyproject()["tool"]["setuptools"]["package-dir"].items()}
    out = set()
    for rel in _build_module().source_files(ROOT):
        parts = Path(rel).parts
        for src, dest in roots.items():
            sp = Path(src).parts
            if tuple(parts[:len(sp)]) != sp:
                continue
            inner = parts[len(sp):]
            folders = [ROOT.joinpath(*sp, *inner[:i]) for i in range(len(inner))]
            if all((f / "__init__.py").is_file() for f in folders):
                out.add("/".join([dest, *inner]))
            break
    return out


@pytest.mark.slow
def test_wheel_matches_the_source_tree_installs_and_renders(tmp_path):
    wheel = _build_module().build_wheel(tmp_path / "dist")
    names = [n for n in zipfile.ZipFile(wheel).namelist() if not n.endswith("/")]
    meta = [n for n in names if ".dist-info/" in n]
    shipped = set(names) - set(meta)
    expected = expected_wheel_files()
    missing, extra = sorted(expected - shipped), sorted(shipped - expected)
    assert not missing, f"in the source tree but not in the wheel (add the package to pyproject.toml?): {missing}"
    assert not extra, f"in the wheel but not in the source tree: {extra}"
    assert len(shipped) > 50 and "cvexplorer/assets/cvexplorer.svg" in shipped
    assert not any(n.startswith("ui/") for n in names)  # the Qt layer lives only under cvexplorer.ui
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in meta)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in meta if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    r = subprocess.run(pip, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path / "w.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CVEXPLORER_SETTINGS": str(tmp_path / "s.ini")}
    r = subprocess.run([str(venv / "bin" / "cvexplorer"), "screenshot", "welcome", str(out), "--size", "640x480"],
                       capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.stat().st_size > 5000
    r = subprocess.run([str(venv / "bin" / "python"), "-c", "from cvexplorer.locations import shipped_model_dirs as d;"
                        "print(*d(), sep='\\n')"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    dirs = r.stdout.split()
    assert len(dirs) == 1 and dirs[0].endswith("site-packages/cvexplorer/models"), r.stdout + r.stderr


def test_expected_files_come_from_the_tree():
    expected = expected_wheel_files()
    assert "cvexplorer/cli.py" in expected and "cvexplorer/ui/app.py" in expected
    assert "cvexplorer/models/unet_tiny.onnx" in expected and "cvexplorer/assets/cvexplorer.svg" in expected
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in expected)
