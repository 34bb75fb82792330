"""Numbers, not adjectives: parse the counts and amounts an agent types.

Accepted: `12`, `1,200`, `1.2k`, `~40`, `12 customers`; money as `$48k`, `48000 EUR`, `€1.2m`,
`USD 250,000`, `48,000` (default currency). Rejected with a message that says why: `lots`, `many`,
`huge`, negative numbers, unknown currencies.
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

_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*(?P<suffix>k|mm|m|bn|b)?"
_COUNT_RE = re.compile(rf"^(?:~|≈|about\s+|approx\.?\s+|approximately\s+)?{_NUMBER}(?:\s*\+)?(?:\s+{_COUNT_UNITS})?$", re.I)
_PER_YEAR = re.compile(r"\s*(?:ARR|/\s*y(?:ea)?r|per year|a year)$", re.I)
_MONEY_RE = re.compile(
    rf"^(?P<pre>[A-Za-z]{{3}}\s*|[$€£¥₹₩₣]\s*)?{_NUMBER}\s*(?P<post>[A-Za-z]{{3}})?$",
    re.I,
)


def _scaled(num: str, suffix: str | None) -> Decimal:
    try:
        value = Decimal(num.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex only lets digits through
        raise QuantityError(f"{num!r} is not a number") from exc
    return value * _SUFFIX[(suffix or "").lower()]


def parse_count(text: str) -> int:
    """A count of customers or requests: a whole number ≥ 0."""
    cleaned = " ".join(text.strip().split())
    if not cleaned:
        raise QuantityError("Enter a number.")
    match = _COUNT_RE.match(cleaned)
    if not match:
        if cleaned.startswith("-"):
            raise QuantityError("A count cannot be negative.")
        raise QuantityError(f"Enter a number, not words: “{cleaned[:40]}” (e.g. 12 or 1,200). Numbers, not adjectives.")
    value = _scaled(match["num"], match["suffix"])
    if value != value.to_integral_value():
        raise QuantityError("A count is a whole number (e.g. 12 or 1,200).")
    if value > 10_000_000_000:
        raise QuantityError("That count is larger than any customer base; check the number.")
    return int(value)


def parse_money(text: str, default_currency: str = "USD") -> Money:
    """An amount with a currency: `$48k`, `48000 EUR`, `€1.2m`; a bare number takes the default."""
    cleaned = _PER_YEAR.sub("", " ".join(text.strip().split()))
    if not cleaned:
        raise QuantityError("Enter an amount.")
    match = _MONEY_RE.match(cleaned)
    if not match:
        if cleaned.lstrip("$€£¥₹₩₣ ").startswith("-"):
            raise QuantityError("An amount cannot be negative.")
        raise QuantityError(f"Enter an amount, not words: “{cleaned[:40]}” (e.g. $48k, 48000 EUR, €1.2m). Numbers, not adjectives.")
    pre = (match["pre"] or "").strip()
    post = (match["post"] or "").strip().upper()
    if pre and post:
        raise QuantityError("Give the currency once (e.g. $48k or 48000 USD).")
    currency = _SYMBOLS.get(pre) or pre.upper() or post or default_currency.upper()
    if currency not in CURRENCIES:
        raise QuantityError(f"“{currency}” is not a currency code we know; use a code such as USD, EUR or GBP.")
    amount = _scaled(match["num"], match["suffix"])
    if amount > Decimal("1e13"):
        raise QuantityError("That amount is too large to be right; check the number.")
    # Cents at most; whole amounts stay whole so they print without ".00".
    amount = amount.quantize(Decimal("0.01")) if amount % 1 else amount.quantize(Decimal(1))
    return Money(amount=amount, currency=currency)


def contains_number(text: str) -> bool:
    """For free-text fields the method wants quantified (request frequency): at least one digit."""
    return bool(re.search(r"\d", text))
