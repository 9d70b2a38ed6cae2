"""The workbench's local server, as ``storyloom open`` runs it: Streamlit on the package's own entry script
(analysis/workbench/app.py), listening on localhost only, no usage statistics, no file watcher; its output
goes to the log (``analysis.userdirs.log_dir()/workbench.log``), the terminal gets Storyloom's own lines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from analysis.errors import Errors, ProjectError
from analysis.offline import OFFLINE_ENV
from analysis.userdirs import log_dir

ENTRY = Path(__file__).resolve().parents[1] / "workbench" / "app.py"
DEFAULT_PORT = 8501
HOST = "localhost"
#: Streamlit's settings for a researcher's own machine (the checkout's .streamlit/config.toml says the same).
SETTINGS = {
    "server.address": HOST, "server.headless": "true", "server.fileWatcherType": "none",
    "browser.gatherUsageStats": "false", "browser.serverAddress": HOST,
    "client.toolbarMode": "minimal", "client.showErrorDetails": "none", "theme.base": "light",
    "server.maxUploadSize": "2048",  # recordings are uploaded on the Project page (limits.MEDIA_BYTES)
}


def port_free(port: int) -> bool:
    with socket.socket() as s:  # as the server binds (SO_REUSEADDR): a port its last run just left is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(wanted: int | None) -> int:
    """``wanted`` if given (refused when taken), else 8501, else a free port the system picks."""
    if wanted is not None:
        if not port_free(wanted):
            raise ProjectError(Errors.E4404, port=wanted)
        return wanted
    if port_free(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(port: int, project: Path | None) -> list[str]:
    """The streamlit command line (the project after ``--``, as analysis.workbench.state reads it)."""
    args = [sys.executable, "-m", "streamlit", "run", str(ENTRY), "--server.port", str(port)]
    for key, value in SETTINGS.items():
        args += [f"--{key}", value]
    return args + (["--", "--project", str(project)] if project is not None else [])


def log_file() -> Path:
    """This run's log; the previous run's is kept as ``workbench.log.1``."""
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "workbench.log"
    if log.exists():
        log.replace(folder / "workbench.log.1")
    return log


class Server:
    """The running workbench: started, then :meth:`wait_ready`; :meth:`stop` however the command ends."""

    def __init__(self, port: int, project: Path | None) -> None:
        self.port, self.log = port, log_file()
        self.url = f"http://{HOST}:{port}"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command(port, project), stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env={**os.environ, **OFFLINE_ENV})

    def wait_ready(self, timeout: float) -> None:
        """Until the server answers its health check; an error naming the log if it stops or never answers."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.process.poll()
            if status is not None:
                raise ProjectError(Errors.E4402, status=status, log=self.log)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ProjectError(Errors.E4403, url=self.url, seconds=int(timeout), log=self.log)
            time.sleep(0.25)

    def serve(self) -> int:
        """Wait until the server ends (Ctrl-C or SIGTERM stop it: :meth:`stop` then runs); its exit status."""
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            return self.process.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
