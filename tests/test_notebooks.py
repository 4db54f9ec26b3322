"""Every page's notebook, downloaded from the built site, runs in a clean environment.

As a reader would: the built site is served by a local ``http.server`` at
its own address (the default http://127.0.0.1:8000/ when that port is free,
else the site is built with ``SITE_URL`` set to a free port). For every page of its
sitemap, the test reads the install line of the page's note, downloads the
page's notebook through its link, checks that the notebook gives the same
line, runs that line with pip in a fresh virtual environment (so the wheel
comes from the site's address) and executes the notebook with nbclient in a
kernel of that environment, in an empty folder (or, for a page that says it
needs a clone of the repository, in the repository's root).

An environment holds only the wheel (which brings NumPy and threadpoolctl),
what the page's line adds, and ipykernel, the kernel itself. One is made per
distinct line and kept under ``.cache/notebook-venvs/`` for the next run;
im2col is reinstalled from the site every time. Nothing executed is written
anywhere but a temporary folder.
"""

from __future__ import annotations

import hashlib
import html
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
from hooks.page_notebook import page_notebook
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".cache" / "notebook-venvs"
DEFAULT_ADDRESS = "http://127.0.0.1:8000/"  # site_url of mkdocs.yml without SITE_URL
CELL_TIMEOUT = 600  # seconds; the speed page runs a small benchmark
NOTE = re.compile(r'<section class="run-note".*?</section>', re.DOTALL)
NOTEBOOK_LINK = re.compile(r'<a download="[^"]+" href="([^"]+\.ipynb)"')
PIP_LINE = re.compile(r"^pip install .+$", re.MULTILINE)
#: What the note says on a page that imports the repository's own code.
CHECKOUT_WORDS = "root folder of a clone of the repository"


@dataclass
class PageNotebook:
    page: str  #: the page's address
    line: str  #: its install line
    checkout: bool  #: whether it runs from the repository's root
    notebook: nbformat.NotebookNode


class _Handler(SimpleHTTPRequestHandler):
    requested: list[str]
    site: list[Path]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(self.site[0]), **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        self.requested.append(self.path)


@pytest.fixture(scope="module")
def served_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, list[str]]]:
    """The built site, served at its own address: (address, requested paths).

    The session's ``built_site`` has the default address; it is served there
    when that port is free. Otherwise (``mkdocs serve`` running, or
    ``SITE_URL`` set) the site is built again for a free port.
    """
    requested: list[str] = []
    site: list[Path] = []
    handler = type("Handler", (_Handler,), {"requested": requested, "site": site})
    try:
        if os.environ.get("SITE_URL", DEFAULT_ADDRESS) != DEFAULT_ADDRESS:
            raise OSError("SITE_URL is set")
        server = ThreadingHTTPServer(("127.0.0.1", urlsplit(DEFAULT_ADDRESS).port or 80), handler)
        address = DEFAULT_ADDRESS
        site.append(request.getfixturevalue("built_site"))
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        address = f"http://127.0.0.1:{server.server_address[1]}/"
        site.append(_build(tmp_path_factory.mktemp("served-site"), address, server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield address, requested
    server.shutdown()
    server.server_close()


def _build(out: Path, address: str, server: ThreadingHTTPServer) -> Path:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": address}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    if proc.returncode != 0:
        server.server_close()
        pytest.fail(f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}")
    return out


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()  # type: ignore[no-any-return]


def _page_notebooks(address: str) -> list[PageNotebook]:
    sitemap = ET.fromstring(_get(address + "sitemap.xml"))
    pages = [loc.text or "" for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert pages, "the sitemap lists no page"
    found = []
    for page in pages:
        assert page.startswith(address), f"sitemap entry {page} is not on the site's address"
        text = _get(page).decode("utf-8")
        note = NOTE.search(text)
        assert note, f"{page} has no run note"
        link = NOTEBOOK_LINK.search(note.group(0))
        assert link, f"the note of {page} has no notebook download link"
        lines = PIP_LINE.findall(html.unescape(re.sub(r"<[^>]+>", "", note.group(0))))
        assert len(lines) == 1, f"the note of {page} has not one install line: {lines}"
        notebook = nbformat.reads(_get(urljoin(page, link.group(1))).decode("utf-8"), as_version=4)
        intro = next(cell.source for cell in notebook.cells if "pip install" in cell.source)
        assert PIP_LINE.findall(intro) == lines, f"{page}: notebook and page give other lines"
        found.append(PageNotebook(page, lines[0], CHECKOUT_WORDS in intro, notebook))
    return found


def _environment(packages: list[str]) -> Path:
    """A virtual environment with ipykernel and ``packages``, made once and kept."""
    kernel = f"ipykernel=={importlib.metadata.version('ipykernel')}"
    key = hashlib.sha256(json.dumps([sys.version, kernel, packages]).encode()).hexdigest()[:16]
    venv = VENVS / key
    if not (venv / "complete").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        _pip(venv, "install", kernel, *packages)
        (venv / "complete").write_text(json.dumps(packages) + "\n")
    return venv


def _pip(venv: Path, *args: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "-q", *args],
        capture_output=True, text=True, check=False, timeout=900, env=env,
    )
    assert proc.returncode == 0, f"pip {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


def _run(notebook: nbformat.NotebookNode, venv: Path, cwd: Path, kernels: Path) -> None:
    """Execute ``notebook`` in a kernel of ``venv`` started in ``cwd``.

    ``-E -s``: the kernel ignores PYTHONPATH (the tests put ``src/`` on it)
    and the user's site-packages, so im2col can only come from the wheel.
    """
    name = f"clean-{venv.name}"
    spec = kernels / name
    spec.mkdir(parents=True, exist_ok=True)
    python = str(venv / "bin" / "python")
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [python, "-E", "-s", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python",
    }))
    where = subprocess.run(
        [python, "-E", "-s", "-c", "import im2col; print(im2col.__file__)"],
        cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), f"im2col comes from {where}, not from the wheel"
    manager = KernelManager(kernel_name=name,
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    try:
        NotebookClient(
            notebook, km=manager, kernel_name=name, timeout=CELL_TIMEOUT,
            resources={"metadata": {"path": str(cwd)}},
        ).execute()
    finally:  # nbclient shuts down only the kernels of managers it made itself
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)


