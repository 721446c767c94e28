"""Frame probabilities over a recording and the stuttering moments decoded from them (numpy)."""
