"""Keyword rules for brand, competitor and topic monitoring: a small boolean query language.

Syntax (operators are upper case, so ``and``/``or``/``not`` stay searchable words)::

    acme                     a word, case-insensitive, on Unicode word boundaries
    "acme bank"              a phrase: these words in a row, whatever punctuation is between
    acme*                    a word starting with ``acme`` (the ``*`` only at a word's end)
    #acme                    the hashtag ``#acme`` or the word ``acme`` (a hashtag's word is a word)
    @acme                    the handle ``@acme`` only (``@acme@mastodon.social`` too)
    a AND b   a b            both (adjacent items are joined by an implicit AND)
    a OR b                   either
    NOT a     -a             not; binds tighter than AND, which binds tighter than OR
    ( ... )                  grouping

A term with punctuation inside (``coca-cola``, ``acme.com``) is the phrase of its words.
Text and query are compared after NFKC normalisation (so "fancy" mathematical bold letters
are plain ones), case folding, the Russian letter yo read as ie (as Russian readers do), and
dropping of stray combining marks (Russian stress marks, Zalgo noise).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, get_args

from smm_shared.text import normalise

RuleKind = Literal["brand", "competitor", "topic"]

#: Deeper nesting than this is refused: it is never meant, and recursion has a limit.
MAX_DEPTH = 100

_WORD = re.compile(r"\w+")
# Combining marks left over after NFKC (stress marks, Cyrillic titlo, Zalgo noise).
# A handle: ``@`` not glued to a word (so e-mail addresses are not handles), a local part
# with inner dots (Instagram ``acme.bank``) and an optional Mastodon ``@instance``.
_HANDLE_BODY = r"\w+(?:\.\w+)*(?:@\w+(?:[.-]\w+)+)?"
_TEXT_HANDLE = re.compile(rf"(?<![\w@])@({_HANDLE_BODY})")
_QUERY_HANDLE = re.compile(rf"{_HANDLE_BODY}\*?")
_OPERATORS = frozenset({"AND", "OR", "NOT"})


class QueryError(ValueError):
    """A query that cannot be parsed: where (0-based character offset) and why."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"{reason} (at position {position})")
        self.position = position
        self.reason = reason


class TextIndex:
    """One text cut into words and handles once, for any number of queries to look up."""

    __slots__ = ("handles", "positions", "sorted_handles", "sorted_words", "word_set", "words")

    def __init__(self, text: str) -> None:
        """Index ``text``."""
        norm = normalise(text)
        self.words: tuple[str, ...] = tuple(_WORD.findall(norm))
        positions: dict[str, list[int]] = {}
        for i, word in enumerate(self.words):
            positions.setdefault(word, []).append(i)
        self.positions = positions
        self.word_set = frozenset(positions)
        self.sorted_words = sorted(positions)
        handles: set[str] = set()
        for match in _TEXT_HANDLE.finditer(norm):
            handle = match.group(1)
            handles.add(handle)
            handles.add(handle.split("@", 1)[0])
        self.handles = frozenset(handles)
        self.sorted_handles = sorted(handles)


def _has_prefix(sorted_items: list[str], prefix: str) -> bool:
    i = bisect_left(sorted_items, prefix)
    return i < len(sorted_items) and sorted_items[i].startswith(prefix)


# --- the syntax tree and its compiled form -----------------------------------------


@dataclass(frozen=True, slots=True)
class _Part:
    """One word of a term or phrase; ``prefix`` when it ended with ``*``."""

    word: str
    prefix: bool = False

    def accepts(self, word: str) -> bool:
        return word.startswith(self.word) if self.prefix else word == self.word


@dataclass(frozen=True, slots=True)
class _Word:
    part: _Part


@dataclass(frozen=True, slots=True)
class _Phrase:
    parts: tuple[_Part, ...]


@dataclass(frozen=True, slots=True)
class _Handle:
    handle: str
    prefix: bool


@dataclass(frozen=True, slots=True)
class _Not:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _And:
    operands: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    operands: tuple[_Node, ...]


_Node: TypeAlias = "_Word | _Phrase | _Handle | _Not | _And | _Or"
_Test: TypeAlias = Callable[[TextIndex], bool]


def _exact_words(nodes: Iterable[_Node]) -> frozenset[str]:
    return frozenset(
        node.part.word for node in nodes if isinstance(node, _Word) and not node.part.prefix
    )


