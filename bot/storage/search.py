"""Full-text search over briefs: recurring-pattern matching and `/escalate search`.

The database matches and ranks (SQLite: FTS5 and bm25; PostgreSQL: a tsvector column, ts_rank and
ts_rank_cd); Python turns text into a short list of safe terms, and scores a bounded number of
candidates. User text never reaches either query language as syntax: terms are reduced to
[a-z0-9]+ before they are quoted or joined.

Both databases index `escalation.search_text`: the brief's text normalised here (lower case, no
accents, punctuation turned to spaces, abbreviations and common typos spelled out, thesaurus concepts
added), so `ERR_SSO_4031`, `/api/v2/export`, `e-mail` or `notifs` become the same words on both, and
both stem them (porter / english snowball).

Matching (issue 18: rank, let people confirm, link automatically only on high confidence) is two
stages. Candidates: the CANDIDATES best-ranked briefs of the window for an OR of the brief's telling
words, plus, when the brief has an embedding (bot.embeddings, stored in escalation_embedding), the
SEMANTIC_CANDIDATES briefs of the window closest in meaning. Scoring (`_verified`), two signals:
- lexical: the cosine of symptom profiles (`profile`): content words, thesaurus concepts and the
  failure family weighted up, summary words and error codes above narrative words, generic words
  ("app", "integration", "show") barely counted, customer names left out. Two briefs that name
  different failures are not ruled out (one cause is often told as two symptoms);
- semantic: the cosine of the two embeddings (same model only), rescaled from SEMANTIC_FLOOR.
Each candidate sharing at least EVIDENCE_FLOOR (`combined`, depending only on the two briefs) is
ranked by each signal, and the ranks are fused (reciprocal rank fusion): that orders the
suggestions (the SUGGESTIONS best from other customers are offered to people). The product area is
a mild hint (OTHER_AREA_FACTOR; "Other" is none). A score reaches AUTO_LINK_SCORE only when the
signals agree (`automatic`: among the first AUTO_MAX_RANK by both, both similarities high, a shared
component) and the two briefs come from different customers. Briefs without a vector of the current
model are ranked by their words alone.
benchmarks/pattern_matching.py prints the figures (tuning set and frozen holdout, both engines).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, select
from sqlalchemy import text as sql
from sqlmodel import Session

from bot.domain.brief import Destination
from bot.domain.product_areas import matching_hint
from bot.storage.models import Escalation, EscalationEmbedding
from bot.storage.types import UTCDateTime

FTS_TABLE = "escalation_fts"  # SQLite only: FTS5 over escalation.search_text (external content)
VECTOR_COLUMN = "search_vector"  # PostgreSQL only: generated tsvector column with a GIN index
VECTOR_INDEX = "ix_escalation_search_vector"
WINDOW_INDEX = "ix_escalation_team_created"  # both: (team_id, created_at), where matching starts
MATCH_LOOKUP_INDEX = "ix_escalation_match_lookup"  # SQLite only: (id, team_id, created_at), each match's workspace and date

# Ranking, not a threshold, decides what people see (issue 18): the SUGGESTIONS best earlier briefs
# scoring at least SUGGEST_MIN_SCORE are offered for confirmation (*Same problem* / *Not related*);
# only a match scoring at least AUTO_LINK_SCORE is linked automatically (high confidence).
SUGGESTIONS = 5
SUGGEST_MIN_SCORE = 0.1
AUTO_LINK_SCORE = 0.33  # a match's score: from here up, linked automatically (scores below it are kept under 0.325)
# Profile weights: tuned on the "dev" briefs of tests/data/pattern_briefs.json only.
MAX_TERMS = 24  # a brief yields up to hundreds of words; its summary and most repeated ones carry the symptom
FAILURE_CONCEPT_WEIGHT = 2.0  # a failure concept (timeout, duplicate...) in a profile counts this much; any other word 1
COMPONENT_CONCEPT_WEIGHT = 1.5  # a component concept (export, sso, webhook...)
SUMMARY_WEIGHT = 1.5  # a word of the summary (the first line) counts this much more than one of the narrative
CODE_WEIGHT = 1.5  # an error or status code
GENERIC_WEIGHT = 0.25  # a word any brief may use ("app", "integration", "show"): almost no evidence
PROFILE_FAMILY_WEIGHT = 1.0  # the failure family, as one more feature of the profile
OTHER_COMPONENT_FACTOR = 0.8  # both name components (concepts), none in common
SIGNATURE_BONUS = 0.05  # both name the same failure family on the same component concept ("export" + "slow")
# Combining the signals (_verified). Tuned on the tuning data only (pattern_briefs*.json and, mainly,
# the harder pattern_tuning_hard.json); benchmarks/pattern_matching.py prints the figures.
RRF_K = 10  # reciprocal rank fusion: 1/(RRF_K + rank) per signal (k 3–60 and shares 0.4–0.6 measured alike)
RRF_LEXICAL_SHARE = 0.5  # the lexical rank's share of the fused score
LEXICAL_SHARE = 0.5  # combined(): the evidence two briefs share, 0.5 lexical + 0.5 rescaled semantic
SEMANTIC_FLOOR = 0.3  # the embeddings' cosine is rescaled from SEMANTIC_FLOOR..1 to 0..1
EVIDENCE_FLOOR = 0.02  # a candidate sharing less evidence is never suggested (0.08 lost a tenth of the hard set's hits)
AUTO_MAX_RANK = 3  # an automatic link: among the first 3 by words and by meaning,
AUTO_MIN_LEXICAL = 0.4  # with a lexical similarity of at least this,
AUTO_MIN_SEMANTIC = 0.3  # a rescaled semantic one of at least this, a shared component and another customer
AUTO_LEXICAL_ALONE = 0.65  # without vectors: among the first 3 by words, with a lexical similarity of at least this
SEARCH_POOL = 60  # /escalate search: candidates ranked by coverage (and meaning)
SEARCH_LEXICAL_SHARE = 0.3  # coverage's share: meaning ranks a search better than words do (hard tuning set: 0.6 gave P@5 0.76, 0.3 0.81; rank fusion 0.73)
SEARCH_MIN_MEANING = 0.4  # a brief sharing none of the words is shown only this close in meaning (rescaled cosine)
SEARCH_FEEDBACK = 2  # the first ranking's best briefs that refine it (_with_feedback); 0: no feedback (tuning sets: 2 and 3 alike)
SEARCH_FEEDBACK_WEIGHT = 0.5  # closeness to them: its share of the final score (tuning sets: 0.35-0.65 measured alike)
SEARCH_FEEDBACK_LEXICAL = 0.5  # closeness to them by words (profiles), the rest by meaning (their vectors' centroid)
SEARCH_FEEDBACK_MIN_CLOSENESS = 0.2  # found only through feedback, sharing no word: shown this close to the best briefs (0: an SSO brief for "export timeout")
WINDOW_RECHECK_SECONDS = 30.0  # how often a window in memory is compared with the table (a brief embedded late shows up by then)
SEARCH_SINCE = datetime(2000, 1, 1, tzinfo=UTC)  # /escalate search: all time (by meaning: the RECENT_POOL most recent)
WINDOW_CACHE = 8  # (workspace, model) windows of vectors kept in memory per process: up to RECENT_POOL x 1 KB each
SEMANTIC_CANDIDATES = 30  # nearest briefs by meaning verified beside the full-text candidates
EMBEDDING_TABLE = "escalation_embedding"
PG_RANK_NORMALIZATION = 1  # ts_rank(_cd): divide by 1 + log(document length), so long briefs don't win by size
# Product areas are a hint, not a rule: briefs of one symptom are filed under different areas or none,
# and near misses often share the area. Requiring the same area lost a third of the true pairs; a mild
# penalty for different areas measured best on the dev split.
OTHER_AREA_FACTOR = 0.9  # similarity multiplier when both briefs name a product area and they differ
# Best-ranked rows of the candidate stage that are verified (about 25 µs each). ts_rank has no IDF, so it
# ranks a true match lower than bm25 does: at 100k briefs its top 50 lost true matches that its top 200 kept.
CANDIDATES = {"sqlite": 50, "postgresql": 200}
SEARCH_TERMS = 16  # /escalate search: more words than this are ignored
RECENT_POOL = 3000  # only this many most recent matches are ranked (a 30-day window at 100k briefs/3 years: ~2,100)
RANK_POOL = 200  # PostgreSQL: of those, ts_rank preselects this many for ts_rank_cd

# English function words (PostgreSQL's list drops them too; FTS5 has none) and words every brief
# uses whatever its symptom ("customer", "since", "error"): matching on them only adds noise.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below between both
    but by can cannot could did do does doing don down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just let me more most my myself no nor not now of off
    on once only or other ought our ours ourselves out over own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    s t re ve ll d m via per etc eg ie vs
    customer customers client clients user users team teams account accounts company people staff
    since today yesterday week weeks day days hour hours morning afternoon monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october november december
    issue issues problem problems error errors reported reports says said tried try trying still get gets got see sees
    saw seen works working work worked every new one two three first need needs needed want wants able unable
    """.split()
)
# Words any brief may use whatever its symptom, kept as terms (people search for them) but worth
# almost nothing as evidence of the same problem ("slow wildcard search" is not "slow dashboards"
# because both "show" something in the "app").
GENERIC_WORDS = frozenset(
    """
    app apps application platform product tool system feature features page pages screen screens button click clicks
    integration integrations show shows shown showing display displays displayed view views use uses using used make
    makes made way thing things set setting settings data item items list lists everything anything something nothing
    time times thing corp inc ltd llc gmbh ago again now back around later currently suddenly anymore longer random
    randomly sometimes several many much lot lots total all some few whole every each other another different same
    browser chrome safari firefox edge windows mac macos laptop desktop web site website portal link links open opens
    opened go goes going went come comes came look looks keep keeps kept happen happens happened started start starts
    plan plans enterprise business pro admin admins manager managers lead owner owners member members ops finance
    mobile email notification
    """.split()
)

