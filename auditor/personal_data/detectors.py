"""Recognising personal data without being told: identifiers and device facts, by the key
they travel under and by the shape of their value.

Key names are compared after normalisation (lower case, letters and digits only), so
`advertisingId`, `advertising_id` and `$advertising_id` are one key. A value must also look
right for its kind (a UUID under an advertising-ID key, a Luhn-valid IMEI, ...), and
placeholder values (all-zero advertising IDs, iOS's fixed MAC) are ignored.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from auditor.personal_data.request_fields import Field

_NON_ALNUM = re.compile(r"[^a-z0-9]")
UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")
MAC = re.compile(r"\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b")
APPLE_MODEL = re.compile(r"\b(?:iPhone|iPad|iPod|Watch|AppleTV|MacBookPro|MacBookAir|iMac|"
                         r"Macmini|MacPro|Mac)\d{1,2},\d{1,2}\b")
IANA_ZONE = re.compile(r"^(?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|"
                       r"Indian|Pacific|Etc)/[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)?$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$", re.I)
# Endings of file names that are no top-level domain: `icon@2x.png` is not an address.
FILE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg", "pdf", "heic", "json",
                           "js", "css", "html", "plist", "txt", "mp4", "wav", "mp3"})
PLACEHOLDER_MACS = frozenset({"00:00:00:00:00:00", "02:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})

# kind -> normalised key names that carry it
KEYS: dict[str, frozenset[str]] = {
    "advertising-id": frozenset({
        "advertiserid", "advertisingid", "idfa", "gaid", "adid", "aaid", "googleadid",
        "googleadvertisingid", "ifa", "adidentifier", "adsid", "advertisingidentifier",
        "rida", "idfaidentifier"}),
    "device-id": frozenset({
        "deviceid", "anonid", "anonymousid", "installid", "installationid", "appinstanceid",
        "distinctid", "udid", "androidid", "idfv", "vendorid", "identifierforvendor",
        "localid", "hardwareid", "clientinstallid", "firebaseinstallationid", "fid",
        "devicetoken", "pushtoken", "machineid", "sessiondeviceid"}),
    "imei": frozenset({"imei", "meid", "deviceimei"}),
    "phone": frozenset({"phone", "phonenumber", "msisdn", "tel", "telephone", "mobile",
                        "mobilenumber", "ph"}),
    "hashed-email": frozenset({"em", "emailhash", "hashedemail", "sha256email", "emailsha256",
                               "hemail"}),
    "device-model": frozenset({"model", "devicemodel", "hardwaremodel", "modelname",
                               "devicetype", "hwmodel", "devicemodelname"}),
    "os-version": frozenset({"osversion", "systemversion", "osver", "platformversion",
                             "osv", "osbuild", "androidversion", "iosversion"}),
    "time-zone": frozenset({"timezone", "tz", "tzname", "devicetimezone", "timezonename",
                            "timezoneabbreviation", "timezoneoffset", "tzoffset",
                            "utcoffset"}),
    "locale": frozenset({"locale", "devicelocale", "language", "lang", "ul", "hl",
                         "languagecode", "systemlanguage", "applocale"}),
    "carrier": frozenset({"carrier", "carriername", "networkoperator",
                          "networkoperatorname", "simoperator", "simoperatorname",
                          "mobilecarrier", "operatorname", "telco"}),
    "city": frozenset({"city", "cityname", "geocity", "locationcity"}),
    "ip-address": frozenset({"ip", "ipaddress", "clientip", "userip", "ipv4", "ipv6",
                             "remoteip", "publicip"}),
    "meeting-id": frozenset({"meetingid", "meetingnumber", "meetingno", "confno", "confid",
                             "conferenceid", "meetingcode", "meetingurl", "joinurl",
                             "roomid", "callid"}),
    "meeting-topic": frozenset({"meetingtopic", "topic", "meetingname", "meetingtitle",
                                "conferencename", "subject"}),
    "participant-name": frozenset({"participantname", "displayname", "attendeename",
                                   "participants", "username", "screenname"}),
}
KEY_TO_KIND = {key: kind for kind, keys in KEYS.items() for key in keys}
LATITUDE_KEYS = frozenset({"lat", "latitude", "locationlat", "geolat"})
LONGITUDE_KEYS = frozenset({"lon", "lng", "long", "longitude", "locationlng", "locationlon",
                            "geolng", "geolon"})


@dataclass(frozen=True, slots=True)
class Detection:
    """A field recognised as a kind of personal data."""

    kind: str
    field: Field
    value: str
    why: str
    sdk: str | None = None  # the SDK format that gave the field its meaning


def normalise_key(key: str | None) -> str:
    """`$Advertising_ID` -> `advertisingid`."""
    return _NON_ALNUM.sub("", key.lower()) if key else ""


def _key_of(field: Field) -> str:
    """A field's normalised key; a custom header's `X-` prefix does not count, so
    `X-Device-Id` is a device-ID key like `device_id`."""
    if field.location == "header" and field.key and field.key.lower().startswith("x-"):
        return normalise_key(field.key[2:])
    return normalise_key(field.key)


def detect(fields: list[Field], client_ips: frozenset[str] = frozenset()) -> list[Detection]:
    """Everything recognisable in a request's fields."""
    out: list[Detection] = []
    coordinates: dict[str, dict[str, Field]] = {}
    for field in fields:
        key = _key_of(field)
        kind = KEY_TO_KIND.get(key)
        if kind is not None:
            detection = _by_key(kind, key, field, client_ips)
            if detection is not None:
                out.append(detection)
        elif key in LATITUDE_KEYS or key in LONGITUDE_KEYS:
            parent = field.path.rsplit(".", 1)[0] if "." in field.path else ""
            axis = "lat" if key in LATITUDE_KEYS else "lon"
            coordinates.setdefault(f"{field.location}:{parent}", {})[axis] = field
        out.extend(_by_value(field, client_ips))
    for pair in coordinates.values():
        if "lat" in pair and "lon" in pair and _is_coordinate(pair["lat"].value, 90) and \
                _is_coordinate(pair["lon"].value, 180):
            out.append(Detection("geolocation", pair["lat"],
                                 f"{pair['lat'].value},{pair['lon'].value}",
                                 "latitude/longitude pair"))
    return out


