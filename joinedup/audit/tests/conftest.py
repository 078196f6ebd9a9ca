import pytest


@pytest.fixture
def checkpoint_file(settings, tmp_path):
    """Checkpoints of this test go to a file of its own (tests never write into var/)."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.jsonl")
    return tmp_path / "audit-checkpoints.jsonl"
