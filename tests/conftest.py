"""Fixtures shared by every test folder. Area-specific fixtures live in each
folder's conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fakes.llm_server import FakeServer, open_fake_server


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    """A loopback HTTP server speaking whatever vendor wire format a test scripts."""
    async with open_fake_server() as srv:
        yield srv


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy configured on the machine must not see loopback tests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client
