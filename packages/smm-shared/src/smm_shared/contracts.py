"""Published contracts: JSON Schema per event type, the topic map, and the v1 compatibility check.

``python -m smm_shared.contracts write`` regenerates ``contracts/`` from the models in
:mod:`smm_shared.events`; ``python -m smm_shared.contracts check`` fails on a breaking change
to a published schema or on committed files that no longer match the models. The rule the
check enforces is documented in ``docs/events.md`` ("Versioning and compatibility").

JSON documents are plain ``dict[str, Any]`` here on purpose: a JSON Schema is open-ended JSON.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from smm_shared.config import KafkaSettings
from smm_shared.events import BY_NAME, Event, dead_letter_topic, event_types

JsonSchema = dict[str, Any]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_DIR = Path("contracts")
SCHEMAS_SUBDIR = "schemas"
TOPICS_FILE = "topics.json"
REGENERATE_HINT = "run `make contracts` (python -m smm_shared.contracts write)"

# Keywords that bound a value from below / above: raising a lower bound or lowering an upper
# one narrows what is valid; the opposite widens it. Either changes the v1 contract.
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf", "uniqueItems")
_MISSING = object()


# --------------------------------------------------------------------------- generation


def schema_id(ce_type: str, version: int) -> str:
    """The schema's ``$id``; equal to the ``ce_dataschema`` header of its messages."""
    return f"urn:smm:schema:{ce_type}:v{version}"


def schema_version_of(cls: type[Event]) -> int:
    """The ``schema_version`` an event type is produced with."""
    default = cls.model_fields["schema_version"].default
    if not isinstance(default, int):
        raise TypeError(f"{cls.__name__}.schema_version must default to an int")
    return default


def schema_filename(ce_type: str, version: int) -> str:
    """File name of one event type's schema under ``contracts/schemas``."""
    return f"{ce_type}.v{version}.json"


def model_schema(model: type[BaseModel]) -> JsonSchema:
    """The JSON Schema of a model's JSON as :meth:`Event.to_json` writes it (draft 2020-12)."""
    schema = model.model_json_schema(mode="serialization")
    defs: JsonSchema = schema.get("$defs", {})
    _mark_wire_required(schema, defs)
    for definition in defs.values():
        _mark_wire_required(definition, defs)
    return schema


def _mark_wire_required(node: JsonSchema, defs: Mapping[str, JsonSchema]) -> None:
    """Required = always on the wire: ``to_json`` drops only None, so every non-nullable field."""
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return
    required = sorted(name for name, prop in properties.items() if not _nullable(prop, defs))
    if required:
        node["required"] = required
    else:
        node.pop("required", None)


def _nullable(node: Any, defs: Mapping[str, JsonSchema], depth: int = 0) -> bool:
    if not isinstance(node, dict) or depth > 32:
        return True
    if "$ref" in node:
        target = defs.get(str(node["$ref"]).rsplit("/", 1)[-1])
        return target is None or _nullable(target, defs, depth + 1)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return any(_nullable(branch, defs, depth + 1) for branch in node[key])
    kind = node.get("type")
    if kind is not None:
        return kind == "null" or (isinstance(kind, list) and "null" in kind)
    if "const" in node:
        return node["const"] is None
    if "enum" in node:
        return None in node["enum"]
    # An unconstrained schema ({} from ``Any``) admits null.
    return not any(k in node for k in ("properties", "items", "prefixItems", "allOf"))


def event_schema(cls: type[Event]) -> JsonSchema:
    """The published JSON Schema of one event type, with ``$id`` and the ``x-smm`` annotation."""
    doc = cls.__dict__.get("__doc__")
    if not doc:
        raise ValueError(f"{cls.__name__} needs a docstring: it is the schema's description")
    topic = BY_NAME.get(cls.topic)
    if topic is None:
        raise ValueError(f"{cls.__name__}.topic {cls.topic!r} is not in the topic registry")
    version = schema_version_of(cls)
    schema = model_schema(cls)
    schema.update(
        {
            "$schema": SCHEMA_DIALECT,
            "$id": schema_id(cls.event_type, version),
            "title": cls.__name__,
            "description": inspect.cleandoc(doc),
            "x-smm": {
                "ce_type": cls.event_type,
                "schema_version": version,
                "topic": topic.name,
                "key": topic.key,
            },
        }
    )
    return schema


