"""The current configuration as code to copy: NumPy (plain, or cvexplorer) and PyTorch.

Text only: the snippets compute nothing here; a test runs the NumPy one and compares its numbers.
:func:`make_code_dialog` shows them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_code_dialog", "code_snippets", "image_snippet"]


def make_code_dialog(parent, snippets: dict[str, str]):
    """A non-modal dialog with one read-only monospace box per snippet (the panel's "Show code")."""
    from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QVBoxLayout

    dlg = QDialog(parent)
    dlg.setWindowTitle("Code for the current configuration")
    lay = QVBoxLayout(dlg)
    for name, text in snippets.items():
        lay.addWidget(QLabel(name))
        ed = QPlainTextEdit(text)
        ed.setObjectName("Mono")
        ed.setReadOnly(True)
        lay.addWidget(ed)
    dlg.resize(900, 700)
    dlg.setModal(False)
    return dlg


def code_snippets(mode: str, x: np.ndarray, k: np.ndarray, stride, padding, dilation, bias: float = 0.0,
                  pool_mode: str = "max") -> dict[str, str]:
    """The current configuration as NumPy (cvexplorer / plain) and PyTorch code to copy."""
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    xs = np.array2string(np.asarray(x), separator=", ", threshold=10 ** 6)
    ks = np.array2string(np.asarray(k), separator=", ", threshold=10 ** 6)
    if mode == "pooling":
        kh, kw = k.shape[:2]
        npy = (f"import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n\nx = np.array({xs})\n"
               f"xp = np.pad(x, (({ph}, {ph}), ({pw}, {pw})), constant_values={'-np.inf' if pool_mode == 'max' else 0})\n"
               f"win = sliding_window_view(xp, ({kh}, {kw}))[::{sh}, ::{sw}]\n"
               f"y = win.{'max' if pool_mode == 'max' else 'mean'}(axis=(-2, -1))\nprint(y)\n")
        fn = "max_pool2d" if pool_mode == "max" else "avg_pool2d"
        torch = (f"import torch\nimport torch.nn.functional as F\n\nx = torch.tensor({xs}, dtype=torch.float64)[None, None]\n"
                 f"y = F.{fn}(x, kernel_size=({kh}, {kw}), stride=({sh}, {sw}), padding=({ph}, {pw}))\nprint(y[0, 0])\n")
        return {"NumPy": npy, "PyTorch": torch}
    if mode == "transposed":
        kh, kw = k.shape[:2]
        npy = (f"import numpy as np\n\nx = np.array({xs}, dtype=float)\nk = np.array({ks}, dtype=float)\n"
               f"S, P = {sh}, {ph}\nH, W = x.shape\nfull = np.zeros(((H - 1) * S + {kh}, (W - 1) * S + {kw}))\n"
               f"for i in range(H):\n    for j in range(W):\n        full[i*S:i*S+{kh}, j*S:j*S+{kw}] += x[i, j] * k\n"
               f"y = full[P:full.shape[0]-P, P:full.shape[1]-P]\nprint(y)\n")
        torch = (f"import torch\nimport torch.nn.functional as F\n\nx = torch.tensor({xs}, dtype=torch.float64)[None, None]\n"
                 f"k = torch.tensor({ks}, dtype=torch.float64)[None, None]\n"
                 f"y = F.conv_transpose2d(x, k, stride={sh}, padding={ph})\nprint(y[0, 0])\n")
        return {"NumPy": npy, "PyTorch": torch}
    multi = np.asarray(x).ndim == 3
    npy = (f"import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n\n"
           f"x = np.array({xs}, dtype=float)   # (H, W{', C' if multi else ''})\n"
           f"k = np.array({ks}, dtype=float)   # (kh, kw{', C' if multi else ''})\n"
           f"S, P, D, bias = ({sh}, {sw}), ({ph}, {pw}), ({dh}, {dw}), {bias!r}\n"
           f"xp = np.pad(x, ((P[0], P[0]), (P[1], P[1]){', (0, 0)' if multi else ''}))\n"
           f"span = (D[0] * (k.shape[0] - 1) + 1, D[1] * (k.shape[1] - 1) + 1)\n"
           f"win = sliding_window_view(xp, span, axis=(0, 1))[::S[0], ::S[1], ..., ::D[0], ::D[1]]\n"
           f"y = np.einsum('{'ijcab,abc' if multi else 'ijab,ab'}->ij', win, k) + bias\nprint(y)\n"
           f"# or: from cvexplorer.conv import conv2d; conv2d(x, k, stride=S, padding=P, dilation=D, bias=bias)\n")
    if multi:
        tx = f"torch.tensor({xs}, dtype=torch.float64).permute(2, 0, 1)[None]   # (1, C, H, W)"
        tk = f"torch.tensor({ks}, dtype=torch.float64).permute(2, 0, 1)[None]   # (1, C, kh, kw)"
    else:
        tx = f"torch.tensor({xs}, dtype=torch.float64)[None, None]"
        tk = f"torch.tensor({ks}, dtype=torch.float64)[None, None]"
    torch = (f"import torch\nimport torch.nn.functional as F\n\nx = {tx}\nk = {tk}\n"
             f"y = F.conv2d(x, k, bias=torch.tensor([{float(bias)!r}], dtype=torch.float64),\n"
             f"             stride=({sh}, {sw}), padding=({ph}, {pw}), dilation=({dh}, {dw}))\nprint(y[0, 0])\n")
    return {"NumPy": npy, "PyTorch": torch}


def image_snippet(k: np.ndarray, stride, padding, dilation, relu: bool) -> str:
    """Image mode's fast path on a photo, as a script."""
    return ("# image mode: the fast path on a photo\nimport cv2, numpy as np\n"
            "from cvexplorer.conv import conv2d\n"
            "grey = cv2.cvtColor(cv2.imread('photo.jpg'), cv2.COLOR_BGR2GRAY)\n"
            f"k = np.array({np.array2string(np.asarray(k), separator=', ')})\n"
            f"y = conv2d(grey, k, stride={stride}, padding={padding}, dilation={dilation}, "
            "method='opencv', dtype=np.float32)\n"
            + ("y = np.maximum(y, 0)  # ReLU\n" if relu else ""))
