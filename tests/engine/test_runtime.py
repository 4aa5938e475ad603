"""onnxruntime sessions report what really runs them, and explain a GPU fallback."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from cvexplorer import runtime
from cvexplorer.runtime import ModelLoadError, create_session


def tiny_model_bytes() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    g = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "g", [x], [y], [two])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m.SerializeToString()


def test_cpu_session_runs_and_says_cpu():
    info = create_session(tiny_model_bytes(), device="cpu")
    out = info.session.run(None, {"x": np.array([[1, 2, 3]], np.float32)})[0]
    assert out.tolist() == [[2, 4, 6]]
    assert info.providers == ("CPUExecutionProvider",) and info.device == "CPU"
    assert info.fallback == "" and not info.on_gpu


def test_gpu_requested_without_a_gpu_reports_the_fallback(monkeypatch):
    # This machine has no NVIDIA GPU. If the installed build has a CUDA provider, it cannot start;
    # if it has none, the request itself cannot be met. Either way the CPU runs it and we say why.
    info = create_session(tiny_model_bytes(), device="gpu")
    if info.on_gpu:  # pragma: no cover - only on a machine with a working GPU
        pytest.skip("a GPU provider really runs here")
    assert info.device == "CPU" and "CPU" in info.fallback
    assert "CUDAExecutionProvider" in info.requested


def test_build_without_gpu_provider_is_explained(monkeypatch):
    monkeypatch.setattr(runtime, "available_providers", lambda: ["CPUExecutionProvider"])
    info = create_session(tiny_model_bytes(), device="gpu")
    assert "no GPU provider" in info.fallback and "onnxruntime-gpu" in info.fallback


def test_auto_asks_for_gpu_only_when_built_in(monkeypatch):
    monkeypatch.setattr(runtime, "available_providers", lambda: ["CPUExecutionProvider"])
    info = create_session(tiny_model_bytes(), device="auto")
    assert info.requested == ("CPUExecutionProvider",) and info.fallback == ""
    assert runtime._requested_providers("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_preferred_device_is_validated():
    with pytest.raises(ValueError, match="auto, gpu, cpu"):
        runtime.set_preferred_device("tpu")
    runtime.set_preferred_device("cpu")
    try:
        assert create_session(tiny_model_bytes()).requested == ("CPUExecutionProvider",)
    finally:
        runtime.set_preferred_device("auto")


@pytest.mark.parametrize("content, words", [(b"", "empty"), (b"\x08\x07garbage" * 10, "not a usable ONNX model")])
def test_bad_files_are_clear(tmp_path, content, words):
    p = tmp_path / "m.onnx"
    p.write_bytes(content)
    with pytest.raises(ModelLoadError, match=words):
        create_session(p, device="cpu")


def test_truncated_and_missing(tmp_path):
    p = tmp_path / "cut.onnx"
    p.write_bytes(tiny_model_bytes()[:40])
    with pytest.raises(ModelLoadError):
        create_session(p, device="cpu")
    with pytest.raises(ModelLoadError, match="does not exist"):
        create_session(tmp_path / "none.onnx")


def test_auto_stops_retrying_a_gpu_provider_that_failed_to_start(monkeypatch):
    # Fake a CUDA provider that is built in but cannot start: the session runs on the CPU.
    monkeypatch.setattr(runtime, "_failed_to_start", {})
    monkeypatch.setattr(runtime, "available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    first = create_session(tiny_model_bytes(), device="auto")
    if first.on_gpu:  # pragma: no cover - only on a machine with a working GPU
        pytest.skip("a GPU provider really runs here")
    assert "could not start" in first.fallback and "CUDAExecutionProvider" in first.requested
    second = create_session(tiny_model_bytes(), device="auto")
    assert second.requested == ("CPUExecutionProvider",) and second.fallback == first.fallback
    # An explicit GPU request still tries again (the user asked for it).
    assert "CUDAExecutionProvider" in create_session(tiny_model_bytes(), device="gpu").requested
