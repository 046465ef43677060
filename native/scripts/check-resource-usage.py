#!/usr/bin/env python3
"""CI regression check of the kernels' static resource usage (ctest `kernel_resource_usage`).

Regenerates the ptxas report with native/scripts/resource-usage.sh into a temporary file and compares it
with the committed native/resource-usage.txt, per kernel and SM: any spill fails, and so does any change
of registers or shared memory that was not committed (re-run the script and commit its output)."""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMMITTED = os.path.join(HERE, "..", "resource-usage.txt")


def parse(path):
    usage, sm, kernel = {}, None, None
    for line in open(path):
        m = re.match(r"## sm_(\d+)", line)
        if m:
            sm = m.group(1)
            continue
        m = re.match(r"Compiling entry function '([^']+)'", line)
        if m:
            # Readable and stable: the kernel's own name and template argument, not the path hash.
            k = re.search(r"\d+([A-Za-z]+Kernel)(I\d*_*[A-Za-z0-9_]*E)?", m.group(1))
            kernel = (k.group(1) + (k.group(2) or "")) if k else m.group(1)
            usage.setdefault((sm, kernel), {})
            continue
        if kernel is None:
            continue
        m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m:
            usage[(sm, kernel)]["spills"] = int(m.group(1)) + int(m.group(2))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            usage[(sm, kernel)]["registers"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            usage[(sm, kernel)]["smem"] = int(s.group(1)) if s else 0
    return usage


def main():
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, "usage.txt")
        subprocess.run(["bash", os.path.join(HERE, "resource-usage.sh"), fresh], check=True,
                       stdout=subprocess.DEVNULL)
        now, then = parse(fresh), parse(COMMITTED)
    problems = []
    for key, u in sorted(now.items()):
        if u.get("spills", 0) > 0:
            problems.append(f"sm_{key[0]} {key[1]}: {u['spills']} bytes of register spills (target 0)")
        if key not in then:
            problems.append(f"sm_{key[0]} {key[1]}: new kernel, not in native/resource-usage.txt")
        elif then[key] != u:
            problems.append(f"sm_{key[0]} {key[1]}: {then[key]} committed, now {u}")
    for key in sorted(set(then) - set(now)):
        problems.append(f"sm_{key[0]} {key[1]}: in native/resource-usage.txt but no longer built")
    if problems:
        print("kernel resource usage changed (run native/scripts/resource-usage.sh and commit if intended):")
        print("\n".join("  " + p for p in problems))
        return 1
    print(f"{len(now)} kernel/SM entries unchanged, no spills")
    return 0


if __name__ == "__main__":
    sys.exit(main())
