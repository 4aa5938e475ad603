"""onnxruntime sessions that say what really ran them.

onnxruntime-gpu quietly falls back to the CPU when the CUDA libraries are missing: it logs to
stderr and raises nothing. ``get_available_providers()`` only lists what was *built in*; the truth
is ``session.get_providers()``. Every session the explorer makes goes through
:func:`create_session`, which records both and explains a fallback.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import struct
import sys
import threading
import warnings
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEVICES", "SessionInfo", "create_session", "provider_label", "set_preferred_device",
    "preferred_device", "available_providers", "gpu_info", "ModelLoadError", "cuda_problem", "CAPPED_ARENA_BYTES",
    "refused_allocation",
]

#: Sessions made with ``capped_memory=True`` (SAM decoders) allocate from one CPU arena shared by the
#: process that never grows past this, so a model that computes a giant tensor inside ``run`` gets an
#: error instead of the machine's memory. A 64 MP photo's four float32 masks are 1 GiB; the cap leaves
#: room for the result on screen (its arrays stay in the arena), the next click and a stale one still
#: running. Fixed when the first such session is made; a test child lowers it before that.
CAPPED_ARENA_BYTES = 4 * 2**30
_capped_arena = False

#: Device choices offered in the UI's device menu.
DEVICES = ("auto", "gpu", "cpu")
_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "ROCMExecutionProvider",
                  "CoreMLExecutionProvider", "DmlExecutionProvider")
_preferred = "auto"
_lock = threading.Lock()
# GPU providers that are built in but failed to start in this process, with the sentence why.
# 'auto' stops asking for them: each failed try costs a second and prints the same
# library-not-found errors to stderr again. 'gpu' always asks.
_failed_to_start: dict[str, str] = {}


class ModelLoadError(ValueError):
    """An ONNX file could not be turned into a session (missing, corrupt, truncated...)."""


def set_preferred_device(device: str) -> None:
    """Choose 'auto', 'gpu' or 'cpu' for sessions created from now on."""
    global _preferred
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {device!r}.")
    with _lock:
        _preferred = device


def preferred_device() -> str:
    return _preferred


def available_providers() -> list[str]:
    """Providers compiled into the installed onnxruntime (not proof that they work)."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def provider_label(provider: str) -> str:
    """Short human name of an execution provider.

    >>> provider_label("CUDAExecutionProvider"), provider_label("CPUExecutionProvider")
    ('CUDA', 'CPU')
    """
    return provider.replace("ExecutionProvider", "") or provider


@dataclass(frozen=True)
class SessionInfo:
    """A session plus what was asked for and what actually runs it."""

    session: Any
    requested: tuple[str, ...]
    providers: tuple[str, ...]
    device: str  # what ran: "CUDA", "TensorRT", "CPU", ...
    fallback: str = ""  # non-empty when a GPU was asked for but the CPU runs it: why

    @property
    def on_gpu(self) -> bool:
        return self.providers[0] in _GPU_PROVIDERS if self.providers else False


def _requested_providers(device: str, available: list[str]) -> list[str]:
    if device == "cpu":
        return ["CPUExecutionProvider"]
    gpu = [p for p in ("CUDAExecutionProvider", "CoreMLExecutionProvider", "DmlExecutionProvider",
                       "ROCMExecutionProvider") if p in available]
    if device == "gpu" and not gpu:
        # Ask anyway, so the session reports the fallback instead of hiding it.
        gpu = ["CUDAExecutionProvider"]
    return gpu + ["CPUExecutionProvider"]


