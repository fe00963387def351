"""Fixtures for the checkpoint and rewind tests."""
