"""Full-text search over briefs: recurring-pattern matching and `/escalate search`.

The database matches and ranks (SQLite: FTS5 and bm25; PostgreSQL: a tsvector column, ts_rank and
ts_rank_cd); Python turns text into a short list of safe terms, and verifies a bounded number of
pattern candidates. User text never reaches either
query language as syntax: terms are reduced to [a-z0-9]+ before they are quoted or joined.

Both databases index `escalation.search_text`: the brief's text normalised here (lower case, no
accents, punctuation turned to spaces, thesaurus concepts added), so `ERR_SSO_4031`, `/api/v2/export`
or `e-mail` become the same words on both, and both stem them (porter / english snowball).

Matching is two stages. The database finds candidates: the CANDIDATES best-ranked briefs of the
window for an OR of the brief's telling words (bm25 / ts_rank). Python then verifies those few
(never the whole window) by comparing symptom profiles (`profile`): the brief's content words, its
thesaurus concepts counted double, and the failure family it reports (slow, undelivered, denied...).
The score is a cosine that depends only on the two texts, never on the rest of the index, so the
threshold does not drift as briefs accumulate. Two briefs that each report a failure, but none in
common, do not match ("export times out" is not "export shows the wrong currency"); a brief that
names a failure compared with one that names none scores a little lower (same component, unknown
symptom); the same failure of the same component (a "signature") scores a little higher.
benchmarks/pattern_matching.py prints precision and recall per threshold, for the dev and holdout splits.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import text as sql
from sqlmodel import Session

from bot.storage.models import Escalation
from bot.storage.types import UTCDateTime

FTS_TABLE = "escalation_fts"  # SQLite only: FTS5 over escalation.search_text (external content)
VECTOR_COLUMN = "search_vector"  # PostgreSQL only: generated tsvector column with a GIN index
VECTOR_INDEX = "ix_escalation_search_vector"
WINDOW_INDEX = "ix_escalation_team_created"  # both: (team_id, created_at), where matching starts
MATCH_LOOKUP_INDEX = "ix_escalation_match_lookup"  # SQLite only: (id, team_id, created_at), each match's workspace and date

# Tuned on the "dev" briefs of tests/data/pattern_briefs.json only; benchmarks/pattern_matching.py prints the figures.
MAX_TERMS = 24  # a brief yields up to hundreds of words; its summary and most repeated ones carry the symptom
MIN_SIMILARITY = 0.30  # verification: minimum score (the same on both engines: it is computed here)
PROFILE_CONCEPT_WEIGHT = 2.0  # a thesaurus concept in a profile counts this much; any other word 1
PROFILE_FAMILY_WEIGHT = 1.0  # the failure family, as one more feature of the profile
ONE_SIDED_FAILURE_FACTOR = 0.8  # one brief names a failure, the other none: same component, unknown symptom
SIGNATURE_BONUS = 0.05  # both name the same failure family on the same component concept ("export" + "slow")
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

# A thesaurus of support vocabulary: each concept word is added after any of its spellings, in the
# index and in queries alike, so "spins forever" meets "504" (both gain "hang"/"timeout") and
# "double billing" meets "charged twice". Concepts are general SaaS support terms, not per-customer.
THESAURUS: dict[str, str] = {
    # failure modes
    "timeout": r"time ?outs?|timed ?out|times ?out|timing ?out|504|gateway time ?out|deadline exceeded|request took too long",
    "hang": r"spins? forever|spinner|spinning|never (?:completes?|finish(?:es)?|loads?|ends)|hangs?|hanging|freez(?:es|e|ing)|frozen|stuck at \d+|stays? at \d+",
    "slow": r"slow(?:ly|ness|er)?|sluggish|latency|takes (?:ages|forever|minutes)|performance degradation",
    "crash": r"crash(?:es|ed|ing)?|closes immediately|force clos(?:e|es|ed)|fatal exception|segfault|app dies",
    "outage": r"outage|down for everyone|service unavailable|503|500 internal server error|internal server error|unreachable",
    "loop": r"redirect loop|too many redirects|redirected you too many times|redirect(?:s|ed)? (?:back|again)|bounc(?:e|es|ing) back|over and over|endless redirect|back and forth|infinite loop",
    "forbidden": r"403|blocked from|(?:can t|cannot) (?:open|access)|forbidden|access denied|permission denied|not authori[sz]ed|don t have permission|lost access|no access",
    "unauthenticated": r"401|unauthori[sz]ed|invalid token|token expired|session expired",
    "ratelimit": r"rate ?limit(?:s|ed|ing)?|throttl(?:e|ed|es|ing)|429|too many requests|quota exceeded",
    "undelivered": r"not (?:being )?delivered|never (?:arrives?|arrived|delivered)|not arriving|stopped (?:firing|arriving|triggering|sending)|no (?:events|deliveries)|hours late|delayed by \d+",
    "notreceived": r"(?:never|don t|doesn t|do not|no longer) (?:get|gets|receive|receives)|not (?:received|receiving)|none (?:got|received)",
    "bounce": r"bounc(?:e|es|ed)|hard ?bounce|rejected by|550|dmarc|dkim|spf|spam folder|junk folder",
    "dataloss": r"los(?:e|es|ing|t) (?:\w+ ){0,2}(?:changes|edits|data|notes|work|records|reports|entries|files)|(?:are|is|were|was|get|gets|got|been) lost|data loss|vanish(?:es|ed)?|disappear(?:s|ed)?|are gone|is gone|overwritten|wiped|discard(?:s|ed|ing)",
    "duplicate": r"duplicat(?:e|es|ed|ion)|twice|double(?:d)?|two copies|same record (?:appears )?two",
    "doublecharge": r"charged twice|billed twice|double (?:billing|billed|charged?|charges)|duplicate (?:charges?|payments?|invoices?|debits?)|two (?:identical )?(?:charges|debits|payments)",
    "encoding": r"encoding|mojibake|garbled|mangled?|garbage characters|broken characters|utf ?8|latin ?1|byte order mark|bom|accent(?:s|ed)?|umlauts?|diacritics?|special characters",
    "stale": r"stale|out of date|outdated|hours behind|index(?:ing)? lag|backlog|not (?:yet )?indexed|old (?:name|title|value)",
    "wrongvalue": r"(?<!went )wrong|incorrect|inaccurate|mismatch(?:ed|es)?|does not match|doesn t match|miscalculat(?:ed|es|ion)",
    "missingdata": r"missing|empty|blank|not (?:shown|showing|displayed)",
    "notfound": r"(?:can t|cannot|could not|couldn t|doesn t|does not|don t|do not) (?:find|show up|appear)|not (?:found|returned|showing up|appearing)|finds? nothing|nothing back|no results|(?:0|zero) results",
    "exposure": r"data (?:leak|exposure)|exposed|leak(?:s|ed|ing)?|other tenant|another tenant|can see .{0,20}(?:not|n t) (?:allowed|supposed)",
    # components and spellings
    "login": r"(?:log|logs|logged|logging|sign|signs|signed|signing) ?(?:in|on)|logon|signin",
    "sso": r"single sign ?on|saml|okta|azure ad|entra|onelogin|ping ?identity|idp|identity provider|adfs",
    "twofactor": r"two ?factor|2fa|mfa|multi ?factor|otp|one time (?:code|password)|verification code",
    "webhook": r"webhooks?|callbacks?|zapier|zaps?|event notifications?",
    "sync": r"synchroni[sz](?:e|es|ed|ing|ation)|syncs?|synced|syncing",
    "offline": r"offline|no (?:signal|reception|coverage|connectivity|network)|without (?:signal|coverage|connectivity|a connection|network)|airplane mode|flight mode",
    "export": r"exports?|exported|exporting|download(?:s|ed|ing)?",
    "import": r"imports?|imported|importing|importer|upload(?:s|ed|ing)?",
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
    "wrongvalue": "wrongvalue",
    "missingdata": "missing",
    "notfound": "missing",
    "exposure": "exposure",
}
_CONCEPTS = [(re.compile(r"\b(?:" + spellings + r")\b"), concept) for concept, spellings in THESAURUS.items()]
_NON_WORD = re.compile(r"[\W_]+")
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Match:
    escalation_id: int
    score: float  # higher is closer; similar_escalations: relative (about 0..1), search_escalations: the raw rank


def searchable_text(brief: dict[str, Any]) -> str:
    """The symptom as people describe it: summary, narrative, and for Engineering the observed outcome and logs."""
    engineering = brief.get("engineering") or {}
    reproduction = engineering.get("reproduction") or {}
    parts = (brief.get("summary"), brief.get("narrative"), reproduction.get("observed"), engineering.get("logs"))
    return "\n".join(p.strip() for p in parts if p and p.strip())


@functools.lru_cache(maxsize=64)  # a new brief's text is put in index form 4 times (search, query terms, verification, index)
def index_form(text: str) -> str:
    """What the index holds: lower case, no accents, no punctuation, thesaurus concepts added."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _NON_WORD.sub(" ", plain).strip()
    for pattern, concept in _CONCEPTS:
        plain = pattern.sub(lambda m: f"{m.group(0)} {concept}", plain)
    return plain


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
) -> list[Match]:
    """Briefs of this workspace created at or after `since` that describe the same symptom as `text`, best first."""
    terms = query_terms(text)
    if not terms:
        return []
    dialect = _dialect(session)
    candidates = _ranked(session, dialect, terms, "OR", team_id=team_id, since=since, exclude_id=exclude_id, limit=CANDIDATES[dialect], coarse=True)
    return _verified(text, product_area, candidates, limit)


