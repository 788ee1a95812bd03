"""Webhook endpoints of the networks. Authenticated by each network's own scheme, not by JWT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from smm_ingest.adapters.networks import meta, telegram, vk
from smm_ingest.domain.connectors import ConnectorKind
from smm_ingest.services.webhooks import WebhookRejectedError, WebhookService
from smm_shared.http import ApiError

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _service(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.webhooks
    return service


Service = Annotated[WebhookService, Depends(_service)]


def _api_error(exc: WebhookRejectedError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


@router.post("/vk/{connector_id}", response_class=PlainTextResponse)
async def vk_callback(connector_id: str, request: Request, service: Service) -> PlainTextResponse:
    """VK Callback API: answers ``confirmation`` with the configured string, else stores and says ``ok``."""
    try:
        connector = await service.connector(connector_id, ConnectorKind.VK)
        body = await request.body()
        payload = service.decode(body)
        if payload.get("type") == "confirmation":
            if str(payload.get("group_id")) != str(connector.config.get("group_id")):
                raise service.reject(
                    connector, "webhook.wrong_group", "This connector is for another group", 403
                )
            return PlainTextResponse(str(connector.config.get("confirmation", "")))
        if not vk.verify_secret(payload, await service.secret(connector, "secret")):
            raise service.reject(connector, "webhook.bad_secret", "The secret does not match", 403)
        await service.accept(connector, payload, body)
    except WebhookRejectedError as exc:
        raise _api_error(exc) from None
    return PlainTextResponse("ok")


@router.get("/meta/{connector_id}", response_class=PlainTextResponse)
async def meta_handshake(
    connector_id: str, request: Request, service: Service
) -> PlainTextResponse:
    """Meta's subscription handshake: echo ``hub.challenge`` when ``hub.verify_token`` matches."""
    try:
        connector = await service.connector(connector_id, ConnectorKind.META)
        challenge = meta.verify_handshake(
            dict(request.query_params), await service.secret(connector, "verify_token")
        )
        if challenge is None:
            raise service.reject(
                connector, "webhook.bad_verify_token", "The verify token does not match", 403
            )
    except WebhookRejectedError as exc:
        raise _api_error(exc) from None
    return PlainTextResponse(challenge)


@router.post("/meta/{connector_id}", response_class=PlainTextResponse)
async def meta_delivery(
    connector_id: str,
    request: Request,
    service: Service,
    signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
) -> PlainTextResponse:
    """Facebook Pages and Instagram changes, signed with the app secret (``X-Hub-Signature-256``)."""
    try:
        connector = await service.connector(connector_id, ConnectorKind.META)
        body = await request.body()
        if not meta.verify_signature(
            body, signature, await service.secret(connector, "app_secret")
        ):
            raise service.reject(
                connector, "webhook.bad_signature", "X-Hub-Signature-256 does not match the body"
            )
        await service.accept(connector, service.decode(body), body)
    except WebhookRejectedError as exc:
        raise _api_error(exc) from None
    return PlainTextResponse("EVENT_RECEIVED")


@router.post("/telegram/{connector_id}")
async def telegram_update(
    connector_id: str,
    request: Request,
    service: Service,
    token: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> JSONResponse:
    """Telegram Bot API updates, authenticated by ``X-Telegram-Bot-Api-Secret-Token``."""
    try:
        connector = await service.connector(connector_id, ConnectorKind.TELEGRAM)
        if not telegram.verify_secret_token(token, await service.secret(connector, "secret_token")):
            raise service.reject(connector, "webhook.bad_secret", "The secret token does not match")
        body = await request.body()
        await service.accept(connector, service.decode(body), body)
    except WebhookRejectedError as exc:
        raise _api_error(exc) from None
    return JSONResponse({"ok": True})
