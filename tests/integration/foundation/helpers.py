from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from libs.contracts.events import Choice, ContentQueued


def queued(topic: str = "sleep", content_id: str | None = None) -> ContentQueued:
    now = datetime.now(UTC)
    return ContentQueued(
        content_id=content_id or uuid.uuid4().hex, kind="post", parts=[f"A post about {topic}."],
        choice=Choice(content_type="practical_tip", topic=topic, format="single", hour=9),
        policy_version="uniform", propensity=0.01, scheduled_for=now, expires_at=now + timedelta(hours=6))
