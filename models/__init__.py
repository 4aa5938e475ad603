"""Small ONNX models the project trains itself (installed as cvexplorer.models)."""
