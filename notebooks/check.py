#!/usr/bin/python3
"""Execute lstmlab's GoNB notebooks headless and judge every code cell.

Run it with Debian's /usr/bin/python3 (nbclient and nbformat come from the
jupyter-nbconvert package that .ci/install-tools.sh installs):

    .ci/install-tools.sh && . .ci/env.sh
    /usr/bin/python3 notebooks/check.py                  # all notebooks/*.ipynb
    /usr/bin/python3 notebooks/check.py notebooks/00-smoke.ipynb --write

Each notebook runs top to bottom in a fresh GoNB kernel started in the
notebook's folder (so ${GONB_DIR}/.. is the working tree), with every cell
executed even after a failure (allow_errors), and a per-cell timeout. The
kernel's environment gets GOEXPERIMENT=simd and LSTMLAB_CI=1 (notebooks may
train fewer steps when it is set; --full leaves it unset).

A code cell FAILS when:
  * the kernel's reply to it is an error (compile error, panic, os.Exit(N),
    log.Fatal, ...) or it has an error output;
  * a stream line reads "exit status N" (how GoNB reports a failing shell cell
    such as `!cmd`, `!*cmd` or `%%bash`, which is otherwise not an error) or
    starts with "panic: ";
  * GoNB rendered its HTML error report (kernels installed without --raw_error);
  * it timed out (the rest of that notebook is then not run and counts as failed);
  * an output declared in its metadata is missing:
        "metadata": {"lstmlab": {"expect_text": ["perplexity"],
                                 "expect_mime": ["image/png"]}}
    expect_text strings must each appear in the cell's text (streams and text/*
    data); expect_mime types must each appear in a display_data or
    execute_result output. Unknown keys under "lstmlab" are an error (typos
    would otherwise silently disable a check).
  * it is longer than MAX_CODE_LINES non-blank lines (a teaching cell shows
    the lesson; helpers belong in the notebooks/nb package).
Notebook rules, reported on the first code cell: the kernelspec is "gonb" and
the first code cell points the kernel at the working tree with
`go mod edit ... -replace=<root module>=...`.

A markdown cell FAILS when its prose quotes a figure that no neighbouring output
shows (prose cannot drift from the outputs it describes). Every number written
in prose must be, rounded to the digits written, a number printed by the
nearest code cell above or below (streams, text/plain, text/markdown and the
text of text/html; "62 %" also matches 0.62). Exempt are numbers in maths
($...$, $$...$$), in code (`...`, fenced or indented blocks), in link targets
and HTML comments, a year at the end of a parenthesised citation
("(Karpathy et al., 2015)"), notebook numbers written with a leading zero
("notebook 02"), and ordered-list markers. So a fixed quantity the author
defines is written as maths or code ($3$ bits, `hidden=128`), and a measured
one must come from an output. Markdown cells that quote figures are counted as
checked cells; --prose-only checks the committed outputs without executing.

The count is of checked cells: every non-empty code cell of every selected
notebook (a notebook that cannot be read counts as one failed cell). The last
line printed is exactly "N passed, N failed"; the exit status is 0 when
nothing failed, 1 otherwise, and 2 for bad usage or a missing tool.

Executed notebooks go to --out-dir (default .cache/notebooks-out), beside each
kernel's log. With --write, a notebook that passed is saved in place instead,
so committed notebooks carry outputs from a real run by this very script; a
failed one is never written in place. --write runs the full length (as
--full): committed outputs are never the shortened CI run.
"""

import argparse
import os
import re
import shutil
import sys
import time

import nbclient
import nbformat
from jupyter_client.kernelspec import NoSuchKernel
from nbclient.exceptions import DeadKernelError

NOTEBOOKS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(NOTEBOOKS_DIR)
KERNEL_NAME = "gonb"
DEFAULT_TIMEOUT_S = 600
METADATA_KEY = "lstmlab"
KNOWN_METADATA_KEYS = {"expect_text", "expect_mime"}
TIMEOUT_ENAME = "CellTimeoutError"
MAX_CODE_LINES = 30

