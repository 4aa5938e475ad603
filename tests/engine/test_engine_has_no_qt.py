"""The engine never imports Qt or pyqtgraph, and `import cvexplorer` stays cheap."""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import cvexplorer

ROOT = Path(cvexplorer.__file__).parent


def engine_modules() -> list[str]:
    mods = ["cvexplorer"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="cvexplorer."):
        if info.name.startswith("cvexplorer.ui") or info.name in ("cvexplorer.__main__",):
            continue
        mods.append(info.name)
    return mods


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_every_engine_module_imports_without_qt():
    mods = engine_modules()
    assert "cvexplorer.imageio" in mods and "cvexplorer.trace" in mods
    loaded = _loaded_after("\n".join(f"import {m}" for m in mods))
    qt = sorted(m for m in loaded if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"))
    assert qt == [], f"engine modules pulled in Qt: {qt[:5]}"


def test_import_cvexplorer_is_lazy():
    loaded = _loaded_after("import cvexplorer, cvexplorer.cli")
    heavy = {"cv2", "onnxruntime", "PySide6", "pyqtgraph", "onnx"} & {m.split(".")[0] for m in loaded}
    assert heavy == set()
