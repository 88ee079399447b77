"""On-disk cache of optical flow and reliability for the frame pairs of one clip.

Modules: :mod:`~artvid.flowcache.config` (what is computed: ``FlowConfig``, pairs, cache root),
:mod:`~artvid.flowcache.codec` (an entry's bytes), :mod:`~artvid.flowcache.store` (``FlowCache``:
key, entries, get/has/missing/ensure), :mod:`~artvid.flowcache.fill` (computing missing entries),
:mod:`~artvid.flowcache.job` (``FlowJob``: background fill) and :mod:`~artvid.flowcache.export`
(Ruder-compatible files).
"""

from artvid.flowcache.codec import FORMAT_VERSION, decode_entry, encode_entry
from artvid.flowcache.config import FlowConfig, FlowPair, default_cache_dir
from artvid.flowcache.fill import compute_entry
from artvid.flowcache.job import FlowJob
from artvid.flowcache.store import FlowCache

__all__ = [
    "FORMAT_VERSION",
    "FlowCache",
    "FlowConfig",
    "FlowJob",
    "FlowPair",
    "compute_entry",
    "decode_entry",
    "default_cache_dir",
    "encode_entry",
]
