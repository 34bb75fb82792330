"""Numbers, not adjectives: parse the counts and amounts an agent types.

Accepted: `12`, `1,200`, `1.2k`, `~40`, `12 customers`; money as `$48k`, `48000 EUR`, `€1.2m`,
`USD 250,000`, `48,000` (default currency). A number may carry words (`$250k in open deals`,
`about 300 users`, `10-20 accounts`): the number is read and the words are kept as a note shown
beside it (`read_count`, `read_money`). Refused with a message that says why: words alone (`lots`,
`many`, `huge`), negative numbers, unknown currencies.

The note: what follows the number when the text starts with it (`$250k in open deals` → `in open
deals`), otherwise the whole text as typed (`about 300 users`), so no word the agent chose is lost.
A range (`10-20`, `$100k to $150k`) is read as its upper end, the exposure, with the range as the note.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.domain.brief import Money


class QuantityError(ValueError):
    """The text is not a number the brief can use; the message is shown to the agent as typed."""


_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000, "mm": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000}
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₣": "CHF"}
# ISO 4217 codes agents are likely to type; an unknown three-letter word is more likely a typo.
CURRENCIES = frozenset(
    "USD EUR GBP JPY CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF RON BGN ISK TRY ILS AED SAR QAR ZAR "
    "INR CNY HKD SGD KRW TWD THB MYR IDR PHP VND BRL MXN ARS CLP COP PEN UAH NGN KES EGP".split()
)
# Nouns an agent may put after a count ("12 customers"); anything else wordy is an adjective.
_COUNT_UNITS = r"(?:customers?|accounts?|users?|tenants?|clients?|orgs?|organi[sz]ations?|seats?|companies|company)"
NOTE_MAX = 150  # the words beside a number; the detail belongs in the narrative

# A number anywhere in a text: not glued to a word, a decimal point or a comma before it ("Q3",
# "v1.2"), nor to letters after it ("2x", "12th", "48kg"); a k/m/bn scale glued or spaced ("1.2M").
_TOKEN = (
    r"(?<![\w.,])"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d,.])|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<suffix>k|mm|m|bn|b)(?![A-Za-z0-9]))?(?![A-Za-z0-9])"
)
_COUNT_TOKEN = re.compile(_TOKEN, re.I)
_MONEY_TOKEN = re.compile(
    r"(?:(?P<sym>[$€£¥₹₩₣])\s*|(?<![A-Za-z])(?P<code>[A-Za-z]{3})\s?)?" + _TOKEN + r"(?:\s?(?P<post_sym>[$€£¥₹₩₣])|\s(?P<post>[A-Za-z]{3})(?![A-Za-z]))?",
    re.I,
)
_RANGE = re.compile(r"^\s*(?:-|–|—|to|and)\s*$", re.I)  # between two numbers: "10-20", "$100k to $150k", "between 10 and 20"
_SEPARATORS = " \t,;:-–—"
_YEARLY = re.compile(r"^(?:ARR|/\s*y(?:ea)?r|per\s+year|a\s+year|annually|annual)\b\.?", re.I)
_CUSTOMERS = re.compile(r"^customers?\b", re.I)
_UNIT_ONLY = re.compile(rf"^{_COUNT_UNITS}$", re.I)
_NEGATIVE = re.compile(r"^[$€£¥₹₩₣]?\s*-\s*[$€£¥₹₩₣]?\s*\d")


def _scaled(num: str, suffix: str | None) -> Decimal:
    try:
        value = Decimal(re.sub(r"[,\s\u00a0\u202f]", "", num))
    except InvalidOperation as exc:  # pragma: no cover - the regex only lets digits through
        raise QuantityError(f"{num!r} is not a number") from exc
    return value * _SUFFIX[(suffix or "").lower()]


def _note(cleaned: str, start: int, end: int, *, strip: re.Pattern[str] | None = None) -> str | None:
    """The words beside the number at cleaned[start:end]: what follows it when the text starts with
    it, otherwise the whole text; None when nothing but separators (or `strip`'s words) remain."""
    if start != 0:
        return cleaned
    rest = cleaned[end:].lstrip(" ")
    if strip is not None and strip.match(rest):
        rest = strip.sub("", rest, count=1)
    elif rest and rest[0] not in _SEPARATORS and cleaned[end] != " ":
        return cleaned  # a sign glued to the number ("40+", "30%") belongs with it
    rest = rest.lstrip(_SEPARATORS)
    if not rest:
        return None
    return cleaned if _UNIT_ONLY.match(rest) else rest  # "3 accounts": the unit says what was counted


def _range_end(cleaned: str, first: re.Match[str], token: re.Pattern[str]) -> re.Match[str] | None:
    """The second number of a range that starts with `first` ("10-20", "$100k to $150k"), if any."""
    second = token.search(cleaned, first.end())
    if second is not None and _RANGE.match(cleaned[first.end() : second.start()]):
        return second
    return None


def _words_refusal(cleaned: str, examples: str, what: str) -> QuantityError:
    return QuantityError(f"Enter {what}, not words: “{cleaned[:40]}” (e.g. {examples}). Numbers, not adjectives.")


def read_count(text: str) -> tuple[int, str | None]:
    """A count of customers or requests (a whole number ≥ 0) and the words typed beside it."""
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise QuantityError("Enter a number.")
    if cleaned.startswith("-") and any(c.isdigit() for c in cleaned):
        raise QuantityError("A count cannot be negative.")
    match = _COUNT_TOKEN.search(cleaned)
    if match is None:
        raise _words_refusal(cleaned, "12 or 1,200", "a number")
    if cleaned[: match.start()].rstrip().endswith(tuple(_SYMBOLS)):
        raise QuantityError("That is an amount of money; enter how many customers (e.g. 12 or 1,200).")
    value = _scaled(match["num"], match["suffix"])
    end = match.end()
    if (second := _range_end(cleaned, match, _COUNT_TOKEN)) is not None:
        value, end = max(value, _scaled(second["num"], second["suffix"])), second.end()
        note: str | None = cleaned
    else:
        note = _note(cleaned, match.start(), end, strip=_CUSTOMERS)
    if value != value.to_integral_value():
        raise QuantityError("A count is a whole number (e.g. 12 or 1,200).")
    if value > 10_000_000_000:
        raise QuantityError("That count is larger than any customer base; check the number.")
    if note is not None and len(note) > NOTE_MAX:
        raise QuantityError(f"Keep the words beside the number short (at most {NOTE_MAX} characters); put the detail in the narrative.")
    return int(value), note


def parse_count(text: str) -> int:
    """A count of customers or requests: a whole number ≥ 0 (the words beside it: `read_count`)."""
    return read_count(text)[0]


def _currency_of(match: re.Match[str]) -> tuple[str | None, bool]:
    """(the currency this amount names, whether its trailing word is part of it)."""
    code = (match["code"] or "").upper()
    before = _SYMBOLS.get(match["sym"] or "") or (code if code in CURRENCIES else None)
    post = (match["post"] or "").strip()
    after = _SYMBOLS.get(match["post_sym"] or "")
    post_is_currency = post.upper() in CURRENCIES
    if post and not post_is_currency and post.isupper() and post != "ARR":
        raise QuantityError(f"“{post}” is not a currency code we know; use a code such as USD, EUR or GBP.")
    if post_is_currency:
        after = post.upper()
    if before and after:
        raise QuantityError("Give the currency once (e.g. $48k or 48000 USD).")
    return before or after, post_is_currency


def _amount_start(match: re.Match[str]) -> int:
    """Where the amount begins: its currency symbol or code, or the number (a word that is not a code)."""
    if match["sym"]:
        return match.start("sym")
    if match["code"] and match["code"].upper() in CURRENCIES:
        return match.start("code")
    return match.start("num")


def _amount_end(match: re.Match[str], post_is_currency: bool) -> int:
    if match["post_sym"] or post_is_currency:
        return match.end()
    return match.end("suffix") if match["suffix"] else match.end("num")


def read_money(text: str, default_currency: str = "USD") -> tuple[Money, str | None]:
    """An amount with a currency (`$48k`, `48000 EUR`, `€1.2m`; a bare number takes the default)
    and the words typed beside it (`$250k in open deals` → "in open deals")."""
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise QuantityError("Enter an amount.")
    if _NEGATIVE.match(cleaned):
        raise QuantityError("An amount cannot be negative.")
    matches = list(_MONEY_TOKEN.finditer(cleaned))
    if not matches:
        raise _words_refusal(cleaned, "$48k, 48000 EUR, €1.2m", "an amount")
    currencies = [_currency_of(m) for m in matches]
    # The amount that names its currency is the one meant ("2 deals worth $50k"); else the first.
    index = next((i for i, (currency, _) in enumerate(currencies) if currency), 0)
    match, (currency, post_is_currency) = matches[index], currencies[index]
    amount = _scaled(match["num"], match["suffix"])
    start, end = _amount_start(match), _amount_end(match, post_is_currency)
    second = matches[index + 1] if index + 1 < len(matches) else None
    if second is not None and _RANGE.match(cleaned[end : _amount_start(second)]):
        other_currency, other_post = currencies[index + 1]
        if currency and other_currency and other_currency != currency:
            raise QuantityError("Give both ends of the range in one currency (e.g. $100k-$150k).")
        currency = currency or other_currency
        amount = max(amount, _scaled(second["num"], second["suffix"]))
        note: str | None = cleaned
    else:
        note = _note(cleaned, start, end, strip=_YEARLY)
    currency = currency or default_currency.upper()
    if currency not in CURRENCIES:
        raise QuantityError(f"“{currency}” is not a currency code we know; use a code such as USD, EUR or GBP.")
    if amount > Decimal("1e13"):
        raise QuantityError("That amount is too large to be right; check the number.")
    if note is not None and len(note) > NOTE_MAX:
        raise QuantityError(f"Keep the words beside the number short (at most {NOTE_MAX} characters); put the detail in the narrative.")
    # Cents at most; whole amounts stay whole so they print without ".00".
    amount = amount.quantize(Decimal("0.01")) if amount % 1 else amount.quantize(Decimal(1))
    return Money(amount=amount, currency=currency), note


def parse_money(text: str, default_currency: str = "USD") -> Money:
    """An amount with a currency: `$48k`, `48000 EUR`, `€1.2m`; a bare number takes the default
    (the words beside it: `read_money`)."""
    return read_money(text, default_currency)[0]


def contains_number(text: str) -> bool:
    """For free-text fields the method wants quantified (request frequency): at least one digit."""
    return bool(re.search(r"\d", text))
