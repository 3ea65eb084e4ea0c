"""The user's own values: parsing `--identity` and identity files, normalisation as ad
platforms do it, and every form (needle) each value is searched in."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from auditor.personal_data.identities import (
    MIN_PLAIN_LENGTH,
    Identity,
    IdentityError,
    Needle,
    load_identity_file,
    needles,
    normalised,
    parse_identity,
)

EMAIL = Identity("email", " Alice.Example@Example.com ")
PHONE = Identity("phone", "+49 (151) 123-45678")
NAME = Identity("name", "Alice Example")


def forms(identity: Identity) -> dict[str, set[str]]:
    """encoding -> the needle texts of one identity."""
    out: dict[str, set[str]] = {}
    for needle in needles([identity]):
        assert needle.identity == identity
        out.setdefault(needle.encoding, set()).add(needle.text)
    return out


def sha(algorithm: str, text: str) -> str:
    return hashlib.new(algorithm, text.encode()).hexdigest()


# ---- parse_identity --------------------------------------------------------------------


@pytest.mark.parametrize("spec,expected", [
    ("email=alice@example.com", Identity("email", "alice@example.com")),
    ("  EMAIL =  Alice@Example.com  ", Identity("email", "Alice@Example.com")),
    ("name=Alice Example", Identity("name", "Alice Example")),
    ("phone=+49 (151) 123-45678", Identity("phone", "+49 (151) 123-45678")),
    ("user_id=u-8842", Identity("user_id", "u-8842")),
    ("note=a=b=c", Identity("note", "a=b=c")),  # only the first '=' separates
])
def test_parse_identity(spec: str, expected: Identity) -> None:
    assert parse_identity(spec) == expected


@pytest.mark.parametrize("spec", [
    "alice@example.com",  # no kind
    "=alice@example.com",  # empty kind
    "email=",  # empty value
    "email=   ",
    "e mail=alice@example.com",  # space in kind
    "1email=alice@example.com",  # kind must start with a letter
    "k" * 32 + "=alice@example.com",  # kind too long
    "email!=alice@example.com",
])
def test_parse_identity_refuses_malformed_specs(spec: str) -> None:
    with pytest.raises(IdentityError, match="KIND=VALUE"):
        parse_identity(spec)


@pytest.mark.parametrize("spec", ["email=ab", "name=A", "pin= 12 "])
def test_parse_identity_refuses_values_too_short_to_search(spec: str) -> None:
    with pytest.raises(IdentityError, match="too short"):
        parse_identity(spec)
    assert MIN_PLAIN_LENGTH == 3
    assert parse_identity(spec.split("=")[0] + "=abc").value == "abc"


# ---- load_identity_file ------------------------------------------------------------------


def test_toml_file_with_strings_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "me.toml"
    path.write_text('email = ["alice@example.com", "alice.work@example.org"]\n'
                    'name = "Alice Example"\nphone = "+49 151 12345678"\n', encoding="utf-8")
    assert load_identity_file(path) == [
        Identity("email", "alice@example.com"), Identity("email", "alice.work@example.org"),
        Identity("name", "Alice Example"), Identity("phone", "+49 151 12345678")]


def test_kind_value_lines_with_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "me.txt"
    path.write_text("# my values\n\nemail=alice@example.com\n  name = Alice Example \n"
                    "   # indented comment\nphone=+49 151 12345678\n", encoding="utf-8")
    assert load_identity_file(path) == [
        Identity("email", "alice@example.com"), Identity("name", "Alice Example"),
        Identity("phone", "+49 151 12345678")]


def test_a_single_phone_line_that_is_also_valid_toml(tmp_path: Path) -> None:
    # `phone=+4915112345678` parses as TOML (an integer): still the phone number
    path = tmp_path / "phone.txt"
    path.write_text("phone=+4915112345678\n", encoding="utf-8")
    [identity] = load_identity_file(path)
    assert identity.kind == "phone"
    assert normalised(identity) == "4915112345678"


def test_line_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "me.txt"
    path.write_text("email=alice@example.com\n# comment\nAlice Example\n", encoding="utf-8")
    with pytest.raises(IdentityError) as error:
        load_identity_file(path)
    assert str(error.value).startswith(f"{path}:3: ")
    assert "'Alice Example'" in str(error.value)


def test_too_short_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "me.txt"
    path.write_text("email=alice@example.com\nname=Al\n", encoding="utf-8")
    with pytest.raises(IdentityError, match=rf"^{path}:2: .*too short"):
        load_identity_file(path)


@pytest.mark.parametrize("text", ['name = 3.5\n', 'email = ["alice@example.com", true]\n',
                                  '[alice]\nemail = "alice@example.com"\n', 'ok = false\n'])
def test_toml_values_that_are_not_strings(tmp_path: Path, text: str) -> None:
    path = tmp_path / "me.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IdentityError, match=rf"^{path}: .*must be a string"):
        load_identity_file(path)


def test_toml_value_too_short_names_the_file_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "me.toml"
    path.write_text('email = "alice@example.com"\nname = "Al"\n', encoding="utf-8")
    with pytest.raises(IdentityError, match=rf"^{path}: name: .*too short"):
        load_identity_file(path)


def test_missing_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match=rf"^{tmp_path / 'nope.toml'}: cannot be read"):
        load_identity_file(tmp_path / "nope.toml")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("name=J\xfcrgen M\xfcller\n".encode("latin-1"))
    with pytest.raises(IdentityError, match=rf"^{latin1}: cannot be read"):
        load_identity_file(latin1)


def test_empty_file_has_no_identities(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("", encoding="utf-8")
    assert load_identity_file(path) == []


# ---- normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize("identity,expected", [
    (EMAIL, "alice.example@example.com"),
    (PHONE, "4915112345678"),
    (Identity("tel", "0049-151-12345678"), "004915112345678"),
    (Identity("mobile", "+1 (415) 555-0100"), "14155550100"),
    (Identity("name", "  Alice  Example "), "alice  example"),
    (Identity("user_id", "U-8842"), "u-8842"),
])
def test_normalised(identity: Identity, expected: str) -> None:
    assert normalised(identity) == expected


# ---- needles -----------------------------------------------------------------------------


def test_email_needles_in_every_encoding() -> None:
    norm = "alice.example@example.com"
    raw = "Alice.Example@Example.com"
    found = forms(EMAIL)
    assert {norm} <= found["plain"]
    assert {quote(norm, safe=""), quote_plus(norm, safe="")} <= found["url"]
    assert "alice.example%40example.com" in found["url"]
    b64 = {base64.b64encode(v.encode()).decode().rstrip("=").lower() for v in (norm, raw)}
    assert b64 == found["base64"]
    assert found["hex"] == {norm.encode().hex(), raw.encode().hex()}
    assert found["md5"] == {sha("md5", norm)}
    assert found["sha1"] == {sha("sha1", norm)}
    assert found["sha256"] == {sha("sha256", norm)}
    # hashes are of the normalised value only: the raw (mixed-case, padded) one never is
    assert sha("sha256", raw.strip()) not in {n.text for n in needles([EMAIL])}


def test_needles_are_lower_case_and_longest_first() -> None:
    all_needles = needles([EMAIL, PHONE, NAME])
    assert all(n.text == n.text.lower() for n in all_needles)
    lengths = [len(n.text) for n in all_needles]
    assert lengths == sorted(lengths, reverse=True)
    assert all_needles[0].encoding == "sha256"


def test_phone_needles_hash_with_and_without_plus() -> None:
    found = forms(PHONE)
    assert "4915112345678" in found["plain"]
    assert "+49 (151) 123-45678" in found["plain"]
    for algorithm in ("md5", "sha1", "sha256"):
        assert found[algorithm] == {sha(algorithm, "4915112345678"),
                                    sha(algorithm, "+4915112345678")}


def test_name_needles_hash_first_and_last_name() -> None:
    found = forms(Identity("name", "Alice Marie Example"))
    assert found["sha256"] == {sha("sha256", "alice marie example"), sha("sha256", "alice"),
                               sha("sha256", "example")}
    assert found["md5"] == {sha("md5", "alice marie example"), sha("md5", "alice"),
                            sha("md5", "example")}
    # the words alone are searched hashed only: "alice" as text is too common to be yours
    assert "alice" not in found["plain"] and "alice marie example" in found["plain"]
    single = forms(Identity("name", "Alice"))
    assert single["sha256"] == {sha("sha256", "alice")}


def test_needle_identity_and_encoding_are_kept() -> None:
    by_text = {n.text: n for n in needles([EMAIL, PHONE])}
    assert by_text[sha("sha256", "4915112345678")] == Needle(
        sha("sha256", "4915112345678"), PHONE, "sha256")
    assert by_text["alice.example%40example.com"].identity == EMAIL


def test_forms_shorter_than_the_minimum_are_not_needles() -> None:
    # built directly (parse_identity would refuse it): no two-letter text
    short = Identity("initials", "AE")
    found = forms(short)
    assert "plain" not in found and "url" not in found
    assert found["base64"] == {"quu", "ywu"}  # "AE" and "ae": three characters, just enough
    assert found["hex"] == {"4145", "6165"}  # hex doubles the length
    assert found["sha256"] == {sha("sha256", "ae")}


def test_identical_forms_are_one_needle() -> None:
    lower = Identity("email", "alice@example.com")
    texts = [n.text for n in needles([lower, Identity("email", "alice@example.com ")])]
    assert len(texts) == len(set(texts))
    assert texts.count("alice@example.com") == 1


def test_no_identities_no_needles() -> None:
    assert needles([]) == []
