"""Reading the nodes' loop lag from /metrics, as the load test reports it."""

from __future__ import annotations

from loadtest import nodelag

BEFORE = """# TYPE quill_event_loop_lag_seconds histogram
quill_event_loop_lag_seconds_bucket{le="0.001"} 10
quill_event_loop_lag_seconds_bucket{le="0.01"} 10
quill_event_loop_lag_seconds_bucket{le="0.1"} 10
quill_event_loop_lag_seconds_bucket{le="+Inf"} 10
quill_event_loop_lag_seconds_count 10
"""
AFTER = """quill_event_loop_lag_seconds_bucket{le="0.001"} 60
quill_event_loop_lag_seconds_bucket{le="0.01"} 108
quill_event_loop_lag_seconds_bucket{le="0.1"} 110
quill_event_loop_lag_seconds_bucket{le="+Inf"} 110
"""


def test_the_run_is_the_difference_of_the_histograms() -> None:
    before, after = nodelag.parse(BEFORE), nodelag.parse(AFTER)
    assert before[float("inf")] == 10
    got = nodelag.summary([(before, after)])
    # 100 samples in the run: 50 ≤ 1 ms, 48 more ≤ 10 ms, 2 more ≤ 100 ms.
    assert got == {"p50": 1.0, "p99": 100.0, "max_bucket": 100.0, "samples": 100}


def test_nodes_add_up_and_unreadable_ones_are_left_out() -> None:
    before, after = nodelag.parse(BEFORE), nodelag.parse(AFTER)
    two = nodelag.summary([(before, after), (before, after), (None, after)])
    assert two["samples"] == 200 and two["p50"] == 1.0
    assert nodelag.summary([(None, None)])["samples"] == 0
    assert nodelag.scrape("http://127.0.0.1:9") is None  # nothing listens there
