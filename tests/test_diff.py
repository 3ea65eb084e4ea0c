"""`vcaudit diff A B`: two sessions compared, end to end through the command line (captures,
HAR files and session folders), and the comparison itself on real report documents."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from auditor.cli.errors import EXIT_FAIL_ON, EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE
from auditor.cli.main import main
from auditor.compare.diff import Change, diff_reports
from auditor.compare.fail_on import DIFF_CONDITIONS, matched_diff_conditions
from auditor.compare.render.diff_json import DIFF_SCHEMA, DiffContext
from auditor.compare.render.files import DiffFile, render_diff
from auditor.compare.wording import change_lines
from auditor.records import PINNING_REFUSAL, Flow, Transport, Visibility, record_to_dict

from .conftest import SAMPLES
from .test_flow_files import har_entry
from .test_personal_data_proxy import zoom_2020_app_events_body

ZOOM = SAMPLES / "zoom-desktop-call.pcapng"
TEAMS = SAMPLES / "teams-linux-any.pcap"
EMAIL = "alice@example.com"
# What the seed case must read: Zoom's iOS update of March 2020 removed the Facebook SDK.
SEED_KINDS = ("advertising ID", "device model", "time zone", "carrier")
META_KINDS = ("advertising ID, device or install ID, device model, OS and version, time zone, "
              "locale, carrier, screen size, device hardware, app identifier, "
              "ad-tracking status")
SEED_LINE = (f"Meta (graph.facebook.com, ad-tech): no longer contacted; {META_KINDS} "
             "no longer sent")


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def app_events_entry() -> dict[str, Any]:
    """The Facebook SDK's app-events request of the 2020 Zoom iOS app, as a HAR entry (the
    form body as sent, before the transfer's gzip)."""
    body = gzip.decompress(zoom_2020_app_events_body()).decode()
    entry = har_entry("https://graph.facebook.com/v7.0/123456789/activities", "POST",
                      post=body, ip="157.240.20.19")
    entry["request"]["headers"] = [
        {"name": "content-type", "value": "application/x-www-form-urlencoded"},
        {"name": "user-agent", "value": "FBiOSSDK.5.15.1"}]
    entry["request"]["postData"]["mimeType"] = "application/x-www-form-urlencoded"
    return entry


def zoom_entries() -> list[dict[str, Any]]:
    return [har_entry("https://zoom.us/join", ip="170.114.52.2"),
            har_entry("https://us04web.zoom.us/signin", "POST", post="x", ip="170.114.10.3")]


def write_har(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test",
                                                                      "version": "1"},
                                        "entries": entries}}))
    return path


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The seed case as two HAR files: A with the Facebook SDK's app events and Zoom's own
    requests, B (after the update) with Zoom's only."""
    folder = tmp_path_factory.mktemp("seed")
    return (write_har(folder / "zoom-5.0.2.har", [*zoom_entries(), app_events_entry()]),
            write_har(folder / "zoom-5.0.3.har", zoom_entries()))


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory,
             seed: tuple[Path, Path]) -> Iterator[dict[str, Path]]:
    """Session folders of the seed HAR files and of the two bundled samples."""
    folder = tmp_path_factory.mktemp("sessions")
    with pytest.MonkeyPatch.context() as patch:  # no user lists or config, as every test
        patch.setenv("VCAUDIT_CACHE", str(folder / "cache"))
        patch.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        patch.delenv("VCAUDIT_CONFIG", raising=False)
        inputs = {"a": (seed[0], "zoom"), "b": (seed[1], "zoom"), "zoom": (ZOOM, None),
                  "teams": (TEAMS, None)}
        for name, (path, app) in inputs.items():
            result = run("analyze", path, "--out", folder / name, "-q",
                         *(("--app", app) if app else ()))
            assert result.exit_code == 0, result.stderr
        yield {name: folder / name for name in inputs}


def report_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "report.json").read_text())


def organisation(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in document["organisations"] if o["name"] == name)


