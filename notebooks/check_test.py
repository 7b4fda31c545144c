"""Tests of notebooks/check.py: its verdicts on synthetic cells, and on fixture notebooks run in a real GoNB kernel.

Run from the repository root, after .ci/install-tools.sh:

    /usr/bin/python3 -m unittest discover -s notebooks -p 'check_test.py' -v

The fixtures in notebooks/testdata/ are small notebooks whose verdicts are known:
pass.ipynb (every cell passes), fail.ipynb (one failure of each kind between
passing cells), no-setup.ipynb (misses the set-up cell), timeout.ipynb (a cell
sleeps past the timeout).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402  (the module under test, beside this file)

CHECK = os.path.join(check.NOTEBOOKS_DIR, "check.py")
TESTDATA = os.path.join(check.NOTEBOOKS_DIR, "testdata")
PYTHON = "/usr/bin/python3"
VERDICT_LINE = re.compile(r"^  (ok|FAIL)\s+cell (\d+)\b")
HEADER_LINE = re.compile(r"^== (.*)$")


def code_cell(outputs=(), lstmlab=None):
    cell = new_code_cell("%%\nfmt.Println(1)")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    if lstmlab is not None:
        cell.metadata["lstmlab"] = lstmlab
    return cell


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def display(data):
    return {"output_type": "display_data", "data": data, "metadata": {}}


OK_REPLY = {"status": "ok"}


class JudgeCellTest(unittest.TestCase):
    """judge_cell on hand-made cells: no kernel needed."""

    def test_clean_cell_passes(self):
        self.assertEqual(check.judge_cell(code_cell([stream("hello\n")]), OK_REPLY), [])

    def test_error_reply_fails(self):
        problems = check.judge_cell(code_cell(), {"status": "error", "ename": "ERROR", "evalue": "exit status 2"})
        self.assertEqual(len(problems), 1)
        self.assertIn("exit status 2", problems[0])

    def test_error_output_without_reply_fails(self):
        cell = code_cell([{"output_type": "error", "ename": "ERROR", "evalue": "undefined: x", "traceback": []}])
        problems = check.judge_cell(cell, None)
        self.assertEqual(problems, ["error output: undefined: x"])

    def test_exit_status_line_from_shell_cell_fails(self):
        problems = check.judge_cell(code_cell([stream("exit status 1\n", "stderr")]), OK_REPLY)
        self.assertEqual(len(problems), 1)
        self.assertIn("exit status 1", problems[0])

    def test_exit_status_inside_a_sentence_passes(self):
        cell = code_cell([stream("the program returned exit status 0 earlier\n", "stderr")])
        self.assertEqual(check.judge_cell(cell, OK_REPLY), [])

    def test_ordinary_stderr_passes(self):
        self.assertEqual(check.judge_cell(code_cell([stream("warning: slow\n", "stderr")]), OK_REPLY), [])

    def test_panic_line_fails(self):
        cell = code_cell([stream("panic: boom\n\ngoroutine 1 [running]:\n", "stderr")])
        self.assertEqual(len(check.judge_cell(cell, OK_REPLY)), 1)

    def test_gonb_html_error_report_fails(self):
        cell = code_cell([display({"text/html": '<div class="gonb-err-location">x</div>'})])
        self.assertEqual(check.judge_cell(cell, OK_REPLY), ["GoNB displayed an error report"])

    def test_expected_text_found_in_stream_and_rich_text(self):
        cell = code_cell([stream("loss 1.5\n"), display({"text/markdown": "perplexity 4.2"})],
                         {"expect_text": ["loss 1.5", "perplexity 4.2"]})
        self.assertEqual(check.judge_cell(cell, OK_REPLY), [])

    def test_expected_text_missing_fails(self):
        cell = code_cell([stream("loss 1.5\n")], {"expect_text": ["perplexity"]})
        self.assertEqual(check.judge_cell(cell, OK_REPLY), ["expected text 'perplexity' not in the outputs"])

    def test_expected_text_is_not_found_in_binary_data(self):
        cell = code_cell([display({"image/png": "cGVycGxleGl0eQ=="})], {"expect_text": ["cGVycGxleGl0eQ"]})
        self.assertEqual(len(check.judge_cell(cell, OK_REPLY)), 1)

    def test_expected_mime_present_passes(self):
        cell = code_cell([display({"image/png": "iVBORw0KGgo="})], {"expect_mime": ["image/png"]})
        self.assertEqual(check.judge_cell(cell, OK_REPLY), [])

    def test_expected_mime_missing_fails(self):
        cell = code_cell([display({"text/html": "<b>x</b>"})], {"expect_mime": ["image/png"]})
        problems = check.judge_cell(cell, OK_REPLY)
        self.assertEqual(len(problems), 1)
        self.assertIn("image/png", problems[0])
        self.assertIn("text/html", problems[0])  # says what was there instead

    def test_empty_mime_data_does_not_count(self):
        cell = code_cell([display({"image/png": ""})], {"expect_mime": ["image/png"]})
        self.assertEqual(len(check.judge_cell(cell, OK_REPLY)), 1)

    def test_unknown_metadata_key_fails(self):
        problems = check.judge_cell(code_cell([], {"expect_txt": ["x"]}), OK_REPLY)
        self.assertEqual(len(problems), 1)
        self.assertIn("expect_txt", problems[0])

    def test_malformed_metadata_fails(self):
        self.assertEqual(len(check.judge_cell(code_cell([], {"expect_text": "not a list"}), OK_REPLY)), 1)
        self.assertEqual(len(check.judge_cell(code_cell([], ["not", "an", "object"]), OK_REPLY)), 1)

    def test_cell_longer_than_the_limit_fails(self):
        cell = code_cell([stream("ok\n")])
        cell.source = "%%\n" + "\n".join(f"fmt.Println({i})" for i in range(check.MAX_CODE_LINES))
        problems = check.judge_cell(cell, OK_REPLY)
        self.assertEqual(len(problems), 1)
        self.assertIn(f"{check.MAX_CODE_LINES + 1} lines of code", problems[0])
        cell.source = "%%\n\n\n" + "\n".join(f"fmt.Println({i})" for i in range(check.MAX_CODE_LINES - 1))
        self.assertEqual(check.judge_cell(cell, OK_REPLY), [], "blank lines do not count")

    def test_timeout_reply_reported_as_timeout(self):
        reply = {"status": "error", "ename": check.TIMEOUT_ENAME, "evalue": "cell timed out after 5 s"}
        self.assertEqual(check.judge_cell(code_cell(), reply), ["cell timed out after 5 s"])


class NotebookRulesTest(unittest.TestCase):
    """notebook_rule_problems: kernelspec and set-up cell."""

    MODULE = "github.com/lstmlab/lstmlab"

    def notebook(self, first_source, kernel="gonb"):
        nb = new_notebook(cells=[new_code_cell(first_source), new_code_cell("%%\nfmt.Println(1)")])
        nb.metadata["kernelspec"] = {"name": kernel}
        return nb

    def test_setup_cell_accepted(self):
        src = f'!*go mod edit -require={self.MODULE}@v0.0.0 -replace={self.MODULE}="${{GONB_DIR}}/.."\n%env A b'
        self.assertEqual(check.notebook_rule_problems(self.notebook(src), self.MODULE), [])

    def test_missing_setup_cell_rejected(self):
        problems = check.notebook_rule_problems(self.notebook("%%\nfmt.Println(0)"), self.MODULE)
        self.assertEqual(len(problems), 1)
        self.assertIn("first code cell", problems[0])

    def test_replace_of_another_module_rejected(self):
        src = '!*go mod edit -replace=example.com/other="${GONB_DIR}/.."'
        self.assertEqual(len(check.notebook_rule_problems(self.notebook(src), self.MODULE)), 1)

    def test_wrong_kernel_rejected(self):
        src = f'!*go mod edit -replace={self.MODULE}="${{GONB_DIR}}/.."'
        problems = check.notebook_rule_problems(self.notebook(src, kernel="python3"), self.MODULE)
        self.assertEqual(len(problems), 1)
        self.assertIn("python3", problems[0])

    def test_root_module_path_read_from_go_mod(self):
        self.assertEqual(check.root_module_path(), self.MODULE)


class ProseFiguresTest(unittest.TestCase):
    """Figures quoted in markdown prose against the outputs of the neighbouring code cells."""

    def figures(self, markdown):
        return [f.text for f, _ in check.prose_figures(markdown)]

    def test_exempt_parts_are_not_checked(self):
        md = ("$3$ bits and $$x = 42$$, `hidden=128`, (Hochreiter, 1991; Bengio et al., 1994), notebook 02, see 03.\n"
              "[link](https://example.com/a/2024), <!-- 99 -->, <span data-x=\"7\">text</span>\n"
              "1. first\n2) second\n\n    indented code 55\n```\nfenced 66\n```\n")
        self.assertEqual(self.figures(md), [])

    def test_figures_as_written(self):
        found = check.prose_figures("loss 0.457, 2,001 characters, r = \u22120.48, 12.5 %, 16 streams, 3e-4")
        self.assertEqual([f.text for f, _ in found], ["0.457", "2,001", "\u22120.48", "12.5 %", "16", "3e-4"])
        values = {f.text: (f.value, f.decimals, f.percent) for f, _ in found}
        self.assertEqual(values["2,001"], (2001.0, 0, False))
        self.assertEqual(values["\u22120.48"], (-0.48, 2, False))
        self.assertEqual(values["12.5 %"], (12.5, 1, True))
        self.assertAlmostEqual(values["3e-4"][0], 3e-4)

    def test_words_and_identifiers_are_not_figures(self):
        self.assertEqual(self.figures("h2o, layer_3, v0.2.1-alpha, x86 and 3D"), [])

    def test_backed_means_equal_after_rounding_to_the_digits_written(self):
        fig = lambda s: check.prose_figures(s)[0][0]
        self.assertTrue(fig("0.46").backed_by([0.4567]))
        self.assertTrue(fig("0.457").backed_by([0.4567]))
        self.assertFalse(fig("0.456").backed_by([0.4567]))
        self.assertTrue(fig("0.48").backed_by([-0.48]), "a magnitude quoted without its sign")
        self.assertTrue(fig("62 %").backed_by([0.62]))
        self.assertFalse(fig("62").backed_by([0.62]), "only a percentage reads a fraction as per cent")
        self.assertFalse(fig("300").backed_by([301, 299.4]))

    def test_neighbouring_code_cells_only(self):
        nb = new_notebook(cells=[
            code_cell([stream("far 300\n")]),
            new_markdown_cell("nothing to check here"),
            code_cell([stream("near 0.4567 and 12\n")]),
            new_markdown_cell("0.46 and 12 are near; 300 is two code cells away"),
            code_cell([display({"text/html": "<b>7</b> <img src=\"data:image/png;base64,ODg4\"/>"})]),
        ])
        verdicts = check.prose_problems(nb)
        self.assertEqual(list(verdicts), [3], "only markdown cells that quote figures are judged")
        count, problems = verdicts[3]
        self.assertEqual(count, 3)
        self.assertEqual(len(problems), 1)
        self.assertIn("'300'", problems[0])
        self.assertEqual(check.output_values(nb.cells[4]), [7.0], "tags and embedded images are not outputs")


class ProseOnlyTest(unittest.TestCase):
    """check.py --prose-only judges a notebook's committed outputs without a kernel."""

    def test_committed_outputs_are_judged(self):
        rc, output = run_check("--prose-only", os.path.join(TESTDATA, "prose.ipynb"))
        self.assertEqual(verdicts(output), {("prose.ipynb", 4): "ok", ("prose.ipynb", 5): "FAIL",
                                            ("prose.ipynb", 7): "FAIL"}, output)
        self.assertIn("prose quotes '301'", output)
        self.assertIn("prose quotes '300', which no output of cell 6 shows", output)
        self.assertEqual(output.rstrip().splitlines()[-1], "1 passed, 2 failed")
        self.assertEqual(rc, 1)

    def test_write_and_prose_only_exclude_each_other(self):
        rc, output = run_check("--prose-only", "--write", os.path.join(TESTDATA, "prose.ipynb"))
        self.assertEqual(rc, 2)
        self.assertIn("exclude each other", output)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def run_check(*args):
    """Runs check.py as CI does; returns (exit code, stdout)."""
    proc = subprocess.run([PYTHON, CHECK, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=900)
    return proc.returncode, proc.stdout


def verdicts(output):
    """Parses check.py's output into {(notebook file name, cell number): "ok" or "FAIL"}."""
    found, notebook = {}, None
    for line in output.splitlines():
        header = HEADER_LINE.match(line)
        if header:
            notebook = os.path.basename(header.group(1))
            continue
        verdict = VERDICT_LINE.match(line)
        if verdict:
            found[(notebook, int(verdict.group(2)))] = verdict.group(1)
    return found


def require_kernel():
    """Fails (not skips) with the fix when the GoNB kernel was not installed."""
    data_dir = os.environ.get("JUPYTER_DATA_DIR", os.path.join(check.REPO_ROOT, ".cache", "jupyter"))
    kernel_json = os.path.join(data_dir, "kernels", "gonb", "kernel.json")
    if not os.path.isfile(kernel_json):
        raise AssertionError(f"{kernel_json} missing: run .ci/install-tools.sh first")


class FixtureNotebooksTest(unittest.TestCase):
    """check.py end to end on the fixture notebooks, in a real GoNB kernel."""

    @classmethod
    def setUpClass(cls):
        require_kernel()
        cls.out_dir = tempfile.mkdtemp(prefix="check_test_out_")
        fixtures = [os.path.join(TESTDATA, n) for n in ("pass.ipynb", "fail.ipynb", "no-setup.ipynb")]
        cls.sources_before = {p: read_bytes(p) for p in fixtures}
        cls.rc, cls.output = run_check("--out-dir", cls.out_dir, *fixtures)
        cls.verdicts = verdicts(cls.output)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out_dir, ignore_errors=True)

    def assertVerdicts(self, notebook, expected):
        got = {cell: v for (nb, cell), v in self.verdicts.items() if nb == notebook}
        self.assertEqual(got, expected, self.output)

    def test_passing_notebook(self):
        self.assertVerdicts("pass.ipynb", {2: "ok", 3: "ok", 4: "ok", 5: "ok"})

    def test_each_kind_of_failure_caught_and_later_cells_still_run(self):
        self.assertVerdicts("fail.ipynb", {
            2: "ok",     # set-up cell
            3: "FAIL",   # !false
            4: "FAIL",   # !*exit 3
            5: "FAIL",   # compile error
            6: "FAIL",   # panic
            7: "FAIL",   # expected text missing
            8: "FAIL",   # expected image/png missing
            9: "FAIL",   # typo in metadata key
            10: "ok",    # runs despite the failures above
        })
        self.assertIn('stderr says "exit status 1"', self.output)
        self.assertIn('stderr says "exit status 3"', self.output)
        self.assertIn("undefined: undefinedName", self.output)
        self.assertIn("expected text 'text that never appears' not in the outputs", self.output)
        self.assertIn("expected output of type image/png missing", self.output)

    def test_missing_setup_cell_fails(self):
        self.assertVerdicts("no-setup.ipynb", {1: "FAIL"})
        self.assertIn("the first code cell must point the kernel at the working tree", self.output)

    def test_summary_line_and_exit_code(self):
        self.assertEqual(self.output.rstrip().splitlines()[-1], "6 passed, 8 failed", self.output)
        self.assertEqual(self.rc, 1)

    def test_default_mode_leaves_sources_alone_and_writes_executed_copies(self):
        for path, before in self.sources_before.items():
            self.assertEqual(read_bytes(path), before, f"{path} was modified")
        executed = nbformat.read(os.path.join(self.out_dir, "pass.ipynb"), as_version=4)
        self.assertIn("hello from a cell", check.cell_text(executed.cells[2]))
        self.assertIn("image/png", check.cell_mimes(executed.cells[4]))
        self.assertTrue(os.path.isfile(os.path.join(self.out_dir, "pass.kernel.log")))


