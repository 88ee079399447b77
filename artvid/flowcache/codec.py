"""The byte format of one flow-cache entry: header, checksummed description, compressed arrays.

An entry holds both directions of one frame pair ``(a, b)`` with ``a < b``::

    flow_ab  (H, W, 2)  flow from frame a to frame b, on a's grid     (float16)
    flow_ba  (H, W, 2)  flow from frame b to frame a, on b's grid     (float16)
    rel_ab   (H, W)     reliability of flow_ab, on a's grid          (uint8, 0-255)
    rel_ba   (H, W)     reliability of flow_ba, on b's grid          (uint8, 0-255)

Layout: a fixed header (magic, format version, description length), a JSON description (array
layout, the pair, the cache key and a SHA-256) and the zlib-compressed arrays. The SHA-256 covers
the description's other fields and the raw arrays, so a damaged entry, or an intact one copied
under another pair's name or into another key's folder, is refused when read. The bytes are
deterministic: the same arrays, pair and key always encode identically.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from artvid.errors import FlowCacheError

# 2: the description names the pair and the cache key, and the checksum covers them.
FORMAT_VERSION = 2
_MAGIC = b"AVFC"
_HEADER = struct.Struct("<4sII")  # magic, format version, JSON description length
ARRAYS = ("flow_ab", "flow_ba", "rel_ab", "rel_ba")


def _digest(description: Mapping[str, Any], raw: bytes) -> str:
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode() + raw).hexdigest()


def encode_entry(arrays: Mapping[str, np.ndarray], pair: tuple[int, int] | None = None, key: str | None = None) -> bytes:
    """Serialise one entry.

    Args:
        arrays: The four arrays named in :data:`ARRAYS`.
        pair: The frame pair ``(a, b)`` the entry belongs to (None: not recorded).
        key: The cache key the entry belongs to (None: not recorded).

    Returns:
        The entry's bytes.
    """
    parts, layout = [], []
    for name in ARRAYS:
        array = np.ascontiguousarray(arrays[name])
        layout.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape)})
        parts.append(array.tobytes())
    raw = b"".join(parts)
    description = {"arrays": layout, "pair": list(pair) if pair is not None else None, "key": key}
    header = json.dumps({**description, "sha256": _digest(description, raw)}, sort_keys=True).encode()
    return _HEADER.pack(_MAGIC, FORMAT_VERSION, len(header)) + header + zlib.compress(raw, 6)


def decode_entry(data: bytes, pair: tuple[int, int] | None = None, key: str | None = None) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_entry`, checking that the entry belongs where it was found.

    Args:
        data: The entry's bytes.
        pair: The pair the entry must belong to (None: any).
        key: The cache key the entry must belong to (None: any).

    Returns:
        The four arrays by name (read-only views of the decompressed payload).

    Raises:
        FlowCacheError: If the bytes are not a complete, intact entry, or the entry records
            another pair or key than the expected ones.
    """
    if len(data) < _HEADER.size:
        raise FlowCacheError(f"expected an entry of at least {_HEADER.size} bytes, got {len(data)}")
    magic, version, header_len = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != FORMAT_VERSION:
        raise FlowCacheError(f"expected magic {_MAGIC!r} version {FORMAT_VERSION}, got {magic!r} version {version}")
    try:
        header = json.loads(data[_HEADER.size : _HEADER.size + header_len])
        raw = zlib.decompress(data[_HEADER.size + header_len :])
        description = {name: header[name] for name in ("arrays", "pair", "key")}
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise FlowCacheError(f"damaged entry: {exc!r}") from None
    if _digest(description, raw) != header.get("sha256"):
        raise FlowCacheError("entry checksum mismatch")
    if pair is not None and description["pair"] != list(pair):
        raise FlowCacheError(f"expected the entry of pair {tuple(pair)}, got one of pair {description['pair']}")
    if key is not None and description["key"] != key:
        raise FlowCacheError(f"expected an entry of cache key {key}, got one of key {description['key']}")
    arrays, offset = {}, 0
    for spec in description["arrays"]:
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"]))
        arrays[spec["name"]] = np.frombuffer(raw, dtype, count, offset).reshape(spec["shape"])
        offset += count * dtype.itemsize
    return arrays
