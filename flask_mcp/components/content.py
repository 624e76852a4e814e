"""Turn what a handler returns into MCP content blocks.

Handlers return plain Python values; these classes cover the content types
that have no natural Python value (images, audio, embedded resources, links).
"""

from __future__ import annotations

import base64
import json
import typing as t
from dataclasses import dataclass
from dataclasses import field

Block = dict[str, t.Any]


def _b64(data: bytes | str) -> str:
    return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Icon:
    """An icon a client may show for the server or a component (MCP 2025-11-25).

    :param src: an ``https:`` or ``data:`` URL of the image.
    :param mime_type: its media type, when the URL does not tell.
    :param sizes: sizes it suits, such as ``"48x48"`` or ``"any"``.
    :param theme: ``"light"`` or ``"dark"`` when drawn for one background.
    """

    src: str
    mime_type: str | None = None
    sizes: tuple[str, ...] = ()
    theme: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.src, str) or not self.src.startswith(
            ("https://", "http://", "data:")
        ):
            raise ValueError(
                f"an icon src must be an http(s) or data: URL: {self.src!r}"
            )
        if self.theme not in (None, "light", "dark"):
            raise ValueError(f"an icon theme is 'light' or 'dark', not {self.theme!r}")
        object.__setattr__(self, "sizes", tuple(self.sizes))

    @classmethod
    def from_dict(cls, data: t.Mapping[str, t.Any]) -> Icon:
        """An icon from the spec's keys (``src``, ``mimeType``, ``sizes``...)."""
        return cls(
            src=data["src"],
            mime_type=data.get("mimeType"),
            sizes=tuple(data.get("sizes") or ()),
            theme=data.get("theme"),
        )

    def to_dict(self) -> Block:
        out: Block = {"src": self.src}
        if self.mime_type:
            out["mimeType"] = self.mime_type
        if self.sizes:
            out["sizes"] = list(self.sizes)
        if self.theme:
            out["theme"] = self.theme
        return out


@dataclass(frozen=True)
class Image:
    """An image; ``data`` is raw bytes or base64 text."""

    data: bytes | str
    mime_type: str = "image/png"

    def to_block(self) -> Block:
        return {"type": "image", "data": _b64(self.data), "mimeType": self.mime_type}


@dataclass(frozen=True)
class Audio:
    """An audio clip; ``data`` is raw bytes or base64 text."""

    data: bytes | str
    mime_type: str = "audio/wav"

    def to_block(self) -> Block:
        return {"type": "audio", "data": _b64(self.data), "mimeType": self.mime_type}


@dataclass(frozen=True)
class EmbeddedResource:
    """A resource's contents inline: ``text`` or binary ``blob``."""

    uri: str
    text: str | None = None
    blob: bytes | None = None
    mime_type: str | None = None

    def contents(self) -> Block:
        out: Block = {"uri": self.uri}
        if self.mime_type:
            out["mimeType"] = self.mime_type
        if self.blob is not None:
            out["blob"] = _b64(self.blob)
        else:
            out["text"] = self.text or ""
        return out

    def to_block(self) -> Block:
        return {"type": "resource", "resource": self.contents()}


@dataclass(frozen=True)
class ResourceLink:
    """A pointer to a resource the client can read later."""

    uri: str
    name: str
    description: str | None = None
    mime_type: str | None = None

    def to_block(self) -> Block:
        out: Block = {"type": "resource_link", "uri": self.uri, "name": self.name}
        if self.description:
            out["description"] = self.description
        if self.mime_type:
            out["mimeType"] = self.mime_type
        return out


@dataclass
class ToolResult:
    """Full control over a ``tools/call`` result."""

    content: list[t.Any] = field(default_factory=list)
    structured: dict[str, t.Any] | None = None
    is_error: bool = False


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", Image, "image/png"),
    (b"\xff\xd8\xff", Image, "image/jpeg"),
    (b"GIF8", Image, "image/gif"),
    (b"RIFF", None, None),  # WAV or WEBP: decided below
    (b"ID3", Audio, "audio/mpeg"),
    (b"OggS", Audio, "audio/ogg"),
)


