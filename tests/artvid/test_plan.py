"""The render plan (plain data) and its execution with injected fake parts, over ranges of frames."""

import subprocess
import sys

import numpy as np
import pytest

from artvid.errors import ConfigError
from artvid.multipass import Init, ScheduleConfig
from artvid.rendering import MissingInputError, Parts, Ref, execute, make_plan
from tests.helpers import MemoryStore

H, W = 4, 5


def pairs(plan):
    return set(plan.flow_pairs)


def test_flow_pairs_are_exactly_the_warps_of_the_steps():
    plan = make_plan(5, ScheduleConfig(), offsets=(1, 2))
    assert pairs(plan) == {(0, 1), (1, 2), (2, 3), (3, 4), (0, 2), (1, 3), (2, 4)}
    # Ordered by first need: frame 1's pair before frame 2's.
    assert plan.flow_pairs[0] == (0, 1)
    assert all(set(step.warps()) <= {(b, a) for a, b in plan.flow_pairs} | set(plan.flow_pairs) for step in plan.steps)


def test_no_flow_without_warps_or_temporal_terms():
    independent = ScheduleConfig(init=Init.RANDOM)
    assert make_plan(5, independent, temporal=False).flow_pairs == ()
    assert make_plan(5, ScheduleConfig(init=Init.PREV), temporal=False).flow_pairs == ()
    assert make_plan(1, ScheduleConfig(passes=3)).flow_pairs == ()
    # Blending passes warp neighbours only when temporal terms are on.
    assert make_plan(5, ScheduleConfig(init=Init.RANDOM, passes=2), temporal=False).flow_pairs == ()
    assert pairs(make_plan(5, ScheduleConfig(init=Init.RANDOM, passes=2))) == {(0, 1), (1, 2), (2, 3), (3, 4)}


def test_steps_follow_ruders_schedule():
    plan = make_plan(3, ScheduleConfig(passes=2, iterations_first=7, iterations=3, pass_iterations=2), offsets=(1, 2))
    first = plan.pass_steps(1)
    assert [s.frame for s in first] == [0, 1, 2] and [s.iterations for s in first] == [7, 3, 3]
    assert first[0].from_scratch and first[0].start.fresh is Init.CONTENT
    assert first[2].start.result == Ref(1, 1) and first[2].start.warped
    assert first[2].temporal == (Ref(1, 1), Ref(1, 0))
    second = plan.pass_steps(2)
    assert [s.frame for s in second] == [2, 1, 0]
    assert second[0].start.neighbour is None and second[0].temporal == ()
    assert second[1].start.result == Ref(1, 1) and second[1].start.neighbour == Ref(2, 2)
    assert plan.iterations() == 7 + 3 + 3 + 3 * 2


def test_an_offset_longer_than_the_clip_is_refused():
    with pytest.raises(ConfigError, match="long-term offset 5 needs a clip of more than 5 frames"):
        make_plan(5, ScheduleConfig(), offsets=(1, 5))
    make_plan(5, ScheduleConfig(), offsets=(1, 5), temporal=False)


def test_the_plan_needs_no_torch():
    code = "import sys, artvid.rendering.plan; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def fake_parts(store, calls):
    def stylize(frame, init, temporal, iterations, pass_index):
        calls.append((pass_index, frame))
        return (0.5 * init + 0.1 * (frame + 1) + 0.01 * len(temporal)).astype(np.float32)

    def warp(image, i, j):
        return np.roll(image, i - j, axis=1), np.full((H, W), 0.5, np.float32)

    def fresh_init(frame, kind):
        return np.full((H, W, 3), 0.2 if kind is Init.CONTENT else 0.7, np.float32)

    return Parts(stylize=stylize, warp=warp, fresh_init=fresh_init, store=store)


def test_ranges_run_one_after_another_equal_one_whole_run():
    plan = make_plan(6, ScheduleConfig(), offsets=(1, 2))
    whole, calls = MemoryStore(), []
    execute(plan, fake_parts(whole, calls))
    assert calls == [(1, i) for i in range(6)]

    parted, calls = MemoryStore(), []
    first = execute(plan, fake_parts(parted, calls), frames=range(0, 2))
    second = execute(plan, fake_parts(parted, calls), frames=range(2, 6))
    assert calls == [(1, i) for i in range(6)] and (first.stylized, second.stylized) == (2, 4)
    assert parted.frames.keys() == whole.frames.keys()
    for key in whole.frames:
        np.testing.assert_array_equal(parted.frames[key], whole.frames[key])
    again = execute(plan, fake_parts(parted, []), frames=range(2, 4))
    assert (again.stylized, again.resumed) == (0, 2)


def test_a_range_whose_inputs_are_missing_is_refused_before_it_computes():
    plan = make_plan(6, ScheduleConfig(), offsets=(1,))
    calls = []
    with pytest.raises(MissingInputError, match="frame 4 of pass 1 needs frame 3 of pass 1"):
        execute(plan, fake_parts(MemoryStore(), calls), frames=range(3, 6))
    assert calls == []


