"""Numbers that carry words (issue 19, item 1): the number is read, the words kept as its note;
words alone are still refused. Examples, then properties over generated text (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blocks import facts
from blocks.plaintext import brief_text
from bot.domain.brief import Brief
from bot.domain.quantities import NOTE_MAX, QuantityError, read_count, read_money
from bot.domain.validation import validate_draft
from tests.factories import NOW, draft


@pytest.mark.parametrize(
    ("text", "amount", "currency", "note"),
    [
        ("$250k in open deals", Decimal(250_000), "USD", "in open deals"),
        ("$120k across two renewals", Decimal(120_000), "USD", "across two renewals"),
        ("€40,000", Decimal(40_000), "EUR", None),
        ("1.2M", Decimal(1_200_000), "USD", None),
        ("1.2m EUR", Decimal(1_200_000), "EUR", None),
        ("40 000 €", Decimal(40_000), "EUR", None),
        ("$48k ARR", Decimal(48_000), "USD", None),
        ("$48k/yr", Decimal(48_000), "USD", None),
        ("48k ARR across 3 accounts", Decimal(48_000), "USD", "across 3 accounts"),
        ("$100k-$150k", Decimal(150_000), "USD", "$100k-$150k"),  # a range: its upper end, the range kept
        ("between €10k and €20k", Decimal(20_000), "EUR", "between €10k and €20k"),
        ("about $250k", Decimal(250_000), "USD", "about $250k"),
        ("lost 2 deals worth $50k", Decimal(50_000), "USD", "lost 2 deals worth $50k"),  # the amount that names a currency
        ("$250k for renewals", Decimal(250_000), "USD", "for renewals"),
    ],
)
def test_amounts_with_words(text, amount, currency, note):
    money, kept = read_money(text)
    assert (money.amount, money.currency, kept) == (amount, currency, note)


@pytest.mark.parametrize(
    ("text", "count", "note"),
    [
        ("about 300 users", 300, "about 300 users"),
        ("12 customers", 12, None),
        ("12 customers in 3 regions", 12, "in 3 regions"),
        ("12 or so maybe", 12, "or so maybe"),
        ("3 accounts", 3, "3 accounts"),
        ("10-20 customers", 20, "10-20 customers"),
        ("40+", 40, "40+"),
        ("~40", 40, "~40"),
        ("1.2k", 1200, None),
        ("Acme plus 3 others", 3, "Acme plus 3 others"),
    ],
)
def test_counts_with_words(text, count, note):
    assert read_count(text) == (count, note)


@pytest.mark.parametrize("text", ["lots", "huge", "many customers", "a dozen", "Q3 customers", "2x", "twelve"])
def test_words_alone_are_refused_with_the_same_message(text):
    with pytest.raises(QuantityError, match="not words.*Numbers, not adjectives"):
        read_count(text)
    with pytest.raises(QuantityError, match="not words.*Numbers, not adjectives"):
        read_money(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [("$250k", "amount of money"), ("-3 customers", "negative"), ("1.5 customers", "whole number"), ("12 " + "x" * (NOTE_MAX + 1), "short")],
)
def test_counts_refused_for_a_reason(text, why):
    with pytest.raises(QuantityError, match=why):
        read_count(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [("-$5 in deals", "negative"), ("$48k EUR", "currency once"), ("48000 XYZ", "not a currency"), ("$100k to 150k EUR", "one currency")],
)
def test_amounts_refused_for_a_reason(text, why):
    with pytest.raises(QuantityError, match=why):
        read_money(text)


# --- properties --------------------------------------------------------------------------------

WORDS = st.lists(
    st.sampled_from(["in", "open", "deals", "across", "renewals", "for", "the", "EU", "cluster", "users", "pending", "Acme"]), min_size=1, max_size=5
).map(" ".join)
ADJECTIVES = st.lists(st.sampled_from(["lots", "many", "huge", "a", "few", "several", "tons", "of", "customers", "money", "big"]), min_size=1, max_size=4).map(
    " ".join
)
WHOLE = st.integers(min_value=0, max_value=9_999_999)


def grouped(n: int) -> str:
    return f"{n:,}"


@given(WHOLE, st.booleans(), WORDS)
def test_a_count_then_words_keeps_the_count_and_the_words(n, commas, words):
    count, note = read_count(f"{grouped(n) if commas else n} {words}")
    assert count == n
    assert note == words or (note is not None and words in note)


@given(st.integers(min_value=1, max_value=9_999_999), st.sampled_from(["$", "€", "£", ""]), st.sampled_from(["", "k", "m"]), WORDS)
def test_an_amount_then_words_keeps_the_amount_and_the_words(n, symbol, suffix, words):
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[suffix]
    if n * scale > 10**13:
        return
    money, note = read_money(f"{symbol}{n}{suffix} {words}", "GBP")
    assert money.amount == n * scale
    assert money.currency == {"$": "USD", "€": "EUR", "£": "GBP", "": "GBP"}[symbol]
    assert note is not None and words.split()[-1] in note


@given(ADJECTIVES)
def test_words_alone_are_always_refused(words):
    with pytest.raises(QuantityError, match="Numbers, not adjectives"):
        read_count(words)
    with pytest.raises(QuantityError, match="Numbers, not adjectives"):
        read_money(words)


@given(WHOLE, WHOLE, st.sampled_from(["-", "–", " to ", " - "]))
def test_a_range_reads_as_its_upper_end(a, b, sep):
    count, note = read_count(f"{a}{sep}{b} customers")
    assert count == max(a, b) and note == f"{a}{sep}{b} customers"


@given(st.integers(min_value=0, max_value=9_999_999), WORDS)
def test_about_a_number_keeps_the_whole_phrase(n, words):
    assert read_count(f"about {n} {words}") == (n, f"about {n} {words}")


@given(st.text(max_size=60))
def test_any_text_is_read_or_refused_with_a_message(text):
    for read in (read_count, read_money):
        try:
            value, note = read(text)
        except QuantityError as exc:
            assert str(exc)
        else:
            assert note is None or (0 < len(note) <= NOTE_MAX)
            assert value is not None


# --- shown beside the number -------------------------------------------------------------------


def test_the_note_is_shown_beside_the_number_and_old_briefs_read_as_before():
    brief = validate_draft(draft(pipeline_at_risk="$250k in open deals", arr_exposed="$48k", affected_customers="12 or so"), now=NOW)
    assert facts.revenue(brief.impact) == "48,000 USD ARR exposed; 250,000 USD pipeline at risk — in open deals"
    assert facts.affected(brief.impact).startswith("12 customers — or so")
    assert "250,000 USD pipeline at risk — in open deals" in brief_text(brief)
    # A brief stored before notes existed has none of the keys: it loads and reads as it always did.
    stored = brief.model_dump(mode="json")
    for key in ("affected_customers_note", "arr_exposed_note", "pipeline_at_risk_note", "product_area"):
        stored["impact"].pop(key, None)
        stored.pop(key, None)
    old = Brief.model_validate(stored)
    assert facts.revenue(old.impact) == "48,000 USD ARR exposed; 250,000 USD pipeline at risk"


@pytest.mark.parametrize(
    ("count", "pipeline"),
    [("about 300 users", "$250k in open deals"), ("300 customers in EU", "$100k-$150k"), ("12", "lost 2 deals worth $50k"), ("10-20 accounts", "€40,000")],
)
def test_the_notes_survive_the_form_values_a_moved_or_completed_brief_starts_from(count, pipeline):
    """draft_of (the brief as form values: the move and completion forms start from it) validates back
    to the same brief, notes included: a move or a completion never drops "in open deals"."""
    from bot.domain.brief import Destination
    from bot.domain.validation import draft_of, validate_draft
    from tests.factories import NOW, draft

    brief = validate_draft(draft(Destination.LEADERSHIP, affected_customers=count, pipeline_at_risk=pipeline, arr_exposed="$120k across two renewals"), now=NOW)
    assert brief.impact.pipeline_at_risk_note or brief.impact.affected_customers_note
    assert validate_draft(draft_of(brief), now=NOW) == brief
