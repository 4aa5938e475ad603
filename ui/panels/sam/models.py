"""The SAM panel's model menu: discovery, loading in a worker, the fallback when there is no usable model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from cvexplorer import sam
from cvexplorer.runtime import preferred_device

from ...widgets.model_dialog import ModelDialog

__all__ = ["ModelMenu", "NO_MODEL"]

_FALLBACK = "__fallback__"
_OPEN = "__open__"
#: Said once, in the banner, when no SAM model is found.
NO_MODEL = ("No SAM model yet, so GrabCut (classical) answers. Get MobileSAM (37 MB) from the settings, "
            "install it from a file, or open your own pair.")


class ModelMenu:
    """Mixed into the panel: fills ``model_box`` and keeps ``model`` / ``predictor`` in step with it."""

    def _populate_models(self, load: bool = True) -> None:
        box = self.model_box
        box.blockSignals(True)
        box.clear()
        try:
            found = sam.find_models()
        except Exception:  # noqa: BLE001 - discovery never breaks the panel
            found = []
        for pair in found:
            box.addItem(f"SAM: {pair.name}", f"{pair.encoder}\n{pair.decoder}")
        box.addItem("GrabCut (classical, not SAM)", _FALLBACK)
        box.addItem("Open model…", _OPEN)
        box.blockSignals(False)
        self.get_model_btn.setVisible(not any("mobile_sam" in p.encoder.name for p in found))
        if not load:
            return
        if found:
            self.load_model(found[0].encoder, found[0].decoder, background=True)
        else:
            self.use_fallback("no SAM model was found")
            self.frame.banner.show_hint(NO_MODEL)

    def _on_model_chosen(self, index: int) -> None:
        data = self.model_box.itemData(index)
        if data == _FALLBACK:
            self.use_fallback("chosen in the model menu")
        elif data == _OPEN:
            enc, _ = QFileDialog.getOpenFileName(self, "SAM encoder (.onnx)", "", "ONNX (*.onnx)")
            if not enc:
                return
            dec, _ = QFileDialog.getOpenFileName(self, "SAM decoder (.onnx)", str(Path(enc).parent), "ONNX (*.onnx)")
            if dec:
                self.load_model(enc, dec, background=True)
        elif data:
            self.load_model(*str(data).split("\n"), background=True)

    def open_model_dialog(self) -> "ModelDialog":
        """Get MobileSAM or install it from a file; the panel switches to it when it is installed."""
        dlg = ModelDialog(self.ctx, self)
        dlg.installed.connect(self.ctx.guard(self._model_installed, "Install model"))
        dlg.setModal(False)
        dlg.show()
        self.model_dialog = dlg
        return dlg

    def _model_installed(self, got) -> None:
        encoder, decoder = got.files  # the catalogue lists the encoder first
        self._populate_models(load=False)
        self.load_model(encoder, decoder, background=True)

    def use_fallback(self, reason: str) -> None:
        self.model = None
        self.fallback_reason = reason
        self.predictor = sam.ClassicalSegmenter()
        self.pipeline_page.set_fallback(True)
        self.model_label.setText("<b>GrabCut</b>: colours only, no learned prior, no predicted IoU.")
        self.candidates.title.setText("Result (GrabCut predicts no IoU)")
        self._select_combo(_FALLBACK)
        self.pipeline.set_state("", decoder="")
        self.frame.show_secondary(self.pipeline_page)  # one GrabCut mask: nothing to choose between
        if self.rgb is not None:
            self._encode()

    def load_model(self, encoder, decoder, background: bool = False) -> None:
        """Open a SAM pair (in a worker when ``background``); an unusable pair falls back, with the reason."""
        self.frame.banner.show_progress(f"Loading the SAM model {Path(encoder).name}…")
        self.pipeline.set_state("encoder", encoder="loading the model…")
        if background:
            self.ctx.workers.submit("sam-model", sam.SamModel.load, encoder, decoder, device=preferred_device(),
                                    on_done=self._model_ready, on_error=self._model_failed)
        else:
            try:
                self._model_ready(sam.SamModel.load(encoder, decoder, device=preferred_device()))
            except ValueError as exc:
                self._model_failed(exc)

    def _model_failed(self, exc: BaseException) -> None:
        self.frame.banner.clear("progress")
        self.use_fallback(f"the chosen model could not be used ({exc})")
        self.ctx.report_error(exc, "SAM model")

    def _model_ready(self, model: sam.SamModel) -> None:
        self.frame.banner.clear()
        self.model = model
        self.predictor = sam.SamPredictor(model)
        self.pipeline_page.set_fallback(False)
        self.fallback_reason = ""
        self.candidates.title.setText("Candidates (predicted IoU): click to choose")
        self.frame.show_secondary(self.candidates)
        dev = model.device + (f" — {model.fallback}" if model.fallback else "")
        # file names are long words: a zero-width space after . and _ lets the narrow column wrap them
        enc, dec = (Path(x).name.replace(".", ".\u200b").replace("_", "_\u200b")
                    for x in (model.encoder_path, model.decoder_path))
        self.model_label.setText(f"<b>{enc}</b> + {dec}: "
                                 f"{model.variant}; runs on {dev}")
        key = f"{model.encoder_path}\n{model.decoder_path}"
        if all(self.model_box.itemData(i) != key for i in range(self.model_box.count())):
            self.model_box.insertItem(0, f"SAM: {Path(model.encoder_path).name}", key)
        self._select_combo(key)
        self.pipeline.set_state("", encoder="", embedding="", decoder="")
        if self.rgb is not None:
            self._encode()

    def _select_combo(self, data) -> None:
        for i in range(self.model_box.count()):
            if self.model_box.itemData(i) == data:
                self.model_box.blockSignals(True)
                self.model_box.setCurrentIndex(i)
                self.model_box.blockSignals(False)
                return

    def on_device_changed(self, device: str) -> None:
        if self.model is not None:
            self.ctx.status(f"Rebuilding SAM sessions for {device} …")
            self.ctx.workers.submit("sam-model", self.model.reload, device, on_done=self._model_ready,
                                    on_error=self._model_failed)