# A thesaurus of support vocabulary: each concept word is added after any of its spellings, in the
# index and in queries alike, so "spins forever" meets "504" (both gain "hang"/"timeout") and
# "double billing" meets "charged twice". Concepts are general SaaS support terms, not per-customer.
THESAURUS: dict[str, str] = {
    # failure modes
    "timeout": r"time ?outs?|timed ?out|times ?out|timing ?out|504|gateway time ?out|deadline exceeded|request took too long",
    "hang": r"spins? forever|spinner|spinning|never (?:completes?|finish(?:es)?|loads?|ends)|hangs?|hanging|freez(?:es|e|ing)|frozen|stuck (?:at|on) \d+|stays? at \d+|(?:won t|doesn t|does not|didn t|never) (?:finish|complete|load)|keeps? loading|loading forever",
    "slow": r"slow(?:ly|ness|er)?|sluggish|laggy|lags?|crawl(?:s|ing)?|latency|takes (?:ages|forever|minutes|\d+ (?:seconds|minutes|secs|mins))|performance degradation|unusabl[ey]",
    "crash": r"crash(?:es|ed|ing)?|closes immediately|force clos(?:e|es|ed)|force quits?|quits unexpectedly|fatal exception|segfault|app dies|white screen",
    "outage": r"outage|down for everyone|service unavailable|503|500 internal server error|internal server error|unreachable",
    "loop": r"redirect loop|too many redirects|redirected you too many times|redirect(?:s|ed)? (?:back|again)|bounc(?:e|es|ing) back|over and over|endless(?:ly)? redirect\w*|back and forth|infinite loop|(?:login|sign ?in) loop|page (?:just )?(?:reloads|refreshes)|keeps? (?:reloading|refreshing)|(?:sent|kicked|taken|dumped|thrown) back to (?:the )?(?:login|sign ?in|start)",
    "forbidden": r"403|blocked from|(?:can t|cannot) (?:open|access)|forbidden|access denied|permission denied|not authori[sz]ed|don t have permission|lost access|no access",
    "unauthenticated": r"401|unauthori[sz]ed|invalid token|token expired|session expired|invalid grant|refresh token|(?:token|grant|authori[sz]ation)s? (?:has |have )?(?:expired|revoked)",
    "disconnected": r"disconnect(?:s|ed|ing)?|re ?connect(?:s|ed|ing)?|re ?authori[sz]e[sd]?|re ?auth|connection (?:lost|dropped|broken)|keeps? logging out|logged out",
    "ratelimit": r"rate ?limit(?:s|ed|ing)?|throttl(?:e|ed|es|ing)|429|too many requests|quota exceeded",
    "undelivered": r"not (?:being )?delivered|never (?:arrives?|arrived|delivered)|not arriving|stopped (?:firing|arriving|triggering|sending)|no (?:events|deliveries)|hours late|delayed by \d+",
    "notreceived": r"(?:never|don t|doesn t|do not|no longer|didn t|aren t|isn t|stopped) (?:get|gets|getting|receive|receives|receiving|see|seeing)|not (?:received|receiving|getting|coming through)|none (?:got|received)",
    "bounce": r"bounc(?:e|es|ed)|hard ?bounce|rejected by|550|dmarc|dkim|spf|spam folder|junk folder",
    "dataloss": r"los(?:e|es|ing|t) (?:\w+ ){0,2}(?:changes|edits|data|notes|work|records|reports|entries|files)|(?:are|is|were|was|get|gets|got|been) lost|data loss|vanish(?:es|ed)?|disappear(?:s|ed)?|are gone|is gone|overwritten|wiped|discard(?:s|ed|ing)",
    "duplicate": r"duplicat(?:e|es|ed|ion|ing)|dupes?|dup(?:s|ed)|twice|double(?:d)?|2x|x2|two copies|multiple copies|same (?:\w+ ){0,2}(?:two|2|three|3) times|(?:two|2|three|3) times|triplicate",
    "doublecharge": r"charged twice|billed twice|double (?:billing|billed|charged?|charges)|duplicate (?:charges?|payments?|invoices?|debits?)|two (?:identical )?(?:charges|debits|payments)",
    "encoding": r"encoding|mojibake|garbled|mangled?|garbage characters|broken characters|utf ?8|latin ?1|byte order mark|bom|accent(?:s|ed)?|umlauts?|diacritics?|special characters",
    "stale": r"stale|out of date|outdated|hours behind|index(?:ing)? lag|backlog|not (?:yet )?indexed|old (?:name|title|value)",
    "wrongvalue": r"(?<!went )wrong|incorrect|inaccurate|mismatch(?:ed|es)?|does not match|doesn t match|miscalculat(?:ed|es|ion)",
    "missingdata": r"missing|empty|blank|not (?:shown|showing|displayed)",
    "toolarge": r"413|too (?:large|big)|payload too large|entity too large|(?:file )?size limit|exceeds? (?:the )?(?:maximum|max|limit|size)|max(?:imum)? (?:file |upload )?size|(?:over|above|larger than|bigger than) \d+ ?(?:mb|gb|megabytes?)",
    "timeshift": r"time ?zones?|tz|dst|daylight sav(?:ing|ings)|summer time|clocks? (?:go|went|changed)|(?:one|an|1) hour (?:off|early|late|earlier|later|ahead|behind|out)|utc offset|wrong time|shifted by (?:one|an|1) hour",
    "notfound": r"(?:can t|cannot|could not|couldn t|doesn t|does not|don t|do not) (?:find|show up|appear)|not (?:found|returned|showing up|appearing)|finds? nothing|nothing back|no results|(?:0|zero) results",
    "exposure": r"data (?:leak|exposure)|exposed|leak(?:s|ed|ing)?|other tenant|another tenant|can see .{0,20}(?:not|n t) (?:allowed|supposed)",
    # components and spellings
    "login": r"(?:log|logs|logged|logging|sign|signs|signed|signing) ?(?:in|on)|logon|signin",
    "sso": r"single sign ?on|saml|okta|azure ad|entra|onelogin|ping ?identity|idp|identity provider|adfs",
    "twofactor": r"two ?factor|2fa|mfa|multi ?factor|otp|one time (?:code|password|passcode)|verification codes?|security codes?|login codes?|sms codes?|authenticator",
    "sms": r"sms|text messages?|texts?|texted",
    "webhook": r"webhooks?|callbacks?|zapier|zaps?|event notifications?",
    "signature": r"signatures?|hmac|signing (?:secret|key)|sha ?256|signed payloads?|x hub signature",
    "push": r"push(?: notifications?| alerts?| messages?)?|apns|fcm|firebase",
    "notification": r"notifications?|notifs?|notif|alerts?",
    "crm": r"crm|salesforce|sfdc|hubspot|pipedrive|dynamics 365|zoho",
    "oauth": r"oauth ?2?|access tokens?|refresh tokens?|grants?|consent",
    "microsoft": r"microsoft|outlook|office ?365|o365|m365|exchange online|exchange|hotmail|live com|msn",
    "calendar": r"calendars?|calender|gcal|google calendar|ical|events? sync",
    "schedule": r"schedul(?:e|es|ed|ing)|recurring|cron|reminders?",
    "readonly": r"read ?only|view ?only|viewers?|guests?|guest access|external (?:users?|collaborators?)|(?:can t|cannot|unable to) edit",
    "sync": r"synchroni[sz](?:e|es|ed|ing|ation)|syncs?|synced|syncing",
    "offline": r"offline|no (?:signal|reception|coverage|connectivity|network)|without (?:signal|coverage|connectivity|a connection|network)|airplane mode|flight mode",
    "export": r"exports?|exported|exporting|download(?:s|ed|ing)?",
    "import": r"imports?|imported|importing|importer",
    "upload": r"upload(?:s|ed|ing|er)?|attach(?:ment|ments|ed|ing)?|file picker",
    "invoice": r"invoices?|invoiced|bill(?:s|ed|ing)?|receipts?",
    "payment": r"payments?|charge(?:s|d)?|debit(?:s|ed)?|card|refund(?:s|ed)?|chargeback",
    "email": r"e ?mails?|mailbox(?:es)?|inbox",
    "mobile": r"mobile|ios|android|iphone|ipad|phone app|tablet",
    "permission": r"permissions?|roles?|access rights|privileges?",
    "api": r"api|rest|endpoint|graphql|sdk",
}
# What failed, as opposed to where: concepts of one family are one symptom told differently
# ("times out" and "spins forever"; "never arrives" and "bounces").
FAILURE_FAMILY: dict[str, str] = {
    "timeout": "slow",
    "hang": "slow",
    "slow": "slow",
    "crash": "crash",
    "outage": "outage",
    "loop": "loop",
    "forbidden": "denied",
    "unauthenticated": "denied",
    "ratelimit": "ratelimit",
    "undelivered": "undelivered",
    "notreceived": "undelivered",
    "bounce": "undelivered",
    "dataloss": "dataloss",
    "duplicate": "duplicate",
    "doublecharge": "duplicate",
    "encoding": "encoding",
    "stale": "stale",
    "toolarge": "toolarge",
    "timeshift": "timeshift",
    "disconnected": "denied",
    "wrongvalue": "wrongvalue",
    "missingdata": "missing",
    "notfound": "missing",
    "exposure": "exposure",
}
# Abbreviations and frequent typos of support vocabulary, spelled out before the thesaurus reads them.
SPELLINGS: dict[str, str] = {
    "notifs": "notifications",
    "notif": "notification",
    "notifcations": "notifications",
    "notfications": "notifications",
    "notificaitons": "notifications",
    "dupes": "duplicates",
    "dupe": "duplicate",
    "dups": "duplicates",
    "dupl": "duplicate",
    "pwd": "password",
    "pw": "password",
    "passwd": "password",
    "acct": "account",
    "msg": "message",
    "msgs": "messages",
    "cal": "calendar",
    "calender": "calendar",
    "perms": "permissions",
    "permision": "permission",
    "permisions": "permissions",
    "auth": "authentication",
    "authn": "authentication",
    "config": "configuration",
    "cfg": "configuration",
    "prod": "production",
    "db": "database",
    "txn": "transaction",
    "txns": "transactions",
    "org": "organization",
    "orgs": "organizations",
    "dl": "download",
    "dld": "downloaded",
    "attch": "attachment",
    "attachement": "attachment",
    "attachements": "attachments",
    "recieve": "receive",
    "recieved": "received",
    "recieving": "receiving",
    "seperate": "separate",
    "occured": "occurred",
    "untill": "until",
    "sucessful": "successful",
    "succesful": "successful",
    "emial": "email",
    "paymnet": "payment",
    "payemnt": "payment",
    "lgoin": "login",
    "loign": "login",
    "exprot": "export",
    "exoprt": "export",
    "dashbaord": "dashboard",
    "dashbord": "dashboard",
    "dash": "dashboard",
    "invocie": "invoice",
    "inovice": "invoice",
    "accesss": "access",
    "acess": "access",
    "duplicaet": "duplicate",
    "dupliate": "duplicate",
    "syncing": "sync",
    "sync d": "synced",
    "synch": "sync",
    "timout": "timeout",
    "timeing": "timing",
    "reciept": "receipt",
    "subscripton": "subscription",
    "sub": "subscription",
    "subs": "subscriptions",
    "repo": "repository",
    "info": "information",
    "docs": "documents",
    "doc": "document",
    "pic": "picture",
    "pics": "pictures",
    "img": "image",
    "imgs": "images",
    "sec": "seconds",
    "secs": "seconds",
    "min": "minutes",
    "mins": "minutes",
    "hr": "hours",
    "hrs": "hours",
    "approx": "approximately",
    "w o": "without",
    "cant": "can t",
    "wont": "won t",
    "doesnt": "doesn t",
    "dont": "don t",
    "isnt": "isn t",
    "arent": "aren t",
    "didnt": "didn t",
    "couldnt": "couldn t",
    "ppl": "people",
    "pdfs": "pdf",
    "sso d": "sso",
    "o365": "office 365",
    "gcal": "google calendar",
    "sfdc": "salesforce",
    "2fa": "two factor",
    "mfa": "multi factor",
}
_SPELLED = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(SPELLINGS, key=len, reverse=True))) + r")\b")
_CONCEPTS = [(re.compile(r"\b(?:" + spellings + r")\b"), concept) for concept, spellings in THESAURUS.items()]
# Words of customer names that also name a thing: kept when names are removed from a brief's evidence.
_NAME_KEEP = frozenset("the and of inc corp co ltd llc gmbh sarl group health bank labs".split())
_NON_WORD = re.compile(r"[\W_]+")
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Match:
    escalation_id: int
    score: float  # higher is closer; similar_escalations: relative (about 0..1), search_escalations: the raw rank


