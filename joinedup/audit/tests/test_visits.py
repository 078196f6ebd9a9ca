import datetime as dt

from joinedup.audit.rules import Access, visits

T = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def read(minutes, category, service="Wellbeing", basis="relationship", **kw):
    return Access(T + dt.timedelta(minutes=minutes), service, "Northbridge", "practitioner",
                  category, basis, **kw)  # fmt: skip


def test_reads_by_one_service_close_together_are_one_visit_newest_first():
    found = visits([read(0, "identity"), read(1, "risk"), read(29, "identity"), read(60, "notes")])
    assert [(v.start, v.end, v.categories) for v in found] == [
        (T + dt.timedelta(minutes=60), T + dt.timedelta(minutes=60), ["notes"]),
        (T, T + dt.timedelta(minutes=29), ["identity", "risk"]),
    ]


def test_the_gap_is_measured_from_the_last_read_not_the_first():
    found = visits([read(0, "identity"), read(25, "risk"), read(50, "notes")])
    assert len(found) == 1


def test_a_gap_of_more_than_thirty_minutes_starts_a_new_visit():
    assert len(visits([read(0, "identity"), read(30, "risk")])) == 1
    assert len(visits([read(0, "identity"), read(31, "risk")])) == 2


def test_two_services_reading_at_once_are_two_rows():
    found = visits([read(0, "identity"), read(1, "identity", service="Crisis Team"),
                    read(2, "risk")])  # fmt: skip
    assert sorted((v.service, v.categories) for v in found) == [
        ("Crisis Team", ["identity"]), ("Wellbeing", ["identity", "risk"]),
    ]  # fmt: skip


def test_an_override_gives_its_reason_to_its_visit_and_to_later_reads_under_it():
    why = "Called by A&E: risk to life tonight."
    found = visits([
        read(0, "", service="Crisis Team", basis="break_glass", reason=why, override=True),
        read(1, "risk", service="Crisis Team", basis="break_glass", reason="Override in force."),
        read(120, "identity", service="Crisis Team", basis="break_glass"),
        read(121, "identity", basis="relationship"),
    ])  # fmt: skip
    crisis = [v for v in found if v.service == "Crisis Team"]
    assert [(v.categories, v.override_reason) for v in crisis] == [
        (["identity"], why), (["risk"], why),
    ]  # fmt: skip
    assert next(v for v in found if v.service == "Wellbeing").override_reason == ""
