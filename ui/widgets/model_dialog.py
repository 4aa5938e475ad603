"""The "get a model" dialog: download a catalogue model, or install one from a file, with the licence,
progress, speed, time left and Cancel. All the checking is :mod:`cvexplorer.modelstore`'s.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout)

from cvexplorer import modelstore as M

from ..workers import CancelToken, progress_channel
from .text import ElidedLabel, WrapLabel

__all__ = ["ModelDialog"]


class ModelDialog(QDialog):
    """Get catalogue entry ``entry_id`` (MobileSAM by default). ``installed(InstalledModel)`` on success."""

    installed = Signal(object)

    def __init__(self, ctx, parent=None, entry_id: str = "mobile-sam") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entry = M.CATALOGUE[entry_id]
        self.setWindowTitle(f"Get {self.entry.label.split(' (')[0]}")
        self._token: CancelToken | None = None
        self.about = WrapLabel(
            f"<b>{self.entry.label}</b><br>{self.entry.size_text} from {self.entry.urls[0].split('/')[2]}, "
            f"licence {self.entry.licence}. Every file is checked against its pinned SHA-256 before it is used, "
            f"then installed in {M.install_dir()}.", rich=True)
        self.get_btn = QPushButton(f"Get {self.entry.label.split(' (')[0]} ({self.entry.size_text})")
        self.file_btn = QPushButton("Install from file…")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.status = ElidedLabel("No download yet: nothing reaches the network until you ask.", "Muted")
        self.get_btn.clicked.connect(ctx.guard(self.start_download, "Get model"))
        self.file_btn.clicked.connect(ctx.guard(self._ask_file, "Install model"))
        self.cancel_btn.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        for b in (self.get_btn, self.file_btn, self.cancel_btn):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.about)
        lay.addLayout(buttons)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        self.resize(720, 260)
        self._progress = progress_channel(self._on_progress, self)

    # -- actions ----------------------------------------------------------------------------------------
    def start_download(self) -> None:
        self._token = CancelToken()
        self._busy(True, "Connecting…")
        self.ctx.workers.submit("model-download", M.download, self.entry.id, progress=self._progress,
                                cancel=self._token, on_done=self._done, on_error=self._failed)

    def install_files(self, paths: list[str]) -> None:
        self._busy(True, "Checking the files…")
        target = paths if len(paths) > 1 else paths[0]
        self.ctx.workers.submit("model-install", M.install_from_file, target, on_done=self._done,
                                on_error=self._failed)

    def cancel(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.status.setText("Cancelling…")

    def _ask_file(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Install a model from a file", "",
                                                "Model archive or ONNX files (*.zip *.onnx)")
        if paths:
            self.install_files(paths)

    # -- results ----------------------------------------------------------------------------------------
    def _on_progress(self, done: int, total: int, bps: float) -> None:
        self.bar.setValue(int(1000 * done / max(1, total)))
        left = (total - done) / bps if bps > 0 else 0.0
        self.status.setText(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB · {bps / 1e6:.1f} MB/s · "
                            f"about {left:.0f} s left")

    def _done(self, got) -> None:
        self._busy(False, f"Installed and verified in {got.folder}.")
        self.bar.setValue(1000)
        self.installed.emit(got)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False, str(exc) if isinstance(exc, ValueError) else f"The model could not be installed ({exc}).")
        self.bar.setValue(0)

    def _busy(self, on: bool, text: str) -> None:
        self.get_btn.setEnabled(not on)
        self.file_btn.setEnabled(not on)
        self.cancel_btn.setEnabled(on)
        self.status.setText(text)
        if not on:
            self._token = None