# Where a destination's package keeps what the customer saw fail (the error text, the observed outcome,
# logs): indexed for every destination whose package collects them, not only Engineering's.
EVIDENCE_FIELDS = ("error_text", "error", "observed", "logs")
PACKAGES = ("engineering", "support_l2", "product", "security", "leadership")


def evidence_text(brief: dict[str, Any]) -> str:
    """The error text, observed outcome and logs of the brief's package, whichever it collects."""
    parts: list[str] = []
    for name in PACKAGES:
        package = brief.get(name)
        if not isinstance(package, dict):
            continue
        for holder in (package.get("reproduction"), package):
            if isinstance(holder, dict):
                parts += [v for key in EVIDENCE_FIELDS if isinstance(v := holder.get(key), str)]
    return "\n".join(p.strip() for p in parts if p.strip())


def searchable_text(brief: dict[str, Any]) -> str:
    """The symptom as people describe it: summary (first line), narrative, and the package's error text, observed outcome and logs."""
    parts = (brief.get("summary"), brief.get("narrative"), evidence_text(brief))
    return "\n".join(p.strip() for p in parts if p and p.strip())


def customer_names(brief: dict[str, Any]) -> str:
    """The brief's "which customers" (its words are not evidence of a symptom)."""
    return str(((brief.get("impact") or {}).get("affected_names")) or "")