class ProseAfterExecutionTest(unittest.TestCase):
    def test_figures_are_checked_against_fresh_outputs(self):
        require_kernel()
        with tempfile.TemporaryDirectory() as out_dir:
            rc, output = run_check("--out-dir", out_dir, os.path.join(TESTDATA, "prose.ipynb"))
        self.assertEqual(verdicts(output), {("prose.ipynb", 2): "ok", ("prose.ipynb", 3): "ok", ("prose.ipynb", 6): "ok",
                                            ("prose.ipynb", 4): "ok", ("prose.ipynb", 5): "FAIL", ("prose.ipynb", 7): "FAIL"}, output)
        self.assertEqual(output.rstrip().splitlines()[-1], "4 passed, 2 failed")
        self.assertEqual(rc, 1)


class TimeoutTest(unittest.TestCase):
    def test_cell_past_timeout_fails_and_stops_the_notebook(self):
        require_kernel()
        with tempfile.TemporaryDirectory() as out_dir:
            rc, output = run_check("--timeout", "10", "--out-dir", out_dir, os.path.join(TESTDATA, "timeout.ipynb"))
        self.assertEqual(verdicts(output), {("timeout.ipynb", 1): "ok", ("timeout.ipynb", 2): "FAIL",
                                            ("timeout.ipynb", 3): "FAIL"}, output)
        self.assertIn("cell timed out after 10 s", output)
        self.assertIn("not run: cell 2 timed out", output)
        self.assertEqual(output.rstrip().splitlines()[-1], "1 passed, 2 failed")
        self.assertEqual(rc, 1)