EXIT_STATUS_LINE = re.compile(r"^\s*exit status \d+\s*$")
PANIC_LINE = re.compile(r"^panic: ")
# GoNB's HTML error report (shown instead of plain text without --raw_error).
GONB_HTML_ERROR = "gonb-err-location"


class NotebookAborted(Exception):
    """Raised from the per-cell hook to stop a notebook whose kernel can no longer be trusted."""


def root_module_path(repo_root=REPO_ROOT):
    """Returns the module path declared in the working tree's go.mod."""
    with open(os.path.join(repo_root, "go.mod"), encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "module":
                return fields[1].strip('"')
    raise ValueError(f"no module line in {repo_root}/go.mod")


def cell_text(cell):
    """Returns all human-readable text a cell produced: streams and text/* data, joined."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(_joined(out.get("text", "")))
        elif kind in ("display_data", "execute_result"):
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/"):
                    parts.append(_joined(value))
        elif kind == "error":
            parts.append(out.get("evalue", ""))
    return "\n".join(parts)


def cell_mimes(cell):
    """Returns the set of MIME types with non-empty data among a cell's rich outputs."""
    mimes = set()
    for out in cell.get("outputs", []):
        if out.get("output_type") in ("display_data", "execute_result"):
            mimes.update(m for m, v in out.get("data", {}).items() if v)
    return mimes


def expectations(cell):
    """Returns (expect_text, expect_mime, problems) declared in the cell's lstmlab metadata."""
    meta = cell.get("metadata", {}).get(METADATA_KEY, {})
    if not isinstance(meta, dict):
        return [], [], [f'metadata "{METADATA_KEY}" must be an object, got {type(meta).__name__}']
    problems = [
        f'unknown metadata key "{METADATA_KEY}.{key}" (known: {", ".join(sorted(KNOWN_METADATA_KEYS))})'
        for key in sorted(set(meta) - KNOWN_METADATA_KEYS)
    ]
    lists = []
    for key in ("expect_text", "expect_mime"):
        value = meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f'metadata "{METADATA_KEY}.{key}" must be a list of strings')
            value = []
        lists.append(value)
    return lists[0], lists[1], problems


def judge_cell(cell, reply_content):
    """Returns the reasons an executed code cell fails; empty when it passes.

    reply_content is the content of the kernel's execute_reply for the cell, or
    None when no reply was seen (the cell is then judged on its outputs alone).
    """
    problems = []
    reply_failed = reply_content is not None and reply_content.get("status") == "error"
    if reply_failed:
        if reply_content.get("ename") == TIMEOUT_ENAME:
            problems.append(reply_content.get("evalue", "timed out"))
        else:
            problems.append("error: " + _first_lines(reply_content.get("evalue", "")))
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            if not reply_failed:  # otherwise the reply above already told the same error
                problems.append("error output: " + _first_lines(out.get("evalue", "") or out.get("ename", "")))
        elif kind == "stream":
            for line in _joined(out.get("text", "")).splitlines():
                if EXIT_STATUS_LINE.match(line):
                    problems.append(f'{out.get("name", "stream")} says "{line.strip()}" (a command failed)')
                elif PANIC_LINE.match(line):
                    problems.append(f'{out.get("name", "stream")} says "{line.strip()}"')
        elif kind in ("display_data", "execute_result"):
            if GONB_HTML_ERROR in _joined(out.get("data", {}).get("text/html", "")):
                problems.append("GoNB displayed an error report")

    if code_lines(cell) > MAX_CODE_LINES:
        problems.append(f"{code_lines(cell)} lines of code: at most {MAX_CODE_LINES} per cell "
                        "(a cell shows one step of the lesson; helpers go in notebooks/nb)")
    want_text, want_mime, meta_problems = expectations(cell)
    problems.extend(meta_problems)
    text = cell_text(cell)
    for want in want_text:
        if want not in text:
            problems.append(f"expected text {want!r} not in the outputs")
    mimes = cell_mimes(cell)
    for want in want_mime:
        if want not in mimes:
            have = ", ".join(sorted(mimes)) or "none"
            problems.append(f"expected output of type {want} missing (rich outputs: {have})")
    return problems