def embedding_text(brief: dict[str, Any]) -> str:
    """What a brief's vector is computed from: the symptom twice weighted (summary and error text), then
    the narrative; customer names removed (a name is not a symptom)."""
    summary, evidence = str(brief.get("summary") or ""), evidence_text(brief)
    text = "\n".join(p for p in (summary, evidence, summary, str(brief.get("narrative") or ""), evidence) if p)
    return without_names(text, customer_names(brief))


def without_names(text: str, names: str) -> str:
    words = {w for w in _TOKEN.findall(_plain(names)) if len(w) > 2 and w not in _NAME_KEEP}
    if not words:
        return text
    return re.sub(r"\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b(?:['’]s)?", " ", text, flags=re.IGNORECASE)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=64)  # a new brief's text is put in index form 4 times (search, query terms, verification, index)
def index_form(text: str) -> str:
    """What the index holds: lower case, no accents, no punctuation, abbreviations and common typos
    spelled out and thesaurus concepts added (each after the words it was found in)."""
    plain = _NON_WORD.sub(" ", _plain(text)).strip()
    plain = _SPELLED.sub(lambda m: f"{m.group(0)} {SPELLINGS[m.group(0)]}", plain)
    for pattern, concept in _CONCEPTS:
        plain = pattern.sub(lambda m: f"{m.group(0)} {concept}", plain)
    return plain


@functools.lru_cache(maxsize=8192)  # candidates' summaries: each new brief verifies mostly the same recent ones
def _summary_form(summary: str) -> str:
    return str(index_form.__wrapped__(summary))


def search_text_of(brief: dict[str, Any], resolution: str | None = None, lessons: str | None = None) -> str:
    """escalation.search_text: what support learned is found too (a resolution, a de-escalation's findings, lessons learned)."""
    return index_form("\n".join(p for p in (searchable_text(brief), resolution, lessons) if p))


def index_new(session: Session, row: Escalation) -> None:
    """Index a row's search_text as it now reads: just inserted, or its old text already removed (PostgreSQL's column indexes itself)."""
    if _dialect(session) == "sqlite":
        session.execute(sql(f"INSERT INTO {FTS_TABLE} (rowid, search_text) VALUES (:id, :new)"), {"id": row.id, "new": row.search_text})