def test_the_seed_case_reads_right(tmp_path: Path, seed: tuple[Path, Path]) -> None:
    out = tmp_path / "diff"
    result = run("diff", *seed, "--app", "zoom", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert f"change: {SEED_LINE}\n" in result.stdout
    kinds = META_KINDS.split(", ")
    assert [k for k in kinds if k in SEED_KINDS] == list(SEED_KINDS)  # in the seed's order
    document = json.loads((out / "diff.json").read_text())
    assert document["schema"] == DIFF_SCHEMA and not document["identical"]
    assert document["changes"] == [SEED_LINE]
    meta = organisation(document, "Meta")
    assert meta["change"] == "removed" and meta["hosts_before"] == ["graph.facebook.com"]
    assert meta["kinds_before"] == kinds and meta["kinds_after"] == []
    assert organisation(document, "Zoom")["change"] == "unchanged"
    assert document["categories"]["ad-tech"]["after"]["endpoints"] == 0
    # The HAR files were analysed into session folders inside the diff's folder.
    for role, har in zip(("before", "after"), seed, strict=True):
        assert report_of(out / role)["session"]["inputs"] == [str(har)]
        assert document[role]["folder"] == str(out / role)
        assert stat.S_IMODE((out / role).stat().st_mode) == 0o700
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert SEED_LINE in (out / "diff.md").read_text()
    assert SEED_LINE in (out / "diff.html").read_text()
    assert '<a href="before/report.html">' in (out / "diff.html").read_text()


def test_the_update_reversed_trips_the_release_gate(tmp_path: Path,
                                                    seed: tuple[Path, Path]) -> None:
    gate = "new-ad-tech,new-pii,new-analytics,new-pinning"
    result = run("diff", seed[1], seed[0], "--app", "zoom", "--out", tmp_path / "back",
                 "--fail-on", gate)
    assert result.exit_code == EXIT_FAIL_ON, result.stderr
    assert (f"change: Meta (graph.facebook.com, ad-tech): newly contacted; {META_KINDS} "
            "newly sent") in result.stdout
    assert result.stderr == ("vcaudit: fail-on matched: new-ad-tech: Meta (graph.facebook.com)"
                             f" | new-pii: Meta now receives {META_KINDS}\n")
    document = json.loads((tmp_path / "back" / "diff.json").read_text())
    assert document["fail_on"]["conditions"] == gate.split(",")
    assert len(document["fail_on"]["matched"]) == 2
    # The update that removed the SDK passes the same gate.
    forward = run("diff", *seed, "--app", "zoom", "--out", tmp_path / "fwd", "--fail-on", gate)
    assert forward.exit_code == 0, forward.stderr


def test_your_own_values_reaching_someone_new(tmp_path: Path) -> None:
    before = write_har(tmp_path / "before.har", zoom_entries())
    leak = har_entry("https://graph.facebook.com/v7.0/123/activities", "POST",
                     post=f"event=LOGIN&ud[em]={EMAIL}")
    after = write_har(tmp_path / "after.har", [*zoom_entries(), leak])
    result = run("diff", before, after, "--app", "zoom", "--identity", f"email={EMAIL}",
                 "--out", tmp_path / "d", "--fail-on", "new-identity")
    assert result.exit_code == EXIT_FAIL_ON, result.stderr
    assert "new-identity: Meta now receives your email" in result.stderr
    without = run("diff", before, after, "--app", "zoom", "--out", tmp_path / "d2",
                  "--fail-on", "new-identity")
    assert without.exit_code == 0, without.stderr  # the scan was not told the value


def test_the_bundled_samples(tmp_path: Path, sessions: dict[str, Path]) -> None:
    out = tmp_path / "samples"
    result = run("diff", ZOOM, TEAMS, "--out", out)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("vcaudit diff: A: zoom-desktop-call-") and ", zoom, packet " \
        "capture: 43 flows to 21 endpoints" in lines[0]
    assert "change: Meta (graph.facebook.com, ad-tech): no longer contacted" in lines
    assert ("change: Microsoft (mobile.pipe.aria.microsoft.com, 52.115.98.40, "
            "teams.microsoft.com, analytics and first-party): newly contacted") in lines
    assert "change: updates.example.net (unknown): no longer contacted" in lines
    assert "bytes: ad-tech: 7.9 kB -> 0 B, 1 -> 0 endpoints" in lines
    assert any(line.startswith("note: A's audited app is zoom, B's is teams") for line in lines)
    document = json.loads((out / "diff.json").read_text())
    for role, name in (("before", "zoom"), ("after", "teams")):
        categories = report_of(sessions[name])["summary"]["categories"]
        assert {c: v[role] for c, v in document["categories"].items()} == categories
    # The same two sessions given as folders make the same diff.
    folders = run("diff", sessions["zoom"], sessions["teams"], "--out", tmp_path / "folders")
    assert folders.exit_code == 0, folders.stderr
    again = json.loads((tmp_path / "folders" / "diff.json").read_text())
    for key in ("changes", "organisations", "endpoints", "categories", "pinning", "notes"):
        assert again[key] == document[key], key
    assert again["before"]["folder"] == str(sessions["zoom"])
    assert not (tmp_path / "folders" / "before").exists()


def test_a_session_against_itself(tmp_path: Path, sessions: dict[str, Path]) -> None:
    out = tmp_path / "same"
    result = run("diff", sessions["zoom"], sessions["zoom"], "--out", out,
                 "--fail-on", ",".join(DIFF_CONDITIONS))
    assert result.exit_code == 0, result.stderr
    assert ("same: no differences in organisations, endpoints, categories, personal data or "
            "pinning") in result.stdout.splitlines()
    assert "bytes:" not in result.stdout and "note:" not in result.stdout
    document = json.loads((out / "diff.json").read_text())
    assert document["identical"] and document["changes"] == [] and document["endpoints"] == []
    assert {o["change"] for o in document["organisations"]} == {"unchanged"}
    assert sorted(p.name for p in out.iterdir()) == ["diff.html", "diff.json", "diff.md"]


def test_new_pinning(tmp_path: Path, sessions: dict[str, Path]) -> None:
    """B: the seed's after-session with a handshake the client refused, rebuilt."""
    pinned = tmp_path / "pinned"
    shutil.copytree(sessions["b"], pinned)
    flow = Flow(flow_id="pin-1", ts_start=1.0, ts_end=2.0, transport=Transport.TCP,
                client_ip="10.0.0.2", client_port=50001, server_ip="3.3.3.3", server_port=443,
                host="pinned.zoom.us", app_proto="tls", visibility=Visibility.PINNED,
                sni="pinned.zoom.us", error=f"{PINNING_REFUSAL}: bad certificate")
    with (pinned / "flows.jsonl").open("a") as log:
        log.write(json.dumps(record_to_dict(flow)) + "\n")
    assert run("report", pinned, "-q").exit_code == 0
    result = run("diff", sessions["b"], pinned, "--out", tmp_path / "d",
                 "--fail-on", "new-pinning")
    assert result.exit_code == EXIT_FAIL_ON, result.stderr
    assert ("change: pinning: the client newly refused the proxy's certificate for "
            "pinned.zoom.us") in result.stdout
    assert result.stderr == "vcaudit: fail-on matched: new-pinning: pinned.zoom.us\n"
    document = json.loads((tmp_path / "d" / "diff.json").read_text())
    assert document["pinning"]["added"] == ["pinned.zoom.us"]
    back = run("diff", pinned, sessions["b"], "--out", tmp_path / "back",
               "--fail-on", "new-pinning")
    assert back.exit_code == 0 and "no longer refused" in back.stdout


def test_a_category_change(sessions: dict[str, Path]) -> None:
    before = report_of(sessions["a"])
    after = copy.deepcopy(before)
    for record in [*after["endpoints"], *after["findings"]]:
        if record["host"] == "graph.facebook.com":
            record["category"] = "analytics"
    result = diff_reports(before, after)
    lines = change_lines(result)
    assert ("graph.facebook.com: now analytics (Meta), was ad-tech (Meta)") in lines
    assert "Meta (graph.facebook.com, analytics): was ad-tech" in lines
    # Meta is new to analytics; the data it receives went outside the first party before too.
    held = matched_diff_conditions(result, ["new-ad-tech", "new-analytics", "new-pii"])
    assert held == ["new-analytics: Meta (graph.facebook.com)"]


def test_data_no_longer_seen_in_encrypted_traffic_is_said_to_be_unproven(
        sessions: dict[str, Path]) -> None:
    before = report_of(sessions["a"])
    after = copy.deepcopy(before)
    after["findings"] = []
    after["personal_data"]["who_received_what"] = []
    after["coverage"]["readable_flows"]["flows"] = 1
    result = diff_reports(before, after)
    meta = next(o for o in result.organisations if o.name == "Meta")
    assert meta.change is Change.CHANGED and meta.kinds_removed[0] == "advertising ID"
    assert (f"Meta (graph.facebook.com, ad-tech): {META_KINDS} no longer sent"
            in change_lines(result))
    document = json.loads(render_diff(DiffFile.JSON, result, DiffContext()))
    assert "B's content could be read in 1 of 3 flows: data no longer seen may still be sent " \
        "inside the rest" in document["notes"]


def test_reports_of_older_versions(sessions: dict[str, Path]) -> None:
    """Missing sections are tolerated: categories come from the endpoints, data from
    who_received_what when findings are missing, and a report without a schema is read."""
    full = report_of(sessions["a"])
    old = {"session": {"id": "old"},
           "endpoints": [{k: e[k] for k in ("host", "category", "entity", "flows")}
                         for e in full["endpoints"]],
           "personal_data": full["personal_data"]}
    result = diff_reports(old, report_of(sessions["b"]))
    assert change_lines(result)[0].startswith(
        "Meta (graph.facebook.com, ad-tech): no longer contacted; advertising ID, ")
    assert result.before.categories["ad-tech"].endpoints == 1
    assert result.before.categories["ad-tech"].bytes_up == 0  # unknown in the old report
    same = diff_reports(old, full)  # labels alone compare with kinds, no flag with a flag
    assert same.identical, change_lines(same)
    odd = {"schema": "vcaudit.report/1", "endpoints": [{"host": 7, "flows": "x"}, "junk"],
           "summary": {"categories": []}, "findings": {"not": "a list"}}
    assert diff_reports(odd, odd).identical


@pytest.mark.parametrize("content, message", [
    ('{"log": {"entries": []}}', "not a vcaudit report (no schema and no endpoint list)"),
    ('{"schema": "vcaudit.diff/1"}', "not a vcaudit report (schema 'vcaudit.diff/1')"),
    ("[1, 2]", "not a vcaudit report (the JSON is not an object)"),
    ("{" * 100_000, "not a vcaudit report (not valid JSON"),
])
def test_a_folder_whose_report_is_not_one(tmp_path: Path, sessions: dict[str, Path],
                                          content: str, message: str) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "report.json").write_text(content)
    result = run("diff", folder, sessions["b"], "--out", tmp_path / "d")
    assert_one_line_error(result, EXIT_INPUT, f"{folder / 'report.json'}: {message}")
    assert not (tmp_path / "d").exists()