# Queries are compiled to closures: walking the tree per text cost several times more, and
# 100 rules against one text must stay well under a millisecond.
def _compile(node: _Node) -> _Test:
    """A closure telling whether an indexed text satisfies ``node``."""
    if isinstance(node, _Word):
        word = node.part.word
        if node.part.prefix:

            def starts(index: TextIndex) -> bool:
                items = index.sorted_words
                i = bisect_left(items, word)
                return i < len(items) and items[i].startswith(word)

            return starts
        return lambda index: word in index.word_set
    if isinstance(node, _Phrase):
        return _compile_phrase(node.parts)
    if isinstance(node, _Handle):
        handle = node.handle
        if node.prefix:
            return lambda index: _has_prefix(index.sorted_handles, handle)
        return lambda index: handle in index.handles
    if isinstance(node, _Not):
        if isinstance(node.operand, _Word) and not node.operand.part.prefix:
            absent = node.operand.part.word
            return lambda index: absent not in index.word_set
        operand = _compile(node.operand)
        return lambda index: not operand(index)
    return _compile_junction(node)


def _compile_phrase(parts: tuple[_Part, ...]) -> _Test:
    first, rest = parts[0], parts[1:]
    # Most texts lack some word of the phrase: one set operation settles those.
    required = frozenset(part.word for part in parts if not part.prefix)

    def phrase(index: TextIndex) -> bool:
        if not required <= index.word_set:
            return False
        words = index.words
        last_start = len(words) - len(parts)
        for start, word in enumerate(words[: last_start + 1]):
            if first.accepts(word) and all(
                part.accepts(words[start + k]) for k, part in enumerate(rest, 1)
            ):
                return True
        return False

    return phrase


def _compile_junction(node: _And | _Or) -> _Test:
    """AND / OR: the plain words are checked together as one set operation, the rest in turn."""
    words = _exact_words(node.operands)
    tests = [_compile(op) for op in node.operands if not _exact_words((op,))]
    if isinstance(node, _And):
        if words:
            tests.insert(0, lambda index: words <= index.word_set)
        return _balanced(tests, _both)
    if words:
        tests.insert(0, lambda index: not words.isdisjoint(index.word_set))
    return _balanced(tests, _either)


# Pairwise closures rather than all()/any() over a generator: creating the generator alone
# cost more than the set lookups it runs. Joined as a balanced tree, so a query ORing a
# thousand phrases nests ten calls deep, not a thousand (and never hits the recursion limit).
def _balanced(tests: list[_Test], join: Callable[[_Test, _Test], _Test]) -> _Test:
    if len(tests) == 1:
        return tests[0]
    middle = len(tests) // 2
    return join(_balanced(tests[:middle], join), _balanced(tests[middle:], join))


def _both(a: _Test, b: _Test) -> _Test:
    return lambda index: a(index) and b(index)


