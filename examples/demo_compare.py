"""`make demo`'s last step: the two doctor reports side by side — peaks, and the findings the lean version lost.

usage: python examples/demo_compare.py naive.json lean.json
"""
import json
import sys

TARGET = 4  # the lean version's peak should be at most a quarter of the naive one's


def size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def key(f):
    """What makes two findings 'the same' across the two programs: the kind and what it is about."""
    d = f["data"]
    return (f["kind"], d.get("name") or d.get("type") or d.get("what") or d.get("consumer") or "")


def main(naive_path, lean_path):
    naive, lean = (json.load(open(p)) for p in (naive_path, lean_path))
    pn, pl = naive["summary"]["peak_bytes"], lean["summary"]["peak_bytes"]
    ratio = pn / max(pl, 1)
    print("\n== thrifty doctor: naive vs lean")
    print(f"  {'':24}{'naive':>14}{'lean':>14}")
    print(f"  {'peak traced heap':24}{size(pn):>14}{size(pl):>14}   {ratio:.1f}x smaller "
          f"({'meets' if ratio >= TARGET else 'MISSES'} the {TARGET}x target)")
    for label, field in (("live at exit", "live_bytes_at_end"), ("allocations", "allocs")):
        a, b = naive["summary"][field], lean["summary"][field]
        fmt = size if field.endswith("end") else "{:,}".format
        print(f"  {label:24}{fmt(a):>14}{fmt(b):>14}")
    nf = [f for f in naive["findings"] if f["confirmed"]]
    lf = [f for f in lean["findings"] if f["confirmed"]]
    print(f"  {'confirmed findings':24}{len(nf):>14}{len(lf):>14}")
    left = {key(f) for f in lf}
    gone = [f for f in nf if key(f) not in left]
    print(f"\n== findings that disappeared ({len(gone)} of {len(nf)})")
    for f in sorted(gone, key=lambda f: (f["habit"], -f["bytes"])):
        b = f"{size(f['bytes']):>10}" if f["bytes"] else " " * 10
        print(f"  {b}  [{f['habit']}] {f['title']}")
    stayed = [f for f in nf if key(f) in left]
    if stayed:
        print(f"\n== still there ({len(stayed)})")
        for f in stayed:
            print(f"  [{f['habit']}] {f['title']}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
