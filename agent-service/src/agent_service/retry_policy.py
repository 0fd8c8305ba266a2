"""How often and how long a call to the token service is tried: one policy per kind of call."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` more attempts after the first, `backoff` seconds apart, each bounded by `timeout`.

    The longest a call can take is `(retries + 1) * timeout + retries * backoff`.
    """

    retries: int
    backoff: float
    timeout: float

    @property
    def attempts(self) -> int:
        return self.retries + 1

    @property
    def max_duration(self) -> float:
        return self.attempts * self.timeout + self.retries * self.backoff


SESSION_CREATE_POLICY = RetryPolicy(retries=3, backoff=2.0, timeout=5.0)
"""Three retries two seconds apart, then the call fails with session_create_failed: long enough
to ride out a token service restarting, short enough that a trainee waiting for `session.id` is
told the call cannot start rather than left waiting (`max_duration` is the whole bound)."""

SCENARIO_POLICY = RetryPolicy(retries=2, backoff=0.5, timeout=5.0)
TRANSCRIPT_POLICY = RetryPolicy(retries=2, backoff=0.5, timeout=5.0)
