"""Models the app can fetch or install: a pinned catalogue, verified downloads, installs from a file.

Nothing here touches the network unless :func:`download` is called (the user asked for it). Every
byte is checked against the catalogue's SHA-256 before it is used:

1. the archive is streamed into a hidden staging folder beside the models (``.staging``, files named
   ``*.part``, so discovery never sees them), hashed while it streams, size-checked against free disk
   space first, resumed with an HTTP Range request when a partial file is already there;
2. only the members the catalogue lists are extracted, one by one (a member whose path is absolute or
   contains ``..`` makes the whole archive refused), each hashed;
3. the verified files are renamed into ``<models folder>/<entry id>/`` with a ``manifest.json``.

A failure (wrong hash, truncated transfer, stalled or refusing server, Cancel) leaves nothing where
discovery looks and raises :class:`ModelStoreError` with one sentence.

Where models live, first match wins: ``$CVEXPLORER_MODELS`` (``os.pathsep``-separated), the user's
data folder (``$XDG_DATA_HOME/cvexplorer/models`` on Linux, ``~/Library/Application Support`` on macOS,
``%APPDATA%`` on Windows; ``$CVEXPLORER_DATA`` overrides), then the package's own ``models/``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .locations import shipped_model_dirs

__all__ = ["CatalogueEntry", "Member", "InstalledModel", "ModelStoreError", "DownloadCancelled", "CATALOGUE",
           "user_data_dir", "install_dir", "search_dirs", "download", "install_from_file", "installed", "remove",
           "TIMEOUTS"]

#: (connect, read) timeouts in seconds for downloads; tests set them short.
TIMEOUTS = {"connect": 15.0, "read": 30.0}
_CHUNK = 1 << 16
_STAGING = ".staging"


class ModelStoreError(ValueError):
    """A model could not be fetched or installed; the message is one sentence."""


class DownloadCancelled(ModelStoreError):
    """The user pressed Cancel; nothing was installed."""


@dataclass(frozen=True)
class Member:
    """A file inside a catalogue archive: its name, SHA-256 and size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class CatalogueEntry:
    """A model the app knows how to get: where from (HTTPS), what it weighs and its pinned hashes."""

    id: str
    label: str
    licence: str
    size: int
    urls: tuple[str, ...]
    sha256: str
    members: tuple[Member, ...]
    kind: str = "sam"

    @property
    def size_text(self) -> str:
        return f"{self.size / 1e6:.0f} MB"


@dataclass(frozen=True)
class InstalledModel:
    """An installed catalogue model: its folder, its files, and whether their hashes still match."""

    entry: CatalogueEntry
    folder: Path
    files: tuple[Path, ...]
    verified: bool


CATALOGUE: dict[str, CatalogueEntry] = {
    "mobile-sam": CatalogueEntry(
        id="mobile-sam",
        label="MobileSAM (TinyViT encoder + SAM ViT-H decoder), AnyLabeling export",
        licence="Apache-2.0 (MobileSAM and Segment Anything)",
        size=36_655_105,
        urls=("https://huggingface.co/vietanhdev/segment-anything-onnx-models/resolve/main/"
              "mobile_sam_20230629.zip",),
        sha256="41aff2660b7531becfee21fb257c49933ddc892c554507bdb775bf504d443942",
        members=(
            Member("mobile_sam.encoder.onnx", "20deef402855b31222b528f52b04807e41ebe47216ac0e39a0729f43491a0209",
                   28_157_093),
            Member("sam_vit_h_4b8939.decoder.onnx",
                   "22cf85e35d14182f4b4712364264c06b22edbef63f065189586f080ef4e2f325", 16_500_272),
        ),
    ),
}


# -- where models live ----------------------------------------------------------------------------------
def user_data_dir() -> Path:
    """The user's data folder for cvexplorer (``$CVEXPLORER_DATA`` overrides the platform's)."""
    base = os.environ.get("CVEXPLORER_DATA")
    if base:
        return Path(base)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "cvexplorer"
    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "cvexplorer"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "cvexplorer"


def _env_dirs() -> list[Path]:
    return [Path(p) for p in os.environ.get("CVEXPLORER_MODELS", "").split(os.pathsep) if p]


def install_dir() -> Path:
    """Where downloads and installs go: the first ``$CVEXPLORER_MODELS`` folder, else the user's."""
    env = _env_dirs()
    return env[0] if env else user_data_dir() / "models"


def search_dirs() -> list[Path]:
    """Where discovery looks, in order: ``$CVEXPLORER_MODELS``, the user's models folder, the package's."""
    dirs = _env_dirs() + [user_data_dir() / "models"] + shipped_model_dirs()
    out: list[Path] = []
    for d in dirs:
        r = d.resolve() if d.exists() else d
        if r not in out:
            out.append(r)
    return out


