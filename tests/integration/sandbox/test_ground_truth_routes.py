"""Ground-truth routes: answers agree with the in-process model, and nothing is served without the token."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from libs.formats import FEATURES
from sandbox.audience import AudienceModel, PostChoice
from sandbox.ground_truth import add_ground_truth_routes

TOKEN = "truth-token"


@pytest.fixture
async def server():
    app = web.Application()
    add_ground_truth_routes(app, audience=AudienceModel(17), token=TOKEN)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


CHOICE = {"content_type": "story", "topic": "sleep", "format": "thread", "hour": 21}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}])
async def test_every_route_refuses_without_the_token(server, headers):
    async with aiohttp.ClientSession(headers=headers) as http:
        for method, path, body in [("GET", "/sim/affinities", None), ("GET", "/sim/best_choice", None),
                                   ("GET", "/sim/format_effects", None),
                                   ("POST", "/sim/expected_reward", {"choice": CHOICE})]:
            async with http.request(method, server.make_url(path), json=body) as resp:
                assert resp.status == 401, path


async def test_routes_serve_the_models_truth_with_the_token():
    model = AudienceModel(17)
    app = web.Application()
    add_ground_truth_routes(app, audience=model, token=TOKEN)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with http.get(srv.make_url("/sim/affinities")) as resp:
                assert resp.status == 200
                assert await resp.json() == model.true_affinities()
            async with http.get(srv.make_url("/sim/format_effects")) as resp:
                assert resp.status == 200
                effects = await resp.json()
            assert effects == model.format_effects() and set(effects) == set(FEATURES)
            async with http.get(srv.make_url("/sim/best_choice"), params={"followers": "5000"}) as resp:
                best = await resp.json()
            assert best["choice"] == vars(model.best_choice(followers=5000))
            async with http.post(srv.make_url("/sim/expected_reward"),
                                 json={"choice": CHOICE, "followers": 5000}) as resp:
                answer = await resp.json()
                value = answer["expected_reward"]
            assert best["expected_reward"] >= value
            assert value == pytest.approx(model.expected_reward(PostChoice(**CHOICE), followers=5000))
            assert answer["expected_follows"] == pytest.approx(
                model.expected_follows(PostChoice(**CHOICE), followers=5000))
            # Followers have a truth of their own (issue 24): their own effects and their own best choice.
            async with http.get(srv.make_url("/sim/follow_affinities")) as resp:
                assert await resp.json() == model.true_follow_affinities()
            async with http.get(srv.make_url("/sim/best_choice"),
                                params={"followers": "5000", "objective": "followers"}) as resp:
                best_follows = await resp.json()
            assert best_follows["choice"] == vars(model.best_follower_choice(followers=5000))
            assert best_follows["expected_follows"] >= answer["expected_follows"]
            async with http.post(srv.make_url("/sim/expected_reward"),
                                 json={"choice": dict(CHOICE, topic="astrology")}) as resp:
                assert resp.status == 400
    finally:
        await srv.close()
