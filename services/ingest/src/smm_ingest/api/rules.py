"""Keyword rules: what the brand, its competitors and the topics it follows are called."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from smm_ingest.adapters.rules_repo import KeywordRuleRepository
from smm_ingest.domain.keywords import QueryError, parse_query
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.http import ApiError
from smm_shared.mongo import Document, new_id

router = APIRouter(prefix="/v1/keyword-rules", tags=["keyword rules"])


class RuleIn(BaseModel):
    """A monitored query. Brand and competitor matches feed share of voice; topics tag mentions."""

    model_config = ConfigDict(extra="forbid")

    brand_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    query: str = Field(
        min_length=1,
        max_length=4000,
        description='Terms, "phrases", AND, OR, NOT or -term, parentheses, prefix*, #hashtag, @handle',
    )
    kind: Literal["brand", "competitor", "topic"]
    label: str = Field(min_length=1, max_length=100)


class RuleOut(RuleIn):
    """A stored rule."""

    id: str


class RuleTest(BaseModel):
    """Try a query against sample texts before saving it."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4000)
    texts: list[str] = Field(min_length=1, max_length=100)


def _repo(request: Request) -> KeywordRuleRepository:
    repo: KeywordRuleRepository = request.app.state.rules
    return repo


Repo = Annotated[KeywordRuleRepository, Depends(_repo)]
Editor = Annotated[Principal, Depends(require_permission(Permission.SETTINGS_WRITE))]
Reader = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_READ))]


def _checked(query: str) -> str:
    try:
        parse_query(query)
    except QueryError as exc:
        raise ApiError(
            422,
            "rule.invalid_query",
            str(exc),
            details={"position": exc.position, "reason": exc.reason},
        ) from None
    return query


def _out(doc: Document) -> RuleOut:
    return RuleOut(
        id=doc["_id"], **{k: doc[k] for k in ("brand_id", "name", "query", "kind", "label")}
    )


async def _owned(repo: Repo, principal: Principal, rule_id: str) -> Document:
    doc = await repo.get(rule_id)
    if doc is None or not principal.can_access(doc["brand_id"]):
        raise ApiError(404, "rule.not_found", f"No keyword rule {rule_id}")
    return doc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RuleOut)
async def create_rule(body: RuleIn, principal: Editor, repo: Repo) -> RuleOut:
    """Add a rule; it applies to mentions stored from a few seconds later."""
    ensure_brand(principal, body.brand_id)
    doc: Document = {"_id": new_id(), **body.model_dump()}
    doc["query"] = _checked(body.query)
    await repo.insert(doc)
    return _out(doc)


@router.get("", response_model=list[RuleOut])
async def list_rules(
    principal: Reader, repo: Repo, brand_id: Annotated[str, Query(min_length=1, max_length=64)]
) -> list[RuleOut]:
    """A brand's rules."""
    ensure_brand(principal, brand_id)
    return [_out(d) for d in await repo.list_docs(brand_id)]


@router.put("/{rule_id}", response_model=RuleOut)
async def replace_rule(rule_id: str, body: RuleIn, principal: Editor, repo: Repo) -> RuleOut:
    """Change a rule (not its brand)."""
    doc = await _owned(repo, principal, rule_id)
    if body.brand_id != doc["brand_id"]:
        raise ApiError(422, "rule.brand_change", "A rule cannot move to another brand")
    new: Document = {"_id": rule_id, **body.model_dump()}
    new["query"] = _checked(body.query)
    await repo.replace(new)
    return _out(new)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(rule_id: str, principal: Editor, repo: Repo) -> Response:
    """Remove a rule."""
    await repo.delete(await _owned(repo, principal, rule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/test")
async def test_rule(body: RuleTest, principal: Reader) -> dict[str, list[bool]]:
    """Which of ``texts`` the query matches (nothing is stored)."""
    query = parse_query(_checked(body.query))
    return {"matches": [query.matches(t) for t in body.texts]}
