"""Atomic writes and checksum sidecars."""

import hashlib

from artvid.files import atomic_write_bytes, checksum_path, read_checksum, sha256_file, write_checksum


def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path):
    atomic_write_bytes(tmp_path / "a", b"old")
    atomic_write_bytes(tmp_path / "a", b"new", fsync=True)
    assert (tmp_path / "a").read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["a"]


def test_checksum_sidecar_is_in_sha256sum_format(tmp_path):
    path = tmp_path / "000001.png"
    path.write_bytes(b"frame")
    digest = sha256_file(path)
    assert digest == hashlib.sha256(b"frame").hexdigest()
    write_checksum(path, digest)
    assert checksum_path(path).name == "000001.png.sha256"
    assert checksum_path(path).read_text() == f"{digest}  000001.png\n"
    assert read_checksum(path) == digest


def test_unreadable_sidecars_read_as_none(tmp_path):
    path = tmp_path / "f"
    assert read_checksum(path) is None
    for text in ("", "not a digest  f\n", "ab" * 31 + "  f\n"):
        checksum_path(path).write_text(text)
        assert read_checksum(path) is None
    checksum_path(path).write_bytes(b"\xff\xfe")
    assert read_checksum(path) is None