# -- checks ------------------------------------------------------------------------------------------------
def _check_url(url: str) -> None:
    """HTTPS only; plain HTTP only to this machine (a local mirror, the tests' server)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        return
    host = u.hostname or ""
    loopback = host == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not (u.scheme == "http" and loopback):
        raise ModelStoreError(f"Models are only fetched over HTTPS, not from {u.scheme}://{host}.")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _safe_member_map(zf: zipfile.ZipFile, entry: CatalogueEntry, source: str) -> dict[str, zipfile.ZipInfo]:
    """The archive entry for each listed member; the whole archive is refused if any path is unsafe."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise ModelStoreError(f"{source} contains an unsafe path ({name[:60]!r}); it was not installed.")
        leaf = parts[-1]
        if len([p for p in parts if p]) > 2:
            continue  # deeper files are not ours to take
        if any(leaf == m.name for m in entry.members):
            found[leaf] = info
    missing = [m.name for m in entry.members if m.name not in found]
    if missing:
        raise ModelStoreError(f"{source} does not hold {', '.join(missing)}; it was not installed.")
    return found


# -- download ----------------------------------------------------------------------------------------------
Progress = Callable[[int, int, float], None]  # (bytes done, bytes total, bytes per second)


def _fetch(url: str, part: Path, entry: CatalogueEntry, progress: Progress | None,
           cancel: Callable[[], bool] | None) -> None:
    _check_url(url)
    have = part.stat().st_size if part.exists() else 0
    if have > entry.size:
        part.unlink()
        have = 0
    req = urllib.request.Request(url, headers={"User-Agent": "cvexplorer"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    # urlopen's default opener honours http_proxy / https_proxy / no_proxy from the environment
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUTS["connect"])
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have == entry.size:
            return  # already complete
        raise ModelStoreError(f"The server answered {exc.code} ({exc.reason}) for {entry.label}.") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelStoreError(f"Could not reach the server for {entry.label} ({reason}); "
                              "check the connection, or install from a file downloaded elsewhere.") from None
    with resp:
        if have and resp.status != 206:
            have = 0  # the server ignored the range: start again
        mode = "ab" if have else "wb"
        _set_read_timeout(resp, TIMEOUTS["read"])
        done, t0 = have, time.perf_counter()
        with open(part, mode) as fh:
            while True:
                if cancel is not None and cancel():
                    raise DownloadCancelled(f"The download of {entry.label} was cancelled; nothing was installed.")
                try:
                    chunk = resp.read(_CHUNK)
                except (socket.timeout, TimeoutError):
                    raise ModelStoreError(f"The server stopped sending {entry.label} for "
                                          f"{TIMEOUTS['read']:.0f} s; try again later (the part is kept to resume)."
                                          ) from None
                except (OSError, ValueError) as exc:
                    raise ModelStoreError(f"The transfer of {entry.label} broke off ({exc}); "
                                          "try again to resume.") from None
                if not chunk:
                    break
                fh.write(chunk)
                done += len(chunk)
                if done > entry.size:
                    raise ModelStoreError(f"The server sent more than the {entry.size:,} bytes "
                                          f"{entry.label} should be; it was not installed.")
                if progress is not None:
                    progress(done, entry.size, (done - have) / max(1e-6, time.perf_counter() - t0))
    if done < entry.size:
        raise ModelStoreError(f"The transfer of {entry.label} ended early ({done:,} of {entry.size:,} bytes); "
                              "try again to resume.")


def _set_read_timeout(resp, seconds: float) -> None:
    """urllib has one socket timeout (used to connect); reads get their own once connected."""
    sock = getattr(getattr(resp.fp, "raw", None), "_sock", None)  # CPython's http.client response socket
    if sock is not None:
        sock.settimeout(seconds)


def download(entry_id: str, *, progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
             dest: str | os.PathLike | None = None) -> InstalledModel:
    """Fetch catalogue entry ``entry_id``, verify it, and install it (see the module docstring)."""
    entry = _entry(entry_id)
    folder = Path(dest) if dest is not None else install_dir()
    staging = folder / _STAGING
    staging.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(staging).free
    if free < entry.size * 2.5:
        raise ModelStoreError(f"{entry.label} needs about {entry.size * 2.5 / 1e6:.0f} MB free in {folder}; "
                              f"there are {free / 1e6:.0f} MB.")
    part = staging / f"{entry.id}.zip.part"
    errors = []
    for url in entry.urls:
        try:
            _fetch(url, part, entry, progress, cancel)
            break
        except DownloadCancelled:
            part.unlink(missing_ok=True)
            raise
        except ModelStoreError as exc:
            errors.append(str(exc))
    else:
        raise ModelStoreError(errors[-1] if errors else f"{entry.label} has no source.")
    try:
        digest = _sha256_file(part)
        if digest != entry.sha256:
            raise ModelStoreError(f"The downloaded archive of {entry.label} does not match its pinned SHA-256; "
                                  "it was deleted and nothing was installed.")
        return _install_archive(part, entry, folder, cancel)
    finally:
        part.unlink(missing_ok=True)


def _install_archive(archive: Path, entry: CatalogueEntry, folder: Path,
                     cancel: Callable[[], bool] | None = None) -> InstalledModel:
    staging = folder / _STAGING / f"{entry.id}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError):
            raise ModelStoreError(f"{archive.name} is not a zip archive.") from None
        with zf:
            members = _safe_member_map(zf, entry, archive.name)
            for m in entry.members:
                out = staging / (m.name + ".part")
                h = hashlib.sha256()
                with zf.open(members[m.name]) as src, open(out, "wb") as dst:
                    while True:
                        if cancel is not None and cancel():
                            raise DownloadCancelled(f"Installing {entry.label} was cancelled; nothing was installed.")
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        h.update(chunk)
                        dst.write(chunk)
                if h.hexdigest() != m.sha256:
                    raise ModelStoreError(f"{m.name} in the archive does not match its pinned SHA-256; "
                                          "nothing was installed.")
        return _commit(staging, entry, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _commit(staging: Path, entry: CatalogueEntry, folder: Path) -> InstalledModel:
    """Move verified ``*.part`` files into ``folder/<id>/`` (each rename is atomic), then the manifest."""
    target = folder / entry.id
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    files = []
    for m in entry.members:
        final = target / m.name
        os.replace(staging / (m.name + ".part"), final)
        files.append(final)
    manifest = {"id": entry.id, "sha256": {m.name: m.sha256 for m in entry.members}, "licence": entry.licence}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return InstalledModel(entry, target, tuple(files), True)


def install_from_file(paths: str | os.PathLike | Sequence[str | os.PathLike], *,
                      dest: str | os.PathLike | None = None) -> InstalledModel:
    """Install a catalogue model from a zip (or its ONNX files) downloaded elsewhere, with the same checks.

    The entry is recognised by the archive's or the members' SHA-256: a file that only borrows a
    catalogue entry's file name is refused.
    """
    items = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    for p in items:
        if not p.is_file():
            raise ModelStoreError(f"{p.name} is not a file.")
    folder = Path(dest) if dest is not None else install_dir()
    if len(items) == 1 and items[0].suffix.lower() == ".zip":
        digest = _sha256_file(items[0])
        for entry in CATALOGUE.values():
            if digest == entry.sha256:
                return _install_archive(items[0], entry, folder)
        with zipfile.ZipFile(items[0]) if zipfile.is_zipfile(items[0]) else _no_zip(items[0]) as zf:
            names = {Path(n).name for n in zf.namelist()}
        for entry in CATALOGUE.values():
            if {m.name for m in entry.members} <= names:
                return _install_archive(items[0], entry, folder)  # members are then checked one by one
        raise ModelStoreError(f"{items[0].name} is not an archive from the model catalogue.")
    hashes = {p: _sha256_file(p) for p in items}
    for entry in CATALOGUE.values():
        by_hash = {m.sha256: m for m in entry.members}
        if all(h in by_hash for h in hashes.values()) and len(hashes) == len(entry.members):
            staging = folder / _STAGING / f"{entry.id}.{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            try:
                for p, h in hashes.items():
                    shutil.copyfile(p, staging / (by_hash[h].name + ".part"))
                return _commit(staging, entry, folder)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        named = {m.name for m in entry.members}
        if any(p.name in named for p in items):
            raise ModelStoreError(f"{', '.join(p.name for p in items)} carry {entry.label}'s file names but not "
                                  "its pinned SHA-256; they were not installed.")
    raise ModelStoreError("These files are not in the model catalogue; put your own model pairs in "
                          f"{install_dir()} instead.")


class _no_zip:  # noqa: N801 - a context manager that refuses at once
    def __init__(self, p: Path) -> None:
        self.p = p

    def __enter__(self):
        raise ModelStoreError(f"{self.p.name} is not a zip archive.")

    def __exit__(self, *_a) -> None:
        return None


# -- what is installed ----------------------------------------------------------------------------------
def installed(dirs: Sequence[Path] | None = None, *, verify: bool = True) -> list[InstalledModel]:
    """Catalogue models found in ``dirs`` (default: :func:`search_dirs`), re-hashed when ``verify``."""
    out = []
    for d in dirs if dirs is not None else search_dirs():
        for entry in CATALOGUE.values():
            folder = Path(d) / entry.id
            files = tuple(folder / m.name for m in entry.members)
            if not all(f.is_file() for f in files):
                continue
            ok = all(_sha256_file(f) == m.sha256 for f, m in zip(files, entry.members)) if verify else True
            out.append(InstalledModel(entry, folder, files, ok))
    return out


def remove(entry_id: str, *, dest: str | os.PathLike | None = None) -> Path:
    """Delete an installed catalogue model's folder; returns it."""
    entry = _entry(entry_id)
    folder = (Path(dest) if dest is not None else install_dir()) / entry.id
    if not folder.is_dir():
        raise ModelStoreError(f"{entry.label} is not installed in {folder.parent}.")
    shutil.rmtree(folder)
    return folder


def _entry(entry_id: str) -> CatalogueEntry:
    try:
        return CATALOGUE[entry_id]
    except KeyError:
        raise ModelStoreError(f"There is no model {entry_id!r} in the catalogue; it has: "
                              f"{', '.join(CATALOGUE)}.") from None