def notebook_rule_problems(nb, module_path):
    """Returns violations of the rules every lstmlab notebook follows (kernel, set-up cell)."""
    problems = []
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != KERNEL_NAME:
        problems.append(f'notebook kernelspec is {kernel!r}, want "{KERNEL_NAME}"')
    code = checked_cells(nb)
    setup = re.compile(r"go mod edit\b.*-replace[= ]" + re.escape(module_path) + "=")
    if not code or not any(setup.search(line) for line in code[0][1].source.splitlines()):
        problems.append(
            "the first code cell must point the kernel at the working tree: "
            f'!*go mod edit -require={module_path}@v0.0.0 -replace={module_path}="${{GONB_DIR}}/.."'
        )
    return problems


def checked_cells(nb):
    """Returns (index, cell) for every code cell that is executed and judged."""
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]


# --- figures in prose --------------------------------------------------------------------------------

# A number as prose and outputs write it: optional sign (ASCII or Unicode minus), digits with optional
# thousands separators (comma, no-break or thin spaces), optional decimals and exponent, optional percent.
_THOUSANDS = ",\u00a0\u2009\u202f"
NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-\u2212]?)(?P<int>\d{1,3}(?:[" + _THOUSANDS + r"]\d{3})+|\d+)"
    r"(?:\.(?P<frac>\d+))?(?:[eE](?P<exp>[-+]?\d+))?(?P<pct>\s?%)?(?![\w])")
_MATH_BLOCK = re.compile(r"\$\$.*?\$\$", re.S)
_MATH_INLINE = re.compile(r"(?<!\\)\$(?!\s)[^$\n]+?(?<!\s)\$")
_FENCED = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_CITATION_YEAR = re.compile(r"(?<=[\s,(])(1[89]\d\d|20\d\d)[a-z]?(?=[);])")
_LEADING_ZERO = re.compile(r"(?<![\w.])0\d(?!\w|\.\d)")
_LIST_MARKER = re.compile(r"^(\s*)\d+[.)](?=\s)", re.M)
_INDENTED_CODE = re.compile(r"^(?: {4}|\t).*$", re.M)


def prose_text(markdown):
    """Returns a markdown cell's prose with everything exempt from the figure check blanked out."""
    text = _FENCED.sub(" ", markdown)
    text = _MATH_BLOCK.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _MATH_INLINE.sub(" ", text)
    text = _HTML_COMMENT.sub(" ", text)
    text = _LINK_TARGET.sub("] ", text)
    text = _URL.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _INDENTED_CODE.sub(" ", text)
    text = _LIST_MARKER.sub(r"\1 ", text)
    text = _CITATION_YEAR.sub(" ", text)
    return _LEADING_ZERO.sub(" ", text)


class Figure:
    """A number as written: its value, the decimals written, and whether it is a percentage."""

    def __init__(self, match):
        digits = re.sub("[" + _THOUSANDS + "]", "", match.group("int"))
        frac = match.group("frac") or ""
        exp = int(match.group("exp") or 0)
        self.text = match.group(0).strip()
        self.value = float(digits + ("." + frac if frac else "")) * 10.0 ** exp
        if match.group("sign"):
            self.value = -self.value
        self.decimals = max(len(frac) - exp, 0)
        self.percent = bool(match.group("pct"))

    def backed_by(self, values):
        """Whether some output value, rounded to the digits written here, is this figure (sign aside)."""
        half = 0.5 * 10.0 ** -self.decimals + 1e-9
        want = abs(self.value)
        for v in values:
            if abs(abs(v) - want) <= half or (self.percent and abs(abs(v) * 100 - want) <= half):
                return True
        return False