def similar_among_newer(
    session: Session, *, team_id: str, text: str, product_area: str | None, after_id: int, exclude_id: int | None = None, limit: int = 20
) -> list[Match]:
    """Like similar_escalations, over the briefs stored after `after_id` only (no full-text stage:
    they are few). A brief's search runs before its write transaction, so it cannot hold the write
    lock for long; this closes the gap inside that transaction (briefs that came in meanwhile)."""
    query = select(Escalation.id, Escalation.product_area, Escalation.search_text).where(Escalation.team_id == team_id, Escalation.id > after_id)
    if exclude_id is not None:
        query = query.where(Escalation.id != exclude_id)
    return _verified(text, product_area, list(session.execute(query)), limit)


def _verified(text: str, product_area: str | None, candidates: list[Any], limit: int) -> list[Match]:
    """The candidates (id, product_area, search_text) whose symptom profile is close enough to `text`'s, best first."""
    own = profile(index_form(text))
    verified = []
    for row in candidates:
        score = similarity(own, profile(row.search_text or ""))
        if product_area and row.product_area and row.product_area != product_area:
            score *= OTHER_AREA_FACTOR
        if score >= MIN_SIMILARITY:
            verified.append(Match(row.id, score))
    return sorted(verified, key=lambda m: (-m.score, -m.escalation_id))[:limit]


