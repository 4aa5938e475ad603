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


def _imports(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_ui_imports_no_cv2():
    ui = ROOT.parent / "ui"
    offenders = sorted(str(p.relative_to(ui)) for p in ui.rglob("*.py") if "cv2" in _imports(p))
    assert offenders == [], f"maths belongs in the engine; these UI modules import cv2: {offenders}"


def test_benchmarks_use_no_private_name_of_a_panel_module():
    import ast

    bench = ROOT.parent / "benchmarks"
    offenders = []
    for p in bench.glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and ".ui.panels" in node.module:
                offenders += [f"{p.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = ast.unparse(node.value)
                if "panel" in base.lower():
                    offenders.append(f"{p.name}: {base}.{node.attr}")
    assert offenders == [], offenders
