"""The import table, from the recorder's `["<import>", 0, module]` pseudo-frames, and the footprint finding."""
import os

from thrifty.doctor.html import render as render_html
from thrifty.doctor.render_text import render_text
from thrifty.doctor.report import build_report

BOOT = "<frozen importlib._bootstrap>"
STDLIB = os.path.dirname(os.__file__)


def _raw(frames, stacks):
    full = [{"truncated": False, "frees": 0, "alloc_bytes": st["live_at_peak"], "allocs": 1, **st} for st in stacks]
    return {"mode": "exact", "sample_rate": 0, "max_depth": 64, "peak_time_ns": 0, "allocs": len(stacks), "frees": 0,
            "alloc_bytes": 0, "samples": 0, "untracked_allocs": 0, "dropped_stacks": 0, "duration_ns": 1,
            "tracker_bytes": 0, "tracker_peak_bytes": 0, "overhead_ns_estimate": 0, "timeline": [],
            "frames": frames, "stacks": full, "peak_bytes": sum(s["live_at_peak"] for s in stacks),
            "live_bytes_at_end": sum(s["live_at_end"] for s in stacks), "user_roots": ["/home/u"]}


FRAMES = [
    ["/home/u/app.py", 1, "<module>"],  # 0: import json
    [BOOT, 1176, "_find_and_load"],  # 1
    ["<import>", 0, "json"],  # 2
    [os.path.join(STDLIB, "json", "__init__.py"), 106, "<module>"],  # 3: from .decoder import ...
    ["<import>", 0, "json.decoder"],  # 4
    [os.path.join(STDLIB, "json", "decoder.py"), 30, "<module>"],  # 5
    ["/home/u/app.py", 9, "main"],  # 6: later work
]


def _report():
    raw = _raw(FRAMES, [
        {"frames": [0, 1, 2, 3], "live_at_peak": 3000, "live_at_end": 2000},  # json's own
        {"frames": [0, 1, 2, 3, 1, 4, 5], "live_at_peak": 7000, "live_at_end": 6000},  # json.decoder, inside json
        {"frames": [6], "live_at_peak": 10_000, "live_at_end": 0},
    ])
    return build_report(raw, target={"kind": "script", "value": "/home/u/app.py"})


def test_self_and_cumulative_bytes_per_module():
    r = _report()
    rows = {m["module"]: m for m in r["imports"]}
    assert set(rows) == {"json", "json.decoder"}
    j, d = rows["json"], rows["json.decoder"]
    assert (j["self_live_at_peak"], j["live_at_peak"], j["self_live_at_end"], j["live_at_end"]) == (3000, 10_000,
                                                                                                    2000, 8000)
    assert (d["self_live_at_peak"], d["live_at_peak"], d["live_at_end"]) == (7000, 7000, 6000)
    assert j["share_of_peak"] == 0.5
    # json was imported by the user's line 1; json.decoder by json itself, not by the user
    assert j["imported_at"]["file"] == "/home/u/app.py" and j["imported_at"]["line"] == 1
    assert d["imported_at"] is None
    assert r["summary"]["imports_live_at_peak"] == 10_000 and r["summary"]["imports_live_at_end"] == 8000
    # the import's bytes are charged to the user's import line as a site too
    top = r["sites"][r["top_at_peak"][0]]
    assert (top["line"], top["live_at_peak"]) == (1, 10_000) or (top["line"], top["live_at_peak"]) == (9, 10_000)


def test_import_table_in_text_and_html():
    r = _report()
    text = render_text(r)
    assert "Top 2 imports" in text and "json.decoder" in text and "imported at" in text
    page = render_html(r, [])
    assert 'id="imports"' in page and "json.decoder" in page


def test_no_import_frames_no_table():
    raw = _raw([["/home/u/app.py", 9, "main"]], [{"frames": [0], "live_at_peak": 10, "live_at_end": 0}])
    r = build_report(raw)
    assert r["imports"] == [] and "imports" not in render_text(r).split("Top")[0].lower().split("peak rss")[1]


