import threading

import numpy as np
import pytest

from cvexplorer.timing import LatencyRecorder, Stages
from cvexplorer.trace import Step, Trace


def test_eager_trace_is_random_access_and_read_only():
    steps = [Step(i, f"s{i}", {"arr": np.arange(3) + i}) for i in range(5)]
    t = Trace(steps, final=np.array([1, 2]))
    assert len(t) == 5 and t[-1].caption == "s4" and t[2].arr[0] == 2
    with pytest.raises(ValueError):
        t[2].arr[0] = 9
    with pytest.raises(IndexError, match="outside this trace"):
        t[5]
    assert not t.final.flags.writeable


def test_lazy_trace_builds_only_requested_steps():
    built = []

    def make(i):
        built.append(i)
        return Step(i, "", {"v": i * i})

    t = Trace(length=10_000_000, make_step=make, cache_size=4)
    assert t[1234].v == 1234 ** 2 and t[-1].v == (10_000_000 - 1) ** 2
    t[1234]
    assert built == [1234, 9_999_999]


def test_recorder_separates_cold_from_warm_and_is_thread_safe():
    r = LatencyRecorder(window=1000)

    def work(k):
        for i in range(200):
            r.record("p", f"s{k}", float(i), device="CPU")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stats = {s.stage: s for s in r.stats("p")}
    assert set(stats) == {"s0", "s1", "s2", "s3"}
    s = stats["s0"]
    assert s.count == 200 and s.cold_ms == 0.0
    assert s.p50_ms == pytest.approx(np.percentile(np.arange(1, 200), 50))
    assert r.to_csv().count("\n") == 801


def test_stages_accumulate():
    st = Stages()
    with st("a"):
        sum(range(10000))
    with st("a"):
        pass
    assert st.ms["a"] > 0 and st.total == st.ms["a"]
