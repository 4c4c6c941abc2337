"""The README's table of what each component may do is ops/access.py's, and the table covers every service."""

from __future__ import annotations

import re
from pathlib import Path

from ops.access import ACCESS, GATEWAY_WRITES, check_against_registry, markdown_table
from ops.access import access as access_of
from ops.registry import SERVICES

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_table_is_generated_from_ops_access() -> None:
    found = re.search(r"<!-- access-table: generated from ops/access.py -->\n(.*?)\n<!-- /access-table -->",
                      README.read_text(), re.S)
    assert found, "README.md lost its access table markers"
    assert found.group(1).strip() == markdown_table().strip(), "regenerate: python -c 'from ops.access import " \
                                                               "markdown_table; print(markdown_table())'"


def test_every_service_has_a_row_and_only_the_poster_writes_to_x() -> None:
    check_against_registry()
    assert set(SERVICES) <= {a.component for a in ACCESS}
    writers = {a.component for a in ACCESS if set(a.requests) & set(GATEWAY_WRITES)}
    assert writers == {"poster"}
    # The owner's Delete button (issue 22): the console may delete, and nothing else.
    assert {a.component for a in ACCESS if "delete_tweet" in a.requests} == {"console"}
    assert access_of("console").requests == ("delete_tweet",)
    assert [a.component for a in ACCESS if a.answers_gateway] == ["browser_gateway"]
    # The kill switch: the operator's, and the owner's console (its pause/resume switch, issue 22).
    assert [a.component for a in ACCESS if "control" in a.kv_writes] == ["console", "operator"]


def test_each_service_calls_only_the_gateway_operations_its_row_grants() -> None:
    """A service that starts calling a new gateway operation needs its row changed too (else the server refuses)."""
    from libs.contracts.gateway import OPERATIONS

    root = README.parent / "services"
    call = re.compile(r"gateway\.(" + "|".join(OPERATIONS) + r")\(")
    for a in ACCESS:
        if not (root / a.component).is_dir() or a.answers_gateway:
            continue
        used = {m.group(1) for path in (root / a.component).rglob("*.py") for m in call.finditer(path.read_text())}
        assert used <= set(a.requests), (a.component, sorted(used - set(a.requests)))


def test_the_harvesters_stream_reaches_the_console_only_through_filtered_durables() -> None:
    """Strangers' tweets (OpportunityFound, in the harvester's stream) reach no component without a right to them:
    the console's durables on that stream are filtered, one per event it may read, and no durable of it reads the
    whole stream."""
    from ops.access import consumer_specs, filtered_reads

    specs = [s for s in consumer_specs("console") if s.producer == "harvester"]
    assert sorted(s.filter_subject("ns") for s in specs) == [
        "ns.harvester.personal_data_purged.v1", "ns.harvester.reply_left_to_owner.v1"]
    assert len({s.durable("ns") for s in specs}) == 2
    # Its own stream it reads whole (other projections), so only the harvester's is named as read in part.
    assert filtered_reads("console") == {"harvester": ("personal_data_purged", "reply_left_to_owner")}
    # The others read whole streams, as before.
    assert all(s.filter_event is None for s in consumer_specs("planner"))
