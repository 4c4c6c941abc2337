"""Token-protected ground truth of the simulated world, for evaluation only (never for xbot's services).

    GET  /sim/affinities                 dimension -> arm -> hidden effect on log reach
    GET  /sim/follow_affinities          dimension -> arm -> hidden effect on the log per-view follow rate
    GET  /sim/format_effects             format feature (libs.formats) -> hidden effect on the log engagement
                                         of every post, the population's and ours
    GET  /sim/best_choice?followers=N    the choice with the highest expected reward, and that reward
         [&objective=followers]          (objective=followers: the most expected follows, and those)
    POST /sim/expected_reward            {"choice": {content_type, topic, format, hour}, "followers"?, "quality"?}
                                         -> its expected reward and expected follows (for a text the format
                                         effects lift by nothing: AudienceModel.own_format_lift adds to both)
    GET  /sim/activity                   what the account was served: rolling 15 min and 24 h, per day; the
                                         reading limit's state
    GET  /sim/suspicion                  the automation-suspicion score, its components, thresholds, state
                                         (ok / notice / locked), highest score, notices and locks
    POST /sim/growth                     {"since", "until" (ISO or Unix seconds), "hours"?, "reply_pools"?:
                                         {our reply's id: [target ids the planner could have answered]}}
                                         -> per 24-hour day and in all: the expected follows of the choices the
                                         account made (policy), of uniform and of the best choices of the same
                                         slots, the share (policy - uniform) / (oracle - uniform), the follows
                                         drawn and the followers gained (sandbox/growth.py)

Every route answers 401 unless the request carries ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Awaitable, Callable

from aiohttp import web

from sandbox.activity import Activity
from sandbox.audience import AudienceModel, PostChoice
from sandbox.growth import growth
from sandbox.world import World

Handler = Callable[[web.Request], Awaitable[web.Response]]


def add_ground_truth_routes(app: web.Application, *, audience: AudienceModel, token: str,
                            activity: Activity | None = None, now: Callable[[], float] | None = None,
                            world: World | None = None) -> None:
    def guarded(handler: Handler) -> Handler:
        async def wrapper(request: web.Request) -> web.Response:
            if request.headers.get("Authorization", "") != f"Bearer {token}":
                return web.json_response({"error": "unauthorized"}, status=401)
            return await handler(request)

        return wrapper

    async def affinities(request: web.Request) -> web.Response:
        return web.json_response(audience.true_affinities())

    async def best_choice(request: web.Request) -> web.Response:
        try:
            followers = int(request.query.get("followers", "1000"))
        except ValueError:
            return web.json_response({"error": "followers must be an integer"}, status=400)
        if request.query.get("objective") == "followers":
            choice = audience.best_follower_choice(followers=followers)
            return web.json_response({"choice": asdict(choice),
                                      "expected_follows": audience.expected_follows(choice, followers=followers)})
        choice = audience.best_choice(followers=followers)
        return web.json_response({
            "choice": asdict(choice),
            "expected_reward": audience.expected_reward(choice, followers=followers),
        })

    async def expected_reward(request: web.Request) -> web.Response:
        try:
            body: dict[str, Any] = await request.json()
            fields = body.get("choice", body)
            choice = PostChoice(
                content_type=str(fields["content_type"]),
                topic=str(fields["topic"]),
                format=str(fields["format"]),
                hour=int(fields["hour"]),
            )
            followers = int(body.get("followers", 1000))
            quality = float(body.get("quality", 0.6))
            value = audience.expected_reward(choice, followers=followers, quality=quality)
            follows = audience.expected_follows(choice, followers=followers, quality=quality)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return web.json_response({"error": f"bad choice: {exc}"}, status=400)
        return web.json_response({"choice": asdict(choice), "followers": followers, "quality": quality,
                                  "expected_reward": value, "expected_follows": follows})

    async def follow_affinities(request: web.Request) -> web.Response:
        return web.json_response(audience.true_follow_affinities())

    async def format_effects(request: web.Request) -> web.Response:
        return web.json_response(audience.format_effects())

    app.router.add_get("/sim/affinities", guarded(affinities))
    app.router.add_get("/sim/follow_affinities", guarded(follow_affinities))
    app.router.add_get("/sim/format_effects", guarded(format_effects))
    if activity is not None and now is not None:
        async def activity_state(request: web.Request) -> web.Response:
            return web.json_response(activity.describe_activity(now()))

        async def suspicion_state(request: web.Request) -> web.Response:
            return web.json_response(activity.describe_suspicion(now()))

        app.router.add_get("/sim/activity", guarded(activity_state))
        app.router.add_get("/sim/suspicion", guarded(suspicion_state))
    if world is not None:
        async def growth_route(request: web.Request) -> web.Response:
            try:
                body: dict[str, Any] = await request.json()
                since, until = _instant(body["since"]), _instant(body["until"])
                hours = [int(h) for h in body.get("hours", range(24))]
                pools = {str(k): [str(t) for t in v] for k, v in (body.get("reply_pools") or {}).items()}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return web.json_response({"error": f"bad request: {exc!r}"}, status=400)
            if until <= since:
                return web.json_response({"error": "until must be after since"}, status=400)
            return web.json_response(growth(world, since=since, until=until, hours=hours, reply_pools=pools))

        app.router.add_post("/sim/growth", guarded(growth_route))
    app.router.add_get("/sim/best_choice", guarded(best_choice))
    app.router.add_post("/sim/expected_reward", guarded(expected_reward))


def _instant(value: Any) -> float:
    """Unix seconds from a number or an ISO 8601 time with its offset."""
    if isinstance(value, (int, float)):
        return float(value)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed.timestamp()
