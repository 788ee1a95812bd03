"""Media downloads stay off the internal network: every hop's host must be public."""

from __future__ import annotations

import httpx
import pytest

from smm_publisher.adapters.delivery._http import fetch_media, public_hosts_only
from smm_publisher.domain.delivery import PermanentDeliveryError
from smm_shared.testing.http import recording_client

pytestmark = pytest.mark.unit

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/admin.png",
        "http://10.1.2.3/a.png",
        "http://192.168.0.10/a.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/a.png",
        "http://[::ffff:127.0.0.1]/a.png",
        "http://0.0.0.0/a.png",
        "http://localhost/a.png",
    ],
)
async def test_private_and_local_hosts_are_refused(url: str) -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        await public_hosts_only(url)
    assert refused.value.code == "media.private_host"
    assert url in refused.value.message


async def test_a_public_address_passes() -> None:
    await public_hosts_only("https://93.184.216.34/banner.png")


async def test_a_url_without_a_host_is_refused() -> None:
    with pytest.raises(PermanentDeliveryError) as refused:
        await public_hosts_only("file:///etc/passwd")
    assert refused.value.code == "media.invalid_url"


async def test_a_redirect_to_a_private_host_is_not_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "http://127.0.0.1:8080/internal.png"})

    client, seen = recording_client(handler)
    with pytest.raises(PermanentDeliveryError) as refused:
        await fetch_media(
            client,
            "https://93.184.216.34/banner.png",
            network="X",
            code_prefix="x",
            max_bytes=1024,
            guard=public_hosts_only,
        )
    assert refused.value.code == "media.private_host"
    assert [str(r.url) for r in seen] == ["https://93.184.216.34/banner.png"]


async def test_a_public_redirect_is_followed_and_the_file_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old.png":
            return httpx.Response(301, headers={"location": "/new.png"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    client, seen = recording_client(handler)
    media = await fetch_media(
        client,
        "https://93.184.216.34/old.png",
        network="X",
        code_prefix="x",
        max_bytes=1024,
        guard=public_hosts_only,
    )
    assert media.content == PNG
    assert media.content_type == "image/png"
    assert [r.url.path for r in seen] == ["/old.png", "/new.png"]


async def test_too_many_redirects_is_a_clear_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "/again.png"})

    client, seen = recording_client(handler)
    with pytest.raises(PermanentDeliveryError) as refused:
        await fetch_media(
            client,
            "https://93.184.216.34/again.png",
            network="X",
            code_prefix="x",
            max_bytes=1024,
            guard=public_hosts_only,
        )
    assert refused.value.code == "x.media_unavailable"
    assert len(seen) == 6
