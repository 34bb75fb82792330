"""Ticket references in a brief: finding them, naming their system, and building their links.

Pure: no HTTP, no database. What a person types is read as follows:

    #12345, ZD-12345                         Zendesk ticket 12345
    SUP-123                                  Jira issue SUP-123 (PROJECT-number; our own ESC-n excepted)
    https://acme.zendesk.com/agent/tickets/12345     Zendesk, by host
    https://acme.atlassian.net/browse/SUP-123        Jira, by host (also /servicedesk/customer/portal/n/SUP-123)

`ESCALATION_TICKET_URL_TEMPLATE` says where a ticket lives, per system, as comma-separated
`system=template` pairs with `{id}` (or `{key}`) standing for the ticket:

    zendesk=https://acme.zendesk.com/agent/tickets/{id},jira=https://acme.atlassian.net/browse/{key}

A template without `system=` applies to every system. A system left out falls back to its
adapter's base URL (ZENDESK_URL → /agent/tickets/{id}, JIRA_BASE_URL → /browse/{key}).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import urlsplit


class TicketSystem(str, Enum):
    ZENDESK = "zendesk"
    JIRA = "jira"

    @property
    def label(self) -> str:
        return {"zendesk": "Zendesk", "jira": "Jira"}[self.value]


@dataclass(frozen=True, order=True)
class TicketRef:
    system: TicketSystem
    key: str  # Zendesk: the number as text; Jira: the issue key, upper case

    @property
    def label(self) -> str:
        """How a person writes it: #12345 for Zendesk, SUP-123 for Jira."""
        return f"#{self.key}" if self.system is TicketSystem.ZENDESK else self.key

    @property
    def normalised(self) -> str:
        return f"{self.system.value}:{self.key}"


class TemplateError(ValueError):
    """ESCALATION_TICKET_URL_TEMPLATE cannot be read."""


# Words shaped like PROJECT-123 that are not tickets: our own refs, standards, encodings, CVEs.
NOT_JIRA_PROJECTS = frozenset(
    {"ESC", "UTF", "ISO", "RFC", "SHA", "MD", "CVE", "HTTP", "HTTPS", "TLS", "SSL", "IPV", "X", "WIN", "GMT", "UTC", "COVID", "PO", "INC"}
)

_ZENDESK_BARE = re.compile(r"(?<![\w&#/])#(\d{1,12})\b")
_JIRA_BARE = re.compile(r"(?<![\w/-])([A-Z][A-Z0-9_]{1,9})-(\d{1,9})\b")
_URL = re.compile(r"https?://[^\s<>|]+")
_ZENDESK_PATH = re.compile(r"^/(?:agent/tickets|tickets|hc/[^/]+/requests|requests|api/v2/tickets)/(\d+)(?:\.json)?/?$")
_JIRA_PATH = re.compile(
    r"^/(?:browse|servicedesk/customer/portal/\d+|jira/servicedesk/projects/[^/]+/queues/custom/\d+)/([A-Z][A-Z0-9_]+-\d+)/?$", re.IGNORECASE
)


@dataclass(frozen=True)
class TicketHosts:
    """Which hosts are which system. Vendor domains are recognised even when not configured."""

    zendesk: str | None = None
    jira: str | None = None

    @classmethod
    def from_urls(cls, zendesk_url: str | None, jira_url: str | None) -> TicketHosts:
        return cls(_host(zendesk_url), _host(jira_url))

    def system_of(self, host: str) -> TicketSystem | None:
        host = host.lower()
        if host == self.zendesk or host.endswith(".zendesk.com"):
            return TicketSystem.ZENDESK
        if host == self.jira or host.endswith(".atlassian.net"):
            return TicketSystem.JIRA
        return None


def _host(url: str | None) -> str | None:
    return (urlsplit(url).hostname or None) if url else None


def ref_from_url(url: str, hosts: TicketHosts) -> TicketRef | None:
    parts = urlsplit(url.rstrip(".,;:)"))
    system = hosts.system_of(parts.hostname or "")
    if system is TicketSystem.ZENDESK and (m := _ZENDESK_PATH.match(parts.path)):
        return TicketRef(system, str(int(m.group(1))))
    if system is TicketSystem.JIRA and (m := _JIRA_PATH.match(parts.path)):
        return TicketRef(system, m.group(1).upper())
    return None


def _jira_key(project: str, number: str) -> TicketRef | None:
    if project.upper() in NOT_JIRA_PROJECTS:
        return None
    if project.upper() == "ZD":  # support teams' shorthand for a Zendesk ticket: ZD-48213
        return TicketRef(TicketSystem.ZENDESK, str(int(number)))
    return TicketRef(TicketSystem.JIRA, f"{project}-{int(number)}")


