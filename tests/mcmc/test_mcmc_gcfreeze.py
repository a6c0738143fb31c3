"""frozen_heap: objects alive on entry skip the collections inside the block, and only there."""

import gc
import weakref

import pytest

import blinapk.mcmc.nuts as nuts
from blinapk.mcmc.gcfreeze import frozen_heap
from blinapk.mcmc.settings import SamplerSettings


class _Node:
    """An object that can sit in a reference cycle and be weakly referenced."""


def _cycle():
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def _collector_restored():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_freezes_inside_and_unfreezes_after():
    assert gc.get_freeze_count() == 0
    with frozen_heap() as froze:
        assert froze is True
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_old_garbage_waits_for_the_block_to_end_and_is_then_collected():
    ref = _cycle()  # unreachable already, but only the cyclic collector can free it
    with frozen_heap():
        gc.collect()
        assert ref() is not None  # frozen: the block's collections do not visit it
    gc.collect()
    assert ref() is None  # given back to the collector: nothing leaks


def test_garbage_made_inside_the_block_is_collected_inside_it():
    with frozen_heap():
        ref = _cycle()
        gc.collect()
        assert ref() is None


def test_unfreezes_when_the_block_raises():
    with pytest.raises(RuntimeError, match="boom"), frozen_heap():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0


def test_leaves_a_callers_freeze_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 1000)  # the caller froze its heap
    with frozen_heap() as froze:
        assert froze is False
        with frozen_heap() as inner:
            assert inner is False
    # neither frozen again nor given back: the caller's objects stay frozen (the real
    # count can still drop when another thread frees a frozen object, so it is not compared)
    assert calls == []


def test_nested_blocks_unfreeze_once_at_the_outer_end():
    with frozen_heap() as outer:
        with frozen_heap() as inner:
            assert gc.get_freeze_count() > 0
        assert (outer, inner) == (True, False)
        assert gc.get_freeze_count() > 0  # the inner block did not undo the outer one
    assert gc.get_freeze_count() == 0


def test_does_nothing_when_the_collector_is_off():
    gc.disable()
    with frozen_heap() as froze:
        assert froze is False and gc.get_freeze_count() == 0
    assert not gc.isenabled()


def test_sample_nuts_samples_inside_a_frozen_heap(monkeypatch):
    seen = []

    def fake(*args):
        seen.append(gc.get_freeze_count())
        return None, {}

    monkeypatch.setattr(nuts, "_sample", fake)
    nuts.sample_nuts(object(), SamplerSettings(sampler="numpyro"))
    assert seen and seen[0] > 0
    assert gc.get_freeze_count() == 0