def _either(a: _Test, b: _Test) -> _Test:
    return lambda index: a(index) or b(index)


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query; ``matches`` tells whether a text satisfies it."""

    source: str
    _root: _Node = field(repr=False)
    _test: _Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", _compile(self._root))

    def matches(self, text: str) -> bool:
        """Whether ``text`` satisfies the query."""
        return self._test(TextIndex(text))

    def matches_index(self, index: TextIndex) -> bool:
        """Whether the already indexed text satisfies the query."""
        return self._test(index)


# --- the parser ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["(", ")", "AND", "OR", "NOT", "-", "phrase", "term", "end"]
    position: int
    text: str = ""


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i))  # type: ignore[arg-type]  # char is "(" or ")"
            i += 1
        elif char == '"':
            end = source.find('"', i + 1)
            if end < 0:
                raise QueryError(i, "unterminated phrase: missing closing quote")
            tokens.append(_Token("phrase", i, source[i + 1 : end]))
            i = end + 1
        elif char == "-":
            # Only a ``-`` opening a token gets here (``-acme``): inside a word it is a hyphen
            # (``t-mobile``) and the word loop below takes it.
            if i + 1 >= n or source[i + 1].isspace() or source[i + 1] == ")":
                raise QueryError(i, "'-' must be followed by a term, phrase or '('")
            tokens.append(_Token("-", i))
            i += 1
        else:
            start = i
            while i < n and not source[i].isspace() and source[i] not in '()"':
                i += 1
            word = source[start:i]
            if word in _OPERATORS:
                tokens.append(_Token(word, start))  # type: ignore[arg-type]  # an operator name
            else:
                tokens.append(_Token("term", start, word))
    tokens.append(_Token("end", n))
    return tokens


def _parts(text: str, start: int, *, what: str) -> tuple[_Part, ...]:
    """The words of a term or phrase beginning at ``start`` in the query, with their ``*``."""
    for j, char in enumerate(text):
        if char != "*":
            continue
        if j + 1 < len(text) and not text[j + 1].isspace():
            raise QueryError(start + j, f"'*' may only end a word, in {what} {text!r}")
        if j == 0 or not _WORD.fullmatch(normalise(text[j - 1])):
            raise QueryError(start + j, f"'*' must follow a letter or digit, in {what} {text!r}")
    parts: list[_Part] = []
    for chunk in text.split():
        words = _WORD.findall(normalise(chunk))
        if words:
            parts.extend(_Part(word) for word in words[:-1])
            parts.append(_Part(words[-1], prefix=chunk.endswith("*")))
    if not parts:
        raise QueryError(start, f"{what} {text!r} has no letters or digits")
    return tuple(parts)


def _term(token: _Token) -> _Node:
    text = token.text
    if text.startswith("@"):
        body = normalise(text[1:])
        if not _QUERY_HANDLE.fullmatch(body):
            raise QueryError(token.position, f"{text!r} is not a handle")
        prefix = body.endswith("*")
        return _Handle(body.rstrip("*"), prefix)
    hashes = len(text) - len(text.lstrip("#"))
    if hashes == len(text):
        raise QueryError(token.position, "'#' must be followed by a word")
    parts = _parts(text[hashes:], token.position + hashes, what="term")
    return _Word(parts[0]) if len(parts) == 1 else _Phrase(parts)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        # A method, not a property, so mypy does not narrow its kind across ``self.i += 1``.
        return self.tokens[self.i]

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise QueryError(0, "empty query")
        node = self.or_expr()
        if self.peek().kind == ")":
            raise QueryError(self.peek().position, "unmatched ')'")
        return node

    def or_expr(self) -> _Node:
        operands = [self.and_expr()]
        while self.peek().kind == "OR":
            self.i += 1
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else _Or(tuple(operands))

    def and_expr(self) -> _Node:
        operands = [self.not_expr()]
        while self.peek().kind not in ("OR", ")", "end"):
            if self.peek().kind == "AND":
                self.i += 1
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else _And(tuple(operands))

    def not_expr(self) -> _Node:
        token = self.peek()
        if token.kind in ("NOT", "-"):
            self.i += 1
            with _Deeper(self, token.position):
                return _Not(self.not_expr())
        return self.primary()

    def primary(self) -> _Node:
        token = self.peek()
        self.i += 1
        if token.kind == "term":
            return _term(token)
        if token.kind == "phrase":
            parts = _parts(token.text, token.position + 1, what="phrase")
            return _Word(parts[0]) if len(parts) == 1 else _Phrase(parts)
        if token.kind == "(":
            with _Deeper(self, token.position):
                if self.peek().kind == "end":
                    raise QueryError(token.position, "'(' is never closed")
                if self.peek().kind == ")":
                    raise QueryError(self.peek().position, "empty parentheses")
                node = self.or_expr()
            if self.peek().kind != ")":
                raise QueryError(token.position, "'(' is never closed")
            self.i += 1
            return node
        if token.kind == "end":
            raise QueryError(token.position, "query ends where a term was expected")
        if token.kind == ")":
            raise QueryError(token.position, "')' where a term was expected")
        raise QueryError(token.position, f"{token.kind} where a term was expected")


class _Deeper:
    """Counts nesting so a pathological query fails with QueryError, not RecursionError."""

    def __init__(self, parser: _Parser, position: int) -> None:
        self.parser = parser
        self.position = position

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise QueryError(self.position, f"nested deeper than {MAX_DEPTH} levels")

    def __exit__(self, *exc: object) -> None:
        self.parser.depth -= 1


def parse_query(text: str) -> Query:
    """Parse a query; raises QueryError with the position and reason of the first mistake."""
    return Query(text, _Parser(text).parse())


# --- rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A monitored query; a match adds ``label`` to a mention's keywords (brand, competitor) or topics."""

    id: str
    name: str
    query: str
    kind: RuleKind
    label: str
    compiled: Query = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in get_args(RuleKind):
            raise ValueError(
                f"rule {self.id!r}: kind must be one of {get_args(RuleKind)}, not {self.kind!r}"
            )
        if not self.label.strip():
            raise ValueError(f"rule {self.id!r}: label must not be empty")
        # Parsed once here so a bad rule fails when it is loaded, not on every mention.
        object.__setattr__(self, "compiled", parse_query(self.query))


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Labels of the rules a text matched, in rule order, without repeats."""

    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def match_rules(text: str, rules: Iterable[KeywordRule]) -> MatchResult:
    """Which rules ``text`` matches: brand/competitor labels as keywords, topic labels as topics."""
    index = TextIndex(text)
    keywords: dict[str, None] = {}
    topics: dict[str, None] = {}
    for rule in rules:
        if rule.compiled._test(index):
            (topics if rule.kind == "topic" else keywords)[rule.label] = None
    return MatchResult(keywords=tuple(keywords), topics=tuple(topics))