def find_refs(text: str, hosts: TicketHosts = TicketHosts()) -> list[TicketRef]:
    """Every ticket reference in `text`, once each, in order of appearance."""
    found: dict[TicketRef, int] = {}
    urls = list(_URL.finditer(text))
    for m in urls:
        if (ref := ref_from_url(m.group(0), hosts)) is not None:
            found.setdefault(ref, m.start())
    bare_text = _URL.sub(lambda m: " " * len(m.group(0)), text)  # a URL's own path is not a bare ref
    for m in _ZENDESK_BARE.finditer(bare_text):
        found.setdefault(TicketRef(TicketSystem.ZENDESK, str(int(m.group(1)))), m.start())
    for m in _JIRA_BARE.finditer(bare_text):
        if (ref := _jira_key(m.group(1), m.group(2))) is not None:
            found.setdefault(ref, m.start())
    return [ref for ref, _ in sorted(found.items(), key=lambda item: item[1])]


def parse_ref(text: str, hosts: TicketHosts = TicketHosts()) -> TicketRef | None:
    """A single reference as typed (`#12345`, `SUP-123`, `12345` is not one: too ambiguous)."""
    refs = find_refs(text.strip(), hosts)
    return refs[0] if len(refs) == 1 else None


def parse_templates(spec: str | None) -> dict[TicketSystem, str]:
    """`zendesk=…{id},jira=…{key}` → per-system templates; a bare template covers every system."""
    templates: dict[TicketSystem, str] = {}
    if not spec or not spec.strip():
        return templates
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, sep, template = part.partition("=")
        if sep and not name.strip().lower().startswith("http"):
            try:
                systems = [TicketSystem(name.strip().lower())]
            except ValueError:
                raise TemplateError(f"{name.strip()!r} is not a ticket system (use zendesk or jira)") from None
        else:
            systems, template = list(TicketSystem), part
        template = template.strip()
        if not re.match(r"^https?://", template) or ("{id}" not in template and "{key}" not in template):
            raise TemplateError(f"{template!r} must be an http(s) URL containing {{id}} or {{key}}")
        for system in systems:
            templates[system] = template
    return templates


def default_templates(zendesk_url: str | None, jira_url: str | None) -> dict[TicketSystem, str]:
    out: dict[TicketSystem, str] = {}
    if zendesk_url:
        out[TicketSystem.ZENDESK] = zendesk_url.rstrip("/") + "/agent/tickets/{id}"
    if jira_url:
        out[TicketSystem.JIRA] = jira_url.rstrip("/") + "/browse/{key}"
    return out


def ticket_url(ref: TicketRef, templates: dict[TicketSystem, str]) -> str | None:
    template = templates.get(ref.system)
    return template.replace("{id}", ref.key).replace("{key}", ref.key) if template else None


def linkify(mrkdwn: str, templates: dict[TicketSystem, str]) -> str:
    """Bare references in already-escaped mrkdwn become `<url|label>` links; URLs and links are left
    alone (Slack shows them as links already)."""
    if not templates:
        return mrkdwn
    out, pos = [], 0
    # Skip existing URLs and <…> links; rewrite bare refs in the text between them.
    for m in re.finditer(r"<[^>\n]*>|https?://[^\s<>|]+", mrkdwn):
        out.append(_linkify_plain(mrkdwn[pos : m.start()], templates))
        out.append(m.group(0))
        pos = m.end()
    out.append(_linkify_plain(mrkdwn[pos:], templates))
    return "".join(out)


_BARE = re.compile(f"{_ZENDESK_BARE.pattern}|{_JIRA_BARE.pattern}")


def _linkify_plain(text: str, templates: dict[TicketSystem, str]) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1):
            ref: TicketRef | None = TicketRef(TicketSystem.ZENDESK, str(int(m.group(1))))
        else:
            ref = _jira_key(m.group(2), m.group(3))
        url = ticket_url(ref, templates) if ref else None
        return f"<{url}|{m.group(0)}>" if url else m.group(0)

    return _BARE.sub(one, text)


# An SLA due within this window is "at risk" when it pre-fills the brief's SLA position.
SLA_AT_RISK_WITHIN = timedelta(hours=4)
DEADLINE_MIN_LEAD = timedelta(minutes=5)  # the modal refuses deadlines closer than this


def sla_prefill(due_at: datetime, *, now: datetime, breached: bool = False) -> dict[str, str]:
    """The brief's SLA position and hard deadline from a ticket's SLA due time (modal initial values).

    Breached: position only (a past deadline cannot be submitted). Otherwise the SLA due time is
    the hard deadline, and the position is at risk when it is near."""
    if breached or due_at <= now:
        return {"sla_position": "breached"}
    position = "at_risk" if due_at - now <= SLA_AT_RISK_WITHIN else "compliant"
    out = {"sla_position": position}
    if due_at - now >= DEADLINE_MIN_LEAD:
        out["deadline"] = str(int(due_at.timestamp()))
    return out