def event_schemas(types: Mapping[str, type[Event]] | None = None) -> dict[str, JsonSchema]:
    """Every registered event type's schema by its file name."""
    registry = event_types() if types is None else types
    return {
        schema_filename(ce_type, schema_version_of(cls)): event_schema(cls)
        for ce_type, cls in sorted(registry.items())
    }


def topics_document(types: Mapping[str, type[Event]] | None = None) -> JsonSchema:
    """The topic map: each topic's key, partitions, retention and the event types on it."""
    registry = event_types() if types is None else types
    on_topic: dict[str, list[JsonSchema]] = {name: [] for name in BY_NAME}
    for ce_type, cls in sorted(registry.items()):
        if cls.topic not in on_topic:
            raise ValueError(f"{cls.__name__}.topic {cls.topic!r} is not in the topic registry")
        version = schema_version_of(cls)
        on_topic[cls.topic].append(
            {
                "ce_type": ce_type,
                "schema": f"{SCHEMAS_SUBDIR}/{schema_filename(ce_type, version)}",
                "schema_id": schema_id(ce_type, version),
            }
        )
    dlq = dead_letter_topic("{group_id}")
    return {
        "default_partitions": KafkaSettings.model_fields["default_partitions"].default,
        "topics": [
            {
                "name": spec.name,
                "key": spec.key,
                "description": spec.description,
                "partitions": spec.partitions,
                "retention_ms": spec.retention_ms,
                "event_types": on_topic[spec.name],
            }
            for spec in BY_NAME.values()
        ],
        "dead_letter": {
            "name": dlq.name,
            "key": dlq.key,
            "description": dlq.description,
            "partitions": dlq.partitions,
            "retention_ms": dlq.retention_ms,
        },
    }


