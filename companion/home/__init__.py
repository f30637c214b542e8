"""The optional home link: Home Assistant through MQTT discovery (off unless [home] is set)."""
