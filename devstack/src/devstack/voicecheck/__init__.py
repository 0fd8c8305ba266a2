"""Calls through a bad network, scored as the trainee hears them.

`scored_call` runs one trainee (`python -m devstack.trainee`) behind the impaired wire
(`devstack.badnet`), says its lines, waits for each reply, records what it heard and hangs up;
then it scores each reply against the audio the model sent (the stub's record), with PESQ
wideband (`devstack.voice_quality`), and collects the receiver's statistics.

`python -m devstack.netns python -m devstack.voicecheck --loss 0.1 --calls 3` measures it on a
stack of its own.
"""

from .call import CallError, ScoredCall, scored_call

__all__ = ["CallError", "ScoredCall", "scored_call"]