def elf_needed(path: str | os.PathLike) -> list[str] | None:
    """The ``DT_NEEDED`` names of a 64-bit little-endian ELF shared library, or None if unreadable.

    Read from the file (no ``ldd``, nothing executed or loaded), and only the parts that hold them:
    the header, the section table, the dynamic section and its strings. (The CUDA provider library
    is hundreds of megabytes; reading it whole cost a panel's first model 0.2 s.)
    """
    try:
        with open(path, "rb") as f:
            def read(offset: int, size: int) -> bytes:
                f.seek(offset)
                data = f.read(size)
                if len(data) != size:
                    raise ValueError("truncated")
                return data

            head = read(0, 64)
            if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                return None
            shoff, = struct.unpack_from("<Q", head, 0x28)
            shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
            if shentsize < 64 or shnum > 65535:
                return None
            table = read(shoff, shentsize * shnum)
            sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * shentsize) for i in range(shnum)]
            names: list[str] = []
            for _name, sh_type, _flags, _addr, off, size, link, _info, _align, entsize in sections:
                if sh_type != 6 or size > 1 << 20:  # SHT_DYNAMIC (a few kB in any real library)
                    continue
                dynamic = read(off, size)
                strings = read(sections[link][4], min(sections[link][5], 1 << 24))
                for i in range(0, size - 15, entsize or 16):
                    tag, val = struct.unpack_from("<qQ", dynamic, i)
                    if tag == 0:  # DT_NULL
                        break
                    if tag == 1:  # DT_NEEDED
                        end = strings.index(b"\0", val)
                        names.append(strings[val:end].decode())
            return names
    except (OSError, ValueError, IndexError, struct.error, UnicodeDecodeError):
        return None


def _can_load(name: str) -> str:
    """'' if the shared library loads (by name, through the normal search path), else the loader's reason."""
    import ctypes

    try:
        ctypes.CDLL(name)
        return ""
    except OSError as exc:
        return str(exc).split(": ")[-1] or "cannot be loaded"


# What each library is, for the sentence a user reads.
_CUDA_LIB_ROLE = {"libcuda.so": "the NVIDIA driver", "libcudnn.so": "cuDNN", "libcudart.so": "the CUDA runtime",
                  "libcublas": "cuBLAS", "libcurand": "cuRAND", "libcufft": "cuFFT"}


@functools.lru_cache(maxsize=None)
def cuda_problem() -> str:
    """'' when onnxruntime's CUDA provider can load here; otherwise the sentence why it cannot.

    Calls ``onnxruntime.preload_dlls()`` first (quietly), so CUDA/cuDNN installed from pip
    (``nvidia-*`` wheels) count, then tries to load each library that
    ``libonnxruntime_providers_cuda.so`` needs, plus cuDNN. Only on Linux; elsewhere (and when the
    provider library cannot be read) it returns '' and onnxruntime decides. Asking onnxruntime for
    CUDA when a library is missing prints red errors on stderr, which this avoids.
    """
    if not sys.platform.startswith("linux"):
        return ""
    import onnxruntime as ort

    capi = os.path.join(os.path.dirname(ort.__file__), "capi")
    provider = os.path.join(capi, "libonnxruntime_providers_cuda.so")
    if not os.path.isfile(provider):
        return ""
    if hasattr(ort, "preload_dlls"):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ort.preload_dlls()
            except Exception:  # noqa: BLE001 - a probe never fails the caller
                pass
    needed = elf_needed(provider)
    if needed is None:
        return ""
    cuda_major = next((n.rsplit(".", 1)[-1] for n in needed if n.startswith("libcudart.so.")), "")
    missing = [n for n in [*needed, "libcudnn.so.9"] if _can_load(n)]
    if not missing:
        return ""
    missing.sort(key=lambda n: not n.startswith("libcuda.so"))  # the driver first: without it nothing else matters
    return _cuda_sentence(missing, cuda_major)


