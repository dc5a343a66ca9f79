"""The one YAML loader for everything toneguard reads: front matter, .toneguard.yaml, rule files.

Safe (plain data, no Python objects) and bounded. An alias (`*name`) reuses a node without
copying it, so a few lines of aliases of aliases can stand for billions of values; loading
them is quick, but any later walk over the data (a check, an error message quoting it)
would run for hours. Documents that expand past MAX_VALUES, or whose aliases refer to
themselves, are refused as invalid YAML before anything looks at them.
"""
from __future__ import annotations

from typing import Any

import yaml

try:  # the C loader is several times faster (rule loading is on every cold start), and
    Loader = yaml.CSafeLoader  # libyaml refuses nesting deeper than 1,000 levels
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    Loader = yaml.SafeLoader

MAX_VALUES = 100_000  # every value and key, once aliases are expanded; the largest rule file has 5,000


def load(data: str | bytes) -> Any:
    loader = Loader(data)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expanded_size(node)
        return loader.construct_document(node)
    except RecursionError:  # the pure-Python loader on deep nesting
        raise yaml.YAMLError("nested too deeply") from None
    finally:
        loader.dispose()


def _check_expanded_size(root: yaml.Node) -> None:
    """Count the values the document stands for, each shared node once per use, without
    expanding anything: a node's size is computed once, after its children's."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        if id(node) in sizes:
            stack.pop()
            continue
        children = _children(node)
        waiting = [child for child in children if id(child) not in sizes]
        if waiting and id(node) not in open_nodes:
            open_nodes.add(id(node))
            for child in waiting:
                if id(child) in open_nodes:
                    raise yaml.MarkedYAMLError(problem="an alias refers to the value that holds it",
                                               problem_mark=child.start_mark)
            stack.extend(waiting)
            continue
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_VALUES:
            raise yaml.MarkedYAMLError(problem=f"aliases expand this to more than {MAX_VALUES:,} values",
                                       problem_mark=node.start_mark)
        sizes[id(node)] = size
        open_nodes.discard(id(node))
        stack.pop()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
