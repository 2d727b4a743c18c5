"""Store.get_text, the hit path's read: the stored JSON text of what ``get`` returns, on every backend."""

from __future__ import annotations

import json
import time

import pytest
from test_store_conformance import factory, store  # noqa: F401 - fixtures: every backend

from vision_cache.stores.base import Store, StoreError


@pytest.mark.parametrize("value", [{"a": [1, "b", None]}, "text", 7, 2.5, [True, False], {"nested": {"x": 1}}])
def test_get_text_is_the_json_text_of_what_get_returns(store, value):  # noqa: F811
    store.set("k", value, None)
    text = store.get_text("k")
    assert json.loads(text) == store.get("k") == value
    assert type(store).get_text is not Store.get_text  # every shipped backend hands back its own text


def test_get_text_of_absent_and_expired_entries_is_none(store):  # noqa: F811
    assert store.get_text("absent") is None
    store.set("brief", {"v": 1}, 0.05)
    time.sleep(0.1)
    assert store.get_text("brief") is None


def test_the_default_get_text_reencodes_get(store):  # noqa: F811
    store.set("k", {"b": 1, "a": [1.5, "x"]}, None)
    assert Store.get_text(store, "k") == json.dumps(store.get("k"), separators=(",", ":"))
    assert Store.get_text(store, "absent") is None


def test_get_text_refuses_what_get_refuses(factory):  # noqa: F811
    if factory.kind == "memory":
        pytest.skip("a memory store holds only what it encoded itself")
    opened = factory.open()
    opened.set("k", "placeholder", None)
    if factory.kind == "redis":
        import redis
        from conftest import REDIS_URL

        client = redis.Redis.from_url(REDIS_URL)
        client.set(factory.prefix + "k", b"\xff\xfe not utf-8")
        client.close()
    else:
        import sqlite3

        db = sqlite3.connect(f"{factory.directory}/cache.db")
        with db:
            db.execute("UPDATE Cache SET filename = '../../x' WHERE key = 'k'")
        db.close()
    with pytest.raises(StoreError):
        opened.get("k")
    with pytest.raises(StoreError):
        opened.get_text("k")
    opened.delete("k")
