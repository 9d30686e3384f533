"""The plan's retry schedule: base × multiplier^attempt seconds plus up to ``jitter`` (30 s, 2 min, 8 min).

Dagster's ``RetryPolicy`` backoff gives ((2^n)−1)·delay = 30, 90, 210 s and cannot express 30/120/480, so the
asset computes the wait here and raises ``RetryRequested(seconds_to_wait=...)`` itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetrySchedule:
    base_seconds: float = 30.0
    multiplier: float = 4.0
    jitter: float = 0.25  # up to +25 % so that a burst of failures does not retry in lockstep
    max_retries: int = 3

    def nominal_delay(self, retry_number: int) -> float:
        """Wait before retry ``retry_number + 1``, where ``retry_number`` is Dagster's (0 on the first attempt)."""
        return self.base_seconds * self.multiplier**retry_number

    def delay(self, retry_number: int, rng: random.Random | None = None) -> float:
        spread = (rng or random).uniform(0.0, self.jitter)
        return self.nominal_delay(retry_number) * (1.0 + spread)

    def should_retry(self, retry_number: int) -> bool:
        return retry_number < self.max_retries

    def next_retry_at(self, now: datetime, delay_seconds: float) -> datetime:
        return now + timedelta(seconds=delay_seconds)
