"""The one way an export reaches the disk: whole or not at all, owner-only, never through a link.

Every exported file (vignettes, chapters, the methods report, codebook and codings YAML, the quote table,
matrices, REFI-QDA files) goes through :func:`write_atomic`:

* the bytes go to a new temporary file beside the target (created ``0600`` by ``mkstemp``), are flushed
  to disk, then the temporary file is renamed over the target: a full disk, a crash or an error while
  writing leaves the previous file exactly as it was, never a truncated one;
* a **new** file is readable and writable by its owner only (``0600``; the umask is not consulted, since an
  export holds interview quotes); a file that already existed keeps its own permissions;
* the target is never opened: a symbolic link at the target is refused (its target is named, so the
  researcher can export there directly), and so is anything that is not a regular file (a FIFO would
  block the export forever, a device or folder is no export's place).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from analysis.errors import Errors, ExportError
from analysis.limits import file_kind

__all__ = ["NEW_FILE_MODE", "check_destination", "write_atomic"]

#: Permissions of a newly exported file (owner read and write); an existing file keeps its own.
NEW_FILE_MODE = 0o600


def check_destination(path: Path) -> os.stat_result | None:
    """The ``lstat`` of an existing regular file at ``path``, None when nothing is there; refuses (with
    :class:`ExportError`) a missing folder, a symbolic link and anything that is not a regular file."""
    if not path.parent.is_dir():
        raise ExportError(Errors.E3102, path=path, parent=path.parent)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ExportError(Errors.E3103, path=path, strerror=err.strerror) from None
    if stat.S_ISLNK(info.st_mode):
        raise ExportError(Errors.E3201, path=path, target=os.path.realpath(path))
    if not stat.S_ISREG(info.st_mode):
        raise ExportError(Errors.E3202, path=path, kind=file_kind(info.st_mode))
    return info


def write_atomic(path: str | Path, data: bytes | Callable[[Path], None]) -> Path:
    """Write ``data`` (bytes, or a function that writes the file it is given) to ``path`` as the module
    says; returns ``path``. Raises :class:`ExportError` naming the file and what went wrong."""
    path = Path(path)
    old = check_destination(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".part", dir=path.parent)
    except OSError as err:
        raise ExportError(Errors.E3103, path=path, strerror=err.strerror) from None
    temporary = Path(name)
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            os.close(fd)
            data(temporary)
            with open(temporary, "rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(temporary, stat.S_IMODE(old.st_mode) if old is not None else NEW_FILE_MODE)
        check_destination(path)  # swapped for a link or a FIFO while we wrote: still refused
        os.replace(temporary, path)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise ExportError(Errors.E3203, path=path) from None
        raise ExportError(Errors.E3104, path=path, v2=err.strerror or err) from None
    finally:
        temporary.unlink(missing_ok=True)
    return path