def _bytes_block(data: bytes) -> Block:
    """Raw bytes: sniff images and audio; anything else is an embedded blob."""
    for magic, kind, mime in _MAGIC:
        if data.startswith(magic):
            if kind is None:
                if data[8:12] == b"WAVE":
                    return Audio(data, "audio/wav").to_block()
                if data[8:12] == b"WEBP":
                    return Image(data, "image/webp").to_block()
                break
            return kind(data, t.cast(str, mime)).to_block()
    return EmbeddedResource(
        "data:application/octet-stream", blob=data, mime_type="application/octet-stream"
    ).to_block()


#: Keys every content block may carry (MCP 2025-11-25 and 2026-07-28).
_COMMON: dict[str, type] = {"annotations": dict, "_meta": dict}
#: The content blocks of the schema: ``type`` -> (required keys, optional
#: keys), each key with the JSON type of its value.
_BLOCKS: dict[str, tuple[dict[str, type], dict[str, type]]] = {
    "text": ({"text": str}, _COMMON),
    "image": ({"data": str, "mimeType": str}, _COMMON),
    "audio": ({"data": str, "mimeType": str}, _COMMON),
    "resource_link": (
        {"uri": str, "name": str},
        {
            **_COMMON,
            "title": str,
            "description": str,
            "mimeType": str,
            "size": int,
            "icons": list,
        },
    ),
    "resource": ({"resource": dict}, _COMMON),
}
_RESOURCE_CONTENTS: dict[str, type] = {"uri": str, "mimeType": str, "_meta": dict}


def _fields_match(
    value: t.Mapping[str, t.Any],
    required: t.Mapping[str, type],
    optional: t.Mapping[str, type],
) -> bool:
    """Every required key present, no other key than the optional ones, each
    value of its JSON type (``True`` is not a number)."""
    known = {**optional, **required}
    return required.keys() <= value.keys() <= known.keys() and all(
        isinstance(item, known[key])
        and not (isinstance(item, bool) and known[key] is not bool)
        for key, item in value.items()
    )


def is_block(value: t.Any) -> bool:
    """Whether ``value`` is exactly an MCP content block, as a client's schema
    validates it: a known ``type``, its required keys, no key it does not
    define. ``{"type": "invoice", "total": 3}`` is not one: it is data."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return False
    shape = _BLOCKS.get(value["type"])
    if shape is None:
        return False
    required, optional = shape
    fields = {k: v for k, v in value.items() if k != "type"}
    if not _fields_match(fields, required, optional):
        return False
    if value["type"] == "resource":
        contents = value["resource"]
        body = "text" if "text" in contents else "blob"
        return _fields_match(contents, {"uri": str, body: str}, _RESOURCE_CONTENTS)
    return True


def to_block(value: t.Any) -> Block:
    """One value to one content block: the library's content types and exact
    blocks as they are, text as text, bytes sniffed, anything else as JSON."""
    if hasattr(value, "to_block"):
        return t.cast(Block, value.to_block())
    if isinstance(value, str):
        return {"type": "text", "text": value}
    if isinstance(value, (bytes, bytearray)):
        return _bytes_block(bytes(value))
    if is_block(value):
        return t.cast(Block, value)
    return {"type": "text", "text": json.dumps(value, default=str)}


def is_content(value: t.Any) -> bool:
    """Whether a handler's return value is content rather than data: one of
    the content types above, text, bytes, or an exact content block."""
    return (
        hasattr(value, "to_block")
        or isinstance(value, (str, bytes, bytearray))
        or is_block(value)
    )


def to_blocks(value: t.Any) -> list[Block]:
    """A return value to a list of blocks: lists of content map item by item."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)) and all(is_content(v) for v in value):
        return [to_block(v) for v in value]
    return [to_block(value)]
