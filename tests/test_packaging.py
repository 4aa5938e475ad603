"""Install and packaging: the Qt check, desktop entry, AppStream, quiet CPU machines, broken imports."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cvexplorer import cli, desktop, runtime
from cvexplorer.locations import shipped_model_dirs

ROOT = Path(__file__).resolve().parents[1]
CVEXPLORER = [sys.executable, "-m", "cvexplorer"]


def _env(tmp_path, **extra):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CVEXPLORER_SETTINGS": str(tmp_path / "s.ini"), **extra}
    env.pop("PYTHONWARNINGS", None)
    return env


@pytest.fixture(scope="module")
def check_qt():
    spec = importlib.util.spec_from_file_location("check_qt", ROOT / "packaging" / "check_qt.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f01)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibX11.so.6 => /lib/x86_64-linux-gnu/libX11.so.6 (0x00007f02)
\tlibxcb-icccm.so.4 => not found
"""
LDD_OK = "\tlibX11.so.6 => /lib/x86_64-linux-gnu/libX11.so.6 (0x00007f02)\n"


# -- the Qt check ---------------------------------------------------------------------------------
def test_ldd_output_gives_the_install_lines(check_qt):
    missing = check_qt.missing_from_ldd(LDD_MISSING)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    deb, fed = check_qt.install_lines(missing)
    assert deb.endswith("sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1")
    assert fed.endswith("sudo dnf install -y xcb-util-wm xcb-util-keysyms")
    assert "apt-file search libfoo.so.3" in check_qt.install_lines(["libfoo.so.3"])[0]


def test_platform_is_the_one_the_user_will_use(check_qt):
    assert check_qt.target_platform({"DISPLAY": ":0"}) == "xcb"
    assert check_qt.target_platform({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}) == "wayland"
    assert check_qt.target_platform({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}) == "offscreen"
    assert check_qt.target_platform({}) == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd and the xcb plugin are Linux things")
def test_missing_xcb_library_fails_on_a_display_and_prints_the_apt_line(check_qt):
    lines: list[str] = []
    status = check_qt.check({"DISPLAY": ":0"}, ldd=lambda p: LDD_MISSING,
                            gui=lambda plat: (False, 'qt.qpa.plugin: Could not load the Qt platform plugin "xcb"'),
                            out=lines.append)
    text = "\n".join(lines)
    assert status == 1 and "Qt OK" not in text
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in text and "sudo dnf install" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd and the xcb plugin are Linux things")
def test_headless_machine_warns_and_passes_unless_strict(check_qt):
    lines: list[str] = []
    ok = check_qt.check({}, ldd=lambda p: LDD_MISSING, gui=lambda plat: (True, "platform: offscreen"), out=lines.append)
    assert ok == 0 and "libxcb-icccm4" in "\n".join(lines)
    assert check_qt.check({}, strict=True, ldd=lambda p: LDD_MISSING, gui=lambda plat: (True, ""),
                          out=lambda s: None) == 1
    lines.clear()
    assert check_qt.check({"DISPLAY": ":0"}, ldd=lambda p: LDD_OK, gui=lambda plat: (True, "platform: xcb"),
                          out=lines.append) == 0
    assert lines == ["Qt OK (xcb)"]


# -- desktop entry and AppStream ------------------------------------------------------------------
def test_packaged_desktop_file_is_the_generated_one():
    text = (ROOT / "packaging" / "cvexplorer.desktop").read_text()
    assert text == desktop.desktop_entry()
    cats = [c for c in text.split("Categories=")[1].splitlines()[0].split(";") if c]
    main = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network", "Office",
            "Science", "Settings", "System", "Utility"}
    assert len([c for c in cats if c in main]) == 1
    for mime in ("image/gif", "image/x-portable-graymap", "image/x-portable-pixmap"):
        assert mime in text


def test_install_desktop_and_uninstall(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert cli.main(["install-desktop"]) == 0
    entry = tmp_path / "share" / "applications" / "cvexplorer.desktop"
    icon = tmp_path / "share" / "icons" / "hicolor" / "scalable" / "apps" / "cvexplorer.svg"
    assert entry.is_file() and icon.is_file() and icon.read_bytes().lstrip().startswith(b"<")
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" %f") and (os.path.isabs(exec_line[5:].strip('"').split('"')[0].split(" ")[0]))
    if shutil.which("desktop-file-validate"):
        r = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
        assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    assert cli.main(["install-desktop", "--uninstall"]) == 0
    assert not entry.exists() and not icon.exists()
    assert cli.main(["install-desktop", "--uninstall"]) == 0
    assert "not in the menu" in capsys.readouterr().out


