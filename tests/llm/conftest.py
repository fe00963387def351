"""Provider tests use the shared ``server`` and ``http_client`` fixtures (tests/conftest.py)."""
