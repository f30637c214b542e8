"""Speech in (speech-to-text engines, grammars) and speech out (piper voices)."""
