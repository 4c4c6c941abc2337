"""Where a replay from a snapshot starts each durable, and when it refuses (libs/store/replay.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from libs.bus.streams import ConsumerSpec
from libs.store.replay import _check_snapshot
from libs.store.snapshot import SnapshotMissing

WHOLE = ConsumerSpec("console", "items", "harvester")
FILTERED = ConsumerSpec("console", "left_replies_reply_left_to_owner", "harvester",
                        filter_event="reply_left_to_owner.v1")
INFOS = {"NS_HARVESTER": SimpleNamespace(state=SimpleNamespace(first_seq=500))}


def test_a_whole_stream_durable_behind_the_streams_dropped_start_is_refused() -> None:
    with pytest.raises(SnapshotMissing, match="events 77..499 are gone"):
        _check_snapshot("console", {(WHOLE.durable("ns"), "NS_HARVESTER"): 76}, [(None, WHOLE)], INFOS, "ns")
    assert _check_snapshot("console", {(WHOLE.durable("ns"), "NS_HARVESTER"): 499}, [(None, WHOLE)], INFOS,
                           "ns") == {(WHOLE.durable("ns"), "NS_HARVESTER"): 499}


def test_a_filtered_durable_standing_at_its_own_last_event_starts_there() -> None:
    # Its last event (76) is far behind the stream's kept start: the other events' drop says nothing of its own.
    key = (FILTERED.durable("ns"), "NS_HARVESTER")
    assert _check_snapshot("console", {key: 76}, [(None, FILTERED)], INFOS, "ns") == {key: 76}
