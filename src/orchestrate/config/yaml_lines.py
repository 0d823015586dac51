"""YAML parsed safely, keeping the node tree so any value's line can be found for an error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError

from orchestrate.config.errors import TOP_LEVEL, Loc, config_error, shorten

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader whose scalar conversion failures become `ConstructorError`s with a position.

    PyYAML lets plain Python errors escape for malformed scalars (`2024-13-45`, `0x_`,
    `!!bool maybe`, `!!timestamp x`), which would lose the line and the error type.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> object:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, LookupError, AttributeError, TypeError) as error:
            raise ConstructorError(
                None,
                None,
                f"cannot read {shorten(node.value)} as {_tag_name(node)}",
                node.start_mark,
            ) from error


@dataclass(frozen=True)
class YamlDoc:
    """A parsed file: its Python data and the node tree it came from."""

    path: Path
    """The file, for error messages."""
    data: object
    """Plain Python data, as `yaml.safe_load` would return it."""
    root: yaml.Node | None
    """The composed node tree; None for an empty document."""

    def line_of(self, loc: Loc) -> int:
        """1-based line of the value at `loc`: a mapping entry's key line, a list item's own line.

        Stops at the deepest part that exists, so a missing field points at its mapping.
        """
        node = self.root
        if node is None:
            return 1
        line = _line(node)
        for part in loc:
            found = _child(node, part)
            if found is None:
                break
            line, node = found
        return line


def load_yaml(path: Path) -> YamlDoc:
    """Read and parse one YAML file; any problem is a one-line `ConfigError` naming the line."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise config_error(path, 1, "file", f"cannot read it: {error.strerror}") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise config_error(
            path, line, "file", "not valid UTF-8 (save the file as UTF-8)"
        ) from error
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> YamlDoc:
    """Parse `text` (the contents of `path`) into data plus node tree."""
    try:
        root, data = _compose_and_construct(text, path)
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(path, error) from error
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        message = f"character {chr(error.character)!r} is not allowed in YAML (remove it)"
        raise config_error(path, line, "yaml", message) from error
    except RecursionError as error:
        raise config_error(path, 1, "yaml", "nested too deeply (flatten the file)") from error
    return YamlDoc(path, data, root)


def _compose_and_construct(text: str, path: Path) -> tuple[yaml.Node | None, object]:
    loader = _Loader(text)  # already scans for unprintable characters
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        # Before construction, which flattens `<<` merges into the mappings.
        _reject_duplicate_keys(root, path)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


def _syntax_error(path: Path, error: yaml.MarkedYAMLError) -> Exception:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    parts = [part for part in (error.problem, error.context) if part]
    message = " ".join(parts) or "invalid YAML"
    return config_error(path, line, "yaml", f"{message} (check indentation, colons and quoting)")


def _reject_duplicate_keys(root: yaml.Node, path: Path) -> None:
    """PyYAML silently keeps the last of two equal keys; a repeated field is almost always a mistake."""
    duplicates: list[tuple[int, str, int]] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # aliases share nodes, and may even contain themselves
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first_line: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                stack.extend((key, value))
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue
                ident = (key.tag, key.value)
                if ident in first_line:
                    duplicates.append((_line(key), key.value, first_line[ident]))
                first_line.setdefault(ident, _line(key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    if duplicates:
        line, name, first = min(duplicates)
        message = f"duplicate key, already set on line {first} (keep one of the two)"
        raise config_error(path, line, name or TOP_LEVEL, message)


def _child(node: yaml.Node, part: int | str) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        match = None
        # The last equal key wins, as in construction (and merged keys come first).
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                match = (_line(key), value)
        return match
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        item: yaml.Node = node.value[part]
        return _line(item), item
    return None


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 1


def _tag_name(node: yaml.Node) -> str:
    return node.tag.rsplit(":", 1)[-1] or "a value"
