"""Understanding what was said, and the listening loop."""