@pytest.mark.notebooks
def test_every_page_notebook_runs_in_a_clean_environment(
    served_site: tuple[str, list[str]], tmp_path: Path,
) -> None:
    address, requested = served_site
    started = time.perf_counter()
    notebooks = _page_notebooks(address)
    failures, timings = [], []
    installed: set[str] = set()  # the lines already run this time
    for item in sorted(notebooks, key=lambda item: item.line):
        command = shlex.split(item.line)
        wheel_url = command[2]
        assert wheel_url.startswith(address + "download/"), item.line
        assert wheel_url.endswith(".whl"), item.line
        venv = _environment(command[3:])
        if item.line not in installed:
            _pip(venv, "uninstall", "-y", "im2col")
            _pip(venv, *command[1:])  # the page's line, as printed
            installed.add(item.line)
        cwd = ROOT if item.checkout else tmp_path / urlsplit(item.page).path.strip("/").replace("/", "-")
        cwd.mkdir(exist_ok=True)
        began = time.perf_counter()
        try:
            _run(item.notebook, venv, cwd, tmp_path / "kernels")
        except CellExecutionError as error:
            failures.append(f"{item.page}:\n{str(error)[-3000:]}")
        timings.append(f"{time.perf_counter() - began:6.1f} s  {item.page}")
    assert urlsplit(wheel_url).path in requested, "pip did not download the wheel from the site"
    print(f"\n{len(notebooks)} notebooks in {time.perf_counter() - started:.0f} s:", *timings, sep="\n")
    assert not failures, "\n\n".join(failures)


PAGE = """# How big is it?

!!! abstract "Short answer"
    Two numbers, see [the layout](layout.md#strides) and \\(k - 1\\):

    ```pycon
    >>> import numpy as np
    >>> x = np.ones((2, 3))
    >>> x.shape
    (2, 3)
    >>> x.strides
    (24, 8)
    ```

<!-- skip: next "shown, not run" -->
```python
raise SystemExit
```

```bash
pip install numpy
```

```pycon
>>> x.reshape(4)
Traceback (most recent call last):
...
ValueError: cannot reshape array of size 6 into shape (4,)
>>> y = x.T
```
"""


def test_a_page_becomes_cells_that_run_what_sybil_runs() -> None:
    notebook = page_notebook(PAGE, lambda href: "https://site/" + href, "INTRO")
    cells = [(cell.cell_type, cell.source, cell.metadata.get("tags", [])) for cell in notebook.cells]
    assert cells == [
        ("markdown", "# How big is it?", []),
        ("markdown", "INTRO", []),
        ("markdown", "**Short answer**\n\nTwo numbers, see "
         "[the layout](https://site/layout.md#strides) and $k - 1$:", []),
        ("code", "import numpy as np\nx = np.ones((2, 3))\nx.shape", []),
        ("code", "x.strides", []),
        ("markdown", "```python\nraise SystemExit\n```\n\n```bash\npip install numpy\n```", []),
        ("code", "x.reshape(4)", ["raises-exception"]),
        ("code", "y = x.T", []),
    ]
    nbformat.validate(notebook)


def test_the_site_serves_the_wheel_and_a_notebook_and_note_per_page(built_site: Path) -> None:
    version = importlib.metadata.version("im2col")
    assert [path.name for path in (built_site / "download").glob("*.whl")] == [
        f"im2col-{version}-py3-none-any.whl"
    ]
    index = (built_site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "Download this page as a notebook" not in index, "the note is in the search index"
    pages = sorted(built_site.glob("**/index.html"))
    assert len(pages) > 10
    for page in pages:
        if page.parent.name in ("404", "search"):
            continue
        text = page.read_text(encoding="utf-8")
        note = NOTE.search(text)
        assert note, f"{page} has no run note"
        assert "data-search-exclude" in note.group(0)
        link = NOTEBOOK_LINK.search(note.group(0))
        assert link, f"the note of {page} has no notebook link"
        notebook = (page.parent / link.group(1)).resolve()
        assert notebook.is_file(), f"{page} links to a missing {notebook}"
        nbformat.validate(nbformat.read(notebook, as_version=4))
        left = re.findall(r"(?:<|&lt;)!-- (?:install-line|page-needs|built-with) --", text)
        assert not left, f"{page} keeps the hook's markers {left}"
    # a page's own <!-- install-line --> gets the same line as its note
    cs231n = (built_site / "cs231n" / "index.html").read_text(encoding="utf-8")
    shown = PIP_LINE.findall(html.unescape(re.sub(r"<[^>]+>", "", cs231n)))
    assert len(shown) == 2, shown  # the note's and the install section's
    assert len(set(shown)) == 1, shown