def index_escalation(session: Session, escalation_id: int) -> None:
    """(Re)index one escalation from its row; call after any change to its brief or resolution."""
    row = session.get(Escalation, escalation_id)
    if row is None:
        raise LookupError(f"escalation {escalation_id} does not exist")
    new = search_text_of(row.brief, row.resolution, row.lessons)
    old = row.search_text
    if new == old:
        return
    if _dialect(session) == "sqlite":
        # External-content FTS5 forgets a row only when told exactly what it indexed: the old text.
        if old is not None:
            session.execute(sql(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, search_text) VALUES ('delete', :id, :old)"), {"id": row.id, "old": old})
    row.search_text = new  # PostgreSQL recomputes search_vector from it
    index_new(session, row)
    session.add(row)
    session.flush()


def query_terms(text: str, *, limit: int | None = MAX_TERMS) -> list[str]:
    """Distinct content words of `text`, most telling first: the first line's, then by repetition, then by position."""
    tokens = [t for t in _TOKEN.findall(index_form(text)) if _is_term(t)]
    counts = Counter(tokens)
    first_line = set(_TOKEN.findall(index_form(text.split("\n", 1)[0])))
    position: dict[str, int] = {}
    for i, token in enumerate(tokens):
        position.setdefault(token, i)
    ordered = sorted(counts, key=lambda t: (t not in first_line, -counts[t], position[t]))
    return ordered[:limit] if limit else ordered


def _is_term(token: str) -> bool:
    if token in STOP_WORDS or len(token) < 2:
        return False
    if token.isdigit():
        return len(token) == 3  # status codes (404, 429, 550) tell; counts, years and ids do not
    return True


def similar_escalations(
    session: Session,
    *,
    team_id: str,
    text: str,
    product_area: str | None,
    since: datetime,
    exclude_id: int | None = None,
    limit: int = 20,
    names: str = "",
    vector: np.ndarray | None = None,
    model: str | None = None,
    min_score: float | None = None,
) -> list[Match]:
    """Briefs of this workspace created at or after `since` that describe the same symptom as `text`
    (its first line the summary), best first, each scored 0..1 (`score`).

    `names`: the brief's customer names (not evidence). `vector`/`model`: its embedding, when an
    embedder is configured: briefs embedded by the same model are also found by meaning and scored
    with both signals; the others lexically. `min_score`: the floor (SUGGEST_MIN_SCORE by default)."""
    terms = query_terms(without_names(text, names))
    dialect = _dialect(session)
    candidates: dict[int, Any] = {}
    if terms:
        for row in _ranked(session, dialect, terms, "OR", team_id=team_id, since=since, exclude_id=exclude_id, limit=CANDIDATES[dialect], coarse=True):
            candidates[row.id] = row
    if vector is not None and model:
        nearest = _nearest(session, team_id=team_id, since=since, exclude_id=exclude_id, vector=vector, model=model)
        missing = [i for i in nearest if i not in candidates]
        if missing:
            for row in _rows_by_id(session, dialect, missing):
                candidates[row.id] = row
    if not terms and not candidates:
        return []
    return _verified(text, product_area, list(candidates.values()), limit, names=names, vector=vector, model=model, min_score=min_score)


def similar_among_newer(
    session: Session,
    *,
    team_id: str,
    text: str,
    product_area: str | None,
    after_id: int,
    exclude_id: int | None = None,
    limit: int = 20,
    names: str = "",
    vector: np.ndarray | None = None,
    model: str | None = None,
    min_score: float | None = None,
) -> list[Match]:
    """Like similar_escalations, over the briefs stored after `after_id` only (no full-text stage:
    they are few). A brief's search runs before its write transaction, so it cannot hold the write
    lock for long; this closes the gap inside that transaction (briefs that came in meanwhile)."""
    dialect = _dialect(session)
    query = f"SELECT {_candidate_columns(dialect, 'x')} {_candidate_from('x')} WHERE x.team_id = :team AND x.id > :after"
    params: dict[str, Any] = {"team": team_id, "after": after_id}
    if exclude_id is not None:
        query += " AND x.id <> :exclude"
        params["exclude"] = exclude_id
    rows = _rows(session, query, params)
    return _verified(text, product_area, rows, limit, names=names, vector=vector, model=model, min_score=min_score)


def _candidate_columns(dialect: str, e: str) -> str:
    """What verification reads of a candidate: its text, summary, customer names, area and vector."""
    names = f"json_extract({e}.brief, '$.impact.affected_names')" if dialect == "sqlite" else f"({e}.brief -> 'impact' ->> 'affected_names')"
    return (
        f"{e}.id AS id, {e}.product_area AS product_area, {e}.destination AS destination, {e}.search_text AS search_text, {e}.summary AS summary, "
        f"{names} AS names, v.vector AS vector, v.model AS model"
    )


def _candidate_from(e: str) -> str:
    return f"FROM escalation AS {e} LEFT JOIN {EMBEDDING_TABLE} AS v ON v.escalation_id = {e}.id"


def _rows_by_id(session: Session, dialect: str, ids: list[int]) -> list[Any]:
    statement = sql(f"SELECT {_candidate_columns(dialect, 'x')} {_candidate_from('x')} WHERE x.id IN :ids").bindparams(bindparam("ids", expanding=True))
    return list(session.execute(statement, {"ids": ids}))


def _nearest(session: Session, *, team_id: str, since: datetime, exclude_id: int | None, vector: np.ndarray, model: str, refresh: bool = True) -> list[int]:
    """The SEMANTIC_CANDIDATES briefs of the window whose vectors (of `model`) are closest to `vector`:
    the window's RECENT_POOL most recent vectors, one matrix product.

    The window's vectors stay in memory between briefs (_WINDOWS): each new brief reads only the
    vectors stored since the last one, and one count on the embedding table's (team_id, model,
    created_at) index tells whether anything else changed (a brief embedded later by the scheduler,
    a deleted one), in which case the window is read again. `refresh=False`: a second look in the
    same request (search's feedback), at the window as the first one left it."""
    with _WINDOWS.lock:
        window = _WINDOWS.current(session, team_id, model, since, scope="all" if since <= SEARCH_SINCE else "window", refresh=refresh)
        if window is None or not len(window.ids):
            return []
        query_vector = np.asarray(vector, dtype=np.float32)
        if window.matrix.shape[1] != query_vector.shape[0]:
            return []
        closeness = window.matrix @ query_vector
        if exclude_id is not None:
            closeness[window.ids == exclude_id] = -np.inf
        best = np.argsort(-closeness, kind="stable")[:SEMANTIC_CANDIDATES]
        return [int(window.ids[i]) for i in best if np.isfinite(closeness[i])]


@dataclass
class _Window:
    ids: np.ndarray  # int64, escalation ids
    created: np.ndarray  # float64, POSIX seconds
    matrix: np.ndarray  # float32, one row per id
    floor: float  # the oldest `since` this holds every vector from (up to RECENT_POOL)
    checked: float = field(default_factory=time.monotonic)  # when it was last compared with the table


class _Windows:
    """Per process: the recent vectors of a few (workspace, model) windows (RECENT_POOL x 1 KB each)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self._windows: OrderedDict[tuple[str, str, str, str], _Window] = OrderedDict()

    def clear(self) -> None:
        with self.lock:
            self._windows.clear()

    def current(self, session: Session, team_id: str, model: str, since: datetime, *, scope: str, refresh: bool = True) -> _Window | None:
        """`scope`: "window" (matching, a moving start) or "all" (search): kept apart, so neither evicts the other.
        `refresh=False`: the window as it is when it already covers `since` (no statement)."""
        bind = session.get_bind()
        engine = getattr(bind, "engine", bind)
        key, start = (f"{id(engine)}:{engine.url}", team_id, model, scope), since.timestamp()
        window = self._windows.get(key)
        if window is not None and not refresh and start == window.floor:
            return window
        if window is not None and start >= window.floor:
            known = int(window.ids.max()) if len(window.ids) else 0
            newer = self._read(session, team_id, model, since, after_id=known)
            if len(newer.ids):
                window.ids = np.concatenate([window.ids, newer.ids])
                window.created = np.concatenate([window.created, newer.created])
                window.matrix = np.concatenate([window.matrix, newer.matrix]) if len(window.matrix) else newer.matrix
            keep = window.created >= start
            if not keep.all():
                window.ids, window.created, window.matrix = window.ids[keep], window.created[keep], window.matrix[keep]
            window.floor = start
            if len(window.ids) > RECENT_POOL:
                order = np.argsort(-window.created, kind="stable")[:RECENT_POOL]
                window.ids, window.created, window.matrix = window.ids[order], window.created[order], window.matrix[order]
            now = time.monotonic()
            if now - window.checked >= WINDOW_RECHECK_SECONDS:
                # Briefs embedded later (the scheduler's backlog, another process) have older ids: seen here.
                window.checked = now
                if (len(window.ids), int(window.ids.max()) if len(window.ids) else 0) != self._count(session, team_id, model, since):
                    window = None
        if window is None:
            window = self._read(session, team_id, model, since)
        self._windows[key] = window
        self._windows.move_to_end(key)
        while len(self._windows) > self.size:
            self._windows.popitem(last=False)
        return window

    @staticmethod
    def _count(session: Session, team_id: str, model: str, since: datetime) -> tuple[int, int]:
        """How many vectors the window holds (up to RECENT_POOL) and the newest one's id."""
        inner = (
            select(EmbeddingTable.escalation_id)
            .where(EmbeddingTable.team_id == team_id, EmbeddingTable.model == model, EmbeddingTable.created_at >= since)
            .order_by(EmbeddingTable.created_at.desc())
            .limit(RECENT_POOL)
            .subquery()
        )
        count, newest = session.execute(select(func.count(), func.max(inner.c.escalation_id)).select_from(inner)).one()
        return int(count or 0), int(newest or 0)

    @staticmethod
    def _read(session: Session, team_id: str, model: str, since: datetime, after_id: int | None = None) -> _Window:
        columns = (EmbeddingTable.escalation_id, EmbeddingTable.created_at, EmbeddingTable.vector)
        if after_id is None:
            query = select(*columns).where(EmbeddingTable.team_id == team_id, EmbeddingTable.model == model, EmbeddingTable.created_at >= since)
            query = query.order_by(EmbeddingTable.created_at.desc())
        else:
            # What was stored since the window was read: a range of the primary key (a few rows, or none).
            # The planner otherwise walks the (team, model, date) index to its end: 28 ms at 100,000
            # briefs for /escalate search's all-time window, on every search. `team_id || ''` is not
            # that index's column, so the range is read instead (SQLite and PostgreSQL alike).
            query = select(*columns).where(
                EmbeddingTable.escalation_id > after_id,
                EmbeddingTable.team_id.concat("") == team_id,
                EmbeddingTable.model == model,
                EmbeddingTable.created_at >= since,
            )
            query = query.order_by(EmbeddingTable.escalation_id.desc())
        rows = session.execute(query.limit(RECENT_POOL)).all()
        if not rows:
            return _Window(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 0), dtype=np.float32), since.timestamp())
        return _Window(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1].timestamp() for r in rows]),
            np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), -1),
            since.timestamp(),
        )


_WINDOWS = _Windows(WINDOW_CACHE)


def _verified(
    text: str,
    product_area: str | None,
    candidates: list[Any],
    limit: int,
    *,
    names: str = "",
    vector: np.ndarray | None = None,
    model: str | None = None,
    min_score: float | None = None,
) -> list[Match]:
    """The candidates (id, product_area, search_text, summary, names, vector, model) scored against
    `text`, best first, those at or above the floor only.

    Each candidate is ranked twice, by its lexical similarity and by its embedding's cosine (one
    that has no vector of the model: by its lexical rank), and the two ranks are fused (reciprocal
    rank fusion, RRF_K): on the hard tuning set two briefs of one problem often score low on both
    signals in absolute terms yet lead both rankings, where a weighted mean of the two scores let
    a single strong signal push a near miss ahead. A candidate is kept when it shares at least
    EVIDENCE_FLOOR of evidence (`combined`). Its score (`Match.score`) orders the suggestions and
    reaches AUTO_LINK_SCORE only for a high-confidence match (`automatic`): the independent signals
    agree (both ranks among the first AUTO_MAX_RANK, lexical and semantic similarity high, a shared
    component), from another customer."""
    floor = SUGGEST_MIN_SCORE if min_score is None else min_score
    area = matching_hint(product_area)
    own_names = _customer_keys(names)
    own = profile(index_form(text), index_form(text.split("\n", 1)[0]), _name_words(names))
    own_vector = None if vector is None or not model else np.asarray(vector, dtype=np.float32)
    scored: list[tuple[int, float, float | None, float, bool]] = []  # id, lexical, semantic, evidence, may link automatically
    for row in candidates:
        row_names = getattr(row, "names", None) or ""
        other = profile(row.search_text or "", _summary_form(row.summary or ""), _name_words(row_names))
        lexical = similarity(own, other)
        semantic = None
        stored = getattr(row, "vector", None)
        if own_vector is not None and stored is not None and getattr(row, "model", None) == model and len(stored) == own_vector.nbytes:
            semantic = float(np.frombuffer(stored, dtype="<f4") @ own_vector)
        evidence = combined(lexical, semantic)
        other_area = matching_hint(row.product_area)
        if area and other_area and other_area != area:
            evidence *= OTHER_AREA_FACTOR
        if evidence < EVIDENCE_FLOOR:
            continue
        shared = bool(own.components & other.components) or not (own.components or other.components)
        independent = not (own_names & _customer_keys(row_names))  # another customer's report (a repeat is not evidence)
        scored.append((row.id, lexical, semantic, evidence, shared and independent))
    lexical_rank = _ranks([lexical for _, lexical, _, _, _ in scored])
    semantic_rank = _ranks([semantic if semantic is not None else -2.0 for _, _, semantic, _, _ in scored])
    verified = []
    for i, (escalation_id, lexical, semantic, evidence, eligible) in enumerate(scored):
        by_meaning = semantic_rank[i] if semantic is not None else lexical_rank[i]
        fused = (RRF_LEXICAL_SHARE / (RRF_K + lexical_rank[i]) + (1 - RRF_LEXICAL_SHARE) / (RRF_K + by_meaning)) * (RRF_K + 1)  # 1.0: first in both
        if evidence < combined(lexical, semantic):
            fused *= OTHER_AREA_FACTOR  # the product areas differ
        linked = eligible and automatic(lexical, semantic, lexical_rank[i], by_meaning)
        score = AUTO_LINK_SCORE + (1 - AUTO_LINK_SCORE) * fused if linked else SUGGEST_MIN_SCORE + (AUTO_LINK_SCORE - 0.005 - SUGGEST_MIN_SCORE) * fused
        if score >= floor:
            verified.append(Match(escalation_id, round(score, 4)))
    return sorted(verified, key=lambda m: (-m.score, -m.escalation_id))[:limit]


