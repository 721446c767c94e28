"""Audio: decoding and the constants, Whisper's log-mel, WAV headers, where a recording has speech."""
