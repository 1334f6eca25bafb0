"""The code pad's Yjs documents in memory: what an update may be, and a cache of working copies.

Pure: no I/O. A session's document is its stored snapshot plus the updates appended since
(`peerview.codepad.repository`); this module judges an update before anything is stored and
keeps, per process, the document as of a stored version so that most updates and syncs
rebuild nothing.

An update is judged in two steps. `inspect` reads its binary form (Yjs v1: structs per
client, then a delete set) without applying it, and refuses anything the code pad never
makes: an item outside the root text `"code"`, a map entry, or content other than text
(formats, embeds, nested types, JSON, binary, subdocuments). `Working.apply` then checks,
against the document's state vector, that every struct and every item it builds on is
already there or in the update itself: Yjs keeps an update whose dependencies are missing
aside as "pending", invisible until they arrive, and such an update (typically one that
followed a refused one) would be acknowledged yet not be part of the text. Only then is it
applied, and the resulting text measured.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from pycrdt import Doc, Text

ROOT = "code"


def _crdt_failure(exc: BaseException) -> bool:
    """Whether `exc` is the CRDT library refusing data: an error, or a panic of its Rust core
    (pyo3's `PanicException`, a BaseException that `except Exception` lets through)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


# lib0 content references (yjs/src/structs): what an item holds.
_GC, _DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = range(11)
_HAS_ORIGIN, _HAS_RIGHT_ORIGIN, _HAS_PARENT_SUB = 0x80, 0x40, 0x20


class Refused(Exception):
    """The update is refused; `code` says why (docs/api.md §8.2)."""

    def __init__(self, code: str, *, touched: bool = False) -> None:
        super().__init__(code)
        self.code = code
        # Whether the working copy was changed before the refusal: it is then discarded.
        self.touched = touched


MALFORMED = "MALFORMED_UPDATE"
TOO_LARGE = "CODE_TOO_LARGE"


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint(self) -> int:
        value, shift = 0, 0
        while True:
            if self.pos >= len(self.data) or shift > 63:
                raise Refused(MALFORMED)
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise Refused(MALFORMED)
        self.pos += 1
        return self.data[self.pos - 1]

    def string(self) -> str:
        size = self.uint()
        end = self.pos + size
        if end > len(self.data):
            raise Refused(MALFORMED)
        try:
            text = self.data[self.pos : end].decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(MALFORMED) from None
        self.pos = end
        return text

    def at_end(self) -> bool:
        return self.pos == len(self.data)


@dataclass(slots=True)
class Shape:
    """What an update holds, as far as integrating it is concerned."""

    # (client, clock, length, is_skip) of each struct, in the update's order
    structs: list[tuple[int, int, int, bool]] = field(default_factory=list)
    # the items the update's items are placed against (origins), by (client, clock)
    refers_to: list[tuple[int, int]] = field(default_factory=list)
    inserts: bool = False  # whether it holds any struct (else only deletions, or nothing)


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def inspect(update: bytes) -> Shape:
    """The shape of a Yjs v1 update that only edits the root text `"code"`; else Refused."""
    reader = _Reader(update)
    shape = Shape()
    for _ in range(reader.uint()):
        count = reader.uint()
        client = reader.uint()
        clock = reader.uint()
        for _ in range(count):
            info = reader.byte()
            ref = info & 0x1F
            if ref in (_GC, _SKIP):
                length = reader.uint()
                shape.structs.append((client, clock, length, ref == _SKIP))
                clock += length
                continue
            if info & _HAS_ORIGIN:
                shape.refers_to.append((reader.uint(), reader.uint()))
            if info & _HAS_RIGHT_ORIGIN:
                shape.refers_to.append((reader.uint(), reader.uint()))
            if not info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN):
                # Placed by its parent: only the root text itself may be named.
                if reader.uint() != 1 or reader.string() != ROOT:
                    raise Refused(MALFORMED)
                if info & _HAS_PARENT_SUB:
                    raise Refused(MALFORMED)  # a map entry, not text
            elif info & _HAS_PARENT_SUB:
                raise Refused(MALFORMED)
            if ref == _STRING:
                length = _utf16_length(reader.string())
            elif ref == _DELETED:
                length = reader.uint()
            else:
                raise Refused(MALFORMED)  # formats, embeds, types, JSON, binary, documents
            if length <= 0:
                raise Refused(MALFORMED)
            shape.structs.append((client, clock, length, False))
            clock += length
    # The delete set: per client, ranges (clock, length).
    for _ in range(reader.uint()):
        reader.uint()
        for _ in range(reader.uint()):
            reader.uint()
            reader.uint()
    if not reader.at_end():
        raise Refused(MALFORMED)
    shape.inserts = bool(shape.structs)
    return shape


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    """A Yjs state vector: client → the clock after its last known struct; else Refused."""
    reader = _Reader(state_vector)
    known: dict[int, int] = {}
    for _ in range(reader.uint()):
        client = reader.uint()
        known[client] = reader.uint()
    if not reader.at_end():
        raise Refused(MALFORMED)
    return known