def test_inputs_that_cannot_be_compared(tmp_path: Path, sessions: dict[str, Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(run("diff", empty, sessions["b"]), EXIT_INPUT,
                          f"{empty}: not a vcaudit session folder (no report.json)")
    unreported = tmp_path / "unreported"
    unreported.mkdir()
    shutil.copy(sessions["b"] / "flows.jsonl", unreported)
    assert_one_line_error(run("diff", unreported, sessions["b"]), EXIT_INPUT,
                          f"run `vcaudit report {unreported}` first")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert_one_line_error(run("diff", sessions["b"], text), EXIT_INPUT,
                          f"{text}: not a session folder, report.json, capture")
    assert_one_line_error(run("diff", sessions["b"], tmp_path / "missing.pcap"), EXIT_INPUT,
                          "missing.pcap")


def test_a_failed_analysis_leaves_nothing_behind(tmp_path: Path,
                                                 seed: tuple[Path, Path]) -> None:
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")  # a pcap's magic, then nothing usable
    out = tmp_path / "d"
    assert_one_line_error(run("diff", seed[0], broken, "--out", out), EXIT_INPUT,
                          f"{broken}: not a pcap or pcapng capture")
    assert not out.exists()  # A's session, analysed first, went with it
    out.mkdir()
    assert run("diff", seed[0], broken, "--out", out).exit_code == EXIT_INPUT
    assert list(out.iterdir()) == []  # an existing folder is kept, and left as it was


def test_a_report_json_given_itself(tmp_path: Path, sessions: dict[str, Path]) -> None:
    report = tmp_path / "archived.json"
    shutil.copy(sessions["a"] / "report.json", report)
    result = run("diff", report, sessions["b"], "--out", tmp_path / "d")
    assert result.exit_code == 0, result.stderr
    assert f"change: {SEED_LINE}" in result.stdout


def test_usage_errors(tmp_path: Path, sessions: dict[str, Path], seed: tuple[Path, Path]) -> None:
    assert_one_line_error(run("diff", sessions["a"], sessions["b"], "--fail-on", "ad-tech"),
                          EXIT_USAGE, "unknown --fail-on condition(s) ad-tech; choose from "
                          "new-ad-tech")
    out = tmp_path / "d"
    assert_one_line_error(run("diff", *seed, "--app", "zoomx", "--out", out), EXIT_USAGE,
                          "unknown app 'zoomx'")
    assert not out.exists()
    result = run("diff", sessions["a"], sessions["b"], "--app", "zoom", "--out", out)
    assert result.exit_code == 0
    assert result.stderr == ("vcaudit: warning: --app apply only to captures analysed on the "
                             "way; both sessions' reports are compared as written\n")


def test_the_output_folder(tmp_path: Path, sessions: dict[str, Path],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = sessions["a"], sessions["b"]
    monkeypatch.chdir(tmp_path)
    result = run("diff", a, b, "-q")
    assert result.exit_code == 0, result.stderr
    default = Path("vcaudit-reports") / "diff-a-vs-b"
    assert result.stdout == f"{default}\n" and (tmp_path / default / "diff.json").is_file()
    assert run("diff", a, b, "-q").stdout == f"{default}-2\n"
    # An existing diff folder is replaced only with --force; its other files are kept.
    assert_one_line_error(run("diff", b, a, "--out", default), EXIT_OUTPUT,
                          "not empty; choose a new or empty folder, or add --force")
    (default / "notes.txt").write_text("mine")
    assert run("diff", b, a, "--out", default, "--force").exit_code == 0
    assert json.loads((default / "diff.json").read_text())["before"]["folder"] == str(b)
    assert (default / "notes.txt").read_text() == "mine"
    assert not [p for p in default.iterdir() if p.name.startswith(".")]
    # --force never replaces a folder that holds no diff, such as a session.
    assert_one_line_error(run("diff", a, b, "--out", b, "--force"), EXIT_OUTPUT,
                          "not a vcaudit diff folder (no diff.json)")
    file = tmp_path / "file"
    file.write_text("x")
    assert_one_line_error(run("diff", a, b, "--out", file), EXIT_OUTPUT, "is not a folder")


def test_the_default_folder_is_named_after_the_inputs(tmp_path: Path, seed: tuple[Path, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("diff", *seed, "--app", "zoom", "-q")
    assert result.stdout == "vcaudit-reports/diff-zoom-5.0.2-vs-zoom-5.0.3\n", result.stderr
    folder = tmp_path / result.stdout.strip()
    assert sorted(p.name for p in folder.iterdir()) == ["after", "before", "diff.html",
                                                        "diff.json", "diff.md"]


def test_force_replaces_the_sessions_analysed_before(tmp_path: Path,
                                                     seed: tuple[Path, Path]) -> None:
    out = tmp_path / "d"
    assert run("diff", *seed, "--app", "zoom", "--out", out, "-q").exit_code == 0
    result = run("diff", seed[1], seed[0], "--app", "zoom", "--out", out, "--force", "-q")
    assert result.exit_code == 0, result.stderr
    assert report_of(out / "before")["session"]["inputs"] == [str(seed[1])]
    # A session analysed into the folder, given as A, is not overwritten by B's analysis.
    assert_one_line_error(run("diff", out / "after", seed[0], "--out", out, "--force"),
                          EXIT_USAGE, "is where B would be analysed to")


def test_hostile_names_stay_text(sessions: dict[str, Path]) -> None:
    before = report_of(sessions["b"])
    after = copy.deepcopy(before)
    evil = "<script>alert(1)</script>\x1b[2J\u202e|*x*|`vcaudit`"
    after["endpoints"].append({**after["endpoints"][0], "host": evil + ".example",
                               "entity": evil, "category": "ad-tech<b>"})
    result = diff_reports(before, after)
    html = render_diff(DiffFile.HTML, result, DiffContext())
    assert "<script>" not in html and "<b>" not in html and "\x1b" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J\\u202e" in html
    markdown = render_diff(DiffFile.MARKDOWN, result, DiffContext())
    assert "\\<script\\>" in markdown and "\\|\\*x\\*\\|" in markdown
    assert "\x1b" not in markdown and "\u202e" not in markdown
    assert json.loads(render_diff(DiffFile.JSON, result, DiffContext()))["endpoints"][0][
        "host"] == evil + ".example"  # JSON keeps the exact text


def test_the_terminal_shows_hostile_names_inert(tmp_path: Path,
                                                sessions: dict[str, Path]) -> None:
    after = tmp_path / "after"
    after.mkdir()
    document = report_of(sessions["b"])
    document["endpoints"].append({**document["endpoints"][0], "host": "x\x1b[2J\nverdict: ok",
                                  "entity": None, "category": "unknown"})
    (after / "report.json").write_text(json.dumps(document))
    result = run("diff", sessions["b"], after, "--out", tmp_path / "d")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\nverdict: ok" not in result.stdout
    assert "change: x\\x1b[2J\\nverdict: ok (unknown): newly contacted" in result.stdout


def test_diff_html_is_self_contained(tmp_path: Path, sessions: dict[str, Path]) -> None:
    result = run("diff", sessions["zoom"], sessions["teams"], "--out", tmp_path / "d")
    assert result.exit_code == 0
    html = (tmp_path / "d" / "diff.html").read_text()
    # The one style sheet is allowed by its hash (as a browser computes it), nothing else.
    style = re.findall(r"<style>(.*?)</style>", html, re.DOTALL)
    policy = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    digest = base64.b64encode(hashlib.sha256(style[0].encode()).digest()).decode()
    assert len(style) == 1 and policy == [
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; "
        "form-action 'none'"]
    assert "<script" not in html and "style=" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "src=" not in html
    assert html.count('<svg class="bars"') == 6  # every category with endpoints on a side


def test_every_diff_file_has_a_formatter(sessions: dict[str, Path]) -> None:
    result = diff_reports(report_of(sessions["a"]), report_of(sessions["b"]))
    for kind in DiffFile:
        assert SEED_LINE in render_diff(kind, result, DiffContext()), kind


@pytest.mark.parametrize("command", ["diff", "summary"])
def test_help_imports_nothing_heavy(command: str) -> None:
    probe = ("import contextlib, io, json, sys\nfrom auditor.cli.main import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    try:\n        main([{command!r}, '--help'])\n"
             "    except SystemExit:\n        pass\n"
             "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    assert "auditor" in loaded and not loaded & {"pandas", "scapy", "mitmproxy", "numpy"}


def assert_one_line_error(result: Result, code: int, fragment: str) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vcaudit: error: "), result.stderr
    assert fragment in lines[0], lines[0]
