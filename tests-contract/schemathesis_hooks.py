"""What schemathesis sends as a recording (PUT storeRecording, `audio/ogg`): real Ogg/Opus.

schemathesis has no generator for `audio/ogg`; a bare `format: binary` would get arbitrary bytes,
which the service refuses (400: it stores only a stream of intact Ogg pages beginning Opus), so
every schema-valid upload would be "refused valid data". What the document promises is a
recording, so that is what is generated: streams of 20 ms stereo Opus packets of every 20 ms mode
(SILK, hybrid, CELT), each a frame of no length, which a decoder plays as silence. The uploads the
stateful phase makes to a created attempt are stored and then played back, with Range; refusing
anything that is not such a stream is token-service/tests/test_token_recordings.py's part.
"""

import schemathesis
from hypothesis import strategies as st

from token_service.recordings.ogg import opus_stream
from training_contracts import RECORDING_MEDIA_TYPE

STEREO = 0x04
"""The TOC byte's stereo flag (RFC 6716 §3.1); its code 0 (one frame) is the low two bits."""
TWENTY_MS_CONFIGS = (1, 5, 9, 13, 15, 19, 23, 27, 31)
"""Every TOC configuration whose frames last 20 ms, what `opus_stream` counts per packet."""

silent_packet = st.sampled_from(TWENTY_MS_CONFIGS).map(lambda c: bytes([c << 3 | STEREO]))
schemathesis.openapi.media_type(
    RECORDING_MEDIA_TYPE,
    st.lists(silent_packet, min_size=1, max_size=50).map(opus_stream),
)