def integrable(shape: Shape, known: dict[int, int]) -> bool:
    """Whether every struct of the update follows on what is known (the document's state
    vector, then the update's own earlier structs), and every item it is placed against
    exists by the end of it: nothing of it would be left pending."""
    reached = dict(known)
    for client, clock, length, skip in shape.structs:
        if skip:
            continue
        if clock > reached.get(client, 0):
            return False
        reached[client] = max(reached.get(client, 0), clock + length)
    return all(clock < reached.get(client, 0) for client, clock in shape.refers_to)


class Working:
    """A session's document as of a stored version, with its text's size in UTF-8 bytes."""

    __slots__ = ("doc", "size", "text", "version", "ytext")

    def __init__(self, *, version: int) -> None:
        self.doc: Doc[Text] = Doc()
        self.ytext = self.doc.get(ROOT, type=Text)
        self.version = version
        self.text = ""
        self.size = 0

    @classmethod
    def load(cls, *, snapshot: bytes, updates: list[bytes], version: int) -> Working:
        """The document of stored data (trusted: each piece was judged when it came)."""
        working = cls(version=version)
        for piece in (snapshot, *updates):
            if piece:
                working.doc.apply_update(piece)
        working._measure()
        return working

    def catch_up(self, updates: list[bytes], *, version: int) -> None:
        for piece in updates:
            self.doc.apply_update(piece)
        self.version = version
        self._measure()

    def apply(self, update: bytes, *, max_bytes: int) -> None:
        """Apply a client's update, or refuse it (`Refused`).

        Refused before the document is touched when it is malformed or would leave anything
        pending; refused after (the caller then discards this copy) when its text is over
        `max_bytes` and longer than before, or holds U+0000 (PostgreSQL cannot store it).
        """
        shape = inspect(update)
        if shape.inserts and not integrable(shape, decode_state_vector(self.doc.get_state())):
            raise Refused(MALFORMED)
        try:
            self.doc.apply_update(update)
        except BaseException as exc:
            if not _crdt_failure(exc):
                raise
            raise Refused(MALFORMED, touched=True) from None
        before = self.size
        self._measure()
        if self.size > max_bytes and self.size > before:
            raise Refused(TOO_LARGE, touched=True)
        if "\x00" in self.text:
            raise Refused(MALFORMED, touched=True)

    def state_vector(self) -> bytes:
        return self.doc.get_state()

    def diff(self, state_vector: bytes) -> bytes:
        """What a client with `state_vector` lacks (Yjs sync step 2); ValueError if the
        state vector cannot be read."""
        if not state_vector:
            return self.doc.get_update()
        try:
            return self.doc.get_update(state_vector)
        except BaseException as exc:
            if not _crdt_failure(exc):
                raise
            raise ValueError("not a state vector") from None

    def snapshot(self) -> bytes:
        return self.doc.get_update()

    def _measure(self) -> None:
        self.text = str(self.ytext)
        self.size = len(self.text.encode())


class Documents:
    """This process's working copies, the most recently used kept, at most `capacity`.

    A writer `take`s a copy out (so no reader sees it while it changes), and `put`s it back
    once its change has committed; a reader uses a copy only at the version it read from the
    database (`at`), without awaiting anything meanwhile.
    """

    # A working copy costs about 110 bytes per edit it has seen (pycrdt keeps each edit's
    # item), ~200 KiB after an hour of typing (docs/performance.md, "Code pad"): this bounds a
    # process's copies to some 50 MiB. A session beyond them is read back from the database.
    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Working] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def at(self, session_id: str, version: int) -> Working | None:
        entry = self._entries.get(session_id)
        if entry is None or entry.version != version:
            return None
        self._entries.move_to_end(session_id)
        return entry

    def take(self, session_id: str) -> Working | None:
        return self._entries.pop(session_id, None)

    def put(self, session_id: str, working: Working) -> None:
        """Keep `working` unless a copy of a later version is kept already."""
        current = self._entries.get(session_id)
        if current is not None and current.version > working.version:
            return
        self._entries[session_id] = working
        self._entries.move_to_end(session_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def forget(self, session_id: str) -> None:
        self._entries.pop(session_id, None)