def prose_figures(markdown):
    """Returns (figure, line) for every checked number in a markdown cell's prose."""
    found = []
    for line in prose_text(markdown).splitlines():
        for m in NUMBER.finditer(line):
            found.append((Figure(m), line.strip()))
    return found


_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


def output_values(cell):
    """Returns every number a code cell's text outputs show (HTML tags and embedded images left out)."""
    text = _DATA_URI.sub(" ", cell_text(cell))
    text = _HTML_TAG.sub(" ", text)
    return [Figure(m).value for m in NUMBER.finditer(text)]


def prose_problems(nb):
    """Returns {markdown cell index: (figures checked, problems)} for every markdown cell that quotes figures.

    Each figure must be backed by the outputs of the nearest code cell above or below the markdown cell.
    """
    code = [i for i, c in checked_cells(nb)]
    verdicts = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        figures = prose_figures(cell.source)
        if not figures:
            continue
        above = [j for j in code if j < i][-1:]
        below = [j for j in code if j > i][:1]
        neighbours = above + below
        values = [v for j in neighbours for v in output_values(nb.cells[j])]
        where = " or ".join(f"cell {j + 1}" for j in neighbours) or "no code cell"
        problems = [f"prose quotes {f.text!r}, which no output of {where} shows: {_clip(line)!r}"
                    for f, line in figures if not f.backed_by(values)]
        verdicts[i] = (len(figures), problems)
    return verdicts


def _clip(line, width=100):
    return line if len(line) <= width else line[: width - 1] + "…"


def code_lines(cell):
    """Returns the number of non-blank lines of a code cell."""
    return sum(1 for line in cell.source.splitlines() if line.strip())


class NotebookResult:
    """Verdicts for one notebook: the number of passed and failed checked cells."""

    def __init__(self, path):
        self.path = path
        self.passed = 0
        self.failed = 0
        self.seconds = 0.0


def kernel_environment(full):
    """Returns the environment the GoNB kernel (and so every cell build and run) inherits."""
    env = dict(os.environ)
    env["GOEXPERIMENT"] = "simd"  # GoMLX SIMD matmul; same build-cache key as the rest of CI.
    if full:
        env.pop("LSTMLAB_CI", None)
    else:
        env["LSTMLAB_CI"] = "1"
    tools_bin = os.environ.get("LSTMLAB_TOOLS_BIN", os.path.join(REPO_ROOT, ".cache", "bin"))
    if os.path.isdir(tools_bin):
        env["PATH"] = tools_bin + os.pathsep + env.get("PATH", "")
    env.setdefault("JUPYTER_DATA_DIR", os.path.join(REPO_ROOT, ".cache", "jupyter"))
    return env


