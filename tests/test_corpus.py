"""Compatibility with the real corpus: clean where every include exists, located errors where not."""
import os
import re
from pathlib import Path

import pytest

from build_tools.api import check_talks
from build_tools.config import TalkConfig
from build_tools.diagnostics import Severity

from conftest import corpus_or_skip

INCLUDE = re.compile(r"\\include\{([^}]*)\}")
NOT_TALKS = {"_posts", "_layouts", "_includes", "_notes", "_notebooks"}


def corpus_talks(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / "talks").glob("_*/*.md") if p.parent.name not in NOT_TALKS)


def genuinely_missing(talk: Path, roots: list[Path]) -> set[str]:
    """Include targets in the talk's closure that exist nowhere (macro files aside)."""
    missing, seen, todo = set(), set(), [talk]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for target in INCLUDE.findall(path.read_text(encoding="utf-8", errors="replace")):
            target = target.strip()
            if os.path.basename(target).startswith("talk-macros."):
                continue
            found = next((c for c in (d / target for d in [path.parent, *roots]) if c.is_file()), None)
            if found:
                todo.append(found.resolve())
            else:
                missing.add(target)
    return missing


@pytest.fixture(scope="module")
def results():
    corpus = corpus_or_skip()
    roots = [corpus / "snippets", corpus / "talks"]
    config = TalkConfig(include_roots=[str(r) for r in roots])
    out = {}
    for talk in corpus_talks(corpus):
        out[talk] = (genuinely_missing(talk, roots), check_talks([str(talk)], config))
    return out


def test_resolvable_talks_check_clean(results):
    resolvable = {t: d for t, (missing, d) in results.items() if not missing}
    clean = [t for t, d in resolvable.items() if not any(x.severity >= Severity.ERROR for x in d)]
    assert len(resolvable) > 150
    assert len(clean) / len(resolvable) >= 0.97, [
        str(x) for t, d in resolvable.items() for x in d if x.severity >= Severity.ERROR][:5]


def test_every_missing_target_is_reported_at_its_include(results):
    broken = {t: (m, d) for t, (m, d) in results.items() if m}
    assert len(broken) > 40
    reported = 0
    for _talk, (missing, diagnostics) in broken.items():
        errors = [d for d in diagnostics if d.code == "E-INCLUDE-MISSING"]
        ok = True
        for target in missing:
            hits = [d for d in errors if target in d.message]
            ok &= bool(hits)
            for d in hits:  # the location is the \include itself
                line = Path(d.location.file).read_text(encoding="utf-8", errors="replace") \
                    .splitlines()[d.location.line - 1]
                assert "\\include{" in line[d.location.column - 1:], (str(d), line)
        reported += ok
    assert reported / len(broken) >= 0.97
