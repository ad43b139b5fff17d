"""Honest figures: the timeline envelope shows the true peak, the target's RSS and the doctor's own memory apart."""
import re

from thrifty.doctor.html import render as render_html
from thrifty.doctor.render_text import render_text
from thrifty.doctor.report import build_report


def _raw(**extra):
    raw = {"mode": "exact", "sample_rate": 0, "max_depth": 64, "peak_bytes": 30_000_000, "peak_time_ns": 200_000_000,
           "live_bytes_at_end": 0, "allocs": 1, "frees": 0, "alloc_bytes": 0, "samples": 0, "untracked_allocs": 0,
           "dropped_stacks": 0, "duration_ns": 400_000_000, "tracker_bytes": 1000, "tracker_peak_bytes": 2000,
           "overhead_ns_estimate": 0, "frames": [], "stacks": []}
    raw.update(extra)
    return raw


def test_envelope_points_keep_high_and_low():
    tl = [[0, 0, 0], [100_000_000, 30_000_000, 1_000], [400_000_000, 2_000, 1_000]]
    r = build_report(_raw(timeline=tl))
    assert r["timeline"] == [[0.0, 0, 0], [0.1, 30_000_000, 1_000], [0.4, 2_000, 1_000]]
    assert max(p[1] for p in r["timeline"]) == r["summary"]["peak_bytes"]


def test_old_pairs_are_read_and_a_missed_peak_is_put_on_the_timeline():
    # three points whose highest is a quarter of the peak: the spike happened between them
    tl = [[0, 0], [100_000_000, 7_500_000], [400_000_000, 1_000]]
    r = build_report(_raw(timeline=tl))
    assert [0.2, 30_000_000, 30_000_000] in r["timeline"]
    assert [p[0] for p in r["timeline"]] == sorted(p[0] for p in r["timeline"])
    assert all(len(p) == 3 and p[1] >= p[2] for p in r["timeline"])


def test_html_draws_the_envelope_and_the_peak_dot_on_the_line():
    tl = [[0, 0, 0], [100_000_000, 7_500_000, 10], [300_000_000, 4_000_000, 3_000_000], [400_000_000, 1_000, 1_000]]
    page = render_html(build_report(_raw(timeline=tl)), [])
    assert 'id="envelope"' in page
    line = re.search(r'<polyline [^>]*points="([^"]+)"', page).group(1)
    top_y = min(float(pt.split(",")[1]) for pt in line.split())
    dot_y = float(re.search(r'<circle cx="[^"]+" cy="([^"]+)"', page).group(1))
    assert abs(dot_y - top_y) < 0.05  # the peak dot sits on the line's highest point


def test_target_rss_and_own_memory_are_shown_apart():
    r = build_report(_raw(timeline=[], target_peak_rss_bytes=50 << 20, recorder_bytes=123, recorder_peak_bytes=4 << 20),
                     facts={"peak_rss_bytes": 90 << 20})
    s = r["summary"]
    assert (s["peak_rss_bytes"], s["peak_rss_of"]) == (50 << 20, "target")
    assert (s["recorder_bytes"], s["recorder_peak_bytes"]) == (123, 4 << 20)
    text = render_text(r)
    assert "50.0 MiB (the target's process, without the doctor)" in text
    assert "doctor's own" in text and "4.0 MiB memory" in text and "not in the target's figures" in text
    # without the recorder's figure the RSS line says it is the whole process
    r = build_report(_raw(timeline=[]), facts={"peak_rss_bytes": 90 << 20})
    assert r["summary"]["peak_rss_of"] == "process" and "doctor included" in render_text(r)


def test_how_the_target_ended_is_shown_from_the_recorders_end_record():
    r = build_report(_raw(timeline=[], end={"status": "killed", "exit_status": -9, "signal": 9, "exception": None},
                          complete=False))
    text = render_text(r)
    assert "target was killed: exit status -9 (signal 9)" in text
    assert "last complete one" in text


def test_json_document_has_a_field_a_line_and_the_same_value():
    """The --json document is written by the C encoder (a top-level field per line, each value compact): the same
    JSON value the stdlib's indented encoder wrote."""
    import json

    from thrifty.doctor.render_json import dumps

    r = build_report(_raw(timeline=[[0, 5, 1], [100_000_000, 30_000_000, 2]]))
    text = dumps(r)
    assert json.loads(text) == json.loads(json.dumps(r, indent=1))
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and len(lines) == len(r) + 2
    assert lines[1].startswith('"schema":') and text.endswith("}\n")
    # keys json must name itself (not str) and empty documents: one compact line
    assert dumps({1: [1, 2]}) == '{"1":[1,2]}\n' and dumps({}) == "{}\n"
