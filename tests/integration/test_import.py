"""Importing command files: idempotent, good lines kept, bad lines named and recording nothing;
atomic imports all or nothing, even when another writer gets in between check and write."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import orjson
import pytest

from api.importer import import_lines
from ledger import errors
from ledger.commands import Ledger
from tests.factories import line, log, run, setup_ccm
from tests.interleaving import Interleaved


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
    assert (first.recorded, first.already_recorded, first.errors) == (4, 0, [])
    before = log(ledger)
    second = import_lines(ledger, commands(), "tester")
    assert (second.recorded, second.already_recorded, second.errors) == (0, 4, [])
    assert log(ledger) == before
    assert [(line.entity, line.events) for line in second.lines] == [
        (line.entity, line.events) for line in first.lines]


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
    assert [(line.line, line.key, line.outcome) for line in report.lines] == [
        (1, "i/CCM", "recorded"), (2, "p/CCM/3", "recorded"), (3, None, "refused"),
        (4, "party/XXX", "refused"), (5, "party/PER", "recorded"), (6, "o/PER/3", "recorded"),
        (7, "done/unknown", "refused"),
    ]
    logged = {n.id: orjson.loads(n.state)["event_id"] for n in ledger.read_all()}
    for recorded in (line for line in report.lines if line.outcome == "recorded"):
        assert recorded.events and recorded.events[-1] in logged.values()
        assert recorded.position in logged  # the line's receipt, recorded with its events
    recorded_types = [n.topic.rsplit(".", 1)[-1] for n in ledger.read_all()]
    assert [t for t in recorded_types if t != "CommandAccepted"] == [
        "InstrumentRegistered", "ProvisionAdded", "PartyRegistered", "ObligationDeclared",
    ]


def test_an_atomic_import_with_one_bad_line_records_nothing_and_the_fixed_file_records_all(ledger):
    lines = commands()
    lines.insert(3, line("declare_completion", key="done/unknown", obligation="no-such"))
    report = import_lines(ledger, lines, "tester", atomic=True)
    assert log(ledger) == []
    assert [(line.line, line.outcome) for line in report.lines] == [
        (1, "not_recorded"), (2, "not_recorded"), (3, "not_recorded"), (4, "refused"),
        (5, "not_recorded"),
    ]
    assert report.lines[3].errors[0].field == "obligation"
    assert report.lines[3].title == "Obligation Not Found"
    fixed = import_lines(ledger, commands(), "tester", atomic=True)
    assert [line.outcome for line in fixed.lines] == ["recorded"] * 4
    positions = [line.position for line in fixed.lines]
    assert positions == sorted(positions) and positions[-1] == ledger.recorder.max_notification_id()
    assert [line.entity for line in fixed.lines][:3] == [
        "instruments/CCM", "instruments/CCM", "parties/PER"]


def test_an_atomic_batch_checks_each_line_against_the_lines_before_it(ledger):
    setup_ccm(ledger)
    pledge = dict(id="c1", party="HRV", provisions=["VAP:14"], text="Destroy", due_on="2013-08-01")
    lines = [
        line("pledge_commitment", key="c1", **pledge),
        line("pledge_commitment", key="c1-again", **pledge),  # the id was taken by line 1
        line("pledge_commitment", key="c1", **pledge),  # a retry of line 1 within the batch
        line("assess_commitment", key="a1", commitment="c1", outcome="kept",
             assessor="independent", assessed_by="CMC"),
        line("report_progress", key="r1", commitment="c1", status="in_progress"),  # closed
    ]
    before = log(ledger)
    report = import_lines(ledger, lines, "tester", atomic=True)
    assert [(line.outcome, line.title) for line in report.lines] == [
        ("not_recorded", None), ("refused", "Already Exists"), ("already_recorded", None),
        ("not_recorded", None), ("refused", "Commitment Already Closed"),
    ]
    assert log(ledger) == before


@pytest.fixture
def overtaken(database_url) -> Iterator[tuple[Interleaved, Ledger]]:
    """A ledger whose batches another writer can overtake, and that writer; obligation o1
    is declared."""
    ledger, other = Interleaved(database_url), Ledger(database_url)
    setup_ccm(ledger)
    run(ledger, "declare_obligation", id="o1", party="HRV", provision="CCM:3",
        kind="stockpile_destruction", description="Declared stockpile")
    yield ledger, other
    ledger.close()
    other.close()


PARTY_AND_PROGRESS = [
    line("register_party", key="p/PER", code="PER", name="Peru", kind="state"),
    line("report_obligation_progress", key="o1/progress", obligation="o1", summary="Half"),
]


def test_a_line_made_illegal_between_check_and_write_leaves_no_half_recorded_batch(overtaken):
    ledger, other = overtaken
    # after the batch was checked, another writer completes the obligation
    ledger.meanwhile.append(lambda: run(other, "declare_completion", obligation="o1"))
    before = log(ledger)
    report = import_lines(ledger, PARTY_AND_PROGRESS, "tester", atomic=True)
    assert [line.outcome for line in report.lines] == ["not_recorded", "refused"]
    assert report.lines[1].title == "Obligation Already Completed"
    assert len(log(ledger)) == len(before) + 2  # only the other's completion and its receipt


def test_a_batch_that_meets_a_concurrent_write_is_checked_again(overtaken):
    ledger, other = overtaken
    ledger.meanwhile.append(lambda: run(other, "declare_completion", obligation="o1"))
    report = import_lines(ledger, PARTY_AND_PROGRESS, "tester")
    assert [line.outcome for line in report.lines] == ["recorded", "refused"]
    assert report.lines[0].position == ledger.recorder.max_notification_id()


def test_a_batch_always_overtaken_is_refused_when_atomic_and_done_line_by_line_otherwise(
    overtaken,
):
    ledger, other = overtaken
    lines = [line("report_obligation_progress", key="o1/mine", obligation="o1", summary="Mine")]

    def overtake() -> None:
        run(other, "report_obligation_progress", obligation="o1", summary="Theirs")

    ledger.meanwhile.extend([overtake] * 3)
    before = log(ledger)
    with pytest.raises(errors.VersionConflict):
        import_lines(ledger, lines, "tester", atomic=True)
    assert len(log(ledger)) == len(before) + 6  # the other writer's three reports only
    ledger.meanwhile.extend([overtake] * 3)
    report = import_lines(ledger, lines, "tester")
    assert [line.outcome for line in report.lines] == ["recorded"]
    assert report.lines[0].position == ledger.recorder.max_notification_id()


def test_a_batch_reads_the_entities_its_commands_name_at_once_and_none_one_by_one(
        ledger, monkeypatch):
    """What a batch's commands load, or check is new (their receipts too), is read in one
    query per 500 entities when the batch begins, not one query per command."""
    setup_ccm(ledger)
    pledges = [line("pledge_commitment", key=f"pledge/{n}", id=f"c-{n}", party="HRV",
                    provisions=["VAP:14", "CCM:3"], text="Destroy the stockpile")
               for n in range(40)]
    progress = [line("report_progress", key=f"progress/{n}", commitment=f"c-{n}",
                     status="in_progress") for n in range(40)]
    first = import_lines(ledger, pledges, "tester")  # in the store before the next batch
    gets, reads = [], []
    monkeypatch.setattr(type(ledger.repository), "get", lambda self, *a, **k: gets.append(a))
    read_entities = Ledger.read_entities
    monkeypatch.setattr(Ledger, "read_entities",
                        lambda self, paths, before: reads.append(paths) or read_entities(
                            self, paths, before))
    report = import_lines(ledger, [*pledges[:5], *progress], "tester")
    assert (first.recorded, report.recorded, report.already_recorded, report.errors) == (
        40, 40, 5, [])
    assert gets == []
    assert len(reads) == 1 and {"parties/HRV", "instruments/VAP", "instruments/CCM",
                                "commitments/c-0", "receipts/progress/0"} <= set(reads[0])


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
