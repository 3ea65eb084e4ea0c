"""A real mitmdump process running vcaudit's addon, for end-to-end tests.

Three ways to load the addon, as users and programs do (`launcher`): `script` is
`mitmdump -s addons/vcaudit.py`; `vcaudit-proxy` is the `vcaudit proxy` command; `late-addon`
is a program that adds the addon after mitmproxy's own addons (tests/support/late_addon_proxy.py),
so mitmproxy's NextLayer decides before vcaudit does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

from .upstream import free_port

Launcher = Literal["script", "vcaudit-proxy", "late-addon"]

REPO = Path(__file__).resolve().parents[2]
ADDON = REPO / "addons" / "vcaudit.py"
REDIRECT = Path(__file__).resolve().parent / "redirect_addon.py"
MITMDUMP = Path(sys.executable).with_name("mitmdump")
VCAUDIT = Path(sys.executable).with_name("vcaudit")


class MitmdumpProcess:
    """mitmdump on a loopback port with vcaudit and the loopback redirect loaded."""

    def __init__(self, workdir: Path, session: Path, upstream_port: int,
                 plain_port: int = 0, extra: list[str] | None = None,
                 launcher: Launcher = "script") -> None:
        self.port = free_port()
        self.confdir = workdir / "mitmproxy-conf"
        self.session = session
        self.log = workdir / "mitmdump.log"
        mitmproxy_args = [
            "-s", str(REDIRECT),
            "--listen-host", "127.0.0.1", "--listen-port", str(self.port),
            "--set", f"confdir={self.confdir}", "--set", "ssl_insecure=true",
            "--set", f"test_upstream_port={upstream_port}",
            "--set", f"test_upstream_plain_port={plain_port}", *(extra or []),
        ]
        if launcher == "script":
            self.args = [str(MITMDUMP), "-s", str(ADDON), "--set", f"vcaudit_out={session}",
                         *mitmproxy_args]
        elif launcher == "vcaudit-proxy":
            self.args = [str(VCAUDIT), "proxy", "--out", str(session), "--", *mitmproxy_args]
        else:
            self.args = [sys.executable, str(Path(__file__).with_name("late_addon_proxy.py")),
                         "--set", f"vcaudit_out={session}", *mitmproxy_args]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def start(self, timeout: float = 30) -> MitmdumpProcess:
        # No PYTHONPATH to the checkout: mitmdump uses the installed `auditor`, as a user's does.
        env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                            env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mitmdump exited: {self.log.read_text()}")
            # The addon says so once every listener is up, whatever the mode.
            if "vcaudit: point the app at this proxy" in self.output() and self.ca_pem.exists():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"mitmdump did not start: {self.log.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def __enter__(self) -> MitmdumpProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
