"""How each annotation aggregation folds creates and deletes into a message.summary entry."""

from __future__ import annotations

from broker.annotation_summary import summarise

CREATE, DELETE = 0, 1


def a(type_: str, client: str | None, name: str = "", action: int = CREATE, count: int | None = None) -> dict:
    item = {"type": type_, "name": name, "action": action, "clientId": client}
    if count is not None:
        item["count"] = count
    return {k: v for k, v in item.items() if v is not None}


def test_total_counts_and_a_delete_takes_one_back():
    items = [a("v:total.v1", "x"), a("v:total.v1", None), a("v:total.v1", "x", action=DELETE)]
    assert summarise(items) == {"v:total.v1": {"total": 1}}


def test_flag_counts_clients_once():
    items = [
        a("f:flag.v1", "x"),
        a("f:flag.v1", "x"),
        a("f:flag.v1", "y"),
        a("f:flag.v1", "y", action=DELETE),
    ]
    assert summarise(items) == {"f:flag.v1": {"total": 1, "clientIds": ["x"], "clipped": False}}


def test_distinct_counts_each_client_once_per_name():
    t = "r:distinct.v1"
    items = [a(t, "x", "up"), a(t, "x", "up"), a(t, "x", "down"), a(t, "y", "up"), a(t, "x", "down", DELETE)]
    assert summarise(items) == {t: {"up": {"total": 2, "clientIds": ["x", "y"], "clipped": False}}}


def test_unique_keeps_each_clients_latest_choice():
    t = "r:unique.v1"
    items = [a(t, "x", "up"), a(t, "y", "up"), a(t, "x", "down"), a(t, "y", "down", DELETE)]
    assert summarise(items) == {
        t: {
            "up": {"total": 1, "clientIds": ["y"], "clipped": False},
            "down": {"total": 1, "clientIds": ["x"], "clipped": False},
        }
    }


def test_multiple_adds_counts_and_keeps_the_unidentified_apart():
    t = "r:multiple.v1"
    items = [
        a(t, "x", "up", count=2),
        a(t, "x", "up"),
        a(t, None, "up", count=4),
        a(t, "y", "up"),
        a(t, "y", "up", DELETE),
    ]
    assert summarise(items) == {
        t: {
            "up": {
                "total": 7,
                "clientIds": {"x": 3},
                "totalUnidentified": 4,
                "totalClientIds": 1,
                "clipped": False,
            }
        }
    }


def test_unknown_aggregations_are_left_out():
    assert summarise([a("r:whatever.v9", "x"), a("plain", "x")]) == {}
