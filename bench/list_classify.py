"""Classification speed and accuracy with real EasyList and EasyPrivacy loaded.

    .venv/bin/python bench/list_classify.py [--lists-dir DIR] [--hosts N] [--urls N]

Real lists are never committed or bundled (GPLv3 / CC BY-SA). By default the script fetches
the npm package `ad-block@4.1.7` (Brave's old engine, MPL-2.0), whose test data holds real
EasyList and EasyPrivacy files of April 2019 and a list of real page-load URLs, into
bench/out/ (gitignored). Or give --lists-dir with easylist.txt, easyprivacy.txt (and
optionally sitelist.txt, one URL a line), e.g. downloaded by `vcaudit lists update`.

Measures:
- start-up: parsing both lists and building the adblock engines;
- hostnames/s: classify_endpoint on distinct names never seen before (cold), and on an audit's
  stream of flows where names repeat (classify_flows, which classifies each endpoint once);
- URLs/s: classify_endpoint on distinct full URLs (HTTP flows of a proxy session);
- precision and recall on tests/data/labelled_hosts.csv without lists and with these lists.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from auditor.audit import classify_flows  # noqa: E402
from auditor.classify.accuracy import (  # noqa: E402
    first_party_labelled_tracking,
    format_table,
    precision_recall,
    read_labelled,
    score,
)
from auditor.classify.app_detection import AppChoice  # noqa: E402
from auditor.classify.catalog import load_catalog  # noqa: E402
from auditor.classify.endpoint import classify_endpoint  # noqa: E402
from auditor.lists.abp import AbpList  # noqa: E402
from auditor.lists.model import RequestContext  # noqa: E402
from auditor.records import Category, Flow, ListRef, Transport  # noqa: E402

NPM_PACKAGE = "ad-block@4.1.7"
LICENCE = "GPL-3.0-or-later OR CC-BY-SA-3.0"


def fetch_npm_lists(out: Path) -> Path:
    """Unpack the npm package's test data into bench/out/ad-block/ (once)."""
    data = out / "ad-block" / "package" / "test" / "data"
    if (data / "easylist.txt").is_file():
        return data
    if shutil.which("npm") is None:
        sys.exit("npm not found: give --lists-dir with easylist.txt and easyprivacy.txt")
    target = out / "ad-block"
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=target,
                          capture_output=True, text=True, check=True)
    tgz = target / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as archive:
        archive.extractall(target, filter="data")
    return data


def load_real_lists(directory: Path) -> tuple[list[AbpList], float]:
    started = time.perf_counter()
    lists = []
    for name, title, category in (("easylist", "EasyList", Category.AD_TECH),
                                  ("easyprivacy", "EasyPrivacy", Category.ANALYTICS)):
        text = (directory / f"{name}.txt").read_text(encoding="utf-8")
        lists.append(AbpList(text, ListRef(name, title, None, None, LICENCE), None, category))
    return lists, time.perf_counter() - started


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({count:,} in {seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists-dir", type=Path)
    parser.add_argument("--hosts", type=int, default=200_000)
    parser.add_argument("--urls", type=int, default=50_000)
    args = parser.parse_args()
    directory = args.lists_dir or fetch_npm_lists(HERE / "out")
    catalog = load_catalog()
    lists, startup = load_real_lists(directory)
    entries = sum(t.info.entries for t in lists)
    print(f"lists: {', '.join(f'{t.info.ref.title} {t.info.ref.version}' for t in lists)} "
          f"({entries:,} network rules)")
    print(f"start-up (parse + build engines): {startup:.2f} s")
    catalog.lists = tuple(lists)

    sitelist = directory / "sitelist.txt"
    urls = [u.strip() for u in sitelist.read_text().splitlines()
            if u.startswith("http")] if sitelist.is_file() else []
    real_hosts = sorted({urlsplit(u).hostname or "" for u in urls} - {""})
    rng = random.Random(1)
    names = list(real_hosts)
    while len(names) < args.hosts:  # distinct names: real ones, then fresh subdomains of them
        names.append(f"n{len(names)}.{rng.choice(real_hosts or ['example.com'])}")
    names = names[: args.hosts]

    for label, loaded in (("without lists", ()), ("with EasyList + EasyPrivacy", tuple(lists))):
        catalog.lists = loaded
        started = time.perf_counter()
        for name in names:
            classify_endpoint(catalog, name, None, "zoom")
        print(f"hostnames, every one new, {label}: "
              f"{rate(len(names), time.perf_counter() - started)}")

    catalog.lists = tuple(lists)
    distinct = names[:5_000]
    weights = [1 / (rank + 1) for rank in range(len(distinct))]  # Zipf: a few names dominate
    stream = rng.choices(distinct, weights, k=args.hosts)
    address = {name: f"198.51.{n // 250 % 250}.{n % 250}" for n, name in enumerate(distinct)}
    flows = [Flow(f"F{i}", 0.0, 0.0, Transport.TCP, "10.0.0.2", 50000, address[host], 443,
                  host=host) for i, host in enumerate(stream)]
    zoom = catalog.app_entity("zoom")
    started = time.perf_counter()
    classify_flows(catalog, flows, [], AppChoice("zoom", zoom, "option", "bench"))
    print(f"hostnames in an audit's flows (5,000 names, Zipf), with lists: "
          f"{rate(len(flows), time.perf_counter() - started)}")

    sample = (urls * (args.urls // max(len(urls), 1) + 1))[: args.urls] if urls else []
    if sample:
        requests = [RequestContext(u, (urlsplit(u).hostname or "").lower(), "script", None,
                                   None) for u in sample]
        started = time.perf_counter()
        for request in requests:
            classify_endpoint(catalog, request.host, None, "zoom", request=request)
        print(f"URLs (full classification, 2 lists): "
              f"{rate(len(requests), time.perf_counter() - started)}")
        started = time.perf_counter()
        for request in requests:
            for tracker_list in lists:
                tracker_list.match_url(request)
        print(f"URLs (adblock engine alone, 2 lists): "
              f"{rate(len(requests), time.perf_counter() - started)}")

    rows = read_labelled(HERE.parent / "tests" / "data" / "labelled_hosts.csv")
    for label, loaded in (("without lists", ()), ("with EasyList + EasyPrivacy", tuple(lists))):
        scored = score(catalog, rows, loaded)
        print(f"\naccuracy on {len(rows)} labelled hosts, {label}:")
        print(format_table(precision_recall(scored)))
        bad = first_party_labelled_tracking(scored)
        print(f"first-party hosts labelled analytics/ad-tech: {len(bad)} "
              f"{[s.row.host for s in bad]}")
        for s in scored:
            if s.predicted is not s.row.expected:
                print(f"  {s.row.host} ({s.row.app}): expected {s.row.expected.value}, "
                      f"got {s.predicted.value}")


if __name__ == "__main__":
    main()
