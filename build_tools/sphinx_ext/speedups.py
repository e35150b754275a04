"""Speed-ups for corpus-sized sites: two pure lookups, remembered per process.

* Every citation role of sphinxcontrib-bibtex builds a pybtex style, and each
  style looks its plugins up through ``importlib.metadata`` entry points, which
  rescans the installed packages every time (about 6 ms).  A talk with a few
  dozen citations spent most of its reading time there.
* The search index stems every word of every page with the pure-Python
  Snowball stemmer; the same few thousand words come back again and again.

Both are deterministic, so their results are kept for the life of the process.
"""
from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def cache_plugin_lookup() -> None:
    import pybtex.plugin

    if getattr(pybtex.plugin.find_plugin, "talks_cached", False):
        return
    cached = functools.lru_cache(maxsize=None)(pybtex.plugin.find_plugin)
    setattr(cached, "talks_cached", True)
    setattr(pybtex.plugin, "find_plugin", cached)
    # modules that imported the function by name keep their own reference
    for name in ("pybtex.style.formatting", "sphinxcontrib.bibtex.foot_roles",
                 "sphinxcontrib.bibtex.roles"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "find_plugin", None) is not None:
            setattr(module, "find_plugin", cached)


def cache_english_stems() -> None:
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish.stem
    if getattr(stem, "talks_cached", False):
        return
    stems: dict[str, str] = {}

    def cached_stem(self: SearchEnglish, word: str) -> str:
        try:
            return stems[word]
        except KeyError:
            result = stems[word] = stem(self, word)
            return result

    setattr(cached_stem, "talks_cached", True)
    setattr(SearchEnglish, "stem", cached_stem)


def setup(app: Sphinx) -> None:
    cache_plugin_lookup()
    cache_english_stems()
