"""The dates a draft carries: when it was sent, and when the rejection it answers was.

From an .eml `Date:` header, front matter `date:` and `rejected:`, and the line a mail client
writes above a quoted original ("On Tue, 3 Mar 2026 at 09:12 +0100, Priya Shah wrote:",
Outlook's "Sent: Tuesday, March 3, 2026 9:12 AM"). Nothing is guessed: a month written as a
number between slashes (is 03/04 March or April?) or a date that cannot be read is no date.
A quoted time without a zone (Gmail and Outlook write none) is in the zone of the reply's
own date, the zone of the mail client that quoted it; any other time without a zone is
local time, and a day without a time is its midnight.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from email.utils import format_datetime, parsedate_to_datetime

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# The zone names RFC 5322 keeps from RFC 822; other abbreviations (CET, IST) mean different
# zones in different places.
_ZONE_NAMES = {"ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5,
               "mst": -7, "mdt": -6, "pst": -8, "pdt": -7}
_DATE = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    r"(?:(?P<iso_year>\d{4})-(?P<iso_month>\d{1,2})-(?P<iso_day>\d{1,2})"
    r"|(?P<day>\d{1,2})(?:st|nd|rd|th)?\.?\s+(?P<month>" + _MONTH + r"),?\s+(?P<year>\d{4})"
    r"|(?P<month2>" + _MONTH + r")\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year2>\d{4}))"
    r"(?:(?:,?\s+(?:at\s+)?|T)(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?:\s*(?P<half>[ap])\.?m\b\.?)?"
    r"(?:\s*\(?(?P<zone>[+-]\d{2}:?\d{2}|(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?|[A-Z]{1,3}T?)\)?(?![\w+-]))?)?",
    re.I,
)
_QUOTE_HEADER = re.compile(
    r"^On\s(?P<on>[^\r\n]{0,200}(?:\r?\n[^\r\n]{0,200})?)\swrote:[ \t]*\r?$"  # Gmail, Apple Mail, Thunderbird
    r"|^(?:Sent|Date):[ \t]*(?P<sent>[^\r\n]+)",  # Outlook's header block
    re.M,
)


class NotADate(ValueError):
    """A value written as a date that cannot be read as one."""


def parse(text: str, whole: bool = False, zone: tzinfo | None = None) -> datetime:
    """The date and time `text` starts with (all of `text`, with `whole`), as an aware datetime;
    one written without a zone is in `zone`, else local time."""
    text = text.strip()
    match = _DATE.match(text)
    if match is None or (whole and match.end() != len(text)):
        raise NotADate(text)
    parts = match.groupdict()
    year = parts["iso_year"] or parts["year"] or parts["year2"]
    month = parts["iso_month"] or parts["month"] or parts["month2"]
    day = parts["iso_day"] or parts["day"] or parts["day2"]
    month = int(month) if month.isdigit() else _MONTHS.index(month[:3].lower()) + 1
    hour, minute, second = (int(parts[key] or 0) for key in ("hour", "minute", "second"))
    if parts["half"]:
        if not 1 <= hour <= 12:
            raise NotADate(text)
        hour = hour % 12 + (12 if parts["half"].lower() == "p" else 0)
    written = _zone(parts["zone"]) if parts["zone"] else None
    if parts["zone"] and written is None and whole:
        raise NotADate(text)
    try:
        when = datetime(int(year), month, int(day), hour, minute, second, tzinfo=written or zone)
    except ValueError:
        raise NotADate(text) from None
    return when if when.tzinfo is not None else when.astimezone()  # local time


def _zone(text: str) -> timezone | None:
    name = text.lower()
    if name in _ZONE_NAMES:
        return timezone(timedelta(hours=_ZONE_NAMES[name]))
    offset = re.fullmatch(r"(?:utc|gmt)?([+-])(\d{1,2}):?(\d{2})?", name)
    if offset is None:
        return None
    sign, hours, minutes = offset.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta >= timedelta(hours=24):
        return None
    return timezone(-delta if sign == "-" else delta)


def from_value(value) -> datetime:
    """A front matter value (YAML gives a datetime, a date or a string) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.astimezone()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).astimezone()
    if isinstance(value, str):
        return parse(value, whole=True)
    raise NotADate(str(value))


def from_header(value: str | None) -> datetime | None:
    """An e-mail's Date header, or None when it has none or it is not a date."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)  # "-0000": UTC


def quoted(text: str, zone: tzinfo | None = None) -> datetime | None:
    """The date of the message a reply quotes: the first "On … wrote:" line or Outlook
    "Sent:" line in `text` (the part of a draft below what the writer wrote). The mail client
    that quoted it wrote the time in its own zone, mostly without saying which: `zone`, the
    zone of the reply's own date when it has one, else local time."""
    for match in _QUOTE_HEADER.finditer(text):
        try:
            return parse(match.group("on") or match.group("sent"), zone=zone)
        except NotADate:
            continue
    return None


def as_written(when: datetime, like: str = "") -> str:
    """A date and time to put in a draft, in the form `like` has (an e-mail Date header, or
    the ISO form front matter uses)."""
    if like and not like[:1].isdigit():
        return format_datetime(when)
    offset = when.strftime("%z")
    return f"{when:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def duration(text: str) -> timedelta:
    """"12h", "36 hours", "4w", "2 weeks", "90m", "3d" as a timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*", text, re.I)
    if match is None:
        raise ValueError(text)
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)[0].lower()]
    return timedelta(**{unit: float(match.group(1))})


def spoken(delta: timedelta) -> str:
    """A length of time as people say it: "40 minutes", "5 hours", "9 days", "3 weeks"."""
    minutes = round(delta.total_seconds() / 60)
    for unit, size in (("week", 7 * 24 * 60), ("day", 24 * 60), ("hour", 60)):
        if minutes >= 2 * size or (unit == "hour" and minutes >= size):
            count = round(minutes / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