def test_exec_paths_with_spaces_are_quoted():
    assert 'Exec="/opt/my apps/cvexplorer" %f' in desktop.desktop_entry("/opt/my apps/cvexplorer")


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils is not installed")
def test_desktop_file_validates():
    r = subprocess.run(["desktop-file-validate", str(ROOT / "packaging" / "cvexplorer.desktop")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream is not installed")
def test_metainfo_validates():
    r = subprocess.run(["appstreamcli", "validate", "--no-net", str(ROOT / "packaging" / "io.github.cvexplorer.metainfo.xml")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


# -- project metadata -----------------------------------------------------------------------------
def test_pyproject_license_and_globs():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert cfg["project"]["license"] == "MIT" and cfg["project"]["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in cfg["build-system"]["requires"])
    dirs = cfg["tool"]["setuptools"]["package-dir"]
    for pkg, globs in cfg["tool"]["setuptools"]["package-data"].items():
        folder = ROOT / dirs.get(pkg, pkg.replace(".", "/"))
        for g in globs:
            assert list(folder.glob(g)), f"{pkg}: package-data glob {g!r} matches nothing in {folder}"


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_run_does_not_install_dev_extras(tmp_path):
    r = subprocess.run(["make", "-n", "-B", "run", "VENV=" + str(tmp_path / "v")], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "pip install -e ." in r.stdout and "[dev]" not in r.stdout
    t = subprocess.run(["make", "-n", "-B", "test", "VENV=" + str(tmp_path / "v")], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert '".[dev]"' in t.stdout


def test_shipped_models_are_found_in_this_checkout():
    dirs = shipped_model_dirs()
    assert dirs and all((d / "unet_tiny.onnx").is_file() for d in dirs)
    assert not any(d.name == "models" and d.parent.name == "site-packages" for d in dirs)


# -- onnxruntime on a machine without CUDA --------------------------------------------------------
def test_elf_needed_reads_a_real_library():
    import _ctypes

    needed = runtime.elf_needed(_ctypes.__file__)
    if needed is None:
        pytest.skip("not a 64-bit little-endian ELF here")
    assert all(isinstance(n, str) and n for n in needed)
    assert runtime.elf_needed(__file__) is None


def test_cuda_probe_names_what_is_missing(monkeypatch):
    import onnxruntime as ort

    provider = Path(ort.__file__).parent / "capi" / "libonnxruntime_providers_cuda.so"
    if not provider.is_file() or not sys.platform.startswith("linux"):
        pytest.skip("no CUDA provider library in this onnxruntime")
    monkeypatch.setattr(runtime, "_can_load", lambda name: "" if not name.startswith("libcuda.so") else "not found")
    why = runtime.cuda_problem.__wrapped__()
    assert "libcuda.so.1 (the NVIDIA driver)" in why and "CPU" in why and "could not start" in why
    monkeypatch.setattr(runtime, "_can_load", lambda name: "")
    assert runtime.cuda_problem.__wrapped__() == ""


def test_unet_screenshot_prints_nothing_on_stderr(tmp_path):
    """On a machine without CUDA: no onnxruntime library errors, no Qt offscreen noise."""
    r = subprocess.run([*CVEXPLORER, "screenshot", "unet", str(tmp_path / "u.png"), "--size", "800x600"],
                       capture_output=True, text=True, timeout=300, env=_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "u.png").stat().st_size > 5000
    assert r.stderr == ""


def test_qt_noise_is_dropped_and_other_messages_kept(tmp_path):
    code = ("from cvexplorer.ui.qt_messages import install; install(); install()\n"
            "from PySide6.QtCore import qWarning\n"
            "qWarning('This plugin does not support propagateSizeHints()'); qWarning('keep me')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert r.returncode == 0 and r.stderr.strip() == "keep me", r.stderr


# -- broken third-party imports -------------------------------------------------------------------
@pytest.mark.parametrize("module, command, words", [
    ("cv2", ["screenshot", "stereo"], "pip install --force-reinstall opencv-python-headless"),
    ("PySide6", ["screenshot", "welcome"], "PySide6-Essentials"),
])
def test_missing_dependency_is_one_sentence(tmp_path, module, command, words):
    code = (f"import sys; sys.modules[{module!r}] = None\nfrom cvexplorer.cli import main\n"
            f"sys.exit(main({[*command, str(tmp_path / 'o.png')]!r}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert r.returncode == 2, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert words in r.stderr and "missing or broken" in r.stderr


def test_half_uninstalled_opencv_is_one_sentence(tmp_path):
    # opencv-python removed beside opencv-python-headless: cv2/ is left without its module and imports as
    # an empty namespace package (no __file__), so the first cv2.anything is an AttributeError.
    (tmp_path / "cv2").mkdir()
    code = ("import sys, types\nns = types.ModuleType('cv2'); ns.__file__ = None; ns.__path__ = [%r]\n"
            "sys.modules['cv2'] = ns\nfrom cvexplorer.cli import main\n"
            "sys.exit(main(['screenshot', 'stereo', %r]))") % (str(tmp_path / "cv2"), str(tmp_path / "o.png"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "OpenCV (cv2) is missing or broken" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_broken_onnxruntime_is_one_sentence(monkeypatch, capsys):
    def broken(argv):
        import onnxruntime  # noqa: F401

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.setattr(cli, "_calc", broken)
    assert cli.main(["calc"]) == 2
    err = capsys.readouterr().err
    assert "onnxruntime is missing or broken" in err and "pip install --force-reinstall onnxruntime-gpu" in err


def test_our_own_import_errors_still_raise():
    exc = ImportError("No module named 'cvexplorer.ui.panels.nope'", name="cvexplorer.ui.panels.nope")
    assert cli._broken_dependency(exc) == ""
