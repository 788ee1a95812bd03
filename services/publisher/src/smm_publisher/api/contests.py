"""Contest routes: set up, open, draw, certify and announce a contest, and see its entries.

Reading needs ``content:read``; creating, editing, opening and announcing need
``content:write``; drawing needs ``content:approve`` (SMM managers, admins). A contest of a
brand the caller cannot see is 404, as if it did not exist. Refusals carry the domain's
stable code: 422 when the request itself is wrong, 409 when the contest's state does not
allow it now, 503 when this deployment cannot do it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smm_publisher.adapters.contests_repo import CursorError, Page
from smm_publisher.domain.contests import (
    Certificate,
    Contest,
    ContestError,
    ContestStatus,
    EntryMethod,
    UnknownPolicy,
    verify,
)
from smm_publisher.services.contests import (
    ContestConflictError,
    ContestNotFoundError,
    ContestService,
    ContestSpec,
    ContestUnavailableError,
)
from smm_shared.auth import Permission, Principal, ensure_brand, require_permission
from smm_shared.events import Network
from smm_shared.http import ApiError
from smm_shared.mongo import Document, from_epoch_ms

router = APIRouter(prefix="/v1/contests", tags=["contests"])

#: Domain codes that mean "not in this state", not "a wrong request".
STATE_CONFLICTS = frozenset(
    {
        "contest.invalid_transition",
        "contest.not_closed",
        "contest.seed_mismatch",
        "contest.invalid_seed",
        "contest.certificate_mismatch",
        "contest.certificate_invalid",
    }
)

StatusName = Literal["draft", "open", "closed", "drawn", "announced"]
MethodName = Literal["hashtag", "reply", "repost"]
PolicyName = Literal["accept", "reject"]
Listed = Annotated[str, Field(min_length=1, max_length=256)]


def _service(request: Request) -> ContestService:
    service: ContestService = request.app.state.contests
    return service


Service = Annotated[ContestService, Depends(_service)]
Reader = Annotated[Principal, Depends(require_permission(Permission.CONTENT_READ))]
Writer = Annotated[Principal, Depends(require_permission(Permission.CONTENT_WRITE))]
Approver = Annotated[Principal, Depends(require_permission(Permission.CONTENT_APPROVE))]
Cursor = Annotated[str | None, Query(max_length=256)]
Limit = Annotated[int, Query(ge=1, le=200)]


class ContestIn(BaseModel):
    """A contest on one of the brand's posts: how to enter, who may win, and how many."""

    model_config = ConfigDict(extra="forbid")
    brand_id: str = Field(min_length=1, max_length=64)
    title: str = Field(default="", max_length=200)
    network: Network
    #: The native id of the contest post on its network.
    post_native_id: str = Field(min_length=1, max_length=256)
    #: Where comments live in a thread apart from the post (else leave out).
    thread_native_id: str | None = Field(default=None, min_length=1, max_length=256)
    #: Entries count from ``opens_at`` (inclusive) to ``closes_at`` (exclusive).
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    methods: list[MethodName] = Field(min_length=1, max_length=3)
    #: Needed when ``hashtag`` is a method; with or without the ``#``.
    hashtag: str | None = Field(default=None, min_length=1, max_length=100)
    winner_count: int = Field(default=1, ge=1, le=1000)
    min_followers: int = Field(default=0, ge=0)
    #: What to do where the network does not report followers.
    unknown_followers: PolicyName = "accept"
    min_account_age_days: int = Field(default=0, ge=0, le=36_500)
    unknown_account_age: PolicyName = "accept"
    #: Author ids or handles that may not enter.
    blocked: list[Listed] = Field(default=[], max_length=10_000)
    #: Employees' author ids or handles: they may not enter.
    employees: list[Listed] = Field(default=[], max_length=10_000)

    def spec(self) -> ContestSpec:
        """The set-up as the service takes it."""
        return ContestSpec(
            network=self.network,
            post_native_id=self.post_native_id,
            thread_native_id=self.thread_native_id,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            methods=frozenset(EntryMethod(m) for m in self.methods),
            hashtag=self.hashtag,
            title=self.title,
            winner_count=self.winner_count,
            min_followers=self.min_followers,
            unknown_followers=UnknownPolicy(self.unknown_followers),
            min_account_age_days=self.min_account_age_days,
            unknown_account_age=UnknownPolicy(self.unknown_account_age),
            blocked=frozenset(self.blocked),
            employees=frozenset(self.employees),
        )


class ContestReplaceIn(ContestIn):
    """A draft's new set-up, with the ``version`` you read (a stale one is 409)."""

    version: int = Field(ge=1)


