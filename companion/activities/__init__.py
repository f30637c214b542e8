"""What the host drives: a told story, a made-up one, a bad dream, the night's wind-down."""
