"""X filtered-stream rules: the part of X's rule language the simulated X API understands. Pure.

As X documents it: a keyword is a tokenized, case-insensitive match (``DemoBank`` matches
"@DemoBank" and "DemoBank's" but not "DemoBanking"); ``"an exact phrase"``; ``@username``
(the post mentions that account); ``#hashtag`` (an exact, case-insensitive match, so
``#DemoPay`` does not match ``#DemoPayFail``); the operators ``from:``, ``to:``,
``conversation_id:``, ``lang:``, ``is:reply|retweet|quote|verified`` and
``has:mentions|hashtags|links|media|images|videos``. Terms separated by a space must all
match, ``OR`` takes either side (AND binds tighter), ``-`` negates a term or a group, and
parentheses group. As on X, a rule needs a positive standalone term: one made only of
negations or of ``is:``/``has:``/``lang:`` is refused. Other operators are refused too
(X's "Reference to invalid operator"), rather than silently matching nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from smm_shared.simulator.payloads import Tweet

#: The longest rule value X accepts (Pro access; Basic allows 512).
MAX_RULE_LENGTH: Final = 1024
STANDALONE: Final = frozenset(
    {"keyword", "phrase", "mention", "hashtag", "from", "to", "conversation_id"}
)
IS_VALUES: Final = frozenset({"reply", "retweet", "quote", "verified"})
HAS_VALUES: Final = frozenset({"mentions", "hashtags", "links", "media", "images", "videos"})
_OPERATORS: Final = frozenset({"from", "to", "conversation_id", "lang", "is", "has"})
_TOKEN = re.compile(
    r'\s*(?:(?P<open>-?\()|(?P<close>\))|(?P<phrase>-?"[^"]*")|(?P<word>[^\s()"]+))'
)
_WORD = re.compile(r"\w+")
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_])")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")


class RuleError(ValueError):
    """A rule X would refuse; the message says why, as X's ``details`` do."""


@dataclass(frozen=True, slots=True)
class Term:
    """One matching term: a keyword or phrase (``words``), or an operator and its value."""

    kind: str  # keyword, phrase, mention, hashtag, or an operator name
    value: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    """A negated term or group."""

    part: Rule


@dataclass(frozen=True, slots=True)
class All:
    """Terms that must all match (a space between them)."""

    parts: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Alternatives joined by ``OR``."""

    parts: tuple[Rule, ...]


Rule = Term | Not | All | AnyOf


def parse_rule(value: str) -> Rule:
    """The rule a value describes; RuleError when X would refuse it."""
    if not value.strip():
        raise RuleError("Rules must not be empty")
    if len(value) > MAX_RULE_LENGTH:
        raise RuleError(f"Rules must be at most {MAX_RULE_LENGTH} characters long")
    parser = _Parser(list(_tokens(value)))
    rule = parser.any_of()
    if parser.position < len(parser.tokens):
        raise RuleError(f"Unexpected '{parser.tokens[parser.position][1]}' in the rule")
    if not _standalone(rule):
        raise RuleError(
            "Rules must contain a positive standalone term (a keyword, phrase, @mention,"
            " #hashtag, from:, to: or conversation_id:); -negations, is:, has: and lang:"
            " only narrow one down"
        )
    return rule


def matches(rule: Rule, post: Tweet) -> bool:
    """Whether ``post`` matches ``rule``."""
    return _Facts(post).match(rule)


# -- parsing --------------------------------------------------------------------------------------


def _tokens(value: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` pairs: open, close, phrase, word, or OR."""
    position = 0
    while position < len(value):
        if not value[position:].strip():
            return
        found = _TOKEN.match(value, position)
        if found is None or found.lastgroup is None:
            raise RuleError(f"Unreadable rule near '{value[position : position + 20]}'")
        text = found.group(found.lastgroup)
        kind = "or" if found.lastgroup == "word" and text == "OR" else found.lastgroup
        yield kind, text
        position = found.end()


