"""Money is a plain decimal string with at most its currency's ISO 4217 minor units, in the one
command shape that `ledger import`, `POST /v1/import` and the HTTP routes share."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from api.routes.writes import body_model
from api.schemas import CommandLine


def pledge(amount: object, currency: str = "USD") -> bytes:
    data = {"donor": "NOR", "amount": amount, "currency": currency}
    return orjson.dumps({"key": "k", "command": "pledge_funding", "data": data})


def refusal(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        CommandLine.validate_json(raw)
    return [(".".join(map(str, e["loc"][2:])), e["msg"]) for e in caught.value.errors()]


@pytest.mark.parametrize(("amount", "currency"), [
    ("430700000", "USD"), ("12.50", "USD"), ("12", "JPY"), ("1.234", "BHD"), ("0.5", "EUR"),
    ("1.2345", "CLF"), ("1.5", "XDR"), ("9999999999999999.99", "USD"),
])
def test_plain_decimals_within_the_minor_units_are_kept_as_written(amount, currency):
    assert CommandLine.validate_json(pledge(amount, currency)).data.amount == amount


@pytest.mark.parametrize("amount", ["1e3", "1E+3", "1_000", " 100 ", "100 ", "1,000", "-5", "+5",
                                    "007", "1.", ".5", "1..2", "0x10", "NaN", "Infinity", "",
                                    "\u0661\u0662", "10000000000000000"])
def test_anything_but_a_plain_decimal_string_is_refused(amount):
    [(field, reason)] = refusal(pledge(amount))
    assert field == "amount" and reason.startswith("String should match pattern")


@pytest.mark.parametrize("amount", [100, 12.5])
def test_json_numbers_are_refused_because_money_is_a_string(amount):
    assert refusal(pledge(amount)) == [("amount", "Input should be a valid string")]


@pytest.mark.parametrize(("amount", "currency", "places"), [
    ("12.5", "JPY", 0), ("1.0", "KRW", 0), ("12.505", "USD", 2), ("1.2345", "BHD", 3),
])
def test_more_places_than_the_currency_has_are_refused(amount, currency, places):
    assert refusal(pledge(amount, currency)) == [
        ("amount", f"Value error, {currency} amounts have at most {places} decimal places "
                   "(ISO 4217)")]


@pytest.mark.parametrize("amount", ["0", "0.00"])
def test_nothing_is_not_an_amount(amount):
    assert refusal(pledge(amount)) == [("amount", "Value error, the amount must be more than zero")]


def test_an_unknown_currency_is_named_and_the_amount_left_alone():
    assert refusal(pledge("12.5", "ZZZ")) == [
        ("currency", "Value error, ZZZ is not an ISO 4217 currency code")]


@pytest.mark.parametrize(("command", "path_field"), [("pledge_funding", None),
                                                     ("disburse_funding", "funding")])
def test_the_http_bodies_keep_the_same_rule(command, path_field):
    """A route with the entity in its path rebuilds the body from the fields: the rule must hold
    there too."""
    model = body_model(command, path_field)
    fields = {"donor": "NOR"} if path_field is None else {}
    model.model_validate({**fields, "amount": "12", "currency": "JPY"})
    with pytest.raises(ValidationError, match="JPY amounts have at most 0 decimal places"):
        model.model_validate({**fields, "amount": "12.5", "currency": "JPY"})
    with pytest.raises(ValidationError, match="should match pattern"):
        model.model_validate({**fields, "amount": "1e3", "currency": "USD"})