def test_heavy_user_import_is_a_footprint_finding_light_or_library_ones_are_not():
    from thrifty.doctor.findings import build

    big = 600 * 1024
    raw = _raw(FRAMES, [
        {"frames": [0, 1, 2, 3], "live_at_peak": big, "live_at_end": big},  # json, by the user's line 1
        {"frames": [0, 1, 2, 3, 1, 4, 5], "live_at_peak": big, "live_at_end": big},  # json.decoder, by json
    ])
    r = build_report(raw, target={"kind": "script", "value": "/home/u/app.py"})
    (f,) = [f for f in build({}, r) if f.kind == "import"]
    assert (f.habit, f.file, f.line, f.bytes) == ("footprint", "/home/u/app.py", 1, 2 * big)
    assert "import json inside the function" in f.fix and "at module level" in f.evidence
    small = build_report(_raw(FRAMES, [{"frames": [0, 1, 2, 3], "live_at_peak": 1000, "live_at_end": 1000}]))
    assert [f for f in build({}, small) if f.kind == "import"] == []


def _import_finding(tmp_path, source, line=1, function="<module>"):
    from thrifty.doctor.findings import build

    app = tmp_path / "app.py"
    app.write_text(source)
    big = 600 * 1024
    frames = [[str(app), line, function], [BOOT, 1176, "_find_and_load"], ["<import>", 0, "json"],
              [os.path.join(STDLIB, "json", "__init__.py"), 106, "<module>"]]
    raw = {**_raw(frames, [{"frames": [0, 1, 2, 3], "live_at_peak": big, "live_at_end": big}]),
           "user_roots": [str(tmp_path)]}
    r = build_report(raw, target={"kind": "script", "value": str(app)})
    (f,) = [f for f in build({}, r) if f.kind == "import"]
    return f


def test_the_import_fix_follows_how_the_file_uses_the_module(tmp_path):
    # used at module level: every run pays, so "import it inside the function" would be wrong advice
    f = _import_finding(tmp_path, "import json\n\nDATA = json.loads('[1]')\n")
    assert f.data["used"] == "module" and "line 3" in f.evidence
    assert "inside the function" not in f.fix and "save nothing" in f.fix and "lighter module" in f.fix
    # `if __name__ == "__main__":` runs on every run of the script too; a decorator or default runs at definition
    for src in ("import json\n\ndef main():\n    pass\n\nif __name__ == '__main__':\n    print(json.dumps(1))\n",
                "import json\n\ndef f(dump=json.dumps):\n    return dump(1)\n"):
        assert _import_finding(tmp_path, src).data["used"] == "module"
    # used only in functions: importing it there is the fix, and the finding names them
    f = _import_finding(tmp_path, "import json\n\ndef save(x):\n    return json.dumps(x)\n\n"
                                  "class Store:\n    def load(self, s):\n        return json.loads(s)\n")
    assert f.data["used"] == "functions" and "import json inside save(), load()" in f.fix
    # never used: remove it
    f = _import_finding(tmp_path, "import json  # left over\n\nprint('hi')\n")
    assert f.data["used"] == "unused" and f.fix.startswith("remove `import json`")
    # a name re-exported through __all__ is for other modules: the source cannot tell, the general advice stays
    f = _import_finding(tmp_path, "from json import loads\n__all__ = ['loads']\n")
    assert f.data["used"] is None and "inside the function that needs it" in f.fix
    # imported inside a function already: it is lazy, only a lighter module would cost less
    f = _import_finding(tmp_path, "def main():\n    import json\n    return json.dumps(1)\n", line=2,
                        function="main")
    assert "in main()" in f.evidence and "pay for it already" in f.fix and "inside the function" not in f.fix


def test_a_module_of_the_users_own_is_no_import_finding_its_globals_are():
    # `import mylib` whose 600 KiB is mylib's own TABLE: the globals finding counts those bytes (once); the
    # import row still shows it, with its file
    from thrifty.doctor.findings import build

    big = 600 * 1024
    frames = [["/home/u/app.py", 1, "<module>"], [BOOT, 1176, "_find_and_load"], ["<import>", 0, "mylib"],
              ["/home/u/mylib.py", 1, "<module>"]]
    r = build_report(_raw(frames, [{"frames": [0, 1, 2, 3], "live_at_peak": big, "live_at_end": big}]),
                     target={"kind": "script", "value": "/home/u/app.py"})
    (row,) = r["imports"]
    assert (row["module"], row["file"], row["imported_at"]["line"]) == ("mylib", "/home/u/mylib.py", 1)
    assert [f for f in build({}, r) if f.kind == "import"] == []
    assert r["sites"][r["top_at_peak"][0]]["file"] == "/home/u/mylib.py"
    assert {m["module"]: m["file"] for m in _report()["imports"]}["json.decoder"].endswith("decoder.py")
