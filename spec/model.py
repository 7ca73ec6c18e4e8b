"""The base of every spec model: frozen, strict pydantic v2 models that encode and decode themselves.

A subclass implements ``serialize(self) -> bytes`` and ``deserialize(cls, r: Reader) -> Self``;
:meth:`SpecModel.encode` and :meth:`SpecModel.decode` are the whole-object forms. ``decode``
rejects trailing bytes ([ENC-002]) and raises :class:`~spec.errors.DecodeError` for every kind of
bad input, never another exception.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict

from spec.encoding.primitives import Reader


class SpecModel(BaseModel):
    """Frozen, strict, closed: a model holds exactly its declared fields, of exactly their types."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def serialize(self) -> bytes:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} has no wire form")

    @classmethod
    def deserialize(cls, r: Reader) -> Self:  # pragma: no cover - abstract
        raise TypeError(f"{cls.__name__} has no wire form")

    def encode(self) -> bytes:
        """The wire bytes of this value."""
        return self.serialize()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Decode a complete value: all of ``data`` and nothing else."""
        r = Reader(data)
        value = cls.deserialize(r)
        r.finish(cls.__name__)
        return value
