"""Who holds a public address and where it is: its autonomous system (number and organisation)
and country, from offline databases, with the database named in every answer.

Two kinds of database, asked in order, the first answer per field winning:

- `.mmdb` files the user supplies (MaxMind GeoLite2/GeoIP2 ASN or Country, DB-IP Lite, IPinfo
  Lite), read with `maxminddb`; what they hold is read from each record's fields;
- the database the `geoip2fast` package installs (MaxMind GeoLite2 Country and ASN, IPv4 and
  IPv6), read by geoip2fast_data.py. It names the AS organisation but not its number.

Nothing is loaded until a public address is asked about: naming a host needs no database.
Local addresses (private, CGNAT, loopback, link-local, multicast, reserved) have no answer.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import Any, Protocol

from auditor.errors import ConfigError

# The readers (geoip2fast_data, maxminddb, importlib.metadata) are imported when a database is
# first used: the catalog, and so every command, imports this module.

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
GEOLITE_LICENCE = ("GeoLite2 End User License Agreement (incorporates CC BY-SA 4.0); "
                   "this product includes GeoLite2 data created by MaxMind, available from "
                   "https://www.maxmind.com")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ASN_TEXT = re.compile(r"^AS(\d{1,10})$")
MAX_ORG_LENGTH = 200
CACHED_ANSWERS = 65536


class AddressDatabaseError(ConfigError):
    """A user's address database cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """Which database an answer comes from: what a reader needs to check it."""

    name: str  # e.g. "MaxMind GeoLite2 Country and ASN (geoip2fast 1.2.2)"
    date: str | None  # the data's date (YYYY-MM-DD), when the database states it
    licence: str | None  # None: not stated (a user's file)
    source: str  # the package data file or the user's file


@dataclass(frozen=True, slots=True)
class Located:
    """One database's answer for one address; any field may be unknown (None)."""

    asn: int | None
    as_org: str | None
    as_network: str | None
    country: str | None  # ISO 3166 alpha-2
    country_network: str | None


@dataclass(frozen=True, slots=True)
class AddressFacts:
    """What the databases say about one public address, and which databases said it."""

    address: str
    asn: int | None
    as_org: str | None
    as_network: str | None
    country: str | None
    databases: tuple[DatabaseInfo, ...]

    def holder(self) -> str:
        """`AS32934 FACEBOOK (31.13.64.0/18)`, `ORACLE-BMC-31898`, or `an unknown network`."""
        parts = [f"AS{self.asn}" if self.asn is not None else None, self.as_org]
        text = " ".join(p for p in parts if p) or "an unknown network"
        return f"{text} ({self.as_network})" if self.as_network else text

    def according_to(self) -> str:
        """`MaxMind GeoLite2 ... of 2024-06-18`, for every database that answered."""
        return "; ".join(describe(info) for info in self.databases) or "no database"


def describe(info: DatabaseInfo) -> str:
    """A database as evidence names it: name, date and licence."""
    dated = f" of {info.date}" if info.date else " (undated)"
    licence = f", {info.licence.split(';')[0]}" if info.licence else ""
    return f"{info.name}{dated}{licence}"


class AddressDatabase(Protocol):
    """One source of facts about addresses."""

    def info(self) -> DatabaseInfo | None:
        """What the database is (None while or because it cannot be loaded)."""
        ...

    def locate(self, address: IpAddress) -> Located | None:
        """Its answer for one public address, or None."""
        ...


class Geoip2fastDatabase:
    """The country and ASN data the geoip2fast package installs, loaded on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: Any = None
        self._info: DatabaseInfo | None = None
        self._problem: str | None = None
        self._asked = False  # whether an address was asked about (prepare does not count)

    @property
    def problem(self) -> str | None:
        """Why it could not be loaded, once it was asked about an address."""
        return self._problem if self._asked else None

    def prepare(self) -> None:
        """Load the data ahead of need (while a capture is read): the database counts as
        used, or failing, only once it is asked about an address."""
        if self._tables is None:
            self._load()

    def _load(self) -> None:
        from auditor.classify.geoip2fast_data import DATA_FILE, UnsupportedDataError, read_tables

        with self._lock:
            if self._tables is not None or self._problem is not None:
                return
            spec = util.find_spec("geoip2fast")  # finds the package without running it
            if spec is None or not spec.submodule_search_locations:
                self._problem = "the geoip2fast package is not installed"
                return
            path = Path(next(iter(spec.submodule_search_locations))) / DATA_FILE
            try:
                tables = read_tables(path)
            except (OSError, UnsupportedDataError) as exc:
                self._problem = f"{path} cannot be read: {exc}"
                return
            stamp = re.search(r"(\d{4})(\d{2})(\d{2})$", tables.source)
            self._info = DatabaseInfo(
                name=f"MaxMind GeoLite2 Country and ASN (geoip2fast {_version('geoip2fast')})",
                date="-".join(stamp.groups()) if stamp else None,
                licence=GEOLITE_LICENCE, source=f"geoip2fast/{DATA_FILE} ({tables.source})")
            self._tables = tables

    def info(self) -> DatabaseInfo | None:
        """The database's description, once loaded and asked about an address."""
        return self._info if self._asked else None

    def locate(self, address: IpAddress) -> Located | None:
        """Country and AS organisation (geoip2fast holds no AS numbers)."""
        self._asked = True
        if self._tables is None:
            self._load()
            if self._tables is None:
                return None
        answer = self._tables.answer(int(address))
        return Located(None, answer.as_org, answer.as_network, answer.country,
                       answer.country_network)

    @property
    def loaded(self) -> bool:
        """Whether the data has been read into memory."""
        return self._tables is not None