def _by_key(kind: str, key: str, field: Field,
            client_ips: frozenset[str]) -> Detection | None:
    value = field.value.strip()
    if not value or value.lower() in ("null", "none", "unknown", "undefined", "0", "false",
                                      "true", "[]", "{}", "n/a"):
        return None
    why = f"value under key '{field.key}'"
    if kind == "advertising-id":
        if not UUID.match(value) or is_placeholder_id(value):
            return None  # an all-zero ID means ad tracking is limited: nothing leaked
    elif kind == "device-id":
        if len(value) < 8 or value.startswith(("{", "[")) or is_placeholder_id(value):
            return None
    elif kind == "imei":
        digits = re.sub(r"\D", "", value)
        if len(digits) != 15 or not luhn_valid(digits):
            return None
        value = digits
    elif kind == "phone":
        if len(re.sub(r"\D", "", value)) < 7:
            return None
    elif kind == "hashed-email":
        if not SHA256_HEX.match(value) and not EMAIL.fullmatch(value):
            return None
    elif kind == "ip-address":
        if not _is_ip(value):
            return None
        if client_ips and value not in client_ips and not _is_public(value):
            return None
    elif kind in ("device-model", "os-version", "time-zone", "locale", "carrier", "city",
                  "meeting-topic", "participant-name") and (
                      value.startswith(("{", "[")) or len(value) > 200):
        return None
    return Detection(kind, field, value, why)


def _by_value(field: Field, client_ips: frozenset[str]) -> list[Detection]:
    value = field.value
    out: list[Detection] = []
    # Cheap character tests first: most values hold none of these shapes.
    if "@" in value:
        for match in EMAIL.finditer(value):
            if not _not_an_email(value, match):
                out.append(Detection("email", field, match.group(0), "an email address"))
    if len(value) >= 17 and (":" in value or "-" in value):
        for match in MAC.finditer(value):
            mac = match.group(0).lower().replace("-", ":")
            if mac not in PLACEHOLDER_MACS:
                out.append(Detection("mac-address", field, mac, "a MAC address"))
    if "," in value and (model := APPLE_MODEL.search(value)) and _key_of(
            field) not in KEYS["device-model"]:
        out.append(Detection("device-model", field, model.group(0), "an Apple model identifier"))
    stripped = value.strip()
    if "/" in stripped and IANA_ZONE.match(stripped) and _key_of(field) not in KEYS[
            "time-zone"]:
        out.append(Detection("time-zone", field, stripped, "an IANA time zone name"))
    if client_ips and stripped in client_ips and _key_of(field) not in KEYS[
            "ip-address"]:
        out.append(Detection("ip-address", field, stripped, "the client's own IP address"))
    return out


def _not_an_email(text: str, match: re.Match[str]) -> bool:
    """Email-shaped text that is not an address: the user part of a URL (`https://key@host/`,
    as in a Sentry DSN) or a file name with a scale suffix (`icon@2x.png`)."""
    if match.group(0).rsplit(".", 1)[1].lower() in FILE_SUFFIXES:
        return True
    before = text[: match.start()]
    if "://" in before:
        authority = before.rsplit("://", 1)[1]
        return not any(c in authority for c in "/?# \t\"'<>")
    return False


def is_placeholder_id(value: str) -> bool:
    """An identifier that identifies nothing: all zeros, as iOS gives for the IDFA when ad
    tracking is limited (00000000-0000-0000-0000-000000000000)."""
    digits = value.strip().replace("-", "")
    return bool(digits) and set(digits) == {"0"}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum (IMEIs and card numbers end in one)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        number = int(char)
        if position % 2:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def _is_coordinate(value: str, bound: float) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return -bound <= number <= bound and number != 0.0 and "." in value


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_public(value: str) -> bool:
    return ipaddress.ip_address(value).is_global
