from decimal import Decimal

import pytest

from bot.domain.quantities import QuantityError, contains_number, parse_count, parse_money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("1,200", 1200),
        ("1200", 1200),
        (" 7 ", 7),
        ("1.2k", 1200),
        ("~40", 40),
        ("12 customers", 12),
        ("3 accounts", 3),
        ("0", 0),
        ("1,000,000", 1_000_000),
        ("40+", 40),
    ],
)
def test_counts_people_type_are_accepted(text, expected):
    assert parse_count(text) == expected


# "12 or so maybe" is a number with words: accepted, the words kept as its note (tests/test_quantity_notes.py).
@pytest.mark.parametrize("text", ["lots", "many", "huge", "a few", "several customers", "1.5", "-3", "", "twelve"])
def test_adjectives_and_non_counts_are_rejected_with_a_reason(text):
    with pytest.raises(QuantityError) as err:
        parse_count(text)
    assert str(err.value)


def test_rejection_says_numbers_not_adjectives():
    with pytest.raises(QuantityError, match="Numbers, not adjectives"):
        parse_count("lots")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$48k", Decimal(48000), "USD"),
        ("48000 EUR", Decimal(48000), "EUR"),
        ("48,000", Decimal(48000), "USD"),
        ("€1.2m", Decimal(1_200_000), "EUR"),
        ("£300", Decimal(300), "GBP"),
        ("USD 250,000", Decimal(250000), "USD"),
        ("48k usd", Decimal(48000), "USD"),
        ("$1,234.50", Decimal("1234.5"), "USD"),
        ("$120k ARR", Decimal(120000), "USD"),
    ],
)
def test_money_people_type_is_accepted(text, amount, currency):
    money = parse_money(text)
    assert (money.amount, money.currency) == (amount, currency)


def test_bare_amount_takes_the_configured_currency():
    assert parse_money("5000", "EUR").currency == "EUR"


@pytest.mark.parametrize("text", ["lots", "huge", "a lot of money", "-$5", "$", "48000 XYZ", "$48k USD", "1e9"])
def test_bad_money_is_rejected(text):
    with pytest.raises(QuantityError):
        parse_money(text)


def test_money_prints_with_thousands_and_code():
    assert str(parse_money("$48k")) == "48,000 USD"
    assert str(parse_money("$1,234.50")) == "1,234.50 USD"


def test_contains_number():
    assert contains_number("14 customers in 90 days")
    assert not contains_number("lots of customers")
