"""Per talk: the time to typeset the handout PDF and to write the PPTX deck, with the
PDF's pages and the deck's slides.

Talks: the project's demo talks, and the lectures of the lamd course
``course-execed`` (copied from ``../shared/reference`` and read in place, its
snippets and bibliographies mapped to the corpus; skipped, saying so, when absent).
Each export runs twice in this one process: the first run pays for reading the
bibliographies and starting the compiler, the second is what every further talk of
a worker costs.  Times are wall-clock seconds.

    python benchmarks/typeset.py [--no-course]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
COURSE = SHARED / "reference" / "course-execed"
CORPUS = SHARED / "corpus"


def timed(write, talk: Path, out: Path) -> tuple[float, float]:
    from build_tools.config import build_config

    config = build_config(talk)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        write(str(talk), out, config, None)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return next((int(line.split()[1]) for line in info.splitlines() if line.startswith("Pages:")), 0)


def slides(deck: Path) -> int:
    from pptx import Presentation

    return len(Presentation(str(deck)).slides)


def measure(label: str, talks: list[Path], work: Path) -> None:
    from build_tools.export.pptx import write_pptx
    from build_tools.export.typeset import write_handout_pdf

    print(f"{label}")
    print(f"  {'talk':42} {'pdf first':>9} {'again':>6} {'pages':>5}   "
          f"{'pptx first':>10} {'again':>6} {'slides':>6}")
    totals = [0.0, 0.0]
    for talk in talks:
        pdf, deck = work / f"{talk.stem}.pdf", work / f"{talk.stem}.pptx"
        p1, p2 = timed(write_handout_pdf, talk, pdf)
        d1, d2 = timed(write_pptx, talk, deck)
        totals[0] += p2
        totals[1] += d2
        print(f"  {talk.stem[:42]:42} {p1:9.2f} {p2:6.2f} {pages(pdf):5d}   "
              f"{d1:10.2f} {d2:6.2f} {slides(deck):6d}")
    print(f"  {'total (again)':42} {'':9} {totals[0]:6.2f} {'':5}   {'':10} {totals[1]:6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-course", action="store_true", help="Only the demo talks.")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="talks-typeset-bench-"))
    print(f"cores: {len(os.sched_getaffinity(0))}; work in {work}")
    measure("demo", sorted((ROOT / "talks").glob("*.md")), work)
    if opts.no_course:
        return 0
    if not (COURSE.is_dir() and (CORPUS / "snippets").is_dir()):
        print(f"no course at {COURSE}; the course is skipped")
        return 0
    course = work / "course-execed"
    shutil.copytree(COURSE, course)
    os.environ["TALKS_PATH_MAP"] = (f"$HOME/lawrennd/snippets={CORPUS / 'snippets'}:"
                                    f"$HOME/lawrennd/bibliography={CORPUS / 'bibliography'}")
    os.chdir(course)
    lectures = sorted((course / "_lamd").glob("*.md"))
    measure("course-execed", [lecture for lecture in lectures if _builds(lecture)], work)
    return 0


def _builds(lecture: Path) -> bool:
    """A lecture whose expansion has no error (one of the course's names a missing snippet)."""
    from build_tools.config import build_config
    from build_tools.engine.run import expand
    from build_tools.diagnostics import Severity

    expanded = expand(str(lecture), "handout", build_config(lecture))
    ok = not any(d.severity >= Severity.ERROR for d in expanded.diagnostics)
    if not ok:
        print(f"  {lecture.stem}: does not expand without errors; left out")
    return ok


if __name__ == "__main__":
    sys.exit(main())
