"""Words readers type into the site's search box, and the page that answers them.

Each case is a phrasing a reader uses (from the questions readers ask on Q&A
sites, course forums and issue trackers) and the page whose answer they are
after; tests/browser/test_search.py types each into Material's search box and
expects that page among the first three results. ``page`` is the page's URL
path relative to the site root; ``source`` is its Markdown (or notebook) file
under docs/: a case whose file does not exist yet is skipped, saying so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchCase:
    query: str
    page: str
    source: str
    #: Why the case does not pass yet (an expected failure), or "".
    known_miss: str = ""

    @property
    def id(self) -> str:
        return self.query.replace(" ", "_")


LAYOUT = ("layout/", "layout.md")
SIX = ("six-strides/", "six-strides.md")
SIZE = ("output-size/", "output-size.md")
EXPLORER = ("explorer/", "explorer.md")
DIAGRAMS = ("notebooks/diagrams/", "notebooks/diagrams.py")
MEMORY = ("memory/", "memory.md")
MEASURED = ("notebooks/memory/", "notebooks/memory.py")
SAFETY = ("safety/", "safety.md")
BACKWARD = ("backward/", "backward.md")
BEYOND = ("beyond/", "beyond.md")
EQUIV = ("equivalences/", "equivalences.md")
SPEED = ("notebooks/speed/", "notebooks/speed.py")
WINOGRAD = ("notebooks/winograd/", "notebooks/winograd.py")
CS231N = ("cs231n/", "cs231n.md")
TESTING = ("testing-docs/", "testing-docs.md")
EXERCISES = ("exercises/", "exercises.md")
API = ("api/", "api.md")
POOLING = ("pooling/", "pooling.md")
RUN = ("run/", "run.md")

#: Material's search keeps a query's stopwords ("is", "a", "in", "of") as
#: prefix terms that match nearly every page, and ranks the answer lower.
STOPWORDS = "Material's search matches the query's stopwords as prefixes"

_CASES: list[tuple[str, tuple[str, str]] | tuple[str, tuple[str, str], str]] = [
    # Memory layout
    ("what is a stride", LAYOUT, STOPWORDS),
    ("stride in bytes", LAYOUT),
    ("bytes vs elements", LAYOUT),
    ("pytorch strides in elements", LAYOUT, STOPWORDS),
    ("offset of x[n, c, h, w]", LAYOUT),
    ("non-contiguous after transpose", LAYOUT),
    ("does reshape copy", LAYOUT),
    ("shares memory", LAYOUT),
    ("channels last", LAYOUT),
    ("NHWC window view", BEYOND),
    # cs231n's as_strided call
    ("six strides", SIX),
    ("itemsize", SIX),
    ("padded size", SIX),
    ("transpose at the end", SIX),
    ("shape order C HH WW N out_h out_w", SIX),
    ("fortran order", SAFETY),
    ("negative stride", SAFETY),
    ("segfault", SAFETY),
    ("as_strided out of bounds", SAFETY, STOPWORDS),
    ("foreign memory", SAFETY),
    ("garbage values", SAFETY),
    ("remainder", SIZE),
    ("not divisible by stride", SIZE),
    ("output size formula", SIZE),
    ("pixels never read", SIZE),
    ("dilation", BEYOND),
    ("groups", BEYOND),
    ("depthwise", BEYOND),
    ("sliding_window_view", EQUIV),
    ("unfold", EQUIV),
    ("caffe im2col", EQUIV),
    ("interactive strides", EXPLORER),
    ("picture of the buffer", DIAGRAMS),
    # Memory cost
    ("does it copy", MEMORY),
    ("where does the memory go", MEMORY),
    ("ascontiguousarray", MEMORY),
    ("einsum copy", MEMORY),
    ("tensordot", MEMORY),
    ("peak memory", MEMORY),
    ("less memory", MEMORY),
    ("memory measured", MEASURED),
    # Backward pass
    ("col2im", BACKWARD),
    ("overlapping windows sum", BACKWARD),
    ("add.at slow", BACKWARD),
    ("gradient check", BACKWARD),
    ("Cython build fails", CS231N),
    # Speed
    ("faster than loops", SPEED),
    ("pytorch speed", SPEED),
    ("winograd", WINOGRAD),
    ("fewer multiplies 3x3", WINOGRAD),
    # Arithmetic and conventions
    ("cross-correlation", SIZE),
    ("kernel flip", SIZE),
    # Using it
    ("assignment 2", CS231N),
    ("conv_forward_fast", CS231N),
    ("float32 weights float64 data", CS231N),
    ("test code blocks mkdocs", TESTING),
    ("sybil", TESTING),
    ("exercises", EXERCISES),
    ("memory_bill", API),
    # Pages other work adds (skipped until their file exists)
    ("max pooling", POOLING),
    ("pool backward", POOLING),
    ("pip install", RUN),
    ("ModuleNotFoundError", RUN),
    ("run in jupyter", RUN),
]

SEARCH_CASES = [SearchCase(case[0], *case[1], *case[2:]) for case in _CASES]
