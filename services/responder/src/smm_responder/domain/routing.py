"""Routing rules: which department, priority, tags, SLA policy and assignment strategy a case gets.

A brand has an ordered list of rules. The first *enabled* rule (lowest ``position``) whose
conditions all hold for the mention wins; the brand's default rule, which has no conditions,
sits after every other rule and catches the rest. The decision names the rule, so the case
timeline can say why the case went where it went.

Conditions are optional and are joined by AND, except the three keyword conditions (words in
the text, ingest's keyword labels, ingest's topics), which ``keyword_join`` may join by OR
among themselves ("mentions saying *refund* or tagged *billing* by ingest"). Facts a network
did not report never satisfy a condition about them: a mention without a language fails a
language condition, one without a sentiment score fails a score range, an author without a
follower count fails a follower minimum. The one exception is ``author_verified=False``,
which means "not known to be verified" (networks that report no badge show none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, TypedDict, TypeVar, get_args

from smm_shared.events import Mention, MentionKind, Network
from smm_shared.events.mentions import SentimentLabel
from smm_shared.text import normalise

#: At most this many rules per brand, the default included.
MAX_RULES = 200
#: The default rule's position: fixed, and above every other rule's, so it is always last.
DEFAULT_POSITION = 1_000_000
#: Lengths that fit the ``smm.case.routed`` contract (rule id, rule name, department, policy).
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_DEPARTMENT_LENGTH = 64
MAX_TAG_LENGTH = 64
MAX_TAGS = 20
MAX_TEXT_KEYWORDS = 100
MAX_KEYWORD_LENGTH = 200

KeywordJoin = Literal["all", "any"]
_E = TypeVar("_E", bound=StrEnum)
#: Sentiment labels by name: reading a stored string as the contract's literal type.
_SENTIMENT_LABELS: Mapping[str, SentimentLabel] = {
    "positive": "positive",
    "neutral": "neutral",
    "negative": "negative",
    "mixed": "mixed",
    "unknown": "unknown",
}
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


class RoutingError(ValueError):
    """A routing rule or rule list that breaks a rule; ``code`` (``routing.*``) is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Priority(StrEnum):
    """A case's priority; compares by urgency (``LOW < URGENT``), not alphabetically."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for low up to 3 for urgent."""
        return _PRIORITY_ORDER.index(self)

    # str's own comparisons would order the values alphabetically ("high" < "low").
    # A plain string compares as the priority it names; any other string raises ValueError.
    def __lt__(self, other: str) -> bool:
        return self.rank < Priority(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Priority(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Priority(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Priority(other).rank


_PRIORITY_ORDER: tuple[Priority, ...] = tuple(Priority)


def raise_priority(priority: Priority) -> Priority:
    """One step more urgent; urgent stays urgent."""
    return _PRIORITY_ORDER[min(priority.rank + 1, len(_PRIORITY_ORDER) - 1)]


class AssignmentStrategy(StrEnum):
    """How a routed case gets its assignee."""

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    #: Nobody is picked: the case waits in its department's queue for a person.
    MANUAL = "manual"


class Skill(StrEnum):
    """Which of the case's facts an assignee must have as a skill."""

    LANGUAGE = "language"
    NETWORK = "network"


# --- text ------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def words_of(text: str) -> tuple[str, ...]:
    """The normalised words of ``text`` in order (letters, digits and underscores, any script)."""
    return tuple(_WORD.findall(normalise(text)))


def _contains_run(words: tuple[str, ...], word_set: frozenset[str], run: tuple[str, ...]) -> bool:
    """Whether ``run`` occurs in ``words`` (whose set is ``word_set``) as consecutive words."""
    # Most texts lack some word of the run: the set test settles those without a scan.
    if not word_set.issuperset(run):
        return False
    if len(run) == 1:
        return True
    size = len(run)
    first = run[0]
    return any(
        word == first and words[i : i + size] == run
        for i, word in enumerate(words[: len(words) - size + 1])
    )


def normalise_language(tag: str) -> str:
    """A language tag as compared: lower case, ``_`` read as ``-`` (``pt_BR`` is ``pt-br``)."""
    return tag.strip().lower().replace("_", "-")


def primary_language(tag: str) -> str:
    """The language without region or script: ``en`` of ``en-GB``."""
    return normalise_language(tag).split("-", 1)[0]


def language_condition_holds(wanted: str, actual: str) -> bool:
    """Rule language ``en`` covers ``en`` and ``en-GB``; ``en-GB`` covers only ``en-GB``."""
    wanted, actual = normalise_language(wanted), normalise_language(actual)
    return wanted in (actual, primary_language(actual))


# --- facts -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing conditions look at: a mention's facts, in the form rules compare them."""

    network: Network
    kind: MentionKind
    text: str = ""
    language: str | None = None
    sentiment_label: SentimentLabel = "unknown"
    sentiment_score: float | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    on_own_post: bool = False
    #: Labels of ingest's brand and competitor keyword rules the mention matched.
    keyword_labels: frozenset[str] = frozenset()
    #: Labels of ingest's topic rules the mention matched.
    topics: frozenset[str] = frozenset()
    priority_hint: Priority = Priority.NORMAL
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)
    word_set: frozenset[str] = field(init=False, repr=False, compare=False)
    #: Labels and topics as compared (case-folded), for the rules' keyword conditions.
    folded_labels: frozenset[str] = field(init=False, repr=False, compare=False)
    folded_topics: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Cut once: every rule's keyword condition reads the same words.
        object.__setattr__(self, "words", words_of(self.text))
        object.__setattr__(self, "word_set", frozenset(self.words))
        object.__setattr__(
            self, "folded_labels", frozenset(normalise(x) for x in self.keyword_labels)
        )
        object.__setattr__(self, "folded_topics", frozenset(normalise(x) for x in self.topics))

    @classmethod
    def from_mention(cls, mention: Mention) -> RoutingFacts:
        """The facts of a mention as ingest published it."""
        return cls(
            network=mention.network,
            kind=mention.kind,
            text=mention.text,
            language=mention.language,
            sentiment_label=mention.sentiment.label,
            sentiment_score=mention.sentiment.score,
            author_followers=mention.author.followers,
            author_verified=mention.author.verified,
            on_own_post=mention.on_own_post,
            keyword_labels=frozenset(mention.keywords),
            topics=frozenset(mention.topics),
            priority_hint=Priority(mention.priority_hint),
        )


# --- conditions ------------------------------------------------------------------------


def _invalid(code: str, rule: str, message: str) -> RoutingError:
    return RoutingError(code, f"{rule}: {message}")


def _enum_set(kind: type[_E], values: Iterable[str], what: str) -> frozenset[_E]:
    try:
        return frozenset(kind(value) for value in values)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in kind)
        raise RoutingError("routing.invalid_condition", f"{what} must be among: {allowed}") from exc


def _clean_labels(values: Iterable[str], what: str) -> frozenset[str]:
    cleaned = frozenset(value.strip() for value in values)
    if "" in cleaned:
        raise RoutingError("routing.invalid_condition", f"{what} must not be empty strings")
    return cleaned


def _sentiment_labels(values: Iterable[str]) -> frozenset[SentimentLabel]:
    try:
        return frozenset(_SENTIMENT_LABELS[value] for value in values)
    except KeyError as exc:
        allowed = ", ".join(_SENTIMENT_LABELS)
        raise RoutingError(
            "routing.invalid_condition", f"sentiment labels must be among: {allowed}"
        ) from exc


@dataclass(frozen=True, slots=True)
class Conditions:
    """When a rule applies: every condition set must hold; an empty set or ``None`` is no condition."""

    networks: frozenset[Network] = frozenset()
    kinds: frozenset[MentionKind] = frozenset()
    #: Language tags; ``en`` also covers ``en-GB`` (see ``language_condition_holds``).
    languages: frozenset[str] = frozenset()
    sentiment_labels: frozenset[SentimentLabel] = frozenset()
    #: Inclusive score range in [-1, 1]; a mention without a score fails it.
    min_sentiment_score: float | None = None
    max_sentiment_score: float | None = None
    #: Words or phrases, any of which in the text (case-insensitive, on word boundaries).
    text_keywords: frozenset[str] = frozenset()
    #: Any of these labels among ingest's matched keyword labels (case-insensitive).
    keyword_labels: frozenset[str] = frozenset()
    #: Any of these labels among ingest's matched topics (case-insensitive).
    topics: frozenset[str] = frozenset()
    #: How the three keyword conditions above combine: each set one must hold, or any one.
    keyword_join: KeywordJoin = "all"
    priority_hints: frozenset[Priority] = frozenset()
    min_author_followers: int | None = None
    #: ``True``: verified authors only; ``False``: authors not known to be verified.
    author_verified: bool | None = None
    on_own_post: bool | None = None
    _keyword_runs: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)
    _labels: frozenset[str] = field(init=False, repr=False, compare=False)
    _topics: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Values are converted as well as checked, so conditions built from plain strings
        # (an API body, a stored document) compare equal to ones built from the enums.
        set_ = object.__setattr__
        set_(self, "networks", _enum_set(Network, self.networks, "networks"))
        set_(self, "kinds", _enum_set(MentionKind, self.kinds, "kinds"))
        set_(self, "priority_hints", _enum_set(Priority, self.priority_hints, "priority hints"))
        languages = frozenset(normalise_language(tag) for tag in self.languages)
        for tag in languages:
            if not _LANGUAGE_TAG.match(tag):
                raise RoutingError("routing.invalid_condition", f"{tag!r} is not a language tag")
        set_(self, "languages", languages)
        set_(self, "sentiment_labels", _sentiment_labels(self.sentiment_labels))
        self._check_numbers()
        self._set_keywords()
        if self.keyword_join not in get_args(KeywordJoin):
            raise RoutingError("routing.invalid_condition", "keyword join must be 'all' or 'any'")

    def _check_numbers(self) -> None:
        for name in ("min_sentiment_score", "max_sentiment_score"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RoutingError("routing.invalid_condition", f"{name} must be a number")
            if not -1.0 <= value <= 1.0:
                raise RoutingError("routing.invalid_condition", f"{name} must be between -1 and 1")
        low, high = self.min_sentiment_score, self.max_sentiment_score
        if low is not None and high is not None and low > high:
            raise RoutingError(
                "routing.invalid_condition",
                "min_sentiment_score must not exceed max_sentiment_score",
            )
        followers = self.min_author_followers
        if followers is not None and (
            isinstance(followers, bool) or not isinstance(followers, int) or followers < 0
        ):
            raise RoutingError(
                "routing.invalid_condition", "min_author_followers must be a non-negative integer"
            )
        for name in ("author_verified", "on_own_post"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise RoutingError(
                    "routing.invalid_condition", f"{name} must be true, false or null"
                )

    def _set_keywords(self) -> None:
        set_ = object.__setattr__
        keywords = frozenset(" ".join(term.split()) for term in self.text_keywords)
        if len(keywords) > MAX_TEXT_KEYWORDS:
            raise RoutingError(
                "routing.invalid_condition", f"at most {MAX_TEXT_KEYWORDS} text keywords per rule"
            )
        runs: list[tuple[str, ...]] = []
        for term in sorted(keywords):
            if len(term) > MAX_KEYWORD_LENGTH:
                raise RoutingError(
                    "routing.invalid_condition",
                    f"keyword {term[:20]!r}... is longer than {MAX_KEYWORD_LENGTH} characters",
                )
            run = words_of(term)
            if not run:
                raise RoutingError(
                    "routing.invalid_condition", f"keyword {term!r} has no letters or digits"
                )
            runs.append(run)
        set_(self, "text_keywords", keywords)
        set_(self, "_keyword_runs", tuple(runs))
        set_(self, "keyword_labels", _clean_labels(self.keyword_labels, "keyword labels"))
        set_(self, "topics", _clean_labels(self.topics, "topics"))
        set_(self, "_labels", frozenset(normalise(x) for x in self.keyword_labels))
        set_(self, "_topics", frozenset(normalise(x) for x in self.topics))

    @property
    def is_empty(self) -> bool:
        """Whether no condition is set (the rule matches everything)."""
        return self == Conditions()

    def holds(self, facts: RoutingFacts) -> bool:
        """Whether every condition set holds for ``facts``."""
        return (
            self._facets_hold(facts)
            and self._sentiment_holds(facts)
            and self._author_holds(facts)
            and self._keywords_hold(facts)
        )

    def _facets_hold(self, facts: RoutingFacts) -> bool:
        if self.networks and facts.network not in self.networks:
            return False
        if self.kinds and facts.kind not in self.kinds:
            return False
        if self.priority_hints and facts.priority_hint not in self.priority_hints:
            return False
        if self.on_own_post is not None and facts.on_own_post != self.on_own_post:
            return False
        if self.languages:
            language = facts.language
            if language is None:
                return False
            return any(language_condition_holds(wanted, language) for wanted in self.languages)
        return True

    def _sentiment_holds(self, facts: RoutingFacts) -> bool:
        if self.sentiment_labels and facts.sentiment_label not in self.sentiment_labels:
            return False
        low, high = self.min_sentiment_score, self.max_sentiment_score
        if low is None and high is None:
            return True
        score = facts.sentiment_score
        if score is None:
            return False
        return (low is None or score >= low) and (high is None or score <= high)

    def _author_holds(self, facts: RoutingFacts) -> bool:
        minimum = self.min_author_followers
        if minimum is not None and (
            facts.author_followers is None or facts.author_followers < minimum
        ):
            return False
        if self.author_verified is None:
            return True
        return (facts.author_verified is True) == self.author_verified

    def _keywords_hold(self, facts: RoutingFacts) -> bool:
        results: list[bool] = []
        if self._keyword_runs:
            results.append(
                any(_contains_run(facts.words, facts.word_set, run) for run in self._keyword_runs)
            )
        if self._labels:
            results.append(not self._labels.isdisjoint(facts.folded_labels))
        if self._topics:
            results.append(not self._topics.isdisjoint(facts.folded_topics))
        if not results:
            return True
        return all(results) if self.keyword_join == "all" else any(results)


# --- actions ---------------------------------------------------------------------------


def _optional_name(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > limit:
        raise RoutingError(
            "routing.invalid_action", f"{what} must be 1 to {limit} characters or null"
        )
    return value


@dataclass(frozen=True, slots=True)
class Actions:
    """What a matching rule does to the case."""

    department: str | None = None
    #: ``None`` keeps the priority ingest hinted for the mention.
    priority: Priority | None = None
    tags: frozenset[str] = frozenset()
    sla_policy_id: str | None = None
    assignment: AssignmentStrategy = AssignmentStrategy.ROUND_ROBIN
    #: Which of the case's facts (its language, its network) the assignee must have as skills.
    required_skills: frozenset[Skill] = frozenset({Skill.LANGUAGE, Skill.NETWORK})

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(
            self, "department", _optional_name(self.department, "department", MAX_DEPARTMENT_LENGTH)
        )
        set_(
            self,
            "sla_policy_id",
            _optional_name(self.sla_policy_id, "sla_policy_id", MAX_ID_LENGTH),
        )
        try:
            if self.priority is not None:
                set_(self, "priority", Priority(self.priority))
            set_(self, "assignment", AssignmentStrategy(self.assignment))
            set_(self, "required_skills", frozenset(Skill(s) for s in self.required_skills))
        except ValueError as exc:
            raise RoutingError("routing.invalid_action", str(exc)) from exc
        tags = frozenset(tag.strip() for tag in self.tags)
        if len(tags) > MAX_TAGS:
            raise RoutingError("routing.invalid_action", f"at most {MAX_TAGS} tags per rule")
        if any(not tag or len(tag) > MAX_TAG_LENGTH for tag in tags):
            raise RoutingError(
                "routing.invalid_action", f"tags must be 1 to {MAX_TAG_LENGTH} characters"
            )
        set_(self, "tags", tags)


# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One of a brand's routing rules: conditions, actions and its place in the order."""

    id: str
    brand_id: str
    name: str
    position: int
    conditions: Conditions = Conditions()
    actions: Actions = Actions()
    enabled: bool = True
    is_default: bool = False

    def __post_init__(self) -> None:
        label = f"rule {self.id!r}"
        if not isinstance(self.id, str) or not self.id.strip() or len(self.id) > MAX_ID_LENGTH:
            raise _invalid(
                "routing.invalid_id", label, f"id must be 1 to {MAX_ID_LENGTH} characters"
            )
        if not isinstance(self.brand_id, str) or not self.brand_id.strip():
            raise _invalid("routing.invalid_brand", label, "brand_id must not be empty")
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name or len(name) > MAX_NAME_LENGTH:
            raise _invalid(
                "routing.invalid_name", label, f"name must be 1 to {MAX_NAME_LENGTH} characters"
            )
        object.__setattr__(self, "name", name)
        if isinstance(self.position, bool) or not isinstance(self.position, int):
            raise _invalid("routing.invalid_position", label, "position must be an integer")
        if self.is_default:
            if self.position != DEFAULT_POSITION:
                raise _invalid(
                    "routing.invalid_position",
                    label,
                    f"the default rule's position is {DEFAULT_POSITION}",
                )
            if not self.enabled:
                raise _invalid(
                    "routing.default_disabled", label, "the default rule cannot be disabled"
                )
            if not self.conditions.is_empty:
                raise _invalid(
                    "routing.default_has_conditions", label, "the default rule has no conditions"
                )
        elif not 0 <= self.position < DEFAULT_POSITION:
            raise _invalid(
                "routing.invalid_position",
                label,
                f"position must be from 0 to {DEFAULT_POSITION - 1}",
            )

    def applies_to(self, facts: RoutingFacts) -> bool:
        """Whether the rule is enabled and its conditions hold."""
        return self.enabled and self.conditions.holds(facts)

    def to_doc(self) -> RoutingRuleDoc:
        """The rule as a JSON-ready document (sets as sorted lists)."""
        c, a = self.conditions, self.actions
        return {
            "id": self.id,
            "brand_id": self.brand_id,
            "name": self.name,
            "position": self.position,
            "enabled": self.enabled,
            "is_default": self.is_default,
            "conditions": {
                "networks": sorted(n.value for n in c.networks),
                "kinds": sorted(k.value for k in c.kinds),
                "languages": sorted(c.languages),
                "sentiment_labels": sorted(str(label) for label in c.sentiment_labels),
                "min_sentiment_score": c.min_sentiment_score,
                "max_sentiment_score": c.max_sentiment_score,
                "text_keywords": sorted(c.text_keywords),
                "keyword_labels": sorted(c.keyword_labels),
                "topics": sorted(c.topics),
                "keyword_join": c.keyword_join,
                "priority_hints": sorted(p.value for p in c.priority_hints),
                "min_author_followers": c.min_author_followers,
                "author_verified": c.author_verified,
                "on_own_post": c.on_own_post,
            },
            "actions": {
                "department": a.department,
                "priority": a.priority.value if a.priority is not None else None,
                "tags": sorted(a.tags),
                "sla_policy_id": a.sla_policy_id,
                "assignment": a.assignment.value,
                "required_skills": sorted(s.value for s in a.required_skills),
            },
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, object]) -> RoutingRule:
        """A rule from ``to_doc``'s form; keys starting with ``_`` (storage metadata) are ignored.

        Missing condition or action keys take their defaults, so documents written before a
        condition existed still load; unknown keys are refused rather than silently dropped.
        """
        top = _Doc(doc, "rule")
        top.only(
            {"id", "brand_id", "name", "position", "enabled", "is_default", "conditions", "actions"}
        )
        conditions = top.sub("conditions")
        conditions.only(set(ConditionsDoc.__annotations__))
        actions = top.sub("actions")
        actions.only(set(ActionsDoc.__annotations__))
        join = conditions.string("keyword_join", "all")
        if join not in ("all", "any"):
            raise RoutingError(
                "routing.invalid_document", "conditions.keyword_join must be 'all' or 'any'"
            )
        priority = actions.optional_string("priority")
        return cls(
            id=top.string("id"),
            brand_id=top.string("brand_id"),
            name=top.string("name"),
            position=top.integer("position"),
            enabled=top.boolean("enabled", default=True),
            is_default=top.boolean("is_default", default=False),
            conditions=Conditions(
                networks=_enum_set(Network, conditions.strings("networks"), "networks"),
                kinds=_enum_set(MentionKind, conditions.strings("kinds"), "kinds"),
                languages=frozenset(conditions.strings("languages")),
                sentiment_labels=_sentiment_labels(conditions.strings("sentiment_labels")),
                min_sentiment_score=conditions.optional_number("min_sentiment_score"),
                max_sentiment_score=conditions.optional_number("max_sentiment_score"),
                text_keywords=frozenset(conditions.strings("text_keywords")),
                keyword_labels=frozenset(conditions.strings("keyword_labels")),
                topics=frozenset(conditions.strings("topics")),
                keyword_join="any" if join == "any" else "all",
                priority_hints=_enum_set(
                    Priority, conditions.strings("priority_hints"), "priority hints"
                ),
                min_author_followers=conditions.optional_integer("min_author_followers"),
                author_verified=conditions.optional_boolean("author_verified"),
                on_own_post=conditions.optional_boolean("on_own_post"),
            ),
            actions=Actions(
                department=actions.optional_string("department"),
                priority=None if priority is None else _enum_value(Priority, priority),
                tags=frozenset(actions.strings("tags")),
                sla_policy_id=actions.optional_string("sla_policy_id"),
                assignment=_enum_value(
                    AssignmentStrategy,
                    actions.string("assignment", AssignmentStrategy.ROUND_ROBIN.value),
                ),
                required_skills=_enum_set(
                    Skill,
                    actions.strings("required_skills", default=[s.value for s in Skill]),
                    "required skills",
                ),
            ),
        )


class ConditionsDoc(TypedDict):
    """Stored form of ``Conditions``."""

    networks: list[str]
    kinds: list[str]
    languages: list[str]
    sentiment_labels: list[str]
    min_sentiment_score: float | None
    max_sentiment_score: float | None
    text_keywords: list[str]
    keyword_labels: list[str]
    topics: list[str]
    keyword_join: str
    priority_hints: list[str]
    min_author_followers: int | None
    author_verified: bool | None
    on_own_post: bool | None


class ActionsDoc(TypedDict):
    """Stored form of ``Actions``."""

    department: str | None
    priority: str | None
    tags: list[str]
    sla_policy_id: str | None
    assignment: str
    required_skills: list[str]


class RoutingRuleDoc(TypedDict):
    """Stored form of ``RoutingRule``."""

    id: str
    brand_id: str
    name: str
    position: int
    enabled: bool
    is_default: bool
    conditions: ConditionsDoc
    actions: ActionsDoc


def _enum_value(kind: type[_E], value: str) -> _E:
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in kind)
        raise RoutingError(
            "routing.invalid_document", f"{value!r} is not one of: {allowed}"
        ) from exc


class _Doc:
    """Typed reads from an untyped stored document, failing with ``routing.invalid_document``."""

    def __init__(self, doc: object, where: str) -> None:
        if not isinstance(doc, Mapping):
            raise RoutingError("routing.invalid_document", f"{where} must be an object")
        self.doc: Mapping[object, object] = doc
        self.where = where

    def _fail(self, key: str, what: str) -> RoutingError:
        return RoutingError("routing.invalid_document", f"{self.where}.{key} must be {what}")

    def only(self, keys: set[str]) -> None:
        unknown = sorted(
            str(key) for key in self.doc if key not in keys and not str(key).startswith("_")
        )
        if unknown:
            raise RoutingError(
                "routing.invalid_document", f"{self.where} has unknown keys: {unknown}"
            )

    def sub(self, key: str) -> _Doc:
        return _Doc(self.doc.get(key, {}), f"{self.where}.{key}")

    def string(self, key: str, default: str | None = None) -> str:
        value = self.doc.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self.doc.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def integer(self, key: str) -> int:
        value = self.doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.doc.get(key) is None else self.integer(key)

    def optional_number(self, key: str) -> float | None:
        value = self.doc.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number or null")
        return float(value)

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.doc.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def optional_boolean(self, key: str) -> bool | None:
        value = self.doc.get(key)
        if value is not None and not isinstance(value, bool):
            raise self._fail(key, "true, false or null")
        return value

    def strings(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self.doc.get(key, [] if default is None else default)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._fail(key, "a list of strings")
        return [str(item) for item in value]


def default_rule(brand_id: str, *, actions: Actions | None = None) -> RoutingRule:
    """The brand's catch-all rule: no conditions, always last, never disabled or deleted.

    Its id is ``default-<brand_id>``, unique across brands as well as within one.
    """
    return RoutingRule(
        id=f"default-{brand_id}",
        brand_id=brand_id,
        name="Default",
        position=DEFAULT_POSITION,
        actions=Actions() if actions is None else actions,
        is_default=True,
    )


def ensure_deletable(rule: RoutingRule) -> None:
    """Raise ``RoutingError`` (``routing.default_not_deletable``) for the default rule."""
    if rule.is_default:
        raise RoutingError(
            "routing.default_not_deletable",
            f"rule {rule.id!r} is the brand's default and cannot be deleted",
        )


def validate_rules(rules: Sequence[RoutingRule], *, max_rules: int | None = MAX_RULES) -> None:
    """Check a brand's rule list as a whole: one brand, one default, unique ids and positions.

    ``max_rules=None`` skips the count check (routing must keep working for a brand that
    saved more rules before a limit was lowered); saving a list uses the limit.
    """
    brands = sorted({rule.brand_id for rule in rules})
    if len(brands) > 1:
        raise RoutingError("routing.mixed_brands", f"rules of several brands in one list: {brands}")
    # Before positions: two defaults share the default position, and this says why.
    defaults = [rule.id for rule in rules if rule.is_default]
    if not defaults:
        raise RoutingError("routing.no_default", "the rule list has no default rule")
    if len(defaults) > 1:
        raise RoutingError(
            "routing.multiple_defaults", f"the rule list has several default rules: {defaults}"
        )
    for attribute, code in (
        ("id", "routing.duplicate_id"),
        ("position", "routing.duplicate_position"),
    ):
        seen: dict[object, str] = {}
        for rule in rules:
            value = getattr(rule, attribute)
            if value in seen:
                raise RoutingError(
                    code,
                    f"rules {seen[value]!r} and {rule.id!r} have the same {attribute} {value!r}",
                )
            seen[value] = rule.id
    if max_rules is not None and len(rules) > max_rules:
        raise RoutingError(
            "routing.too_many_rules",
            f"{len(rules)} rules, at most {max_rules} per brand (default included)",
        )


# --- the decision ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """What routing decided for a case, and which rule decided it."""

    rule_id: str
    rule_name: str
    is_default: bool
    department: str | None
    priority: Priority
    tags: tuple[str, ...]
    sla_policy_id: str | None
    assignment: AssignmentStrategy
    #: The language an assignee must read, when the rule requires it and the mention has one.
    required_language: str | None
    #: The network an assignee must handle, when the rule requires it.
    required_network: Network | None

    @property
    def reason(self) -> str:
        """One line for the case timeline."""
        if self.is_default:
            return f"no routing rule matched; default rule {self.rule_name!r} applied"
        return f"matched routing rule {self.rule_name!r} ({self.rule_id})"


def route(rules: Sequence[RoutingRule], facts: RoutingFacts) -> RoutingDecision:
    """The first enabled rule by position whose conditions hold; the default rule otherwise."""
    validate_rules(rules, max_rules=None)
    chosen = next(
        (
            rule
            for rule in sorted(rules, key=lambda r: r.position)
            if not rule.is_default and rule.applies_to(facts)
        ),
        None,
    )
    if chosen is None:
        chosen = next(rule for rule in rules if rule.is_default)
    actions = chosen.actions
    return RoutingDecision(
        rule_id=chosen.id,
        rule_name=chosen.name,
        is_default=chosen.is_default,
        department=actions.department,
        priority=facts.priority_hint if actions.priority is None else actions.priority,
        tags=tuple(sorted(actions.tags)),
        sla_policy_id=actions.sla_policy_id,
        assignment=actions.assignment,
        required_language=facts.language if Skill.LANGUAGE in actions.required_skills else None,
        required_network=facts.network if Skill.NETWORK in actions.required_skills else None,
    )