class _Parser:
    """Recursive descent: any_of := all_of (OR all_of)*; all_of := unary+; unary := -? atom."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def any_of(self) -> Rule:
        parts = [self.all_of()]
        while self.peek() == "or":
            self.position += 1
            parts.append(self.all_of())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def all_of(self) -> Rule:
        parts: list[Rule] = []
        while self.peek() in ("open", "phrase", "word"):
            parts.append(self.unary())
        if not parts:
            where = "at the end" if self.peek() is None else f"before '{self._text()}'"
            raise RuleError(f"A term is missing {where} (an OR or a group with nothing in it)")
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def unary(self) -> Rule:
        kind, text = self.tokens[self.position]
        self.position += 1
        negated = text.startswith("-") and len(text) > 1
        body = text[1:] if negated else text
        rule: Rule
        if kind == "open":
            rule = self.any_of()
            if self.peek() != "close":
                raise RuleError("A parenthesis is not closed")
            self.position += 1
        elif kind == "phrase":
            rule = _phrase(body)
        else:
            rule = _word(body)
        return Not(rule) if negated else rule

    def _text(self) -> str:
        return self.tokens[self.position][1]


def _phrase(quoted: str) -> Term:
    words = tuple(_WORD.findall(quoted[1:-1].casefold()))
    if not words:
        raise RuleError(f"The phrase {quoted} has no words")
    return Term("phrase", quoted, words)


def _word(word: str) -> Term:
    if word.startswith("@"):
        if not _USERNAME.fullmatch(word[1:]):
            raise RuleError(f"'{word}' is not a username")
        return Term("mention", word[1:].casefold())
    if word.startswith("#"):
        if not word[1:] or not _WORD.fullmatch(word[1:]):
            raise RuleError(f"'{word}' is not a hashtag")
        return Term("hashtag", word[1:].casefold())
    key, colon, value = word.partition(":")
    if colon and key.isidentifier():
        return _operator(key, value)
    words = tuple(_WORD.findall(word.casefold()))
    if not words:
        raise RuleError(f"'{word}' has no letters or digits to match")
    return Term("keyword", word, words)


def _operator(key: str, value: str) -> Term:
    if key not in _OPERATORS:
        raise RuleError(f"Reference to invalid operator '{key}'")
    if not value:
        raise RuleError(f"The operator '{key}:' needs a value")
    if key == "is" and value not in IS_VALUES:
        raise RuleError(f"Reference to invalid field 'is:{value}'")
    if key == "has" and value not in HAS_VALUES:
        raise RuleError(f"Reference to invalid field 'has:{value}'")
    if key in ("from", "to") and not (_USERNAME.fullmatch(value) or value.isdigit()):
        raise RuleError(f"'{key}:{value}' needs a username or a user id")
    return Term(key, value.removeprefix("@").casefold())


def _standalone(rule: Rule) -> bool:
    """Whether the rule can match on its own (X refuses rules that cannot)."""
    if isinstance(rule, Term):
        return rule.kind in STANDALONE
    if isinstance(rule, Not):
        return False
    if isinstance(rule, All):
        return any(_standalone(part) for part in rule.parts)
    return all(_standalone(part) for part in rule.parts)


# -- matching -------------------------------------------------------------------------------------


class _Facts:
    """What the terms look at in one post, worked out once."""

    def __init__(self, post: Tweet) -> None:
        data = post.data
        self.words = tuple(_WORD.findall(post.text.casefold()))
        self.mentions = {m.casefold() for m in _MENTION.findall(post.text)}
        self.hashtags = {h.casefold() for h in _HASHTAG.findall(post.text)}
        self.lang = str(data.get("lang", "")).casefold()
        self.conversation = str(data.get("conversation_id", ""))
        author = post.users.get(data["author_id"], {})
        self.author = _names(data["author_id"], author)
        self.verified = bool(author.get("verified"))
        reply_to = data.get("in_reply_to_user_id")
        self.reply_to = _names(reply_to, post.users.get(reply_to, {})) if reply_to else set()
        self.references = {ref["type"] for ref in data.get("referenced_tweets", [])}
        self.links = bool(data.get("entities", {}).get("urls"))
        self.media = bool(data.get("attachments", {}).get("media_keys"))

    def match(self, rule: Rule) -> bool:
        if isinstance(rule, Not):
            return not self.match(rule.part)
        if isinstance(rule, All):
            return all(self.match(part) for part in rule.parts)
        if isinstance(rule, AnyOf):
            return any(self.match(part) for part in rule.parts)
        return self.term(rule)

    def term(self, term: Term) -> bool:
        kind, value = term.kind, term.value
        if kind in ("keyword", "phrase"):
            return _contains(self.words, term.words)
        if kind == "mention":
            return value in self.mentions
        if kind == "hashtag":
            return value in self.hashtags
        if kind == "from":
            return value in self.author
        if kind == "to":
            return value in self.reply_to
        if kind == "conversation_id":
            return value == self.conversation
        if kind == "lang":
            return value == self.lang
        if kind == "is":
            return {
                "reply": "replied_to" in self.references,
                "retweet": "retweeted" in self.references,
                "quote": "quoted" in self.references,
                "verified": self.verified,
            }[value]
        has = {
            "mentions": bool(self.mentions),
            "hashtags": bool(self.hashtags),
            "links": self.links,
        }
        return has.get(value, self.media)  # media, images, videos


def _names(user_id: str, user: dict[str, object]) -> set[str]:
    """How ``from:``/``to:`` may name a user: the id, or the username in any case."""
    names = {user_id}
    username = user.get("username")
    if isinstance(username, str):
        names.add(username.casefold())
    return names


def _contains(words: Sequence[str], wanted: Sequence[str]) -> bool:
    """Whether ``wanted`` occurs in ``words`` as consecutive tokens."""
    size = len(wanted)
    return any(tuple(words[i : i + size]) == tuple(wanted) for i in range(len(words) - size + 1))