def _cuda_sentence(missing: list[str], cuda_major: str = "") -> str:
    """The fallback sentence for missing CUDA libraries.

    >>> _cuda_sentence(["libcuda.so.1", "libcublasLt.so.13"], "13")  # doctest: +NORMALIZE_WHITESPACE
    'CUDA is built in but could not start: libcuda.so.1 (the NVIDIA driver) and libcublasLt.so.13 (cuBLAS) are
    not found (the GPU path needs an NVIDIA driver, CUDA 13 and cuDNN 9), so the CPU runs this model.'
    """
    def named(lib: str) -> str:
        role = next((r for k, r in _CUDA_LIB_ROLE.items() if lib.startswith(k)), "")
        return f"{lib} ({role})" if role else lib

    names = [named(m) for m in missing]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "is" if len(names) == 1 else "are"
    needs = f"an NVIDIA driver, CUDA {cuda_major} and cuDNN 9" if cuda_major else "an NVIDIA driver, CUDA and cuDNN 9"
    return (f"CUDA is built in but could not start: {listed} {verb} not found (the GPU path needs {needs}), "
            "so the CPU runs this model.")


def _use_capped_arena(opts) -> None:
    """Make the session allocate on the CPU from the shared arena capped at :data:`CAPPED_ARENA_BYTES`."""
    import onnxruntime as ort

    global _capped_arena
    with _lock:
        if _capped_arena is False:  # registering a second allocator for the same device is an error
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            # kSameAsRequested (1): grow by what is asked, so the cap is not reached early by rounding up
            cfg = ort.OrtArenaCfg({"max_mem": int(CAPPED_ARENA_BYTES), "arena_extend_strategy": 1})
            try:
                ort.create_and_register_allocator(info, cfg)
                _capped_arena = True
            except Exception:  # an onnxruntime build without shared allocators: sessions run uncapped
                _capped_arena = None
    if _capped_arena:
        opts.add_session_config_entry("session.use_env_allocators", "1")


def refused_allocation(exc: BaseException) -> int | None:
    """The bytes an onnxruntime ``run`` failed to allocate (over a capped arena, or refused by the
    system), read from its error; None for any other error.

    >>> refused_allocation(RuntimeError("Available memory of 4096 is smaller than requested bytes of 6400000000"))
    6400000000
    >>> refused_allocation(RuntimeError("Invalid input name: x")) is None
    True
    """
    import re

    m = re.search(r"(?:requested bytes of|requested buffer of size) (\d+)", str(exc))
    return int(m.group(1)) if m else None