def run_notebook(path, args, env, module_path, out=sys.stdout):
    """Executes one notebook, prints a verdict per checked cell, and saves the executed copy."""
    result = NotebookResult(path)
    started = time.monotonic()
    print(f"== {_display_path(path)}", file=out, flush=True)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # any unreadable or invalid file is one failure, not a crash
        print(f"  FAIL  cannot read notebook: {err}", file=out, flush=True)
        result.failed = 1
        return result

    cells = checked_cells(nb)
    rule_problems = notebook_rule_problems(nb, module_path)
    if not cells:
        print(f"  FAIL  no code cells: {'; '.join(rule_problems)}", file=out, flush=True)
        result.failed = 1
        return result
    first_index = cells[0][0]
    judged = set()
    cell_started = [time.monotonic()]

    def on_cell_execute(cell, cell_index, **_):
        cell_started[0] = time.monotonic()

    def on_cell_executed(cell, cell_index, execute_reply, **_):
        content = (execute_reply or {}).get("content")
        problems = judge_cell(cell, content)
        if cell_index == first_index:
            problems = rule_problems + problems
        report(cell_index, cell, problems, time.monotonic() - cell_started[0])
        judged.add(cell_index)
        if content and content.get("ename") == TIMEOUT_ENAME:
            raise NotebookAborted(f"cell {cell_index + 1} timed out")

    def report(cell_index, cell, problems, seconds):
        _report_cell(result, out, cell_index, f"{seconds:6.1f}s", _cell_label(cell.source), problems)

    os.makedirs(args.out_dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(path))[0]
    log_path = os.path.join(args.out_dir, stem + ".kernel.log")
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=args.timeout,
        allow_errors=True,
        record_timing=False,  # keeps committed notebooks free of timestamp churn
        interrupt_on_timeout=True,  # GoNB then stops the running cell program
        error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": f"cell timed out after {args.timeout} s", "traceback": []},
        on_cell_execute=on_cell_execute,
        on_cell_executed=on_cell_executed,
    )
    aborted = None
    with open(log_path, "wb") as log:
        try:
            client.execute(cwd=os.path.dirname(os.path.abspath(path)), env=env, stderr=log)
        except NotebookAborted as err:
            aborted = str(err)
        except NoSuchKernel:
            aborted = f'no "{KERNEL_NAME}" kernel in JUPYTER_DATA_DIR={env.get("JUPYTER_DATA_DIR")}: run .ci/install-tools.sh'
        except DeadKernelError:
            aborted = f"the kernel died (log: {log_path})"
        except Exception as err:  # kernel start-up failures, timeouts waiting for kernel_info, ...
            aborted = f"execution stopped: {type(err).__name__}: {err}"
    if aborted:
        print(f"  notebook stopped: {aborted}", file=out, flush=True)
        for index, cell in cells:
            if index not in judged:
                problems = ["not run: " + aborted]
                if index == first_index:
                    problems = rule_problems + problems
                report(index, cell, problems, 0.0)
    else:
        report_prose(nb, result, out)

    result.seconds = time.monotonic() - started
    if args.write and result.failed == 0:
        target = path
    else:
        target = os.path.join(args.out_dir, os.path.basename(path))
    nbformat.write(nb, target)
    verdict = "PASS" if result.failed == 0 else "FAIL"
    note = "" if target == path else f" (executed copy: {_display_path(target)}; kernel log: {_display_path(log_path)})"
    if args.write and result.failed:
        note += " -- not written in place because it failed"
    print(f"{verdict} {_display_path(path)}: {result.passed} cells ok, {result.failed} failing, "
          f"{result.seconds:.1f} s{note}", file=out, flush=True)
    return result


def report_prose(nb, result, out=sys.stdout):
    """Judges the figures quoted by the markdown cells of an executed notebook (prose_problems)."""
    for index, (count, problems) in sorted(prose_problems(nb).items()):
        label = f"prose: {count} figure{'s' if count != 1 else ''} " + ("checked" if problems else "backed by outputs")
        _report_cell(result, out, index, "", label, problems)


def _report_cell(result, out, cell_index, timing, label, problems):
    """Prints one cell's verdict line (timing: its run time, "" for prose) and its problems, and counts it
    as passed or failed."""
    verdict = "FAIL" if problems else "ok  "
    print(f"  {verdict}  cell {cell_index + 1:<3} {timing:>7}  {label}", file=out, flush=True)
    for problem in problems:
        print(f"          - {problem}", file=out, flush=True)
    if problems:
        result.failed += 1
    else:
        result.passed += 1


