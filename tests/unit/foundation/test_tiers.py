"""The fast tier holds itself to its promise: a test in it that starts a process or connects to a server fails
(tests/conftest.py), so `pytest -m fast` cannot silently grow slow."""

from __future__ import annotations

import asyncio
import socket
import subprocess

import pytest

from tests.conftest import SlowInFastTier


def test_this_unit_test_is_in_the_fast_tier(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("fast") is not None


def test_a_fast_test_cannot_start_a_process() -> None:
    with pytest.raises(SlowInFastTier):
        subprocess.run(["true"], check=False)


async def test_a_fast_test_cannot_start_an_asyncio_subprocess() -> None:
    with pytest.raises(SlowInFastTier):
        await asyncio.create_subprocess_exec("true")


def test_a_fast_test_cannot_connect_to_a_server() -> None:
    with pytest.raises(SlowInFastTier):
        socket.create_connection(("127.0.0.1", 4222), timeout=1)
