"""Loading licensed item texts, and the demo hub's questionnaires."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from joinedup.measures import instruments
from joinedup.measures.models import Administration, LicensedItemText
from joinedup.measures.selectors import item_texts
from joinedup.measures.tests.factories import start_episode


def write_texts(tmp_path, rows):
    path = tmp_path / "wemwbs.csv"
    path.write_text("item,text\n" + "".join(f"{n},{text}\n" for n, text in rows))
    return path


def test_a_licensed_service_loads_texts_the_code_may_not_ship(db, tmp_path):
    wemwbs = instruments.get("WEMWBS")
    assert item_texts(wemwbs)[1] == "Item 1"
    path = write_texts(tmp_path, [(n, f"Licensed statement {n}") for n in range(1, 15)])
    call_command("load_item_texts", "wemwbs", path, verbosity=0)
    assert item_texts(wemwbs)[14] == "Licensed statement 14"
    call_command("load_item_texts", "WEMWBS", path, verbosity=0)  # again: no duplicates
    assert LicensedItemText.objects.count() == 14


def test_the_licensed_texts_appear_on_the_form(hub, client, tmp_path):
    path = write_texts(tmp_path, [(n, f"Licensed statement {n}") for n in range(1, 15)])
    call_command("load_item_texts", "WEMWBS", path, verbosity=0)
    episode = start_episode(hub)
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episode.uuid, "WEMWBS"])
    assert "Licensed statement 7" in client.get(url).content.decode()


@pytest.mark.parametrize(
    ("code", "rows", "problem"),
    [
        ("PHQ-9", [(1, "x")], "texts are shipped with JoinedUp already"),
        ("WEMWBS", [(n, "x") for n in range(1, 14)], "no text for items 14"),
        ("WEMWBS", [(15, "x")], "item must be 1 to 14"),
        ("WEMWBS", [(1, "")], "the text is empty"),
        ("BDI", [(1, "x")], "Unknown measure"),
    ],
)
def test_bad_text_files_are_refused_and_load_nothing(db, tmp_path, code, rows, problem):
    with pytest.raises(CommandError, match=problem):
        call_command("load_item_texts", code, write_texts(tmp_path, rows), verbosity=0)
    assert not LicensedItemText.objects.exists()


def test_the_demo_hub_has_improving_flat_and_deteriorating_trajectories(db):
    call_command("demo", verbosity=0)
    scores = {}
    for administration in Administration.objects.filter(code="PHQ-9").order_by("completed_at"):
        scores.setdefault(administration.episode_id, []).append(administration.main_score)
    deltas = [s[-1] - s[0] for s in scores.values()]
    assert any(d <= -6 for d in deltas)  # reliable improvement
    assert any(d >= 6 for d in deltas)  # reliable deterioration
    assert any(abs(d) < 3 for d in deltas)
    sessions = Administration.objects.filter(code="PHQ-9").values_list("session_number", flat=True)
    assert min(sessions) == 1
    assert max(sessions) >= 6
