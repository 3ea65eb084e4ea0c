"""Secrets and e-mail addresses in URLs: redacted (key kept, value a short hash) in every
file meant to be shared, kept in the private logs, shown with --show-values."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli.main import main
from auditor.personal_data.url_secrets import is_secret_key, redact_secrets, short_hash
from auditor.report.findings import redact

from .test_flow_files import har_entry


@pytest.mark.parametrize(("url", "expected"), [
    ("https://zoom.us/j/123?pwd=abcDEF&uname=Alice",
     f"https://zoom.us/j/123?pwd={short_hash('abcDEF')}&uname=Alice"),
    ("https://x.example/cb#access_token=eyJ.x.y&token_type=bearer",
     f"https://x.example/cb#access_token={short_hash('eyJ.x.y')}&token_type=bearer"),
    ("https://alice:s3cret@h.example:8443/p;jsessionid=AB12?x=1&Token=a+b%20c",
     f"https://alice:{short_hash('s3cret')}@h.example:8443/p;jsessionid={short_hash('AB12')}"
     f"?x=1&Token={short_hash('a b c')}"),
    ("https://t.example/t?Api_Key=K&X-Amz-Signature=ff&sort_key=a&monkey=b&key=&sig=1",
     f"https://t.example/t?Api_Key={short_hash('K')}&X-Amz-Signature={short_hash('ff')}"
     f"&sort_key={short_hash('a')}&monkey=b&key=&sig={short_hash('1')}"),
    ("https://t.example/u/carol@example.net/p?e=bob.smith%2Bx%40example.org",
     f"https://t.example/u/{short_hash('carol@example.net')}/p"
     f"?e={short_hash('bob.smith+x@example.org')}"),
    ("https://user@zoom.us/a", "https://user@zoom.us/a"),  # a user name is not an address
    ("https://alice%40example.com@host.example/",
     f"https://{short_hash('alice@example.com')}@host.example/"),
    ("Invalid URL: 'https://a.example/?code=abc' (bad)",
     f"Invalid URL: 'https://a.example/?code={short_hash('abc')}' (bad)"),
    ("https://www.google-analytics.com/g/collect?v=2&tid=G-1&cid=555.666",
     "https://www.google-analytics.com/g/collect?v=2&tid=G-1&cid=555.666"),
    ("not a url at all", "not a url at all"),
])
def test_secret_values_and_addresses_are_hashed_and_nothing_else(url: str,
                                                                 expected: str) -> None:
    assert redact_secrets(url) == expected


def test_keys_are_matched_whatever_their_case_or_encoding() -> None:
    for key in ("TOKEN", "access%5Ftoken", "refresh_token", "client_secret", "X-Goog-Signature",
                "password", "PWD", "zak", "session_id", "my_api_key", "token[]"):
        assert is_secret_key(key), key
    for key in ("v", "tid", "uname", "monkey", "keyword", "tokens_left"):
        assert not is_secret_key(key), key


def test_the_hash_is_the_one_findings_use() -> None:
    assert short_hash("alice@example.com") == redact("alice@example.com")


@pytest.mark.parametrize("hostile", ["a%40" * 1_000_000, "a." * 2_000_000 + "@",
                                     "a=b&" * 1_000_000, "%41" * 1_000_000 + "@x.y"])
def test_hostile_urls_cost_linear_time(hostile: str) -> None:
    started = time.perf_counter()
    redact_secrets("https://x.example/?" + hostile)
    assert time.perf_counter() - started < 5.0


SECRET_URL = "https://zoom.us/j/8123?pwd=Zm9vYmFy&tk=reg-token-77&email=alice%40example.com"


@pytest.fixture
def session(tmp_path: Path) -> Path:
    har = tmp_path / "join.har"
    har.write_text(json.dumps({"log": {"entries": [har_entry(SECRET_URL)]}}))
    result = CliRunner().invoke(main, ["analyze", str(har), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.stderr
    return tmp_path / "s"


def flows_csv_urls(folder: Path) -> list[str]:
    with (folder / "flows.csv").open() as handle:
        return [row["url"] for row in csv.DictReader(handle)]


def test_shared_files_are_redacted_and_the_private_log_is_not(session: Path) -> None:
    (url,) = flows_csv_urls(session)
    assert url == (f"https://zoom.us/j/8123?pwd={short_hash('Zm9vYmFy')}&tk="
                   f"{short_hash('reg-token-77')}&email={short_hash('alice@example.com')}")
    for name in ("flows.csv", "endpoints.csv", "report.json", "report.md", "report.html"):
        text = (session / name).read_text()
        for secret in ("Zm9vYmFy", "reg-token-77", "alice%40example.com", "alice@example.com"):
            assert secret not in text, (name, secret)
    logged = json.loads((session / "flows.jsonl").read_text().splitlines()[0])
    assert logged["url"] == SECRET_URL  # the private record, in a folder only its owner reads
    assert (session.stat().st_mode & 0o077) == 0


def test_show_values_keeps_them_now_or_when_the_report_is_rebuilt(session: Path,
                                                                  tmp_path: Path) -> None:
    rebuilt = CliRunner().invoke(main, ["report", str(session), "--show-values", "--quiet"])
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert flows_csv_urls(session) == [SECRET_URL]
    again = CliRunner().invoke(main, ["report", str(session), "--quiet"])
    assert again.exit_code == 0, again.stderr
    assert "Zm9vYmFy" not in flows_csv_urls(session)[0]
    har = tmp_path / "join.har"
    shown = CliRunner().invoke(main, ["analyze", str(har), "--out", str(tmp_path / "v"),
                                      "--show-values"])
    assert shown.exit_code == 0, shown.stderr
    assert flows_csv_urls(tmp_path / "v") == [SECRET_URL]