def create_session(model: str | os.PathLike | bytes, *, device: str | None = None,
                   providers: list[str] | None = None, threads: int | None = None,
                   capped_memory: bool = False) -> SessionInfo:
    """Build an ``onnxruntime.InferenceSession`` and report the providers it really uses.

    Parameters
    ----------
    model : path or bytes
        The ONNX file, or its serialised bytes.
    device : {'auto', 'gpu', 'cpu'}, optional
        Defaults to the process-wide preference (:func:`set_preferred_device`).
    providers : list of str, optional
        Explicit provider list; overrides ``device``.
    threads : int, optional
        intra-op threads for the CPU provider.
    capped_memory : bool
        Allocate from the process's shared arena capped at :data:`CAPPED_ARENA_BYTES` (on CUDA, the
        same limit on the GPU arena): a run that needs more fails with an error that
        :func:`refused_allocation` reads, instead of taking the machine's memory.

    Raises
    ------
    ModelLoadError
        The file is missing, empty, truncated or not a valid ONNX model.
    """
    import onnxruntime as ort

    if not isinstance(model, (bytes, bytearray)):
        p = os.fspath(model)
        name = os.path.basename(p)
        if not os.path.exists(p):
            raise ModelLoadError(f"{name} does not exist.")
        if os.path.isdir(p):
            raise ModelLoadError(f"{name} is a folder, not an ONNX file.")
        if os.path.getsize(p) == 0:
            raise ModelLoadError(f"{name} is empty (0 bytes).")
    else:
        name = "the model"
    available = available_providers()
    choice = device or _preferred
    requested = providers or _requested_providers(choice, available)
    known_failure = ""
    if not providers and choice == "auto":
        dropped = [r for r in requested if r in _failed_to_start]
        if dropped:
            known_failure = _failed_to_start[dropped[0]]
            requested = [r for r in requested if r not in _failed_to_start]
    # Ask onnxruntime for CUDA only when its libraries load: a doomed try prints red errors on stderr.
    cuda_blocked = cuda_problem() if "CUDAExecutionProvider" in requested else ""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only: a fallback is reported by us, in words
    if threads:
        opts.intra_op_num_threads = int(threads)
    if capped_memory:
        _use_capped_arena(opts)
    prov_args: list[Any] = []
    for prov in requested:
        if (prov == "CUDAExecutionProvider" and cuda_blocked) or (prov != "CPUExecutionProvider"
                                                                   and prov not in available):
            continue  # not built in, or cannot load: the fallback below says so, onnxruntime stays quiet
        if prov == "CUDAExecutionProvider":
            # The arena otherwise grows and never shrinks (SAM_ONNX.md pitfalls).
            cuda = {"arena_extend_strategy": "kSameAsRequested"}
            if capped_memory:
                cuda["gpu_mem_limit"] = str(int(CAPPED_ARENA_BYTES))
            prov_args.append((prov, cuda))
        else:
            prov_args.append(prov)
    try:
        sess = ort.InferenceSession(model if isinstance(model, (bytes, bytearray)) else p,
                                    sess_options=opts, providers=prov_args)
    except Exception as exc:  # onnxruntime raises its own exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{name} is not a usable ONNX model ({first[:200]}).") from None
    actual = tuple(sess.get_providers())
    device_name = provider_label(actual[0]) if actual else "CPU"
    fallback = ""
    wanted_gpu = [r for r in requested if r in _GPU_PROVIDERS]
    if wanted_gpu and not any(a in _GPU_PROVIDERS for a in actual):
        if wanted_gpu[0] not in available:
            fallback = (f"{provider_label(wanted_gpu[0])} was requested, but this onnxruntime build "
                        "has no GPU provider (install onnxruntime-gpu, and not onnxruntime beside it).")
        elif wanted_gpu[0] == "CUDAExecutionProvider" and cuda_blocked:
            fallback = cuda_blocked
            with _lock:
                _failed_to_start[wanted_gpu[0]] = fallback
        else:
            fallback = (f"{provider_label(wanted_gpu[0])} is built in but could not start (no NVIDIA GPU, "
                        "or the CUDA/cuDNN libraries are missing), so the CPU runs this model.")
            with _lock:
                _failed_to_start[wanted_gpu[0]] = fallback
    elif known_failure and not any(a in _GPU_PROVIDERS for a in actual):
        fallback = known_failure
    return SessionInfo(sess, tuple(requested), actual, device_name, fallback)


def gpu_info() -> dict[str, Any] | None:
    """Name and memory of the first NVIDIA GPU through NVML (``pip install nvidia-ml-py``), else None."""
    try:
        import pynvml  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(h)
        mem = pynvml.nvmlDeviceGetMemoryInfo(h)
        return {"name": name.decode() if isinstance(name, bytes) else str(name),
                "memory_used_mb": mem.used / 2**20, "memory_total_mb": mem.total / 2**20}
    except Exception:
        return None


def opencv_info() -> dict[str, Any]:
    """OpenCV's version, thread count and OpenCL state (the latency dock shows them).

    >>> sorted(opencv_info())
    ['has_opencl', 'threads', 'use_opencl', 'version']
    """
    import cv2  # lazy: the dock reads this once, after the window is up

    return {"version": cv2.__version__, "threads": cv2.getNumThreads(), "has_opencl": bool(cv2.ocl.haveOpenCL()),
            "use_opencl": bool(cv2.ocl.haveOpenCL() and cv2.ocl.useOpenCL())}


def set_opencl(on: bool) -> bool:
    """Let OpenCV use (or stop using) its OpenCL path; returns whether it is now in use."""
    import cv2

    cv2.ocl.setUseOpenCL(bool(on))
    return bool(cv2.ocl.useOpenCL())