def test_later_passes_sweep_backwards_so_their_ranges_run_from_the_end():
    plan = make_plan(6, ScheduleConfig(passes=2), offsets=(1,))
    whole = MemoryStore()
    execute(plan, fake_parts(whole, []))
    store = MemoryStore()
    with pytest.raises(MissingInputError, match="frame 3 of pass 2 needs frame 4 of pass 2"):
        execute(plan, fake_parts(store, []), frames=range(0, 3))
    execute(plan, fake_parts(store, []), frames=range(3, 6))
    execute(plan, fake_parts(store, []), frames=range(0, 3))
    assert store.frames.keys() == whole.frames.keys()
    for key in whole.frames:
        np.testing.assert_array_equal(store.frames[key], whole.frames[key])


def test_a_cut_starts_a_new_shot_like_a_first_frame():
    schedule = ScheduleConfig(passes=2, iterations_first=7, iterations=3, pass_iterations=2)
    plan = make_plan(6, schedule, offsets=(1, 2), cuts=(3,))
    assert plan.shots == ((0, 3), (3, 6))
    third = next(s for s in plan.pass_steps(1) if s.frame == 3)
    assert third.start.fresh is Init.CONTENT and third.iterations == 7 and third.temporal == () and third.from_scratch
    fifth = next(s for s in plan.pass_steps(1) if s.frame == 4)
    assert fifth.temporal == (Ref(1, 3),)  # offset 2 would reach across the cut
    assert all(min(a, b) >= 3 or max(a, b) < 3 for a, b in plan.flow_pairs)
    # Later passes sweep inside each shot: the first frame swept in a shot has no neighbour.
    second = plan.pass_steps(2)
    assert [s.frame for s in second] == [2, 1, 0, 5, 4, 3]
    assert second[0].start.neighbour is None and second[3].start.neighbour is None
    assert plan.final == tuple(Ref(2, f) for f in range(6))


def test_cuts_outside_the_clip_are_refused():
    with pytest.raises(ConfigError, match="expected cuts between frame 2 and 6"):
        make_plan(6, ScheduleConfig(), cuts=(6,))


def test_a_long_shot_is_chunked_behind_keyframes():
    schedule = ScheduleConfig(chunk_frames=4, iterations_first=7, iterations=3, pass_iterations=2)
    plan = make_plan(12, schedule, offsets=(1, 2))
    assert plan.passes == 2  # the backward sweep that pulls each chunk onto the next keyframe
    keys = [s for s in plan.pass_steps(1) if s.iterations == 7]
    assert [s.frame for s in keys] == [0, 4, 8]
    assert keys[1].start.result == Ref(1, 0) and keys[1].start.warped and keys[1].temporal == (Ref(1, 0),)
    chunk_steps = {s.frame: s for s in plan.pass_steps(1)}
    assert chunk_steps[5].temporal == (Ref(1, 4),)  # offset 2 would reach into the previous chunk
    sweep = [s for s in plan.pass_steps(2) if 1 <= s.frame <= 3]
    assert [s.frame for s in sweep] == [3, 2, 1] and sweep[0].start.neighbour == Ref(1, 4)
    assert {f for f, ref in enumerate(plan.final) if ref.pass_index == 1} == {0, 4, 8}
    units = {u.key: u for u in plan.units}
    assert list(units)[:3] == ["shot0-key0", "shot0-key1", "shot0-key2"]
    assert set(units) == {f"shot0-{kind}{c}" for kind in ("key", "chunk", "sweep") for c in range(3)}
    assert set(units["shot0-chunk1"].needs) == {Ref(1, 4)}
    assert set(units["shot0-sweep1"].needs) == {Ref(1, 5), Ref(1, 6), Ref(1, 7), Ref(1, 8)}
    assert set(units["shot0-key2"].needs) == {Ref(1, 4)}


def test_unchunked_shots_are_one_unit_each():
    plan = make_plan(6, ScheduleConfig(passes=3), cuts=(2,))
    assert [u.key for u in plan.units] == ["shot0", "shot2"] and all(u.needs == () for u in plan.units)


def test_chunked_units_give_the_same_frames_in_any_order_they_may_run():
    plan = make_plan(13, ScheduleConfig(chunk_frames=4, passes=3), offsets=(1, 2), cuts=(11,))
    whole = MemoryStore()
    execute(plan, fake_parts(whole, []))
    rng = np.random.default_rng(0)
    for _ in range(3):
        store, pending = MemoryStore(), list(plan.units)
        while pending:
            ready = [u for u in pending if all(store.has(r.pass_index, r.frame) for r in u.needs)]
            unit = ready[rng.integers(len(ready))]
            execute(plan, fake_parts(store, []), units=[unit.key])
            pending.remove(unit)
        assert store.frames.keys() == whole.frames.keys()
        for key in whole.frames:
            np.testing.assert_array_equal(store.frames[key], whole.frames[key])


def test_critical_path_shrinks_with_workers_and_chunks():
    unchunked = make_plan(1000, ScheduleConfig())
    assert unchunked.critical_path(8) == 1000
    chunked = make_plan(1000, ScheduleConfig(chunk_frames=25))
    assert chunked.critical_path(1) == len(chunked.steps)
    assert chunked.critical_path(64) < chunked.critical_path(8) < chunked.critical_path(1) / 4
