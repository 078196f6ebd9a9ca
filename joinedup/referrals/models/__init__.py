"""Referrals app models, by concept."""

from joinedup.referrals.models.directory import *  # noqa: F403
from joinedup.referrals.models.episodes import *  # noqa: F403
from joinedup.referrals.models.referrals import *  # noqa: F403
