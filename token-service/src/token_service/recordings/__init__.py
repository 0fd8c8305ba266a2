"""Call recordings: the agent uploads each recorded attempt's Ogg file, the owner plays it back."""
