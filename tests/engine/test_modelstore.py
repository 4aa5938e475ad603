"""Model downloads and installs, against a local HTTP server started in the test (never the internet).

The served zip holds a tiny encoder/decoder pair with SAM's real I/O contract (built with
onnx.helper), the encoder with AnyLabeling's fixed [684, 1024, 3] rank-3 input. The catalogue entry
is pointed at the server. Every failure must leave nothing where discovery looks.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from cvexplorer import modelstore as M

from .sam_models import decoder_model, encoder_model

ENC, DEC = "mobile_sam.encoder.onnx", "sam_vit_h_4b8939.decoder.onnx"


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(scope="module")
def payload():
    enc = encoder_model("fixed").SerializeToString()  # AnyLabeling: a fixed [684, 1024, 3] input
    dec = decoder_model(4).SerializeToString()
    return {ENC: enc, DEC: dec}


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


class _Server:
    """A threaded HTTP server on 127.0.0.1 serving one body, with optional misbehaviour and Range support."""

    def __init__(self, body: bytes, *, truncate_at: int | None = None, stall_s: float = 0.0) -> None:
        self.body, self.truncate_at, self.stall_s = body, truncate_at, stall_s
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                outer.requests.append(self.headers.get("Range", ""))
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    self.send_response(206)
                else:
                    self.send_response(200)
                data = outer.body[start:]
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if outer.stall_s:
                    self.wfile.write(data[:1000])
                    self.wfile.flush()
                    time.sleep(outer.stall_s)
                    return
                if outer.truncate_at is not None:
                    data = data[: max(0, outer.truncate_at - start)]
                    outer.truncate_at = None  # the next try completes (resume)
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mobile_sam.zip"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve(monkeypatch, tmp_path):
    servers = []
    monkeypatch.setitem(M.TIMEOUTS, "connect", 2.0)
    monkeypatch.setitem(M.TIMEOUTS, "read", 0.5)

    def make(files: dict[str, bytes], *, archive_hash: str | None = None, member_hashes: dict | None = None,
             **server_kw):
        body = _zip(files)
        srv = _Server(body, **server_kw)
        servers.append(srv)
        members = tuple(M.Member(name, (member_hashes or {}).get(name, _sha(data)), len(data))
                        for name, data in files.items() if name in (ENC, DEC))
        entry = replace(M.CATALOGUE["mobile-sam"], urls=(srv.url,), size=len(body),
                        sha256=archive_hash or _sha(body), members=members or M.CATALOGUE["mobile-sam"].members)
        monkeypatch.setitem(M.CATALOGUE, "mobile-sam", entry)
        return srv, body

    yield make
    for s in servers:
        s.close()


def _nothing_installed(dest: Path) -> bool:
    onnx = [p for p in dest.rglob("*") if p.is_file()]
    return onnx == []


def test_the_real_entry_is_pinned_to_the_published_figures():
    e = M.CATALOGUE["mobile-sam"]
    assert e.urls[0].startswith("https://huggingface.co/vietanhdev/segment-anything-onnx-models/")
    assert e.size == 36_655_105 and e.sha256.startswith("41aff266")
    assert [(m.name, m.size, m.sha256[:8]) for m in e.members] == [
        ("mobile_sam.encoder.onnx", 28_157_093, "20deef40"), ("sam_vit_h_4b8939.decoder.onnx", 16_500_272, "22cf85e3")]


def test_a_good_download_installs_verified_files_where_discovery_looks(serve, payload, tmp_path):
    serve(payload)
    seen = []
    got = M.download("mobile-sam", dest=tmp_path, progress=lambda d, t, bps: seen.append((d, t)))
    assert got.verified and got.folder == tmp_path / "mobile-sam"
    assert sorted(p.name for p in got.files) == sorted([ENC, DEC])
    assert (got.folder / ENC).read_bytes() == payload[ENC]
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached the total
    assert [m.entry.id for m in M.installed([tmp_path])] == ["mobile-sam"]
    assert not list((tmp_path / ".staging").glob("*"))  # nothing left in staging
    from cvexplorer.sam import find_models

    pairs = find_models([tmp_path])
    assert len(pairs) == 1 and pairs[0].encoder.name == ENC


@pytest.mark.parametrize("case, words", [
    ("archive-hash", "does not match its pinned SHA-256"),
    ("member-hash", "does not match its pinned SHA-256"),
    ("traversal", "unsafe path"),
    ("stall", "stopped sending"),
])
def test_a_bad_transfer_leaves_nothing_installed(serve, payload, tmp_path, case, words):
    if case == "archive-hash":
        serve(payload, archive_hash="0" * 64)
    elif case == "member-hash":
        serve(payload, member_hashes={DEC: "f" * 64})
    elif case == "traversal":
        serve({**payload, "../x.onnx": b"evil"})
    else:
        serve(payload, stall_s=3.0)
    with pytest.raises(M.ModelStoreError) as info:
        M.download("mobile-sam", dest=tmp_path)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "mobile-sam").exists() and not list(tmp_path.rglob("*.onnx"))
    assert not (tmp_path.parent / "x.onnx").exists()


def test_a_truncated_transfer_is_refused_then_resumed_with_a_range_request(serve, payload, tmp_path):
    srv, body = serve(payload, truncate_at=len(_zip(payload)) // 2)
    with pytest.raises(M.ModelStoreError, match="ended early"):
        M.download("mobile-sam", dest=tmp_path)
    assert not list(tmp_path.rglob("*.onnx"))
    got = M.download("mobile-sam", dest=tmp_path)  # resumes from the kept part
    assert got.verified and srv.requests[-1] == f"bytes={len(body) // 2}-"


def test_a_refused_connection_says_so(monkeypatch, tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setitem(M.CATALOGUE, "mobile-sam",
                        replace(M.CATALOGUE["mobile-sam"], urls=(f"http://127.0.0.1:{port}/x.zip",)))
    with pytest.raises(M.ModelStoreError, match="Could not reach the server"):
        M.download("mobile-sam", dest=tmp_path)
    assert not list(tmp_path.rglob("*.onnx"))


def test_cancel_stops_the_download_and_keeps_nothing(serve, payload, tmp_path):
    serve(payload)
    with pytest.raises(M.DownloadCancelled):
        M.download("mobile-sam", dest=tmp_path, cancel=lambda: True)
    assert _nothing_installed(tmp_path / "mobile-sam") and not list(tmp_path.rglob("*.part"))


def test_only_https_or_this_machine(monkeypatch, tmp_path):
    monkeypatch.setitem(M.CATALOGUE, "mobile-sam",
                        replace(M.CATALOGUE["mobile-sam"], urls=("http://example.com/x.zip",)))
    with pytest.raises(M.ModelStoreError, match="only fetched over HTTPS"):
        M.download("mobile-sam", dest=tmp_path)


def test_install_from_file_takes_the_same_checks(serve, payload, tmp_path):
    serve(payload)
    good = tmp_path / "mobile_sam.zip"
    good.write_bytes(_zip(payload))
    dest = tmp_path / "models"
    assert M.install_from_file(good, dest=dest).verified
    M.remove("mobile-sam", dest=dest)
    assert not (dest / "mobile-sam").exists()
    # the two ONNX files on their own
    for name, data in payload.items():
        (tmp_path / name).write_bytes(data)
    assert M.install_from_file([tmp_path / ENC, tmp_path / DEC], dest=dest).verified
    # files that only borrow the catalogue's names
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / ENC).write_bytes(b"not the model")
    (fake / DEC).write_bytes(b"nor this")
    with pytest.raises(M.ModelStoreError, match="file names but not its pinned SHA-256"):
        M.install_from_file([fake / ENC, fake / DEC], dest=tmp_path / "other")
    evil = tmp_path / "evil.zip"
    evil.write_bytes(_zip({**payload, "../x.onnx": b"evil"}))
    with pytest.raises(M.ModelStoreError, match="unsafe path"):
        M.install_from_file(evil, dest=tmp_path / "other")
    assert not list((tmp_path / "other").rglob("*.onnx"))


def test_where_models_live(monkeypatch, tmp_path):
    monkeypatch.setenv("CVEXPLORER_MODELS", str(tmp_path / "a"))
    monkeypatch.setenv("CVEXPLORER_DATA", str(tmp_path / "data"))
    assert M.install_dir() == tmp_path / "a"
    dirs = M.search_dirs()
    assert dirs[0] == tmp_path / "a" and dirs[1] == tmp_path / "data" / "models"
    monkeypatch.delenv("CVEXPLORER_MODELS")
    monkeypatch.delenv("CVEXPLORER_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if not M.sys.platform.startswith(("win", "darwin")):
        assert M.install_dir() == tmp_path / "xdg" / "cvexplorer" / "models"


def test_cli_get_install_list_and_remove(serve, payload, tmp_path, monkeypatch, capsys):
    from cvexplorer.cli import main

    monkeypatch.setenv("CVEXPLORER_MODELS", str(tmp_path / "models"))
    serve(payload)
    assert main(["models", "get", "mobile-sam"]) == 0
    out = capsys.readouterr()
    assert "Installed and verified" in out.out and "MB/s" in out.err
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "mobile-sam: MobileSAM" in listing and "(verified)" in listing
    assert main(["models", "remove", "mobile-sam"]) == 0
    capsys.readouterr()
    assert main(["models", "install", str(tmp_path / "nope.zip")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cvexplorer: nope.zip is not a file.") and len(err.strip().splitlines()) == 1
    get = tmp_path / "get"  # a folder literally named get is listed when given as ./get
    get.mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["models", "./get"]) == 0
    assert "Searched:" in capsys.readouterr().out
