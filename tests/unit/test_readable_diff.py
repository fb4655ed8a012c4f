"""Readable diffs: what a reader sees of a change-log diff row, in words, never as raw JSON."""

from __future__ import annotations

from projections.diffs import FieldChange, readable_diff

STEP = {"type": "ReviewOpened", "on": "2014-01-01", "event_id": "70f642a9",
        "summary": "The Committee on Cooperative Compliance considered the allegations."}


def test_a_scalar_change_shows_before_and_after_with_the_label_in_words():
    assert readable_diff({"due_on": ["2011-12-31", "2013-08-01"]}) == [
        FieldChange("due_on", "due date", before="2011-12-31", after="2013-08-01")]
    (filed_by,) = readable_diff({"filed_by": [None, "ICBL"]})
    assert (filed_by.label, filed_by.before, filed_by.after) == ("filed by", "", "ICBL")


def test_codes_read_as_words_and_yes_no_stands_for_true_false():
    state, completed = readable_diff({"state": ["clarification_requested", "response_received"],
                                      "completed": [False, True]})
    assert (state.before, state.after) == ("clarification requested", "response received")
    assert (completed.before, completed.after) == ("no", "yes")


def test_an_added_step_reads_as_its_type_date_and_summary():
    (steps,) = readable_diff({"steps": [[], [STEP]]})
    assert steps == FieldChange("steps", "steps", added=(
        "Review opened on 2014-01-01: The Committee on Cooperative Compliance considered the "
        "allegations.",))


def test_a_step_without_summary_lists_its_fields_and_nested_values_in_brackets():
    resolved = {"type": "AllegationResolved", "on": "2019-10-15", "event_id": "e2",
                "outcome": "not_credible", "recommendation": "Do not pursue further"}
    progress = {"type": "ProgressReported", "on": "2017-01-01", "event_id": "e3",
                "status": "in_progress", "quantities": {"dialogues held": 3}, "summary": "Held"}
    (steps,) = readable_diff({"steps": [[STEP], [STEP, resolved]]})
    assert steps.added == ("Allegation resolved on 2019-10-15: Do not pursue further "
                           "(outcome: not credible)",)
    (progress_change,) = readable_diff({"progress": [[], [progress]]})
    assert progress_change.added == (
        "Progress reported on 2017-01-01: Held (status: in progress; quantities: (dialogues held: 3))",)


def test_list_items_show_as_removed_and_added_only():
    (provisions,) = readable_diff({"provisions": [["VAP:14", "VAP:21", "VAP:21"],
                                                  ["VAP:21", "VAP:30", "VAP:14"]]})
    assert (provisions.removed, provisions.added) == (("VAP:21",), ("VAP:30",))
    assert (provisions.before, provisions.after) == ("", "")


def test_a_reordered_list_still_shows_as_a_change():
    (provisions,) = readable_diff({"provisions": [["VAP:14", "VAP:21"], ["VAP:21", "VAP:14"]]})
    assert (provisions.before, provisions.after, provisions.added) == ("VAP:14; VAP:21", "VAP:21; VAP:14", ())


def test_dict_values_show_as_key_value_items_added_removed_and_changed():
    (quantities,) = readable_diff({"quantities": [{"mines destroyed": 10, "areas cleared": 2},
                                                  {"mines destroyed": 25, "areas released": 4}]})
    assert quantities.removed == ("mines destroyed: 10", "areas cleared: 2")
    assert quantities.added == ("mines destroyed: 25", "areas released: 4")
    (statuses,) = readable_diff({"statuses": [{}, {"CCM": {"status": "ratified", "on": "2011-08-20"}}]})
    assert (statuses.label, statuses.added) == ("treaty status", ("CCM: status: ratified; on: 2011-08-20",))


def test_a_decided_extension_shows_the_request_it_replaces_and_the_decision():
    request = {"type": "ExtensionRequested", "on": "2012-06-01", "event_id": "e4",
               "requested_deadline": "2020-03-01", "reason": "Heavy contamination", "decision": None}
    decided = {**request, "decision": {"type": "ExtensionGranted", "on": "2012-12-05", "event_id": "e5",
                                       "granted": True, "deadline": "2020-03-01"}}
    (extensions,) = readable_diff({"extensions": [[request], [decided]]})
    assert extensions.label == "extension requests"
    assert extensions.removed == (
        "Extension requested on 2012-06-01: Heavy contamination (requested deadline: 2020-03-01)",)
    assert extensions.added == (
        "Extension requested on 2012-06-01: Heavy contamination (requested deadline: 2020-03-01; "
        "decision: (Extension granted on 2012-12-05: granted: yes; deadline: 2020-03-01))",)


def test_empty_starting_values_and_bookkeeping_are_left_out():
    diff = {"corrections": [None, []], "retracted": [None, False], "quantities": [None, {}],
            "status_before_lapse": [None, "pledged"], "party": [None, "HRV"]}
    assert [field.field for field in readable_diff(diff)] == ["party"]


def test_real_changes_to_booleans_and_emptied_values_are_shown():
    retracted, outcome = readable_diff({"retracted": [False, True], "outcome": ["not_credible", None]})
    assert (retracted.before, retracted.after) == ("no", "yes")
    assert (outcome.before, outcome.after) == ("not credible", "")


def test_every_value_is_a_string_and_every_list_a_tuple_of_strings():
    diff = {"amount": [None, 430700000], "covers": [[], ["APMBC:6"]], "steps": [[], [STEP]],
            "statuses": [{}, {"CCM": {"status": "ratified", "on": "2011-08-20"}}]}
    for field in readable_diff(diff):
        assert isinstance(field.before, str) and isinstance(field.after, str)
        assert all(isinstance(item, str) for item in field.added + field.removed)
        assert not any(text.startswith(("[", "{")) for text in (field.before, field.after,
                                                                *field.added, *field.removed))