def render(document: Mapping[str, Any]) -> str:
    """Stable text of a JSON document: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_contracts(
    directory: Path, *, types: Mapping[str, type[Event]] | None = None
) -> list[Path]:
    """Write every schema and ``topics.json`` under ``directory``; return the files changed."""
    schemas_dir = directory / SCHEMAS_SUBDIR
    schemas_dir.mkdir(parents=True, exist_ok=True)
    wanted = {schemas_dir / name: render(s) for name, s in event_schemas(types).items()}
    wanted[directory / TOPICS_FILE] = render(topics_document(types))
    changed: list[Path] = []
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for stale in sorted(schemas_dir.glob("*.json")):
        if stale not in wanted:
            stale.unlink()
            changed.append(stale)
    return changed


# --------------------------------------------------------------------------- loading


def load_schemas(directory: Path) -> dict[str, JsonSchema]:
    """The committed schemas under ``directory/schemas`` by file name."""
    schemas_dir = directory / SCHEMAS_SUBDIR
    if not schemas_dir.is_dir():
        return {}
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(schemas_dir.glob("*.json"))
    }


def load_topics(directory: Path) -> JsonSchema | None:
    """The committed ``topics.json``, or None when there is none."""
    path = directory / TOPICS_FILE
    if not path.is_file():
        return None
    loaded: JsonSchema = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def load_git_baseline(ref: str, directory: Path) -> tuple[dict[str, JsonSchema], JsonSchema | None]:
    """The schemas and topic map committed at git ``ref`` (empty if ``directory`` is new there)."""
    git = shutil.which("git")
    if git is None:
        raise RuntimeError("git is not on PATH")
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> str:
        # Fixed argv, no shell: the ref is passed as one argument.
        done = subprocess.run(  # noqa: S603
            [git, *args], cwd=directory, check=True, capture_output=True, text=True
        )
        return done.stdout

    schemas: dict[str, JsonSchema] = {}
    for rel in run("ls-tree", "--name-only", ref, "--", f"{SCHEMAS_SUBDIR}/").splitlines():
        if rel.endswith(".json"):
            schemas[Path(rel).name] = json.loads(run("show", f"{ref}:./{rel}"))
    topics: JsonSchema | None = None
    if run("ls-tree", "--name-only", ref, "--", TOPICS_FILE).strip():
        topics = json.loads(run("show", f"{ref}:./{TOPICS_FILE}"))
    return schemas, topics


# --------------------------------------------------------------------------- compatibility


def check_compatible(old_schema: Mapping[str, Any], new_schema: Mapping[str, Any]) -> list[str]:
    """Breaking changes from ``old_schema`` to ``new_schema`` for producers and subscribers."""
    comparer = _Comparer(dict(old_schema), dict(new_schema))
    old_x = old_schema.get("x-smm", {})
    new_x = new_schema.get("x-smm", {})
    for key in ("ce_type", "topic", "key"):
        if key in old_x and old_x.get(key) != new_x.get(key):
            comparer.report("x-smm", f"{key} changed from {old_x[key]!r} to {new_x.get(key)!r}")
    comparer.compare(dict(old_schema), dict(new_schema), "")
    return comparer.problems


def check_topics(old_doc: Mapping[str, Any] | None, new_doc: Mapping[str, Any]) -> list[str]:
    """Breaking changes to the topic map: a topic removed, its key or partition count changed."""
    if old_doc is None:
        return []
    new_topics = {t["name"]: t for t in new_doc.get("topics", [])}
    problems: list[str] = []
    for old in old_doc.get("topics", []):
        name = old["name"]
        new = new_topics.get(name)
        if new is None:
            problems.append(f"{TOPICS_FILE}: topic {name} removed")
            continue
        if old.get("key") != new.get("key"):
            problems.append(
                f"{TOPICS_FILE}: {name} key changed from {old.get('key')!r} to {new.get('key')!r}"
            )
        if old.get("partitions") != new.get("partitions"):
            # Changing the count remaps keys to partitions: per-key order breaks across it.
            problems.append(
                f"{TOPICS_FILE}: {name} partitions changed from {old.get('partitions')} "
                f"to {new.get('partitions')}"
            )
    return problems


def breaking_changes(
    baseline: Mapping[str, JsonSchema],
    baseline_topics: Mapping[str, Any] | None,
    *,
    types: Mapping[str, type[Event]] | None = None,
) -> list[str]:
    """Breaking changes between a baseline of published contracts and the current models."""
    current = event_schemas(types)
    problems: list[str] = []
    for name, old in sorted(baseline.items()):
        new = current.get(name)
        if new is None:
            problems.append(
                f"{name}: event type removed or its schema_version changed; subscribers still "
                "expect it (retire it by deleting the file after the deprecation window)"
            )
            continue
        problems.extend(f"{name}: {p}" for p in check_compatible(old, new))
    problems.extend(check_topics(baseline_topics, topics_document(types)))
    return problems


def stale_contracts(
    directory: Path, *, types: Mapping[str, type[Event]] | None = None
) -> list[str]:
    """Committed files that are missing or differ from what the current models generate."""
    current = event_schemas(types)
    committed = load_schemas(directory)
    registry = event_types() if types is None else types
    by_file = {schema_filename(t, schema_version_of(c)): t for t, c in registry.items()}
    problems: list[str] = []
    for name, schema in current.items():
        path = directory / SCHEMAS_SUBDIR / name
        if name not in committed:
            problems.append(
                f"{path}: no committed schema for event type {by_file[name]}; {REGENERATE_HINT}"
            )
        elif committed[name] != schema:
            problems.append(f"{path}: out of date with the model; {REGENERATE_HINT}")
    for name in committed.keys() - current.keys():
        problems.append(f"{directory / SCHEMAS_SUBDIR / name}: no current event type")
    if load_topics(directory) != topics_document(types):
        problems.append(f"{directory / TOPICS_FILE}: missing or out of date; {REGENERATE_HINT}")
    return sorted(problems)


def check_contracts(
    directory: Path,
    *,
    baseline: tuple[Mapping[str, JsonSchema], Mapping[str, Any] | None] | None = None,
    types: Mapping[str, type[Event]] | None = None,
) -> list[str]:
    """Breaking changes against ``baseline`` (default: the committed files) plus stale files."""
    if baseline is None:
        baseline = (load_schemas(directory), load_topics(directory))
    breaking = breaking_changes(baseline[0], baseline[1], types=types)
    broken_files = {p.split(":", 1)[0] for p in breaking}
    # A file with breaking changes is also "out of date"; say it once, the louder way.
    stale = [
        p
        for p in stale_contracts(directory, types=types)
        if Path(p.split(":", 1)[0]).name not in broken_files
    ]
    return breaking + stale


class _Comparer:
    """Walks an old and a new schema side by side, collecting what breaks a v1 contract."""

    def __init__(self, old_root: JsonSchema, new_root: JsonSchema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []
        self._seen: set[tuple[str, str]] = set()

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '<root>'}: {message}")

    def compare(self, old: Any, new: Any, path: str) -> None:
        old_branches = self._branches(old, self.old_root)
        new_branches = self._branches(new, self.new_root)
        if len(old_branches) == 1 and len(new_branches) == 1:
            self._compare_branch(old_branches[0], new_branches[0], path)
            return
        old_keys = _branch_keys(old_branches, new_branches)
        new_keys = _branch_keys(new_branches, old_branches)
        old_by_key = dict(zip(old_keys, old_branches, strict=True))
        new_by_key = dict(zip(new_keys, new_branches, strict=True))
        gone = [k for k in old_keys if k not in new_by_key]
        added = [k for k in new_keys if k not in old_by_key]
        if gone and added:
            self.report(path, f"type changed from {_join(old_keys)} to {_join(new_keys)}")
        elif gone:
            self.report(path, f"type narrowed: no longer accepts {_join(gone)}")
        elif added:
            self.report(path, f"type widened: subscribers may now get {_join(added)}")
        for key in old_keys:
            if key in new_by_key:
                self._compare_branch(old_by_key[key], new_by_key[key], path)

    def _branches(self, node: Any, root: JsonSchema) -> list[tuple[JsonSchema, str | None]]:
        resolved, ref = _resolve(node, root)
        for key in ("anyOf", "oneOf"):
            if key in resolved:
                flat: list[tuple[JsonSchema, str | None]] = []
                for branch in resolved[key]:
                    flat.extend(self._branches(branch, root))
                return flat
        kind = resolved.get("type")
        if isinstance(kind, list):
            return [({**resolved, "type": k}, ref) for k in kind]
        return [(resolved, ref)]

    def _compare_branch(
        self, old_b: tuple[JsonSchema, str | None], new_b: tuple[JsonSchema, str | None], path: str
    ) -> None:
        (old, old_ref), (new, new_ref) = old_b, new_b
        if old_ref is not None and new_ref is not None:
            if (old_ref, new_ref) in self._seen:  # recursive model: compared once is enough
                return
            self._seen.add((old_ref, new_ref))
        old_kind, new_kind = _kind(old), _kind(new)
        if old_kind != new_kind:
            self.report(path, f"type changed from {old_kind} to {new_kind}")
            return
        self._compare_values(old, new, path)
        if old_kind == "object":
            self._compare_objects(old, new, path)
        elif old_kind == "array":
            self._compare_arrays(old, new, path)

    def _compare_values(self, old: JsonSchema, new: JsonSchema, path: str) -> None:
        old_const, new_const = old.get("const", _MISSING), new.get("const", _MISSING)
        if old_const != new_const:
            self.report(path, f"const changed from {_show(old_const)} to {_show(new_const)}")
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if old_enum is not None and new_enum is not None:
            removed = [v for v in old_enum if v not in new_enum]
            if removed:
                self.report(path, f"enum values removed: {', '.join(map(repr, removed))}")
        elif old_enum is None and new_enum is not None and old_const is _MISSING:
            self.report(path, "narrowed to an enum: values valid before are now rejected")
        elif old_enum is not None and new_enum is None and new_const is _MISSING:
            self.report(path, "enum dropped: subscribers may now get any value")
        for key in _LOWER_BOUNDS + _UPPER_BOUNDS + _EXACT:
            before, after = old.get(key, _MISSING), new.get(key, _MISSING)
            if before == after:
                continue
            if _tightened(key, before, after):
                self.report(path, f"{key} narrowed from {_show(before)} to {_show(after)}")
            else:
                self.report(path, f"{key} widened from {_show(before)} to {_show(after)}")

    def _compare_objects(self, old: JsonSchema, new: JsonSchema, path: str) -> None:
        old_props: JsonSchema = old.get("properties", {})
        new_props: JsonSchema = new.get("properties", {})
        old_req, new_req = set(old.get("required", ())), set(new.get("required", ()))
        for name, old_prop in old_props.items():
            where = f"{path}.{name}" if path else name
            if name not in new_props:
                self.report(where, "property removed")
                continue
            if name in old_req and name not in new_req:
                self.report(where, "no longer always present (subscribers rely on it)")
            elif name not in old_req and name in new_req:
                self.report(where, "became required (messages valid before may lack it)")
            self.compare(old_prop, new_props[name], where)
        for name in new_props.keys() - old_props.keys():
            if name in new_req:
                where = f"{path}.{name}" if path else name
                self.report(where, "new required property (messages valid before lack it)")
        self._compare_additional(old, new, path)

    def _compare_additional(self, old: JsonSchema, new: JsonSchema, path: str) -> None:
        before = _additional(old.get("additionalProperties", True))
        after = _additional(new.get("additionalProperties", True))
        if before is False:
            return  # closed -> anything: only new optional properties, which the policy allows
        if after is False:
            self.report(path, "additionalProperties tightened to false")
        elif isinstance(before, dict) and isinstance(after, dict):
            self.compare(before, after, f"{path}{{*}}")
        elif before is True and isinstance(after, dict):
            self.report(path, "additionalProperties tightened to a schema")
        elif isinstance(before, dict) and after is True:
            self.report(path, "additionalProperties widened: values no longer constrained")

    def _compare_arrays(self, old: JsonSchema, new: JsonSchema, path: str) -> None:
        old_items, new_items = old.get("items", _MISSING), new.get("items", _MISSING)
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            self.compare(old_items, new_items, f"{path}[]")
        elif old_items is _MISSING and isinstance(new_items, dict):
            self.report(path, "items narrowed to a schema")
        elif isinstance(old_items, dict) and new_items is _MISSING:
            self.report(path, "items widened: no longer constrained")
        old_prefix: list[Any] = old.get("prefixItems", [])
        new_prefix: list[Any] = new.get("prefixItems", [])
        if len(old_prefix) != len(new_prefix):
            self.report(path, f"tuple length changed from {len(old_prefix)} to {len(new_prefix)}")
        for index, (before, after) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            self.compare(before, after, f"{path}[{index}]")


def _resolve(node: Any, root: JsonSchema) -> tuple[JsonSchema, str | None]:
    """Follow local ``$ref``s; keywords next to a ``$ref`` override the target's."""
    if not isinstance(node, dict):
        return ({} if node is True else {"not": {}}), None
    ref: str | None = None
    hops = 0
    while "$ref" in node and hops < 32:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, got {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        hops += 1
    return node, ref


def _kind(node: JsonSchema) -> str:
    kind = node.get("type")
    if isinstance(kind, str):
        return kind
    if "const" in node:
        return _json_type(node["const"])
    if "enum" in node:
        return "|".join(sorted({_json_type(v) for v in node["enum"]}))
    if "properties" in node or "additionalProperties" in node:
        return "object"
    if "items" in node or "prefixItems" in node:
        return "array"
    if "not" in node:
        return "nothing"
    return "any"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _branch_keys(
    branches: Sequence[tuple[JsonSchema, str | None]],
    others: Sequence[tuple[JsonSchema, str | None]],
) -> list[str]:
    """Match union branches by type; by type and title where one type appears more than once."""
    kinds = [_kind(b) for b, _ in branches]
    other_kinds = [_kind(b) for b, _ in others]
    keys = []
    for kind, (branch, ref) in zip(kinds, branches, strict=True):
        if kinds.count(kind) > 1 or other_kinds.count(kind) > 1:
            name = branch.get("title") or (ref.rsplit("/", 1)[-1] if ref else "?")
            keys.append(f"{kind} {name}")
        else:
            keys.append(kind)
    return keys


def _additional(value: Any) -> bool | JsonSchema:
    if value is True or value == {}:
        return True
    if value is False:
        return False
    return dict(value)


def _tightened(key: str, before: Any, after: Any) -> bool:
    if key in _LOWER_BOUNDS:
        return before is _MISSING or (after is not _MISSING and after > before)
    if key in _UPPER_BOUNDS:
        return before is _MISSING or (after is not _MISSING and after < before)
    if key == "uniqueItems":
        return bool(after is True)
    # pattern / format / multipleOf: adding one narrows; changing or dropping one we cannot
    # order, so call a change narrowing and only a removal widening.
    return after is not _MISSING


def _show(value: Any) -> str:
    return "(none)" if value is _MISSING else json.dumps(value)


def _join(keys: Sequence[str]) -> str:
    return " | ".join(keys)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``write`` regenerates ``contracts/``; ``check`` exits 1 on a breaking or stale contract."""
    parser = argparse.ArgumentParser(
        prog="python -m smm_shared.contracts",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="regenerate the schemas and topics.json")
    write.add_argument(
        "--allow-breaking",
        action="store_true",
        help="overwrite published schemas even when the change breaks them (pre-release only)",
    )
    check = sub.add_parser("check", help="fail on breaking changes and on stale committed files")
    check.add_argument(
        "--against",
        metavar="GIT_REF",
        help="compare with the contracts committed at this ref (CI: the target branch)",
    )
    for command in (write, check):
        command.add_argument(
            "directory",
            nargs="?",
            type=Path,
            default=DEFAULT_DIR,
            help="the contracts directory (default: ./contracts)",
        )
    args = parser.parse_args(argv)
    directory: Path = args.directory

    if args.command == "write":
        breaking = breaking_changes(load_schemas(directory), load_topics(directory))
        if breaking and not args.allow_breaking:
            _print_problems(
                "refusing to overwrite published contracts with breaking changes", breaking
            )
            print(
                "a v1 contract only grows; publish a new type (…v2) instead, see docs/events.md",
                file=sys.stderr,
            )
            return 1
        changed = write_contracts(directory)
        for path in changed:
            print(f"wrote {path}")
        print(f"contracts up to date in {directory} ({len(changed)} file(s) changed)")
        return 0

    baseline: tuple[Mapping[str, JsonSchema], Mapping[str, Any] | None] | None = None
    if args.against:
        try:
            baseline = load_git_baseline(args.against, directory)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            stderr = getattr(exc, "stderr", "") or ""
            print(
                f"cannot read contracts at {args.against}: {exc} {stderr}".strip(), file=sys.stderr
            )
            return 2
    problems = check_contracts(directory, baseline=baseline)
    if problems:
        _print_problems("contract check failed", problems)
        return 1
    print(f"contracts OK: {len(event_types())} event types, {len(BY_NAME)} topics")
    return 0


def _print_problems(title: str, problems: Sequence[str]) -> None:
    print(f"{title}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
