"""A small thread-safe least-recently-used map for loaded add-on models (VAEs, ControlNets)."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LoadedLRU(Generic[V]):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        """The value kept under key, or load() kept there; loading happens outside the lock."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value

    def clear(self) -> int:
        """Forget every kept value; returns how many there were."""
        with self._lock:
            count = len(self._items)
            self._items.clear()
        return count

    def __len__(self) -> int:
        return len(self._items)
