"""Signed checkpoints of the chain's head, kept outside the database.

After each append commits, one line recording the new head, signed under the chain key, is
added to `AUDIT_CHECKPOINT_FILE` (when set) and logged to `joinedup.audit.checkpoint`, so
that a copy lives wherever the log stream goes. Verification checks every checkpoint it is
given against the log: a checkpoint past the log's end shows entries deleted from its tail,
and one naming another hash shows an entry replaced.
"""

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from joinedup.audit.rules import Checkpoint, checkpoint_line

logger = logging.getLogger("joinedup.audit.checkpoint")


def chain_key() -> bytes:
    """The key of the chain's HMACs and the checkpoints' signatures (`AUDIT_CHAIN_KEY`)."""
    return settings.AUDIT_CHAIN_KEY.encode()


def checkpoint_file() -> Path | None:
    return Path(settings.AUDIT_CHECKPOINT_FILE) if settings.AUDIT_CHECKPOINT_FILE else None


def write_checkpoint(seq: int, digest: str) -> None:
    """Record that entry `seq`, with hash `digest`, is (or was) the head."""
    line = checkpoint_line(chain_key(), Checkpoint(seq, digest, timezone.now().isoformat()))
    logger.info("%s", line)
    path = checkpoint_file()
    if path is None:
        return
    # One write to a file opened for appending: lines from concurrent processes never mix.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


def read_checkpoint_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each non-blank line of a checkpoint file, with its line number."""
    with path.open(encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            if line.strip():
                yield number, line
