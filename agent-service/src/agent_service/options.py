"""The timings of one call, in one place: production's defaults, which tests shorten."""

from dataclasses import dataclass, field

from .delivery import DeliveryOptions
from .retry_policy import SCENARIO_POLICY, SESSION_CREATE_POLICY, RetryPolicy


@dataclass(frozen=True)
class CallOptions:
    session_create_policy: RetryPolicy = SESSION_CREATE_POLICY
    scenario_policy: RetryPolicy = SCENARIO_POLICY
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    """The transcript's batches during the call, and the retry policy of every POST."""
    caller_opens_after: float = 4.0
    """Seconds of silence after which the caller speaks first."""
    final_delivery_timeout: float = 8.0
    """How long the final transcript may take in `on_session_end` before it is spooled."""
    recording_delivery_timeout: float = 15.0
    """How long a recorded call's upload may take in `on_session_end`, after the transcript,
    before the redelivery pass is left to send it."""
    trainee_rejoin_grace: float = 3.0
    """After the trainee's connection drops in a way a client recovers from by rejoining, wait
    this long for the rejoin before ending the call."""