class ContestOut(BaseModel):
    """A contest; ``commitment`` is published at opening, ``winners`` at the draw."""

    id: str
    brand_id: str
    title: str
    network: Network
    post_native_id: str
    thread_native_id: str | None = None
    opens_at: datetime
    closes_at: datetime
    methods: list[MethodName]
    hashtag: str | None = None
    winner_count: int
    min_followers: int
    unknown_followers: PolicyName
    min_account_age_days: int
    unknown_account_age: PolicyName
    blocked: list[str]
    employees: list[str]
    status: StatusName
    commitment: str | None = None
    winners: list[str] = []
    announcement_id: str | None = None
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    drawn_at: datetime | None = None
    announced_at: datetime | None = None
    version: int


class ContestPage(BaseModel):
    """A page of contests, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[ContestOut]
    next_cursor: str | None = None


class CertificateOut(BaseModel):
    """The draw's certificate: recompute the winners from it (docs/publisher.md)."""

    contest_id: str
    algorithm: str
    algorithm_version: int
    seed: str
    commitment: str
    winner_count: int
    entries: list[str]
    entry_list_digest: str
    winners: list[str]
    drawn_at: datetime
    #: Whether the certificate checks out (``verify``): seed, commitment, digest, winners.
    verified: bool


class DecisionOut(BaseModel):
    """Whether an entry counts: ``eligible``, or the stable code of the reason it does not."""

    code: str
    eligible: bool
    method: str | None = None
    message: str = ""


class EntryOut(BaseModel):
    """One mention that entered the contest, and its decision."""

    mention_id: str
    native_id: str | None = None
    author_key: str
    author_id: str
    author_handle: str | None = None
    author_followers: int | None = None
    kind: str
    text: str
    created_at: datetime
    received_at: datetime
    withdrawn: bool = False
    decision: DecisionOut


class EntryPage(BaseModel):
    """A page of entries in the order they were made."""

    items: list[EntryOut]
    next_cursor: str | None = None


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else from_epoch_ms(int(ms))


def contest_out(doc: Document) -> ContestOut:
    """A stored contest as the API shows it (the sealed seed is never read into it)."""
    contest = Contest.from_doc(doc)
    return ContestOut(
        id=contest.id,
        brand_id=contest.brand_id,
        title=contest.title,
        network=contest.network,
        post_native_id=contest.post_native_id,
        thread_native_id=contest.thread_native_id,
        opens_at=contest.opens_at,
        closes_at=contest.closes_at,
        methods=sorted(m.value for m in contest.methods),
        hashtag=contest.hashtag,
        winner_count=contest.winner_count,
        min_followers=contest.min_followers,
        unknown_followers=contest.unknown_followers.value,
        min_account_age_days=contest.min_account_age_days,
        unknown_account_age=contest.unknown_account_age.value,
        blocked=sorted(contest.blocked),
        employees=sorted(contest.employees),
        status=contest.status.value,
        commitment=contest.commitment,
        winners=list(contest.winners),
        announcement_id=doc.get("announcement_id"),
        created_at=from_epoch_ms(int(doc["created_ms"])),
        opened_at=_time(doc.get("opened_ms")),
        closed_at=_time(doc.get("closed_ms")),
        drawn_at=_time(doc.get("drawn_ms")),
        announced_at=_time(doc.get("announced_ms")),
        version=int(doc["version"]),
    )


def certificate_out(certificate: Certificate) -> CertificateOut:
    """The certificate as published, with whether it verifies."""
    return CertificateOut(
        contest_id=certificate.contest_id,
        algorithm=certificate.algorithm,
        algorithm_version=certificate.algorithm_version,
        seed=certificate.seed,
        commitment=certificate.commitment,
        winner_count=certificate.winner_count,
        entries=list(certificate.entries),
        entry_list_digest=certificate.entry_list_digest,
        winners=list(certificate.winners),
        drawn_at=certificate.drawn_at,
        verified=verify(certificate),
    )


def entry_out(doc: Document) -> EntryOut:
    """A stored entry with its decision."""
    entry = doc["entry"]
    decision = doc.get("decision") or {}
    code = str(decision.get("code", "eligible"))
    return EntryOut(
        mention_id=str(doc["mention_id"]),
        native_id=doc.get("native_id"),
        author_key=str(doc["author_key"]),
        author_id=str(entry["author_id"]),
        author_handle=entry.get("author_handle"),
        author_followers=entry.get("author_followers"),
        kind=str(entry["kind"]),
        text=str(entry.get("text", "")),
        created_at=datetime.fromisoformat(str(entry["created_at"])),
        received_at=from_epoch_ms(int(doc["received_ms"])),
        withdrawn=bool(doc.get("withdrawn")),
        decision=DecisionOut(
            code=code,
            eligible=code == "eligible",
            method=decision.get("method"),
            message=str(decision.get("message", "")),
        ),
    )


def _api_error(exc: Exception, contest_id: str | None = None) -> ApiError:
    """The HTTP form of a refusal; anything else is not ours to translate."""
    if isinstance(exc, ContestNotFoundError):
        return ApiError(404, "contest.not_found", f"No contest {contest_id or exc}.")
    if isinstance(exc, ContestUnavailableError):
        return ApiError(503, exc.code, exc.message)
    if isinstance(exc, ContestConflictError) or (
        isinstance(exc, ContestError) and exc.code in STATE_CONFLICTS
    ):
        assert isinstance(exc, ContestError)
        return ApiError(409, exc.code, exc.message)
    if isinstance(exc, ContestError):
        return ApiError(422, exc.code, exc.message)
    if isinstance(exc, CursorError):
        return ApiError(422, "cursor.invalid", "cursor is not one this list returned")
    raise exc