class MmdbDatabase:
    """A MaxMind DB format file (`.mmdb`) the user supplies."""

    def __init__(self, path: Path) -> None:
        from datetime import UTC, datetime

        import maxminddb  # only when a user names a file

        try:
            self._reader = maxminddb.open_database(str(path))
            meta = self._reader.metadata()
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise AddressDatabaseError(f"{path}: not a readable MaxMind DB (.mmdb) file: "
                                       f"{exc}") from exc
        built = getattr(meta, "build_epoch", None)
        date = (datetime.fromtimestamp(built, UTC).strftime("%Y-%m-%d")
                if isinstance(built, int) and 0 < built < 2**40 else None)
        kind = _clean(getattr(meta, "database_type", None)) or "MaxMind DB"
        self._info = DatabaseInfo(name=f"{kind} ({path.name})", date=date, licence=None,
                                  source=str(path))

    def info(self) -> DatabaseInfo:
        """The file's database type, build date and path."""
        return self._info

    def locate(self, address: IpAddress) -> Located | None:
        """The AS and country fields of the file's record for the address."""
        try:
            record, prefix = self._reader.get_with_prefix_len(address)
        except (ValueError, TypeError):  # e.g. an IPv6 address in an IPv4-only file
            return None
        if not isinstance(record, dict):
            return None
        network = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
        asn, as_org = _record_asn(record)
        country = _record_country(record)
        return Located(asn, as_org, network if asn or as_org else None, country,
                       network if country else None)


def _record_asn(record: dict[str, Any]) -> tuple[int | None, str | None]:
    """AS number and organisation from MaxMind/DB-IP (`autonomous_system_*`) or IPinfo
    (`asn` = "AS15169", `as_name`) records; anything malformed is unknown."""
    number: Any = record.get("autonomous_system_number")
    if number is None and isinstance(record.get("asn"), str):
        match = _ASN_TEXT.match(record["asn"])
        number = int(match.group(1)) if match else None
    asn = number if isinstance(number, int) and 0 < number < 2**32 else None
    org = _clean(record.get("autonomous_system_organization", record.get("as_name")))
    return asn, org


def _record_country(record: dict[str, Any]) -> str | None:
    """The ISO country code of where the address is, else where it is registered."""
    for key in ("country", "registered_country"):
        value = record.get(key)
        code = value.get("iso_code") if isinstance(value, dict) else value
        if isinstance(code, str) and _COUNTRY.match(code):
            return code
    code = record.get("country_code")
    return code if isinstance(code, str) and _COUNTRY.match(code) else None


def _clean(value: Any) -> str | None:
    """A text field from a database: printable, bounded, or unknown."""
    if not isinstance(value, str):
        return None
    text = "".join(c for c in value if c.isprintable()).strip()[:MAX_ORG_LENGTH]
    return text or None


def _version(package: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown version"


def public_address(text: str) -> IpAddress | None:
    """The address if it is a public (globally routed) one; IPv4-mapped IPv6 as IPv4."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return None
    return ip


class AddressDatabases:
    """The databases asked, in order; answers are kept per address."""

    def __init__(self, databases: Sequence[AddressDatabase]) -> None:
        self.databases = tuple(databases)
        self._answers: dict[str, AddressFacts | None] = {}

    def facts(self, address: str) -> AddressFacts | None:
        """What the databases say about a public address; None for a local or malformed
        address, or when no database knows anything about it."""
        if address in self._answers:
            return self._answers[address]
        ip = public_address(address)
        found = self._ask(address, ip) if ip is not None else None
        if len(self._answers) >= CACHED_ANSWERS:
            self._answers.clear()
        self._answers[address] = found
        return found

    def _ask(self, address: str, ip: IpAddress) -> AddressFacts | None:
        asn = as_org = as_network = country = None
        used: list[DatabaseInfo] = []
        for database in self.databases:
            answer = database.locate(ip)
            info = database.info()
            if answer is None or info is None:
                continue
            took = False
            if asn is None and as_org is None and (answer.asn or answer.as_org):
                asn, as_org, as_network, took = answer.asn, answer.as_org, answer.as_network, True
            if country is None and answer.country:
                country, took = answer.country, True
            if took:
                used.append(info)
        if not used:
            return None
        return AddressFacts(address, asn, as_org, as_network, country, tuple(used))

    def prepare(self) -> None:
        """Load the databases that load on first use now, ahead of need."""
        for database in self.databases:
            prepare = getattr(database, "prepare", None)
            if prepare is not None:
                prepare()

    def describe(self) -> list[dict[str, Any]]:
        """Every database, as report.json names it (loaded or not, and why not)."""
        out = []
        for database in self.databases:
            info = database.info()
            problem = getattr(database, "problem", None)
            out.append({"name": info.name if info else "MaxMind GeoLite2 (geoip2fast)",
                        "date": info.date if info else None,
                        "licence": info.licence if info else None,
                        "source": info.source if info else None,
                        "used": info is not None, "problem": problem})
        return out


# One bundled database per process: loaded once, shared by every catalog and session.
BUNDLED = Geoip2fastDatabase()


def bundled_databases() -> AddressDatabases:
    """The default: only the database geoip2fast installs."""
    return AddressDatabases((BUNDLED,))


def open_address_databases(paths: Sequence[Path]) -> AddressDatabases:
    """The user's `.mmdb` files (asked first, in the order given), then the bundled database.
    Raises AddressDatabaseError naming a file that cannot be used."""
    return AddressDatabases((*(MmdbDatabase(Path(p)) for p in paths), BUNDLED))
