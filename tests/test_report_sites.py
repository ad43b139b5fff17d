"""User frame first: every site shown is the innermost frame in the user's code, the library frame beside it."""
import os
import re

import pytest

import thrifty
from thrifty.doctor.report import build_report
from thrifty.doctor.usercode import UserCode, site_label

PKG = os.path.dirname(os.path.abspath(thrifty.__file__))
STDLIB = os.path.dirname(os.__file__)
JSON_DEC = os.path.join(STDLIB, "json", "decoder.py")
SITE_PKG = "/venv/lib/python3.11/site-packages/lib/core.py"


def _raw(frames, stacks, roots=("/home/u",)):
    full = [{"truncated": False, "live_at_end": 0, "frees": 0, "alloc_bytes": st["live_at_peak"], "allocs": 1, **st}
            for st in stacks]
    return {"mode": "exact", "sample_rate": 0, "max_depth": 64, "peak_time_ns": 0, "live_bytes_at_end": 0,
            "allocs": len(stacks), "frees": 0, "alloc_bytes": 0, "samples": 0, "untracked_allocs": 0,
            "dropped_stacks": 0, "duration_ns": 1, "tracker_bytes": 0, "tracker_peak_bytes": 0,
            "overhead_ns_estimate": 0, "timeline": [], "frames": frames, "stacks": full,
            "peak_bytes": sum(s["live_at_peak"] for s in stacks), "user_roots": list(roots)}


FRAMES = [
    ["/home/u/app.py", 12, "<module>"],  # 0 the user's json.load line
    [JSON_DEC, 353, "raw_decode"],  # 1
    [os.path.join(STDLIB, "json", "__init__.py"), 293, "load"],  # 2
    ["/home/u/app.py", 20, "<module>"],  # 3
    [SITE_PKG, 5, "build"],  # 4
    ["<frozen importlib._bootstrap>", 1176, "_find_and_load"],  # 5
    ["<import>", 0, "json.decoder"],  # 6
]


def test_user_line_carries_the_whole_call_with_the_heaviest_library_frame():
    raw = _raw(FRAMES, [
        {"frames": [0, 2, 1], "live_at_peak": 50_000_000},  # json.load -> raw_decode
        {"frames": [0, 2], "live_at_peak": 5_000},  # json.load itself
        {"frames": [0], "live_at_peak": 100},  # the line's own
        {"frames": [3, 4], "live_at_peak": 700},  # a site-packages call
    ])
    r = build_report(raw, target={"kind": "script", "value": "/home/u/app.py"})
    top = r["sites"][r["top_at_peak"][0]]
    assert (top["file"], top["line"], top["live_at_peak"]) == ("/home/u/app.py", 12, 50_005_100)
    assert top["user_code"] is True and top["in"]["file"] == JSON_DEC and top["in"]["line"] == 353
    assert top["label"].endswith(":12 (in json/decoder.py:353)")
    lib = next(s for s in r["sites"] if s["line"] == 20)
    assert lib["in"]["file"] == SITE_PKG and lib["label"].endswith(":20 (in lib/core.py:5)")
    assert len(r["sites"]) == 2  # every stack went to a user line


def test_stack_without_a_user_frame_goes_to_its_outermost_frame_and_is_marked():
    raw = _raw(FRAMES, [{"frames": [4, 1], "live_at_peak": 4096}])  # a library calling another, no user frame
    (site,) = build_report(raw)["sites"]
    assert site["user_code"] is False and site["file"] == SITE_PKG
    assert site["in"]["file"] == JSON_DEC and "[not your code]" in site["label"]


def test_include_and_exclude_globs_override_what_is_the_users():
    raw = _raw(FRAMES, [{"frames": [3, 4], "live_at_peak": 700}])
    (site,) = build_report(raw, include=["*/site-packages/lib/*"])["sites"]
    assert (site["file"], site["line"], site["in"]) == (SITE_PKG, 5, None)
    (site,) = build_report(raw, exclude=["app.py"])["sites"]  # relative to a root
    assert site["user_code"] is False
    assert build_report(raw, include=["x"])["user_code"]["include"] == ["x"]


@pytest.mark.parametrize("path,user", [
    ("/home/u/app.py", True), ("/home/u/pkg/mod.py", True), ("/elsewhere/x.py", False),
    (JSON_DEC, False), (SITE_PKG, False), ("/usr/lib/python3/dist-packages/a.py", False),
    (os.path.join(PKG, "lz.py"), False), ("<string>", True), ("<frozen runpy>", False), ("<import>", False),
])
def test_user_code_rule(path, user):
    assert UserCode(["/home/u"])(path) is user


def test_typed_code_is_the_users_only_for_a_code_target():
    assert UserCode(["/home/u"], typed=False)("<string>") is False


