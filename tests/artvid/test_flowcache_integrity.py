"""Flow-cache entries know their pair and key: a misplaced entry is refused like a damaged one."""

import json
import logging
import shutil
import struct

import numpy as np
import pytest

from artvid.errors import FlowCacheError
from artvid.flowcache import FORMAT_VERSION, FlowCache, FlowConfig, decode_entry, encode_entry

ARRAYS = {
    "flow_ab": np.arange(24, dtype=np.float16).reshape(3, 4, 2),
    "flow_ba": -np.arange(24, dtype=np.float16).reshape(3, 4, 2),
    "rel_ab": np.full((3, 4), 200, np.uint8),
    "rel_ba": np.full((3, 4), 100, np.uint8),
}


def test_entry_records_pair_and_key():
    data = encode_entry(ARRAYS, (2, 5), "k1")
    assert encode_entry(ARRAYS, (2, 5), "k1") == data
    decoded = decode_entry(data, (2, 5), "k1")
    np.testing.assert_array_equal(decoded["flow_ba"], ARRAYS["flow_ba"])
    assert decode_entry(data).keys() == ARRAYS.keys()  # nothing expected: any pair, any key
    with pytest.raises(FlowCacheError, match=r"expected the entry of pair \(2, 6\), got one of pair \[2, 5\]"):
        decode_entry(data, (2, 6), "k1")
    with pytest.raises(FlowCacheError, match="expected an entry of cache key k2, got one of key k1"):
        decode_entry(data, (2, 5), "k2")


def test_checksum_covers_pair_and_key():
    data = encode_entry(ARRAYS, (2, 5), "k1")
    forged = data.replace(b'"pair": [2, 5]', b'"pair": [2, 6]')
    assert forged != data and len(forged) == len(data)
    with pytest.raises(FlowCacheError, match="checksum mismatch"):
        decode_entry(forged, (2, 6), "k1")
    header_len = struct.unpack_from("<4sII", data)[2]
    header = json.loads(data[12 : 12 + header_len])
    assert header["pair"] == [2, 5] and header["key"] == "k1"
    without_key = json.dumps({k: v for k, v in header.items() if k != "key"}).encode()
    with pytest.raises(FlowCacheError, match="damaged entry"):
        decode_entry(struct.pack("<4sII", b"AVFC", FORMAT_VERSION, len(without_key)) + without_key + data[12 + header_len :])


def test_older_format_is_refused():
    data = bytearray(encode_entry(ARRAYS, (0, 1), "k"))
    struct.pack_into("<I", data, 4, FORMAT_VERSION - 1)
    with pytest.raises(FlowCacheError, match=f"version {FORMAT_VERSION - 1}"):
        decode_entry(bytes(data))


def test_entry_copied_from_another_pair_is_recomputed(clip, tmp_path, caplog):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig())
    cache.ensure([(0, 1), (1, 2)], workers=1, progress=False)
    good = cache.entry_path(1, 2).read_bytes()
    shutil.copyfile(cache.entry_path(0, 1), cache.entry_path(1, 2))
    with caplog.at_level(logging.WARNING, logger="artvid.flowcache"):
        assert cache.missing([(0, 1), (1, 2)]) == [(1, 2)]
    assert "000001_000002.avfc is damaged" in caplog.text and "pair (1, 2), got one of pair [0, 1]" in caplog.text
    assert not cache.entry_path(1, 2).exists()
    np.testing.assert_array_equal(cache.get(2, 1).flow, decode_entry(good)["flow_ba"].astype(np.float32))
    assert cache.entry_path(1, 2).read_bytes() == good


def test_entry_copied_from_another_key_is_recomputed(clip, tmp_path, caplog):
    root = tmp_path / "cache"
    cache = FlowCache(root, clip, None, FlowConfig())
    other = FlowCache(root, clip, None, FlowConfig(check="photometric"))
    other.ensure([(0, 1)], workers=1, progress=False)
    shutil.copyfile(other.entry_path(0, 1), cache.entry_path(0, 1))
    with caplog.at_level(logging.WARNING, logger="artvid.flowcache"):
        assert not cache.has(0, 1)
    assert f"expected an entry of cache key {cache.key}, got one of key {other.key}" in caplog.text
    assert other.has(0, 1)
