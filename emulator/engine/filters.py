"""The Reporting API's ``filters`` expressions: a parser to a small tree, and what each
comparison means for one value.

Syntax (https://yandex.ru/dev/metrika/ru/stat/segmentation, operators:
https://yandex.ru/dev/metrika/ru/stat/relations): ``attribute operator 'value'``. A value is in
single quotes, with ``'`` and ``\\`` inside escaped by ``\\``; ``=.`` and ``!.`` take a list
``('a','b')`` of at most 100 values. Conditions join with ``AND`` and ``OR`` (``AND`` binds
tighter), ``NOT(...)`` negates, parentheses group. Limits: 10 000 characters, 20 conditions,
10 distinct attributes.

Where the pages are silent the parser decides, and says so in ``docs/FIDELITY.md``: keywords
are read in any case; a backslash before any other character is kept with it (so
``=~'a\\.b'`` is the regular expression ``a\\.b``); an unquoted value runs to the next space,
comma or parenthesis (the docs' own example ``NOT(ym:s:age!=18)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPERATORS = ("==", "!=", ">=", "<=", "=@", "!@", "=~", "!~", "=*", "!*", "=.", "!.", ">", "<")
"""Two-character operators first, so ``>=`` is not read as ``>``."""
LIST_OPERATORS = frozenset({"=.", "!."})
REGEX_OPERATORS = frozenset({"=~", "!~"})
MAX_LENGTH = 10_000
MAX_CONDITIONS = 20
MAX_ATTRIBUTES = 10
MAX_VALUES = 100

_ATTRIBUTE = re.compile(r"ym:[a-z]+:(?:<[a-z_]+>|[A-Za-z0-9_])+")
_BARE = re.compile(r"[^\s(),']+")
_WORD_CHAR = re.compile(r"[A-Za-z0-9_:]")


class FilterError(ValueError):
    """A filter that cannot be read, with the 0-based character where reading stopped."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at character {position + 1}")
        self.position = position


@dataclass(frozen=True)
class Condition:
    attribute: str
    operator: str
    values: tuple[str, ...]
    position: int
    pattern: re.Pattern[str] | None = field(default=None, compare=False)
    """The compiled regular expression of ``=~``/``!~``, or the wildcard of ``=*``/``!*``."""


@dataclass(frozen=True)
class Both:
    """All parts hold (``AND``)."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Either:
    """At least one part holds (``OR``)."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Negated:
    part: Node


Node = Condition | Both | Either | Negated


