"""Provider tests use the shared ``http_client`` fixture (tests/conftest.py) and
this folder's ``server``: the same loopback server, which on teardown checks
every request body a provider sent against the vendor SDK's params type."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from fakes.llm_server import FakeServer, open_fake_server
from fakes.vendor_sdk import check_request


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with open_fake_server() as srv:
        yield srv
        for request in srv.requests:
            if request.method == "POST" and request.body:
                check_request(request.path, json.loads(request.body))
