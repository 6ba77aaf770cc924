#!/usr/bin/python3
"""Runs README's curl tour as written against the running stack and checks every answer.

The tour is the ```sh blocks of README's section "## A tour with curl". Each command (lines joined
at a trailing backslash) runs in one bash shell, from the repository's root, with `curl` made to
fail on an HTTP error status (--fail-with-body) and pipefail on; its output (stdout and stderr) is
kept. The `# {...}` comment lines under a command are its expected answer: every "field":value
named there must be in the output, exactly, unless the value is elided with `…` (then the field
must be there). The test fails when a command fails, an answer lacks a field or differs, or a
command with curl has no expected answer (except loops that wait).
--self-check is the negative control: broken copies of the tour must each fail.
Usage: curl_tour_test.py REPO_ROOT [--self-check]   (exit 0 when the tour held)
"""
import os
import re
import subprocess
import sys
import tempfile

SECTION = "## A tour with curl"
PAIR = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)":("(?:[^"\\]|\\.)*"|[^,}\]\[{]+)')


def tour_blocks(readme):
    start = readme.find("\n" + SECTION + "\n")
    if start < 0:
        return None
    end = readme.find("\n## ", start + len(SECTION) + 2)
    section = readme[start:] if end < 0 else readme[start:end]
    return re.findall(r"^```sh\n(.*?)^```", section, re.M | re.S)


def steps_of(blocks):
    """[(command, expected comment text or None)] in order."""
    steps = []
    for block in blocks:
        pending = ""
        for line in block.split("\n"):
            if pending:
                pending += "\n" + line
            elif line.startswith("#"):
                text = line[1:].strip()
                if steps and (text.startswith("{") or steps[-1][1] is not None):
                    command, expected = steps[-1]
                    steps[-1] = (command, text if expected is None else expected + text)
                continue
            elif line.strip():
                pending = line
            if pending and not pending.endswith("\\"):
                steps.append((pending, None))
                pending = ""
    return steps


def problems_of(readme, root):
    blocks = tour_blocks(readme)
    if not blocks:
        return ["README has no section '" + SECTION + "' with ```sh blocks"]
    steps = steps_of(blocks)
    problems = []
    for command, expected in steps:
        waits = command.lstrip().startswith(("until ", "while "))
        if "curl " in command and expected is None and not waits:
            problems.append("no expected answer under: " + command.split("\n")[0])
    if problems:
        return problems
    with tempfile.TemporaryDirectory() as work:
        script = ["set -u -o pipefail", 'curl() { command curl --fail-with-body -m 10 "$@"; }',
                  "cd " + subprocess.list2cmdline([root])]
        for i, (command, _) in enumerate(steps):
            out = os.path.join(work, f"out.{i}")
            script.append(f"{{ {command}\n}} >{out} 2>&1 || {{ echo \"$?\" >{out}.rc; exit 0; }}")
        script.append(f"echo done >{work}/done")
        try:
            run = subprocess.run(["bash", "-c", "\n".join(script)], timeout=120)
        except subprocess.TimeoutExpired:
            return ["the tour did not finish within 120 s (an account that never arrived?)"]
        for i, (command, expected) in enumerate(steps):
            first = command.split("\n")[0]
            out_path = os.path.join(work, f"out.{i}")
            if not os.path.exists(out_path):
                break
            with open(out_path) as f:
                output = f.read()
            if os.path.exists(out_path + ".rc"):
                with open(out_path + ".rc") as f:
                    rc = f.read().strip()
                problems.append(f"command failed (exit {rc}): {first}\n    output: {output.strip()[:400]}")
                break
            if expected is None:
                continue
            pairs = PAIR.findall(expected)
            if not pairs:
                problems.append(f"expected answer names no field: {expected}")
            for name, value in pairs:
                value = value.strip()
                if "…" in value:
                    if f'"{name}":' not in output:
                        problems.append(f"answer lacks \"{name}\": {first}\n    output: {output.strip()[:400]}")
                elif f'"{name}":{value}' not in output:
                    problems.append(f"answer lacks \"{name}\":{value}: {first}\n    output: {output.strip()[:400]}")
        if run.returncode != 0 or (not problems and not os.path.exists(os.path.join(work, "done"))):
            problems.append(f"the tour's shell stopped early (exit {run.returncode})")
    return problems


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--")
                           else os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    if "--self-check" in sys.argv:
        broken = {
            "an expected balance off by a cent": ('"balance":"70.00","email"', '"balance":"70.01","email"'),
            "a path that does not exist": ("localhost:8081/transferMoney", "localhost:8081/transferMoneyX"),
            "a field the answer lacks": ('"hold_id":"…"', '"hold_key":"…"'),
            "a curl command without its answer": ('\n# {"balance":"70.00","email":"ada-…@example.com"}', ""),
        }
        missed = []
        for name, (old, new) in broken.items():
            if old not in readme:
                missed.append(name + " (README no longer contains " + old + ")")
                continue
            found = problems_of(readme.replace(old, new, 1), root)
            print(f"curl tour, {name}: " + ("refused: " + found[0].split("\n")[0] if found else "NOT refused"))
            if not found:
                missed.append(name)
        if missed:
            print("curl tour: negative control FAILED, not detected: " + ", ".join(missed), file=sys.stderr)
            return 1
        print(f"curl tour: negative control: {len(broken)} broken tours, each refused")
        return 0
    problems = problems_of(readme, root)
    for p in problems:
        print("curl tour: " + p, file=sys.stderr)
    if problems:
        return 1
    print(f"curl tour: {len(steps_of(tour_blocks(readme)))} commands of README ran, every answer as shown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
