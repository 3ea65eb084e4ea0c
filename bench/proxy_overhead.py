"""What the vcaudit addon costs a proxy: throughput and memory, plain mitmdump vs mitmdump
with the addon, measured in the same run on the same machine.

    .venv/bin/python bench/proxy_overhead.py [--requests 2000] [--big-every 20] [--rounds 2]

A loopback HTTPS upstream answers every request; a client sends the requests through the
proxy over a few keep-alive connections (every `--big-every`th uploads 1 MB). The addon runs
as `vcaudit proxy` runs it: recording, classifying and scanning every request for personal
data, with two identities supplied. Each round runs
plain mitmdump, then mitmdump with the addon; the best round of each is compared. The proxy's
resident memory is sampled as flows accumulate, to check it stays flat.
Targets: the addon costs under 10% of throughput; its memory does not grow with flows.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.certs import make_server_cert  # noqa: E402
from tests.support.upstream import UpstreamServer, free_port  # noqa: E402

MITMDUMP = Path(sys.executable).with_name("mitmdump")
ADDON = REPO / "addons" / "vcaudit.py"
REDIRECT = REPO / "tests" / "support" / "redirect_addon.py"
HOSTS = ["zoom.us", "us05web.zoom.us", "graph.facebook.com", "www.googletagmanager.com"]
BIG_BODY = b"b" * 1_000_000
CLIENTS = 4
THROUGHPUT_BUDGET = 0.10


@dataclass
class Run:
    """One proxy run's figures."""

    label: str
    seconds: float
    requests: int
    rss_samples_mb: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def peak_mb(self) -> float:
        return max(self.rss_samples_mb)

    @property
    def growth_mb(self) -> float:
        """RSS at the end minus RSS after the first quarter: what accumulating flows cost."""
        return self.rss_samples_mb[-1] - self.rss_samples_mb[0]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_proxy(workdir: Path, upstream_port: int, with_addon: bool) -> tuple[
        subprocess.Popen[bytes], int, Path]:
    port = free_port()
    confdir = workdir / "conf"
    args = [str(MITMDUMP), "-q", "--listen-host", "127.0.0.1", "--listen-port", str(port),
            "--set", f"confdir={confdir}", "--set", "ssl_insecure=true",
            "-s", str(REDIRECT), "--set", f"test_upstream_port={upstream_port}"]
    if with_addon:
        # As `vcaudit proxy` runs it, scanning every request for two of the user's values.
        args += ["-s", str(ADDON), "--set", f"vcaudit_out={workdir / 'session'}",
                 "--set", "vcaudit_trim_messages=true",
                 "--set", "vcaudit_identity=email=alice@example.com",
                 "--set", "vcaudit_identity=phone=+4915112345678"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    deadline = time.monotonic() + 30
    ca = confdir / "mitmproxy-ca-cert.pem"
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            if ca.exists():
                return process, port, ca
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("mitmdump did not start")


def drive(port: int, ca: Path, requests: int, big_every: int, pid: int) -> Run:
    context = ssl.create_default_context(cafile=str(ca))
    clients = [httpx.Client(proxy=f"http://127.0.0.1:{port}", verify=context, timeout=60)
               for _ in range(CLIENTS)]
    samples: list[float] = []
    quarter = max(1, requests // 4)

    def one(n: int) -> None:
        client = clients[n % CLIENTS]
        host = HOSTS[n % len(HOSTS)]
        if big_every and n % big_every == 0:
            response = client.post(f"https://{host}/upload/{n}", content=BIG_BODY)
        else:
            response = client.get(f"https://{host}/api/{n}?q=call")
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for block in range(0, requests, quarter):
            list(pool.map(one, range(block, min(block + quarter, requests))))
            samples.append(rss_mb(pid))
    seconds = time.perf_counter() - started
    for client in clients:
        client.close()
    return Run("", seconds, requests, samples)


def measure(upstream_port: int, with_addon: bool, requests: int, big_every: int) -> Run:
    with tempfile.TemporaryDirectory() as folder:
        process, port, ca = start_proxy(Path(folder), upstream_port, with_addon)
        try:
            drive(port, ca, 40, 0, process.pid)  # warm-up: certificates, connections
            run = drive(port, ca, requests, big_every, process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
        if with_addon:
            flows = (Path(folder) / "session" / "flows.jsonl").read_text().count("\n")
            if flows < requests:
                raise RuntimeError(f"the addon logged {flows} of {requests} requests")
    run.label = "mitmdump + vcaudit" if with_addon else "mitmdump"
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--big-every", type=int, default=20,
                        help="every Nth request uploads 1 MB (0: none)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cert = make_server_cert(Path(folder), HOSTS)
        with UpstreamServer(cert) as upstream:
            runs: dict[bool, list[Run]] = {False: [], True: []}
            for _ in range(options.rounds):
                for with_addon in (False, True):
                    runs[with_addon].append(measure(upstream.port, with_addon,
                                                    options.requests, options.big_every))
    plain = max(runs[False], key=lambda r: r.per_second)
    addon = max(runs[True], key=lambda r: r.per_second)
    cost = 1 - addon.per_second / plain.per_second
    print(f"{options.requests} requests ({options.requests // max(options.big_every, 1)} with "
          f"1 MB bodies), {CLIENTS} clients, best of {options.rounds} rounds")
    print(f"{'proxy':<20} {'req/s':>8} {'peak MB':>8} {'growth MB':>10}")
    for run in (plain, addon):
        print(f"{run.label:<20} {run.per_second:>8.1f} {run.peak_mb:>8.1f} "
              f"{run.growth_mb:>10.1f}")
    print(f"throughput ratio (addon / plain): {addon.per_second / plain.per_second:.3f} "
          f"(cost {cost:.1%}, target < {THROUGHPUT_BUDGET:.0%})")
    growth_extra = addon.growth_mb - plain.growth_mb
    print(f"memory growth beyond plain mitmdump while flows accumulate: {growth_extra:+.1f} MB")
    if options.json:
        print(json.dumps({
            "requests": options.requests, "plain_rps": plain.per_second,
            "addon_rps": addon.per_second, "ratio": addon.per_second / plain.per_second,
            "plain_peak_mb": plain.peak_mb, "addon_peak_mb": addon.peak_mb,
            "plain_growth_mb": plain.growth_mb, "addon_growth_mb": addon.growth_mb,
        }))
    failed = []
    if cost >= THROUGHPUT_BUDGET:
        failed.append(f"the addon costs {cost:.1%} of throughput")
    if growth_extra > 20:
        failed.append(f"memory grows {growth_extra:.1f} MB more than plain mitmdump")
    for reason in failed:
        print(f"target missed: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
