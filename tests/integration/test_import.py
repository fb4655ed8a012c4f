"""Importing command files: idempotent, good lines kept, bad lines named and recording nothing."""

from __future__ import annotations

import threading

import orjson
import pytest

from api.importer import import_lines
from ledger import errors
from ledger.commands import Ledger
from tests.factories import line, log, run, setup_ccm


def commands() -> list[bytes]:
    return [
        line("register_instrument", key="i/CCM", code="CCM", title="Convention on Cluster Munitions",
             kind="treaty"),
        line("add_provision", key="p/CCM/3", instrument="CCM", number="3", kind="article",
             title="Storage and stockpile destruction"),
        line("register_party", key="party/PER", code="PER", name="Peru", kind="state"),
        line("declare_obligation", key="o/PER/3", party="PER", provision="CCM:3",
             kind="stockpile_destruction", description="Declared stockpile", deadline="2020-03-01"),
    ]


def test_importing_the_same_file_twice_records_nothing_the_second_time(ledger):
    first = import_lines(ledger, commands(), "tester")
    assert (first.recorded, first.skipped, first.errors) == (4, 0, [])
    before = log(ledger)
    second = import_lines(ledger, commands(), "tester")
    assert (second.recorded, second.skipped, second.errors) == (0, 4, [])
    assert log(ledger) == before


def test_a_file_with_bad_lines_records_every_good_line_and_names_each_bad_one(ledger):
    lines = commands()
    lines.insert(2, b'{"key": "broken", "command": "register_party", "data": ')  # not JSON
    lines.insert(3, line("register_party", key="party/XXX", code="XXX", name="Nowhere",
                         kind="state"))
    lines.append(line("declare_completion", key="done/unknown", obligation="no-such"))
    report = import_lines(ledger, lines, "tester")
    assert report.recorded == 4
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "(line)"), (4, "data.code"), (7, "obligation"),
    ]
    assert "Invalid JSON" in report.errors[0].reason
    assert "XXX is not an ISO 3166-1 alpha-3 country code" in report.errors[1].reason
    assert "obligations/no-such is not in the ledger" in report.errors[2].reason
    recorded_types = [n.topic.rsplit(".", 1)[-1] for n in ledger.read_all()]
    assert [t for t in recorded_types if t != "CommandAccepted"] == [
        "InstrumentRegistered", "ProvisionAdded", "PartyRegistered", "ObligationDeclared",
    ]


def test_a_key_reused_for_a_different_command_is_refused_and_records_nothing(ledger):
    setup_ccm(ledger)
    run(ledger, "register_party", key="same-key", code="PER", name="Peru", kind="state")
    before = log(ledger)
    with pytest.raises(errors.IdempotencyKeyReused):
        run(ledger, "register_party", key="same-key", code="LAO", name="Lao PDR", kind="state")
    assert log(ledger) == before


def test_a_created_entity_without_an_id_gets_one_stable_for_its_key(ledger):
    setup_ccm(ledger)
    data = dict(party="HRV", provisions=["VAP:14"], text="Destroy", due_on="2013-08-01")
    first = run(ledger, "pledge_commitment", key="pledge/1", **data)
    again = run(ledger, "pledge_commitment", key="pledge/1", **data)
    assert again.replayed and again.result == first.result and again.events == first.events
    assert first.result.startswith("commitments/k")


def test_concurrent_retries_with_one_key_record_one_command(database_url):
    ledgers = [Ledger(database_url) for _ in range(4)]
    setup_ccm(ledgers[0])
    before = len(log(ledgers[0]))
    raw = line("pledge_commitment", key="pledge/concurrent", id="c1", party="HRV",
               provisions=["VAP:14"], text="Destroy", due_on="2013-08-01")
    outcomes, failures = [], []

    def attempt(app: Ledger) -> None:
        try:
            outcomes.append(import_lines(app, [raw], "tester"))
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=attempt, args=(app,)) for app in ledgers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(o.recorded for o in outcomes) == [0, 0, 0, 1]
    assert [e for o in outcomes for e in o.errors] == []
    assert len(log(ledgers[0])) == before + 2  # the pledge and its receipt
    for app in ledgers:
        app.close()


def test_the_documented_json_schema_matches_the_command_models():
    from api.schemas import command_schema

    with open("docs/commands.schema.json", "rb") as handle:
        assert orjson.loads(handle.read()) == command_schema(), "run `make schema`"