def check_committed(path, out=sys.stdout):
    """--prose-only: judges a notebook's committed outputs without executing it (prose figures, cell length)."""
    result = NotebookResult(path)
    print(f"== {_display_path(path)}", file=out, flush=True)
    print("  (committed outputs, not executed)", file=out, flush=True)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # any unreadable or invalid file is one failure, not a crash
        print(f"  FAIL  cannot read notebook: {err}", file=out, flush=True)
        result.failed = 1
        return result
    for index, cell in checked_cells(nb):
        if code_lines(cell) > MAX_CODE_LINES:
            print(f"  FAIL  cell {index + 1:<3} {'':>7}  {code_lines(cell)} lines of code (at most {MAX_CODE_LINES})",
                  file=out, flush=True)
            result.failed += 1
    report_prose(nb, result, out)
    verdict = "PASS" if result.failed == 0 else "FAIL"
    print(f"{verdict} {_display_path(path)}: {result.passed} prose cells ok, {result.failed} failing", file=out, flush=True)
    return result


def default_notebooks():
    """Returns notebooks/*.ipynb, sorted."""
    return sorted(
        os.path.join(NOTEBOOKS_DIR, name) for name in os.listdir(NOTEBOOKS_DIR) if name.endswith(".ipynb")
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Execute GoNB notebooks headless and check every code cell (see the module doc).")
    parser.add_argument("notebooks", nargs="*", help="notebooks to check (default: notebooks/*.ipynb, sorted)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S,
                        help=f"per-cell timeout in seconds (default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--write", action="store_true",
                        help="save each executed notebook that passed back in place; implies --full, so committed "
                             "outputs are always the full-length run")
    parser.add_argument("--out-dir", default=os.path.join(REPO_ROOT, ".cache", "notebooks-out"),
                        help="where executed copies and kernel logs go (default .cache/notebooks-out)")
    parser.add_argument("--full", action="store_true",
                        help="do not set LSTMLAB_CI=1, so notebooks run their full-length training")
    parser.add_argument("--prose-only", action="store_true",
                        help="do not execute: check the figures quoted in prose against the committed outputs")
    args = parser.parse_args(argv)
    if args.write and args.prose_only:
        parser.error("--write and --prose-only exclude each other")
    args.full = args.full or args.write
    if args.timeout <= 0:
        parser.error("--timeout must be a positive number of seconds")
    for path in args.notebooks:
        if not path.endswith(".ipynb") or not os.path.isfile(path):
            parser.error(f"{path}: not an .ipynb file")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = args.notebooks or default_notebooks()
    if args.prose_only:
        results = [check_committed(path) for path in paths]
        passed, failed = sum(r.passed for r in results), sum(r.failed for r in results)
        print(f"{passed} passed, {failed} failed", flush=True)
        return 0 if failed == 0 else 1
    env = kernel_environment(args.full)
    for tool in ("go", "goimports"):
        if shutil.which(tool, path=env["PATH"]) is None:
            print(f"check.py: {tool} is not on PATH: run .ci/install-tools.sh and source .ci/env.sh", file=sys.stderr)
            return 2
    module_path = root_module_path()
    if not paths:
        print(f"check.py: no notebooks in {NOTEBOOKS_DIR}", file=sys.stderr)
        return 2
    passed = failed = 0
    for path in paths:
        result = run_notebook(path, args, env, module_path)
        passed += result.passed
        failed += result.failed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


def _joined(value):
    return "".join(value) if isinstance(value, list) else str(value)


def _first_lines(text, n=3):
    lines = [l for l in _joined(text).strip().splitlines() if l.strip()]
    return " | ".join(lines[:n]) + (" ..." if len(lines) > n else "")


def _cell_label(source, width=60):
    """Returns the cell's first line that says what it does: imports and blank lines are skipped."""
    in_imports = False
    for line in source.splitlines():
        stripped = line.strip()
        if in_imports:
            in_imports = stripped != ")"
            continue
        if stripped.startswith("import ("):
            in_imports = True
            continue
        if stripped and not stripped.startswith("import ") and stripped not in ("%%", "%main"):
            return stripped[:width]
    return ""


def _display_path(path):
    rel = os.path.relpath(os.path.abspath(path), os.getcwd())
    return path if rel.startswith("..") else rel


if __name__ == "__main__":
    sys.exit(main())