_REFUSALS = (ContestNotFoundError, ContestError, CursorError)


@router.post("", response_model=ContestOut, status_code=status.HTTP_201_CREATED)
async def create_contest(body: ContestIn, principal: Writer, service: Service) -> ContestOut:
    """Set up a draft contest on one of the brand's posts."""
    ensure_brand(principal, body.brand_id)
    try:
        doc = await service.create(
            body.spec(), brand_id=body.brand_id, actor=f"user:{principal.subject}"
        )
    except _REFUSALS as exc:
        raise _api_error(exc) from None
    return contest_out(doc)


@router.get("", response_model=ContestPage)
async def list_contests(
    principal: Reader,
    service: Service,
    brand_id: Annotated[str, Query(min_length=1, max_length=64)],
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ContestPage:
    """The brand's contests, newest first, optionally in one status."""
    ensure_brand(principal, brand_id)
    try:
        page: Page = await service.list(
            brand_id=brand_id,
            status=None if status_ is None else ContestStatus(status_),
            cursor=cursor,
            limit=limit,
        )
    except _REFUSALS as exc:
        raise _api_error(exc) from None
    return ContestPage(items=[contest_out(d) for d in page.docs], next_cursor=page.next_cursor)


@router.get("/{contest_id}", response_model=ContestOut)
async def get_contest(contest_id: str, principal: Reader, service: Service) -> ContestOut:
    """One contest."""
    try:
        return contest_out(await service.get(contest_id, brand_ok=principal.can_access))
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None


@router.put("/{contest_id}", response_model=ContestOut)
async def replace_contest(
    contest_id: str, body: ContestReplaceIn, principal: Writer, service: Service
) -> ContestOut:
    """Replace a draft's set-up (send the ``version`` you read; a stale one is 409)."""
    try:
        current = await service.get(contest_id, brand_ok=principal.can_access)
        if current["brand_id"] != body.brand_id:
            raise ContestError("contest.brand_mismatch", "A contest cannot move to another brand.")
        doc = await service.replace(
            contest_id,
            body.spec(),
            version=body.version,
            brand_ok=principal.can_access,
            actor=f"user:{principal.subject}",
        )
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None
    return contest_out(doc)


@router.post("/{contest_id}/open", response_model=ContestOut)
async def open_contest(contest_id: str, principal: Writer, service: Service) -> ContestOut:
    """Open a draft: the seed's commitment is published; entries count from ``opens_at``."""
    try:
        doc = await service.open(
            contest_id, brand_ok=principal.can_access, actor=f"user:{principal.subject}"
        )
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None
    return contest_out(doc)


@router.post("/{contest_id}/draw", response_model=CertificateOut)
async def draw_contest(contest_id: str, principal: Approver, service: Service) -> CertificateOut:
    """Draw the winners of a closed contest; drawing again returns the same certificate."""
    try:
        certificate, _ = await service.draw(
            contest_id, brand_ok=principal.can_access, actor=f"user:{principal.subject}"
        )
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None
    return certificate_out(certificate)


@router.get("/{contest_id}/certificate", response_model=CertificateOut)
async def get_certificate(contest_id: str, principal: Reader, service: Service) -> CertificateOut:
    """The draw's certificate (seed, commitment, entries, digest, winners) and ``verified``."""
    try:
        certificate = await service.certificate(contest_id, brand_ok=principal.can_access)
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None
    return certificate_out(certificate)


@router.get("/{contest_id}/entries", response_model=EntryPage)
async def list_entries(
    contest_id: str,
    principal: Reader,
    service: Service,
    decision: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> EntryPage:
    """The entries in the order made, with their decisions (``decision=eligible`` filters).

    Before the draw decisions are provisional; from the draw on they are the draw's own.
    Withdrawn entries (mention deleted before the draw) carry ``entry.withdrawn``.
    """
    try:
        page = await service.entries(
            contest_id,
            brand_ok=principal.can_access,
            decision=decision,
            cursor=cursor,
            limit=limit,
        )
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None
    return EntryPage(items=[entry_out(d) for d in page.docs], next_cursor=page.next_cursor)


@router.post("/{contest_id}/announce", response_model=ContestOut)
async def announce_contest(contest_id: str, principal: Writer, service: Service) -> ContestOut:
    """Create the draft post announcing the winners (it then goes through approval)."""
    try:
        doc = await service.announce(
            contest_id, brand_ok=principal.can_access, actor=f"user:{principal.subject}"
        )
    except _REFUSALS as exc:
        raise _api_error(exc, contest_id) from None
    return contest_out(doc)
