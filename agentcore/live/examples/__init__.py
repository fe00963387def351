"""Complete, tested examples of the live layer (quoted by docs/voice.md)."""
