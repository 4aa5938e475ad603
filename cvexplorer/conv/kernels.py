"""The kernel gallery: the classic 3×3 filters image mode offers, and how to size one."""

from __future__ import annotations

import numpy as np

__all__ = ["KERNELS", "kernel_by_name", "sized_kernel", "fit_kernel"]


_G = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16.0
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "box blur": np.full((3, 3), 1.0 / 9.0),
    "gaussian": _G,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
    "diagonal edge": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], dtype=float),
}


def kernel_by_name(name: str) -> np.ndarray:
    """A copy of a gallery kernel ("sobel x", "gaussian", ...).

    >>> kernel_by_name("sobel x")[1]
    array([-2.,  0.,  2.])
    """
    try:
        return KERNELS[name.lower()].copy()
    except KeyError:
        raise ValueError(f"There is no kernel {name!r}; choose one of {', '.join(KERNELS)}.") from None


def sized_kernel(name: str, shape, *, previous=None) -> np.ndarray:
    """A ``(kh, kw)`` kernel for the gallery entry ``name``: box blur and gaussian are rebuilt at that size
    (a separable Gaussian, OpenCV's ``getGaussianKernel(K, -1)``: sigma ``0.3·((K−1)/2 − 1) + 0.8``); any other kernel
    (or ``previous``, a custom one) is cropped or zero-extended at the bottom/right.

    >>> sized_kernel("box blur", (1, 4)).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    >>> sized_kernel("sobel x", (2, 3)).tolist()
    [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]]
    """
    kh, kw = (int(v) for v in shape)
    if kh < 1 or kw < 1:
        raise ValueError(f"A kernel needs at least one row and one column, not {kh}×{kw}.")
    if name == "box blur":
        return np.full((kh, kw), 1.0 / (kh * kw))
    if name == "gaussian":
        import cv2  # lazy: `import cvexplorer` stays cheap

        return cv2.getGaussianKernel(kh, -1) @ cv2.getGaussianKernel(kw, -1).T
    base = np.asarray(previous if previous is not None else kernel_by_name(name), dtype=float)
    return fit_kernel(base, (kh, kw))


def fit_kernel(k, shape, fill: float = 0.0) -> np.ndarray:
    """``k`` cropped or extended with ``fill`` to ``shape`` (rows, cols), keeping its top-left corner.

    >>> fit_kernel(np.ones((2, 2)), (1, 3), fill=5).tolist()
    [[1.0, 1.0, 5.0]]
    """
    k = np.asarray(k, dtype=float)
    kh, kw = (int(v) for v in shape)
    out = np.full((kh, kw) + k.shape[2:], float(fill))
    h, w = min(kh, k.shape[0]), min(kw, k.shape[1])
    out[:h, :w] = k[:h, :w]
    return out
