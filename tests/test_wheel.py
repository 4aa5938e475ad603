"""The wheel holds the Qt layer, assets and models, installs into a fresh venv, and its
`cvexplorer screenshot welcome` works (slow: builds and installs for real)."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_renders(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp_path / "dist").glob("cvexplorer-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "cvexplorer/ui/app.py" in names and "cvexplorer/ui/panels/welcome.py" in names
    assert "cvexplorer/assets/cvexplorer.svg" in names
    assert not any(n.startswith("ui/") for n in names)  # the Qt layer lives only under cvexplorer.ui
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
