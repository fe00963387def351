"""Fixtures for provider tests: a loopback fake server and an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from fakes.llm_server import FakeServer, open_fake_server


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with open_fake_server() as srv:
        yield srv


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy configured on the machine must not see loopback tests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client
