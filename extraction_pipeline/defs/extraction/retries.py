"""The plan's retry schedule: base × multiplier^attempt seconds plus up to ``jitter`` (30 s, 2 min, 8 min).

Dagster's ``RetryPolicy`` backoff gives ((2^n)−1)·delay = 30, 90, 210 s and cannot express 30/120/480, so the
run engine computes the wait here: a lone file's run raises ``RetryRequested(seconds_to_wait=...)``, a run over
many files waits in-run. ``RetrySchedule.verdict`` is the one place that decides retry or fail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from extraction_pipeline.errors import ExtractionError


@dataclass(frozen=True)
class Verdict:
    """What happens to a file after a failed attempt: another attempt in ``retry_in`` seconds, or none."""

    retry_in: float | None
    message: str  # what the row says: the error, and for a retryable one given up on, how many attempts
    attempts: int  # attempts made so far

    @property
    def gave_up(self) -> bool:
        return self.retry_in is None


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

    def verdict(self, error: ExtractionError, retry_number: int, rng: random.Random | None = None) -> Verdict:
        """Retry a retryable error while retries are left; fail a permanent one, or the last retryable one."""
        attempts = retry_number + 1
        if error.retryable and self.should_retry(retry_number):
            return Verdict(retry_in=self.delay(retry_number, rng), message=error.message, attempts=attempts)
        message = f"{error.message} (gave up after {attempts} attempts)" if error.retryable else error.message
        return Verdict(retry_in=None, message=message, attempts=attempts)