def test_label_names_the_user_line_first():
    site = {"file": os.path.join(os.getcwd(), "app.py"), "line": 12, "function": "main",
            "in": {"file": JSON_DEC, "line": 353, "function": "raw_decode"}}
    assert site_label(site) == "app.py:12 (in json/decoder.py:353)"
    assert site_label(site, function=True) == "app.py:12 in main (in json/decoder.py:353)"
    assert site_label({"file": "<no Python frame>", "line": 0, "function": ""}) == "<no Python frame>"


def test_classification_is_once_per_frame_not_per_stack_entry(monkeypatch):
    calls = []
    real = UserCode._classify

    def counting(self, filename):
        calls.append(filename)
        return real(self, filename)

    monkeypatch.setattr(UserCode, "_classify", counting)
    frames = [[f"/home/u/m{i}.py", i, "f"] for i in range(50)]
    stacks = [{"frames": list(range(50)), "live_at_peak": 1} for _ in range(2000)]
    build_report(_raw(frames, stacks))
    assert len(calls) == 50  # 100,000 stack entries, 50 distinct frames


def test_text_and_pytest_failure_name_the_user_line_first():
    from thrifty.doctor.render_text import render_text
    from thrifty.pytest_plugin import _failure_message

    raw = _raw(FRAMES, [{"frames": [0, 2, 1], "live_at_peak": 1_000_000}])
    r = build_report(raw, budget=10)
    assert ":12 in <module> (in json/decoder.py:353)" in render_text(r)
    assert ":12 in <module> (in json/decoder.py:353)" in _failure_message(r, 10)


def test_budget_error_names_the_users_line_first():
    import json

    text = json.dumps([f"item-{i}" * 20 for i in range(2000)])
    with pytest.raises(thrifty.BudgetExceeded) as e:
        with thrifty.budget(20_000):
            json.loads(text)  # the user's line
    line = test_budget_error_names_the_users_line_first.__code__.co_firstlineno + 6
    msg = str(e.value)
    assert f"at {__file__}:{line} in test_budget_error_names_the_users_line_first (in json/decoder.py:" in msg, msg


def test_budget_error_in_the_users_own_function_names_that_line():
    def alloc():
        return bytearray(100_000)

    with pytest.raises(thrifty.BudgetExceeded, match=rf"at {re.escape(__file__)}:{alloc.__code__.co_firstlineno + 1} in .*alloc:"):
        with thrifty.budget(50_000):
            alloc()


def test_a_stack_without_user_frame_is_named_by_the_import_that_made_it():
    raw = _raw(FRAMES, [{"frames": [5, 6, 1], "live_at_peak": 10}])  # _find_and_load, <import> json.decoder, decoder
    (site,) = build_report(raw)["sites"]
    assert site["file"] == "<import>" and site["function"] == "json.decoder"
    assert site["label"].startswith("import json.decoder (in json/decoder.py:353)")


@pytest.mark.parametrize("bad", ["src/*", [1], {"a"}])
def test_include_must_be_a_list_of_globs(bad):
    with pytest.raises(TypeError, match="include must be a list of glob strings"):
        build_report(_raw(FRAMES, []), include=bad)


def test_no_globs_given_as_none():
    assert build_report(_raw(FRAMES, []), include=None, exclude=None)["user_code"]["include"] == []


def test_realpath_with_remembered_directories_is_realpath(tmp_path, monkeypatch):
    """usercode._realpath (a directory resolved once, then one lstat per file) gives os.path.realpath's answer for
    symlinked directories and files, missing files, `..`, doubled slashes and relative paths, from what it remembered
    too (it assumes a run's directories do not move while the run is analysed)."""
    import os

    from thrifty.doctor import usercode

    monkeypatch.setattr(usercode, "_REAL_DIRS", {})
    real = tmp_path / "real"
    real.mkdir()
    (real / "f.py").write_text("")
    (tmp_path / "link").symlink_to(real)
    (real / "g.py").symlink_to(real / "f.py")
    (real / "up.py").symlink_to("../real/f.py")
    paths = [str(real / "f.py"), str(tmp_path / "link" / "f.py"), str(real / "g.py"), str(tmp_path / "link" / "g.py"),
             str(real / "up.py"), str(tmp_path / "link" / ".." / "real" / "f.py"), str(tmp_path) + "//link/f.py",
             str(tmp_path / "link" / "missing.py"), str(tmp_path / "nodir" / "x.py"), "rel/x.py", "x.py", "/",
             str(tmp_path / "link" / "."), os.__file__]
    for _ in range(2):  # the second time from what it remembered
        assert [usercode._realpath(p) for p in paths] == [os.path.realpath(p) for p in paths]
    monkeypatch.chdir(real)
    assert usercode._realpath("f.py") == str(real / "f.py")  # relative: resolved against the cwd of the call