def _ranks(values: list[float]) -> list[int]:
    """Each value's rank, 1 for the highest (ties: the earlier first)."""
    ranks = [0] * len(values)
    for position, i in enumerate(sorted(range(len(values)), key=lambda i: -values[i])):
        ranks[i] = position + 1
    return ranks


def combined(lexical: float, semantic: float | None) -> float:
    """The evidence two briefs share, 0..1, from their lexical similarity and (when both have vectors
    of one model) the cosine of their embeddings, rescaled from SEMANTIC_FLOOR; depends only on the
    two briefs. Matching keeps a candidate with at least EVIDENCE_FLOOR; ranks decide the order."""
    if semantic is None:
        return min(1.0, max(0.0, lexical))
    return min(1.0, max(0.0, LEXICAL_SHARE * lexical + (1.0 - LEXICAL_SHARE) * meaning_of(semantic)))


def meaning_of(semantic: float) -> float:
    """An embeddings' cosine rescaled from SEMANTIC_FLOOR..1 to 0..1."""
    return min(1.0, max(0.0, (semantic - SEMANTIC_FLOOR) / (1.0 - SEMANTIC_FLOOR)))


def automatic(lexical: float, semantic: float | None, lexical_rank: int, semantic_rank: int) -> bool:
    """Whether a match (of a shared component, from another customer) is linked automatically: the
    signals agree. Both rankings put it among their first AUTO_MAX_RANK, the words are close
    (AUTO_MIN_LEXICAL) and so is the meaning (AUTO_MIN_SEMANTIC, rescaled); without vectors the
    words alone must be very close (AUTO_LEXICAL_ALONE)."""
    if lexical_rank > AUTO_MAX_RANK or semantic_rank > AUTO_MAX_RANK:
        return False
    if semantic is None:
        return lexical >= AUTO_LEXICAL_ALONE
    return lexical >= AUTO_MIN_LEXICAL and meaning_of(semantic) >= AUTO_MIN_SEMANTIC


@functools.lru_cache(maxsize=4096)
def _customer_keys(names: str) -> frozenset[str]:
    """A brief's customers, normalised as bot.usecases.patterns does ("Acme Corp and Globex" -> {"acme", "globex"})."""
    parts = (names or "").replace(" and ", ",").replace(";", ",").split(",")
    return frozenset(" ".join(p.lower().replace("corp", "").replace("inc", "").split()) for p in parts if p.strip()) - {""}


@dataclass(frozen=True)
class Profile:
    """What a brief says, for verification: weighted features (stemmed words, concepts, failure families)."""

    weights: dict[str, float]
    families: frozenset[str]  # failure families (what failed)
    components: frozenset[str]  # component concepts (where: export, sso, webhook...)

    @functools.cached_property
    def norm(self) -> float:
        return math.sqrt(sum(w * w for w in self.weights.values()))


@functools.lru_cache(maxsize=4096)
def _name_words(names: str) -> frozenset[str]:
    return frozenset(w for w in _TOKEN.findall(_plain(names)) if len(w) > 2 and w not in _NAME_KEEP)


@functools.lru_cache(maxsize=2048)  # new briefs are verified against the same recent candidates (top 50–200 each)
def profile(indexed: str, summary: str = "", names: frozenset[str] = frozenset()) -> Profile:
    """The profile of a text already in index form (escalation.search_text, or index_form(text)),
    its summary's words (index form) weighted up, customer names left out; do not mutate it."""
    weights: dict[str, float] = {}
    for token in _TOKEN.findall(indexed):
        if token in names:
            continue
        feature = _feature(token)
        if feature is not None and feature[1] > weights.get(feature[0], 0.0):
            weights[feature[0]] = feature[1]
    for token in set(_TOKEN.findall(summary)):
        feature = None if token in names else _feature(token)
        if feature is not None:
            weights[feature[0]] = max(weights.get(feature[0], 0.0), feature[1] * SUMMARY_WEIGHT)
    families = frozenset(FAILURE_FAMILY[t] for t in weights if t in FAILURE_FAMILY)
    components = frozenset(t for t in weights if t in THESAURUS and t not in FAILURE_FAMILY)
    for family in families:
        weights["~" + family] = PROFILE_FAMILY_WEIGHT  # "~" keeps it apart from any word
    return Profile(weights, families, components)


def similarity(a: Profile, b: Profile) -> float:
    """Cosine of two profiles, 0..1. Two briefs naming different failures are not ruled out (one cause
    is often told as two symptoms); they score lower because their failure features differ."""
    norms = a.norm * b.norm
    if not norms:
        return 0.0
    small, large = sorted((a.weights, b.weights), key=len)
    score = sum(w * large[t] for t, w in small.items() if t in large) / norms
    if score and a.families & b.families and a.components & b.components:
        score = min(1.0, score + SIGNATURE_BONUS)
    elif a.components and b.components and not a.components & b.components:
        score *= OTHER_COMPONENT_FACTOR  # the same failure of different things ("push sent twice", "contacts shown twice")
    return score


@functools.lru_cache(maxsize=16384)  # words repeat across briefs: with it profile() takes 14 µs instead of 28; at most ~2.5 MB
def _feature(token: str) -> tuple[str, float] | None:
    """A token's profile feature and weight, or None for a word that is not a term."""
    if not _is_term(token):
        return None
    if token in GENERIC_WORDS:
        return stem(token), GENERIC_WEIGHT
    if token in THESAURUS:
        return token, (FAILURE_CONCEPT_WEIGHT if token in FAILURE_FAMILY else COMPONENT_CONCEPT_WEIGHT)
    if any(c.isdigit() for c in token):
        return token, CODE_WEIGHT  # an error or status code (429, e1234, err 4031)
    return stem(token), 1.0


_SUFFIXES = (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))


def stem(token: str) -> str:
    """A light English stemmer, so "exports", "exported" and "exporting" are one feature (concepts and numbers as they are)."""
    if token in THESAURUS or token.isdigit():
        return token
    for suffix, replacement in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)] + replacement
            break
    if len(token) > 4 and token[-1] == token[-2] and token[-1] not in "lsz":
        token = token[:-1]  # "stopp(ed)" -> "stop"
    if len(token) > 3 and token.endswith("e"):
        token = token[:-1]  # "invoice" and "invoic(ed)" alike
    return token


