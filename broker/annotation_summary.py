"""`message.summary`: the aggregate of a message's annotations, by the aggregation its type names.

The annotation type ends in the aggregation (`reaction:distinct.v1`), and each one folds creates and
deletes in publication order the way Ably documents it:
- `total.v1`: how many (a delete takes one back);
- `flag.v1`: which clients flagged it;
- `distinct.v1`: per name, which clients used it;
- `unique.v1`: per name, the clients whose one current choice it is;
- `multiple.v1`: per name, how many times each client used it (`count`, default 1), with the unidentified
  ones counted apart.
Types with an unknown aggregation are left out of the summary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from broker.wire import F_ACTION, F_CLIENT_ID, F_NAME, F_TYPE, AnnotationAction

AGGREGATION_SEPARATOR = ":"


def _deleting(annotation: dict) -> bool:
    return annotation.get(F_ACTION) == AnnotationAction.DELETE


def _total(items: list[dict]) -> dict:
    total = 0
    for item in items:
        total = max(total - 1, 0) if _deleting(item) else total + 1
    return {"total": total}


def _client_list(clients: dict[str, None]) -> dict:
    return {"total": len(clients), "clientIds": list(clients), "clipped": False}


def _flag(items: list[dict]) -> dict:
    clients: dict[str, None] = {}
    for item in items:
        client = item.get(F_CLIENT_ID)
        if client is None:
            continue
        if _deleting(item):
            clients.pop(client, None)
        else:
            clients[client] = None
    return _client_list(clients)


def _distinct(items: list[dict]) -> dict:
    by_name: dict[str, dict[str, None]] = defaultdict(dict)
    for item in items:
        client, name = item.get(F_CLIENT_ID), item.get(F_NAME) or ""
        if client is None:
            continue
        if _deleting(item):
            by_name[name].pop(client, None)
        else:
            by_name[name][client] = None
    return {name: _client_list(clients) for name, clients in by_name.items() if clients}


def _unique(items: list[dict]) -> dict:
    choice: dict[str, str] = {}
    for item in items:
        client, name = item.get(F_CLIENT_ID), item.get(F_NAME) or ""
        if client is None:
            continue
        if _deleting(item):
            if choice.get(client) == name:
                del choice[client]
        else:
            choice.pop(client, None)  # re-inserted last: clientIds keep the order of choosing
            choice[client] = name
    by_name: dict[str, dict[str, None]] = defaultdict(dict)
    for client, name in choice.items():
        by_name[name][client] = None
    return {name: _client_list(clients) for name, clients in by_name.items()}


def _multiple(items: list[dict]) -> dict:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    unidentified: dict[str, int] = defaultdict(int)
    for item in items:
        client, name = item.get(F_CLIENT_ID), item.get(F_NAME) or ""
        count = item.get("count") if isinstance(item.get("count"), int) and item["count"] > 0 else 1
        if _deleting(item):
            if client is not None:
                counts[name].pop(client, None)
        elif client is None:
            unidentified[name] += count
        else:
            counts[name][client] = counts[name].get(client, 0) + count
    summary = {}
    for name in {*counts, *unidentified}:
        clients = counts.get(name, {})
        total = sum(clients.values()) + unidentified.get(name, 0)
        if total:
            summary[name] = {
                "total": total,
                "clientIds": dict(clients),
                "totalUnidentified": unidentified.get(name, 0),
                "totalClientIds": len(clients),
                "clipped": False,
            }
    return summary


AGGREGATIONS: dict[str, Callable[[list[dict]], dict]] = {
    "total.v1": _total,
    "flag.v1": _flag,
    "distinct.v1": _distinct,
    "unique.v1": _unique,
    "multiple.v1": _multiple,
}


def summarise(annotations: list[dict]) -> dict[str, dict]:
    """type -> summary entry, for a message's annotations in publication order."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for annotation in annotations:
        by_type[annotation.get(F_TYPE) or ""].append(annotation)
    summary = {}
    for annotation_type, items in by_type.items():
        aggregate = AGGREGATIONS.get(annotation_type.rpartition(AGGREGATION_SEPARATOR)[2])
        if aggregate is not None:
            summary[annotation_type] = aggregate(items)
    return summary
