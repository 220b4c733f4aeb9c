"""Packages whose names are imported from their rooms on first use, so that a command loads
only what it runs (``crm validate`` neither the mail nor the scheduler)."""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any


class _OnFirstUse(ModuleType):
    """A package whose ``_ROOMS`` (name → the room it is defined in) are imported when first
    asked for. A room of the same name as the function it holds (toolkit/classify/ and
    classify()) is bound by the import system, once loaded, to the package's attribute of its
    name; that is refused, so the name stays the function whatever is imported later."""

    def __getattr__(self, name: str) -> Any:
        room = self.__dict__["_ROOMS"].get(name)
        if room is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(import_module(room, self.__name__), name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and name in self.__dict__.get("_ROOMS", ()):
            return  # a room of a function's name, loaded: the name stays the function's
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.__dict__["_ROOMS"]})


def on_first_use(package: str) -> None:
    """Make ``package`` (its ``__name__``, with a module-level ``_ROOMS``) import its names on first use."""
    sys.modules[package].__class__ = _OnFirstUse