def search_escalations(
    session: Session, *, team_id: str, words: str, limit: int = 10, vector: np.ndarray | None = None, model: str | None = None
) -> list[Match]:
    """`/escalate search`: the briefs that say most of what the words say, best first.

    The database finds candidates (briefs with every word, or when they are too few with some of them: bm25 / ts_rank);
    they are ranked by how much of the query's weighted words and concepts each covers (a concept
    covers its spellings: "charged twice" finds "double billing"), and with `vector`/`model` (the
    query's embedding) by meaning too, which also brings the briefs closest in meaning among the
    RECENT_POOL most recent (all time would read every vector ever stored). That first ranking is
    then refined by feedback (`_with_feedback`): its best briefs say what the query meant in a
    brief's words."""
    terms = query_terms(words, limit=SEARCH_TERMS)
    if not terms:
        return []
    dialect = _dialect(session)
    # Briefs with every word; when they are too few, those with some (the OR query reads many more
    # rows). The candidates' text comes with them; the cheaper rank is enough: coverage decides the order.
    rows = _ranked(session, dialect, terms, "AND", team_id=team_id, limit=max(limit, SEARCH_POOL), coarse=True)
    if len(rows) < limit and len(terms) > 1:
        seen = {r.id for r in rows}
        rows += [r for r in _ranked(session, dialect, terms, "OR", team_id=team_id, limit=max(limit, SEARCH_POOL), coarse=True) if r.id not in seen]
    by_words = {r.id for r in rows}
    own_vector = None if vector is None or not model else np.asarray(vector, dtype=np.float32)
    if own_vector is not None and model:  # briefs that say it in other words: the RECENT_POOL most recent vectors
        extra = [i for i in _nearest(session, team_id=team_id, since=SEARCH_SINCE, exclude_id=None, vector=own_vector, model=model) if i not in by_words]
        rows += _rows_by_id(session, dialect, extra) if extra else []
    if not rows:
        return []
    wanted = profile(index_form(words))
    found = [_Found.of(row, wanted, own_vector, model) for row in rows]
    # A brief found by meaning only is shown only when it is close enough.
    found = [f for f in found if f.row.id in by_words or (f.meaning or 0.0) >= SEARCH_MIN_MEANING]
    found.sort(key=lambda f: (-f.first, -f.row.id))
    if SEARCH_FEEDBACK and found:
        found = _with_feedback(session, dialect, found, wanted, own_vector, model, team_id=team_id)
    return [Match(f.row.id, round(f.score, 4)) for f in found[:limit]]


@dataclass
class _Found:
    """A search candidate: its row, the share of the query's weighted words it covers, its closeness in meaning."""

    row: Any
    coverage: float
    meaning: float | None  # the rescaled cosine with the query's vector, None without one of the same model
    vector: np.ndarray | None
    score: float = 0.0

    @classmethod
    def of(cls, row: Any, wanted: Profile, query_vector: np.ndarray | None, model: str | None) -> _Found:
        have = profile(row.search_text or "").weights
        coverage = sum(w for t, w in wanted.weights.items() if t in have) / (sum(wanted.weights.values()) or 1.0)
        vector = None
        if query_vector is not None and row.vector is not None and row.model == model and len(row.vector) == query_vector.nbytes:
            vector = np.frombuffer(row.vector, dtype="<f4")
        meaning = None if vector is None or query_vector is None else meaning_of(float(vector @ query_vector))
        found = cls(row, coverage, meaning, vector)
        found.score = found.first
        return found

    @property
    def first(self) -> float:
        """The first ranking: coverage, and meaning when there is a vector."""
        if self.meaning is None:
            return self.coverage
        return SEARCH_LEXICAL_SHARE * self.coverage + (1 - SEARCH_LEXICAL_SHARE) * self.meaning

    @functools.cached_property
    def profile(self) -> Profile:
        return profile(self.row.search_text or "", _summary_form(self.row.summary or ""))


def _with_feedback(
    session: Session, dialect: str, found: list[_Found], wanted: Profile, query_vector: np.ndarray | None, model: str | None, *, team_id: str
) -> list[_Found]:
    """Pseudo-relevance feedback: the SEARCH_FEEDBACK best briefs of the first ranking stand for what
    the query meant, and every candidate is ranked again by how close it is to them too (their words'
    profiles and, with vectors, the centroid of their vectors; with vectors, the briefs nearest the
    query moved towards that centroid join the candidates when they are close to those best briefs).
    A query of three words rarely says a problem the way each of its briefs does; its best briefs
    say it in the words the others use ("reverse charge VAT invoice" finds "invoice shows 21% VAT",
    which then finds "disputes tax on invoices"). All tuning data: P@5 0.77 -> 0.81 (words only:
    0.67 -> 0.71).

    Security briefs are never feedback: the asker may not be allowed to see them (bot.usecases.search
    filters what is shown), and the order of what they may see must not depend on them."""
    feedback = [f for f in found if f.row.destination != Destination.SECURITY.value][:SEARCH_FEEDBACK]
    if not feedback:
        return found
    profiles = [f.profile for f in feedback]
    vectors = [f.vector for f in feedback if f.vector is not None]
    centroid = None
    if vectors and query_vector is not None and model:
        centroid = np.mean(vectors, axis=0)
        centroid /= float(np.linalg.norm(centroid)) or 1.0

    def closeness(f: _Found) -> float:
        """How close a candidate is to the best briefs: by words, and by meaning when both have vectors."""
        close = sum(similarity(f.profile, p) for p in profiles) / len(profiles)
        if centroid is not None and f.vector is not None:
            close = SEARCH_FEEDBACK_LEXICAL * close + (1 - SEARCH_FEEDBACK_LEXICAL) * meaning_of(float(f.vector @ centroid))
        return close

    known = {f.row.id for f in found}  # the first ranking's candidates: all of them are ranked again
    if centroid is not None and query_vector is not None and model:
        moved = query_vector + centroid
        moved /= float(np.linalg.norm(moved)) or 1.0
        nearest = _nearest(session, team_id=team_id, since=SEARCH_SINCE, exclude_id=None, vector=moved, model=model, refresh=False)
        extra = [i for i in nearest if i not in known]
        found = found + [_Found.of(row, wanted, query_vector, model) for row in (_rows_by_id(session, dialect, extra) if extra else [])]
    scored = []
    for f in found:
        close = closeness(f)
        if f.row.id not in known and f.coverage == 0 and close < SEARCH_FEEDBACK_MIN_CLOSENESS:
            continue  # found only by the moved vector, sharing none of the words, and not close to the best briefs
        f.score = (1 - SEARCH_FEEDBACK_WEIGHT) * f.first + SEARCH_FEEDBACK_WEIGHT * close
        scored.append(f)
    return sorted(scored, key=lambda f: (-f.score, -f.row.id))


def _ranked(
    session: Session,
    dialect: str,
    terms: list[str],
    operator: str,
    *,
    team_id: str,
    limit: int,
    since: datetime | None = None,
    exclude_id: int | None = None,
    coarse: bool = False,
) -> list[Any]:
    """Rows (id, score) of `team_id` matching `terms`, best first.

    Only briefs created since `since` (when given) are ranked, and of those only the RECENT_POOL most
    recent matches (SQLite with a window: the matches among its RECENT_POOL most recent briefs), so the
    cost of a common word or a long window stays flat as briefs accumulate.
    `coarse`: candidates for verification, where the cheaper rank is enough (PostgreSQL: ts_rank only);
    their product_area and search_text come with them.
    """
    params: dict[str, Any] = {"team": team_id, "limit": limit}
    filters = ["{e}.team_id = :team"]  # {e}: the alias of escalation in the engine's query
    if since is not None:
        filters.append("{e}.created_at >= :since")
        params["since"] = since
    if exclude_id is not None:
        filters.append("{e}.id <> :exclude")
        params["exclude"] = exclude_id
    if dialect == "sqlite":
        query = _sqlite_ranked(terms, operator, params, filters)
    else:
        query = _postgres_ranked(terms, operator, params, filters, coarse)
    if coarse:  # the candidates' text comes with them, for verification: one round trip
        query = f"""
            SELECT r.score AS score, {_candidate_columns(dialect, "x")}
            FROM ({query}) AS r JOIN escalation AS x ON x.id = r.id LEFT JOIN {EMBEDDING_TABLE} AS v ON v.escalation_id = x.id"""
    return _rows(session, query, params)