@dataclass(frozen=True)
class Profile:
    """What a brief says, for verification: weighted features (stemmed words, concepts, failure families)."""

    weights: dict[str, float]
    families: frozenset[str]  # failure families (what failed)
    components: frozenset[str]  # component concepts (where: export, sso, webhook...)

    @property
    def norm(self) -> float:
        return math.sqrt(sum(w * w for w in self.weights.values()))


@functools.lru_cache(maxsize=1024)  # new briefs are verified against the same recent candidates (top 50–200 each); 4,096 cost ~14 MB+ resident for little gain
def profile(indexed: str) -> Profile:
    """The profile of a text already in index form (escalation.search_text, or index_form(text)); do not mutate it."""
    weights: dict[str, float] = {}
    for token in _TOKEN.findall(indexed):
        feature = _feature(token)
        if feature is not None:
            weights[feature[0]] = feature[1]
    families = frozenset(FAILURE_FAMILY[t] for t in weights if t in FAILURE_FAMILY)
    components = frozenset(t for t in weights if t in THESAURUS and t not in FAILURE_FAMILY)
    for family in families:
        weights["~" + family] = PROFILE_FAMILY_WEIGHT  # "~" keeps it apart from any word
    return Profile(weights, families, components)


def similarity(a: Profile, b: Profile) -> float:
    """Cosine of two profiles, 0..1 (plus SIGNATURE_BONUS, up to 1, when they report the same failure of
    the same component); 0 when both report a failure and no failure is common to them."""
    if a.families and b.families and not a.families & b.families:
        return 0.0
    norms = a.norm * b.norm
    if not norms:
        return 0.0
    small, large = sorted((a.weights, b.weights), key=len)
    score = sum(w * large[t] for t, w in small.items() if t in large) / norms
    if bool(a.families) != bool(b.families):
        score *= ONE_SIDED_FAILURE_FACTOR
    elif score and a.families & b.families and a.components & b.components:
        score = min(1.0, score + SIGNATURE_BONUS)
    return score


@functools.lru_cache(maxsize=16384)  # words repeat across briefs: with it profile() takes 14 µs instead of 28; at most ~2.5 MB
def _feature(token: str) -> tuple[str, float] | None:
    """A token's profile feature and weight, or None for a word that is not a term."""
    if not _is_term(token):
        return None
    return stem(token), (PROFILE_CONCEPT_WEIGHT if token in THESAURUS else 1.0)


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


def search_escalations(session: Session, *, team_id: str, words: str, limit: int = 10) -> list[Match]:
    """`/escalate search`: briefs with every word first, then those with some of them; each part best ranked first."""
    terms = query_terms(words, limit=SEARCH_TERMS)
    if not terms:
        return []
    dialect = _dialect(session)
    found = _hits(_ranked(session, dialect, terms, "AND", team_id=team_id, limit=limit))
    if len(found) < limit and len(terms) > 1:
        seen = {m.escalation_id for m in found}
        partial = _hits(_ranked(session, dialect, terms, "OR", team_id=team_id, limit=limit + len(found)))
        found += [m for m in partial if m.escalation_id not in seen][: limit - len(found)]
    return found


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
            SELECT r.id AS id, r.score AS score, x.product_area AS product_area, x.search_text AS search_text
            FROM ({query}) AS r JOIN escalation AS x ON x.id = r.id"""
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


def _hits(rows: list[Any]) -> list[Match]:
    return [Match(escalation_id=r.id, score=float(r.score)) for r in rows]


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