class WriteTest(unittest.TestCase):
    def copy_fixture(self, name, into):
        """Copies a fixture, pointing its set-up cell at the working tree by absolute path."""
        nb = nbformat.read(os.path.join(TESTDATA, name), as_version=4)
        setup = nb.cells[1]
        self.assertIn("${GONB_DIR}/../..", setup.source)
        setup.source = setup.source.replace("${GONB_DIR}/../..", check.REPO_ROOT)
        path = os.path.join(into, name)
        nbformat.write(nb, path)
        return path

    def test_write_saves_passing_notebooks_in_place_only(self):
        require_kernel()
        with tempfile.TemporaryDirectory() as tmp:
            out_dir = os.path.join(tmp, "out")
            passing, failing = self.copy_fixture("pass.ipynb", tmp), self.copy_fixture("fail.ipynb", tmp)
            failing_before = read_bytes(failing)
            rc, output = run_check("--write", "--out-dir", out_dir, passing, failing)
            self.assertEqual(rc, 1, output)
            written = nbformat.read(passing, as_version=4)
            self.assertIn("hello from a cell", check.cell_text(written.cells[2]), output)
            self.assertFalse(os.path.exists(os.path.join(out_dir, "pass.ipynb")))
            self.assertEqual(read_bytes(failing), failing_before, "a failing notebook was written in place")
            self.assertIn("not written in place because it failed", output)
            self.assertTrue(os.path.isfile(os.path.join(out_dir, "fail.ipynb")))


class UsageTest(unittest.TestCase):
    def test_missing_notebook_is_a_usage_error(self):
        rc, output = run_check("no/such/notebook.ipynb")
        self.assertEqual(rc, 2)
        self.assertIn("not an .ipynb file", output)


if __name__ == "__main__":
    unittest.main()