def _sqlite_ranked(terms: list[str], operator: str, params: dict[str, Any], filters: list[str]) -> str:
    # Quoted [a-z0-9]+ terms: NEAR/AND/OR/NOT, '*', ':' or '^' typed by a user are only words here.
    # Each term once. Concepts used to be listed 3 times (bm25 then counts them 3 times); since
    # verification decides, that bought nothing (the same precision and recall on the labelled set,
    # alone and inside 100k synthetic briefs) and cost a third of the candidate query's time.
    params["q"] = f" {operator} ".join(f'"{t}"' for t in terms)
    # FTS5 seeks its doclists to a rowid bound instead of ranking every brief that shares a word.
    if "since" in params:
        # A window (pattern matching): the smallest id of its RECENT_POOL most recent briefs, read off
        # the (team_id, created_at) index. Finding the RECENT_POOL-th most recent *match* instead walked
        # every match and cost as much as ranking them (11 of 23 ms at 3,000 briefs); the two agree
        # whenever the window holds fewer briefs than the pool (~2,100 in 30 days at 100k briefs/3 years).
        params["pool"] = RECENT_POOL
        bound = (
            "coalesce((SELECT min(w.id) FROM (SELECT id FROM escalation WHERE team_id = :team AND created_at >= :since "
            "ORDER BY created_at DESC LIMIT :pool) AS w), 0)"
        )
    else:
        # No window (/escalate search, all time): the RECENT_POOL-th most recent match (0 when fewer).
        params["pool"] = RECENT_POOL - 1
        bound = (
            f"coalesce((SELECT p.rowid FROM {FTS_TABLE} AS p JOIN escalation AS r ON r.id = p.rowid "
            f"WHERE p.search_text MATCH :q AND r.team_id = :team ORDER BY p.rowid DESC LIMIT 1 OFFSET :pool), 0)"
        )
    # Each match's workspace and date come from the narrow MATCH_LOOKUP_INDEX, not the row (which
    # holds the whole brief). Named: without ANALYZE statistics the planner picks the table.
    return f"""
        SELECT c.id AS id, -bm25({FTS_TABLE}) AS score
        FROM {FTS_TABLE} JOIN escalation AS c INDEXED BY {MATCH_LOOKUP_INDEX} ON c.id = {FTS_TABLE}.rowid
        WHERE {FTS_TABLE} MATCH :q AND {FTS_TABLE}.rowid >= {bound} AND {" AND ".join(filters).format(e="c")}
        ORDER BY score DESC, c.id DESC LIMIT :limit"""


def _postgres_ranked(terms: list[str], operator: str, params: dict[str, Any], filters: list[str], coarse: bool) -> str:
    # Terms are [a-z0-9]+ only, so joined with | or & they make a well-formed tsquery whatever was typed.
    params.update(q=(" | " if operator == "OR" else " & ").join(terms), norm=PG_RANK_NORMALIZATION)
    recent = f"""
        SELECT e.id, e.{VECTOR_COLUMN} AS vector
        FROM escalation AS e, (SELECT to_tsquery('english', :q) AS query) AS q
        WHERE e.{VECTOR_COLUMN} @@ q.query AND {" AND ".join(filters).format(e="e")}
        ORDER BY e.created_at DESC, e.id DESC LIMIT :recent"""
    params["recent"] = RECENT_POOL
    if coarse:
        return f"""
            SELECT m.id AS id, ts_rank(m.vector, q.query, :norm) AS score
            FROM ({recent}) AS m, (SELECT to_tsquery('english', :q) AS query) AS q
            ORDER BY score DESC, m.id DESC LIMIT :limit"""
    # ts_rank_cd costs up to ~4x ts_rank a row (long OR queries): ts_rank picks the best, ts_rank_cd ranks them.
    candidates = f"""
        SELECT m.* FROM ({recent}) AS m, (SELECT to_tsquery('english', :q) AS query) AS q
        ORDER BY ts_rank(m.vector, q.query, :norm) DESC LIMIT :pool"""
    params["pool"] = RANK_POOL
    return f"""
        SELECT c.id AS id, ts_rank_cd(c.vector, q.query, :norm) AS score
        FROM ({candidates}) AS c, (SELECT to_tsquery('english', :q) AS query) AS q
        ORDER BY score DESC, c.id DESC LIMIT :limit"""


def _rows(session: Session, query: str, params: dict[str, Any]) -> list[Any]:
    statement = sql(query)
    if "since" in params:
        statement = statement.bindparams(bindparam("since", type_=UTCDateTime()))
    return list(session.execute(statement, params))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For Alembic: the full-text index is per database and outside the models, so never diff it."""
    if type_ == "table" and name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    if type_ == "column" and name == VECTOR_COLUMN and getattr(getattr(obj, "table", None), "name", None) == "escalation":
        return False
    if type_ == "index" and name in (VECTOR_INDEX, WINDOW_INDEX, MATCH_LOOKUP_INDEX):
        return False
    return True


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


_RELATED_COLUMNS = (
    Escalation.id,
    Escalation.number,
    Escalation.summary,
    Escalation.severity,
    Escalation.status,
    Escalation.created_at,
    Escalation.channel_id,
    Escalation.message_ts,
    Escalation.resolution,
    Escalation.destination,
)


def related_rows(session: Session, ids: Iterable[int]) -> list[Any]:
    """The matched briefs' shown columns and customer names (`affected_names`), in one statement.
    Loading ~20 whole briefs (ORM objects, each brief's JSON decoded) per new brief was a third of
    the pattern check's time."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    names = Escalation.brief[("impact", "affected_names")].as_string().label("affected_names")
    return list(session.execute(select(*_RELATED_COLUMNS, names).where(Escalation.id.in_(ids))))


def store_embedding(session: Session, escalation_id: int, vector: Any, model: str, *, row: Escalation | None = None, new: bool = False) -> None:
    """Keep a brief's vector (replacing one of another model); the window's date and workspace are copied
    from the brief (`row`, when the caller has it). `new`: the brief was just stored (it has no vector yet)."""
    row = row if row is not None else session.get(Escalation, escalation_id)
    if row is None:
        return
    data = np.asarray(vector, dtype="<f4").tobytes()  # bot.embeddings.to_bytes (storage does not import it)
    # A new brief's vector can only be in this session (no statement); any other is looked up.
    existing = session.identity_map.get(session.identity_key(EscalationEmbedding, escalation_id)) if new else session.get(EscalationEmbedding, escalation_id)
    if existing is None:
        session.add(EscalationEmbedding(escalation_id=escalation_id, team_id=row.team_id, created_at=row.created_at, model=model, vector=data))
    else:
        existing.model, existing.vector = model, data
        session.add(existing)
    session.flush()


def without_embedding(session: Session, model: str, *, limit: int, skip_destinations: frozenset[str] = frozenset()) -> list[tuple[int, dict[str, Any]]]:
    """Up to `limit` briefs with no vector of `model`, newest first: (id, brief); never those of `skip_destinations`."""
    query = (
        select(Escalation.id, Escalation.brief)
        .outerjoin(EscalationEmbedding, EscalationEmbedding.escalation_id == Escalation.id)
        .where((EscalationEmbedding.escalation_id == None) | (EscalationEmbedding.model != model))  # noqa: E711
        .order_by(Escalation.id.desc())
        .limit(limit)
    )
    if skip_destinations:
        query = query.where(Escalation.destination.not_in(sorted(skip_destinations)))
    return [(r.id, r.brief) for r in session.execute(query)]


EmbeddingTable = EscalationEmbedding.__table__.c  # Core columns: typed (UTCDateTime), without the ORM
