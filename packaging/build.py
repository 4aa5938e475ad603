"""Out-of-tree builds: the wheel and the PyInstaller bundle, each from a clean copy of the source.

    python packaging/build.py wheel  [--outdir dist]          # dist/cvexplorer-*.whl
    python packaging/build.py bundle [--gpu] [--outdir dist]  # dist/cvexplorer-cpu/ (or -gpu/)

Nothing is built inside the checkout: the source (git's tracked and untracked-but-not-ignored
files, so no ``build/``, ``*.egg-info`` or ``.venv``) is copied into a temporary folder and built
there, so a file deleted from the tree can never ship from a stale ``build/lib``. The bundle gets
its own virtual environment in that folder (``.venv`` is never touched), builds headless
(``QT_QPA_PLATFORM=offscreen``) and, for the CPU bundle, swaps ``onnxruntime-gpu`` for
``onnxruntime`` after the project is installed (the CUDA provider alone is ~280 MB and useless
without CUDA 13 and cuDNN 9). The finished bundle renders a screenshot before it is kept.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SKIP = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}


def source_files(root: Path = ROOT) -> list[str]:
    """The source tree as git sees it (tracked + untracked-not-ignored), relative paths.

    Without git (an unpacked archive), every file outside build outputs and caches.
    """
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                             capture_output=True, check=True, timeout=60).stdout.decode()
        return sorted(p for p in set(out.split("\0")) if p and (root / p).is_file())
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in _SKIP and not d.endswith(".egg-info")]
            files += [str(Path(dirpath, f).relative_to(root)) for f in filenames if not f.endswith(".pyc")]
        return sorted(files)


def copy_source(dest: Path, root: Path = ROOT) -> Path:
    for rel in source_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    return dest


def _run(cmd: list[str], **kw) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def build_wheel(outdir: Path, *, python: str = sys.executable) -> Path:
    """Build the wheel from a fresh copy of the tree (PEP 517 isolation) and return its path."""
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cvexplorer-wheel-") as tmp:
        src = copy_source(Path(tmp) / "src")
        _run([python, "-m", "build", "--wheel", "--outdir", Path(tmp) / "dist", src],
             stdout=subprocess.DEVNULL if os.environ.get("CVEXPLORER_QUIET_BUILD") else None)
        wheel = next((Path(tmp) / "dist").glob("cvexplorer-*.whl"))
        final = outdir / wheel.name
        shutil.copy2(wheel, final)
    return final


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def build_bundle(outdir: Path, *, gpu: bool = False, python: str = "python3", keep_temp: bool = False) -> Path:
    """Build the one-folder PyInstaller app in its own venv; returns ``outdir/cvexplorer-cpu`` (or ``-gpu``)."""
    outdir = Path(outdir).resolve()
    flavour = "gpu" if gpu else "cpu"
    tmp = Path(tempfile.mkdtemp(prefix=f"cvexplorer-bundle-{flavour}-"))
    try:
        src = copy_source(tmp / "src")
        venv = tmp / "venv"
        _run([python, "-m", "venv", venv])
        py = venv / "bin" / "python"
        _run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"])
        _run([py, "-m", "pip", "install", "-q", f"{src}[package]"])  # a regular, non-editable install
        if not gpu:
            ver = subprocess.run([py, "-c", "import importlib.metadata as m; print(m.version('onnxruntime-gpu'))"],
                                 capture_output=True, text=True).stdout.strip()
            _run([py, "-m", "pip", "uninstall", "-q", "-y", "onnxruntime-gpu"])
            _run([py, "-m", "pip", "install", "-q", f"onnxruntime=={ver}" if ver else "onnxruntime>=1.17"])
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        _run([venv / "bin" / "pyinstaller", "--noconfirm", "--log-level", "WARN", "--distpath", tmp / "dist",
              "--workpath", tmp / "work", src / "packaging" / "cvexplorer.spec"], env=env, cwd=tmp)
        app = tmp / "dist" / "cvexplorer"
        shot = tmp / "smoke.png"
        r = subprocess.run([app / "cvexplorer", "screenshot", "unet", shot, "--size", "800x600"], env={
            **env, "CVEXPLORER_SETTINGS": str(tmp / "s.ini")}, capture_output=True, text=True, timeout=300, cwd=tmp)
        if r.returncode != 0 or not shot.is_file() or shot.stat().st_size < 5000:
            raise SystemExit(f"the bundled app did not render a screenshot:\n{r.stdout}\n{r.stderr}")
        final = outdir / f"cvexplorer-{flavour}"
        if final.exists():
            shutil.rmtree(final)
        outdir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(app), final)
        print(f"{final}: {dir_size_mb(final):.0f} MB; its screenshot rendered ({shot.stat().st_size} bytes)"
              + (f"; stderr: {r.stderr.strip()}" if r.stderr.strip() else "; nothing on stderr"))
        return final
    finally:
        if keep_temp:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("wheel", "bundle"))
    ap.add_argument("--outdir", default=str(ROOT / "dist"))
    ap.add_argument("--gpu", action="store_true", help="bundle onnxruntime-gpu (needs CUDA 13 + cuDNN 9 to use it)")
    ap.add_argument("--python", default="python3", help="interpreter for the bundle's venv (default python3)")
    ap.add_argument("--keep-temp", action="store_true")
    args = ap.parse_args(argv)
    if args.what == "wheel":
        print(build_wheel(Path(args.outdir)))
    else:
        build_bundle(Path(args.outdir), gpu=args.gpu, python=args.python, keep_temp=args.keep_temp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