def parse(text: str) -> Node:
    """The tree of a filter expression (:class:`FilterError` saying where it went wrong)."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    node = _Parser(text).parse()
    found = conditions(node)
    if len(found) > MAX_CONDITIONS:
        raise FilterError(
            f"the filter holds more than {MAX_CONDITIONS} conditions",
            found[MAX_CONDITIONS].position,
        )
    names: list[str] = []
    for condition in found:
        if condition.attribute not in names:
            names.append(condition.attribute)
            if len(names) > MAX_ATTRIBUTES:
                raise FilterError(
                    f"the filter names more than {MAX_ATTRIBUTES} attributes", condition.position
                )
    return node


def conditions(node: Node) -> list[Condition]:
    """Every condition of the tree, left to right."""
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, Negated):
        return conditions(node.part)
    return [c for part in node.parts for c in conditions(part)]


def holds(condition: Condition, value: str | None) -> bool:
    """Whether ``value`` satisfies ``condition``; an undefined value compares as ``''``.

    Comparisons are case-sensitive on text; ``=@`` is a substring test, ``=~`` a regular
    expression found anywhere in the value, ``=*`` a whole-value match where ``*`` stands for
    any run of characters (the docs' ``=*'https://example.com/tariff/*'``).
    """
    text = value or ""
    operator, values = condition.operator, condition.values
    if operator in LIST_OPERATORS:
        return (text in values) == (operator == "=.")
    if condition.pattern is not None:
        if operator in REGEX_OPERATORS:
            found = condition.pattern.search(text) is not None
        else:
            found = condition.pattern.fullmatch(text) is not None
        return found == (operator[0] == "=")
    other = values[0]
    if operator == "=@":
        return other in text
    if operator == "!@":
        return other not in text
    return {
        "==": text == other,
        "!=": text != other,
        ">": text > other,
        "<": text < other,
        ">=": text >= other,
        "<=": text <= other,
    }[operator]


def wildcard(value: str) -> re.Pattern[str]:
    """``*`` as any run of characters, everything else literal."""
    return re.compile(".*".join(re.escape(part) for part in value.split("*")), re.DOTALL)


class _Parser:
    """Recursive descent straight over the text: a value's reading depends on the operator."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> Node:
        node = self._either()
        self._skip()
        if self.pos < len(self.text):
            raise FilterError("expected AND, OR or the end of the filter", self.pos)
        return node

    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _keyword(self, word: str) -> bool:
        self._skip()
        end = self.pos + len(word)
        if self.text[self.pos : end].upper() != word:
            return False
        if end < len(self.text) and _WORD_CHAR.match(self.text[end]):
            return False
        self.pos = end
        return True

    def _expect(self, char: str, what: str) -> None:
        self._skip()
        if not self.text.startswith(char, self.pos):
            raise FilterError(f"expected {what}", self.pos)
        self.pos += 1

    def _either(self) -> Node:
        parts = [self._both()]
        while self._keyword("OR"):
            parts.append(self._both())
        return parts[0] if len(parts) == 1 else Either(tuple(parts))

    def _both(self) -> Node:
        parts = [self._unary()]
        while self._keyword("AND"):
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else Both(tuple(parts))

    def _unary(self) -> Node:
        if self._keyword("NOT"):
            return Negated(self._unary())
        self._skip()
        if self.text.startswith("(", self.pos):
            self.pos += 1
            node = self._either()
            self._expect(")", "')'")
            return node
        return self._condition()

    def _condition(self) -> Condition:
        start = self.pos
        found = _ATTRIBUTE.match(self.text, self.pos)
        if found is None:
            raise FilterError("expected a condition such as ym:s:lastTrafficSource=='ad'", start)
        self.pos = found.end()
        self._skip()
        operator = next((op for op in OPERATORS if self.text.startswith(op, self.pos)), None)
        if operator is None:
            raise FilterError(f"expected an operator ({' '.join(OPERATORS)})", self.pos)
        self.pos += len(operator)
        if operator in LIST_OPERATORS:
            self._expect("(", f"a list of values after {operator}, as ('a','b')")
            values = [self._value()]
            while self._comma():
                values.append(self._value())
            self._expect(")", "',' or ')' in the list of values")
            if len(values) > MAX_VALUES:
                raise FilterError(f"more than {MAX_VALUES} values in one condition", start)
        else:
            values = [self._value()]
        pattern = _pattern(operator, values[0], start)
        return Condition(found[0], operator, tuple(values), start, pattern)

    def _comma(self) -> bool:
        self._skip()
        if self.text.startswith(",", self.pos):
            self.pos += 1
            return True
        return False

    def _value(self) -> str:
        self._skip()
        if not self.text.startswith("'", self.pos):
            found = _BARE.match(self.text, self.pos)
            if found is None:
                raise FilterError("expected a value in single quotes", self.pos)
            self.pos = found.end()
            return found[0]
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "'":
                self.pos += 1
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text):
                following = self.text[self.pos + 1]
                out.append(following if following in "'\\" else char + following)
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        raise FilterError("the quoted value is not closed", start)


def _pattern(operator: str, value: str, position: int) -> re.Pattern[str] | None:
    if operator in REGEX_OPERATORS:
        try:
            return re.compile(value)
        except re.error as exc:
            raise FilterError(f"bad regular expression {value!r}: {exc}", position) from None
    if operator in ("=*", "!*"):
        return wildcard(value)
    return None
