"""YAML as talks and settings write it: the safe loader, bounded against alias bombs."""
from __future__ import annotations

import copy
import datetime
from typing import Any

import yaml

__all__ = ["YamlTooLarge", "load_yaml", "plain", "MAX_YAML_VALUES", "MAX_YAML_DEPTH", "YAMLError"]

YAMLError = yaml.YAMLError


_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when installed


class _Loader(_SafeLoader):
    """The safe loader, except that a date that is no date stays the text written."""


def _timestamp_or_text(loader: _Loader, node: yaml.ScalarNode) -> object:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # date: 2024-13-45
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

MAX_YAML_VALUES = 100_000
"""Values a YAML document may expand to through aliases (the billion-laughs guard)."""
MAX_YAML_DEPTH = 64
"""Lists and mappings nested inside each other in a YAML document."""


class YamlTooLarge(ValueError):
    """A YAML document whose aliases expand too far, refer to themselves, or nest too deeply."""

    def __init__(self, message: str, mark: yaml.Mark | None = None):
        super().__init__(message)
        self.problem, self.problem_mark = message, mark


def plain(value: object) -> Any:
    """YAML dates and the like as the strings authors wrote."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _expanded_size(node: yaml.Node, mark: yaml.Mark | None = None) -> int:
    """How many values ``node`` stands for once every alias is expanded; refuses cycles."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(n: yaml.Node, depth: int) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in busy:
            raise YamlTooLarge("an alias refers to the value that contains it", n.start_mark)
        if depth > MAX_YAML_DEPTH:
            raise YamlTooLarge(f"values nested more than {MAX_YAML_DEPTH} levels deep "
                               "(limit MAX_YAML_DEPTH)", n.start_mark)
        busy.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            total += sum(size(c, depth + 1) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in n.value)
        busy.discard(key)
        if total > MAX_YAML_VALUES:
            raise YamlTooLarge(f"aliases expand to more than {MAX_YAML_VALUES:,} values "
                               "(limit MAX_YAML_VALUES)", n.start_mark)
        sizes[key] = total
        return total

    return size(node, 0)


def load_yaml(text: str) -> object:
    """Safe YAML, refusing alias bombs, self-references and deep nesting before building values.

    A build reads each talk's front matter and each settings file many times over (discovery,
    the settings cascade, each variant): the same text is parsed once, and each caller gets
    its own copy of the values, free to change them."""
    if len(text) > _MEMO_TEXT_LIMIT:
        return _parse(text)
    cached = _MEMO.get(text, _MISSING)
    if cached is _MISSING:
        cached = _MEMO[text] = _parse(text)  # YAMLError propagates: nothing kept
        if len(_MEMO) > _MEMO_SIZE:
            del _MEMO[next(iter(_MEMO))]
    return copy.deepcopy(cached)


_MEMO: dict[str, object] = {}
_MEMO_SIZE = 4096
_MEMO_TEXT_LIMIT = 64 * 1024
_MISSING = object()


def _parse(text: str) -> object:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


