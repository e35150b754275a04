"""The stack walk that replaces docutils' recursive ``findall`` (``speedups``) visits the same
nodes in the same order, also when the caller changes the tree during the walk."""
from __future__ import annotations

import copy
from collections.abc import Iterator

from docutils import nodes
from hypothesis import given, settings
from hypothesis import strategies as st

from build_tools.sphinx_ext.speedups import cheaper_walks

KINDS = (nodes.section, nodes.paragraph, nodes.emphasis, nodes.container)


def recursive_walk(node: nodes.Node, cls: type | None) -> Iterator[nodes.Node]:
    """docutils' own walk, as written in docutils."""
    if cls is None or isinstance(node, cls):
        yield node
    for child in node.children:
        yield from recursive_walk(child, cls)


@st.composite
def trees(draw, depth: int = 0) -> nodes.Element:
    kind = draw(st.sampled_from(KINDS))
    node = kind()
    node["names"] = [str(draw(st.integers(0, 10**6)))]
    if depth < 4:
        for _ in range(draw(st.integers(0, 3))):
            node += draw(trees(depth + 1)) if draw(st.booleans()) else nodes.Text("t")
    return node


def label(node: nodes.Node) -> str:
    return node["names"][0] if isinstance(node, nodes.Element) else "#text"


def walk_and_change(walk: Iterator[nodes.Node], change: int) -> list[str]:
    """Follow a walk, changing the tree at the nodes the caller sees, as transforms do."""
    seen = []
    for n, node in enumerate(walk):
        seen.append(label(node))
        if not isinstance(node, nodes.Element) or node.parent is None or len(seen) > 200:
            continue
        if change == 1 and n % 2:  # replace it with two new nodes
            node.replace_self([nodes.paragraph(names=[f"new{n}"]), nodes.emphasis(names=[f"n{n}"])])
        elif change == 2 and n % 3 == 0:  # remove it
            node.parent.remove(node)
        elif change == 3:  # give it a child
            node += nodes.Text("added")
    return seen


@settings(max_examples=300, deadline=None)
@given(trees(), st.sampled_from([None, *KINDS, nodes.Element, nodes.Text]), st.integers(0, 3))
def test_the_stack_walk_sees_what_the_recursive_walk_sees(tree, cls, change):
    cheaper_walks()
    mine, theirs = copy.deepcopy(tree), copy.deepcopy(tree)
    expected = walk_and_change(recursive_walk(theirs, cls), change)
    walk = mine.findall(cls) if cls is not None else mine.findall()
    assert walk_and_change(walk, change) == expected
    assert mine.pformat() == theirs.pformat()


def test_the_stack_walk_is_the_one_in_use():
    cheaper_walks()
    assert getattr(nodes.Node._fast_findall, "talks_stack", False)


def test_a_node_finds_its_document_as_docutils_finds_it():
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    cheaper_walks()
    document = new_document("t.rst", get_default_settings(Parser))
    section = nodes.section()
    detached = nodes.paragraph("", "", nodes.Text("x"), nodes.emphasis("", "y"))
    assert detached.document is None and detached[1].document is None
    section += detached
    document += section
    assert detached[1].document is document and detached[0].document is document
    child = nodes.paragraph()
    detached += child  # added under a node in the document: it takes the document's place
    assert child.document is document and child.source == document.current_source

