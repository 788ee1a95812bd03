"""One deliverer per network and API base URL, sharing one HTTP client."""

from __future__ import annotations

import httpx

from smm_publisher.adapters.delivery import meta, reddit, telegram, vk, x, youtube
from smm_publisher.adapters.delivery._http import TIMEOUT_S, MediaGuard, public_hosts_only
from smm_publisher.adapters.delivery.mastodon import MastodonDeliverer
from smm_publisher.adapters.delivery.meta import FacebookDeliverer, InstagramDeliverer
from smm_publisher.adapters.delivery.reddit import RedditDeliverer
from smm_publisher.adapters.delivery.telegram import TelegramDeliverer
from smm_publisher.adapters.delivery.vk import VkDeliverer
from smm_publisher.adapters.delivery.x import XDeliverer
from smm_publisher.adapters.delivery.youtube import YouTubeDeliverer
from smm_publisher.domain.delivery import Deliverer, PermanentDeliveryError
from smm_shared.events import Network


class DelivererRegistry:
    """Builds (and keeps) the deliverer of a network, pointed at an account's API base URL.

    ``api_base_url`` None means the network's public API; Mastodon has none (every account
    lives on an instance), so a Mastodon account without one cannot post.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout_s: float = TIMEOUT_S,
        media_guard: MediaGuard | None = public_hosts_only,
    ) -> None:
        self._client = client
        self._timeout_s = timeout_s
        #: Media downloaded to upload them must be on public hosts (None: anywhere).
        self._media_guard = media_guard
        self._made: dict[tuple[Network, str | None], Deliverer] = {}

    def __call__(self, network: Network, api_base_url: str | None) -> Deliverer:
        """The deliverer for ``network`` at ``api_base_url`` (None: the public API)."""
        key = (network, api_base_url)
        made = self._made.get(key)
        if made is None:
            made = self._make(network, api_base_url)
            self._made[key] = made
        return made

    def _make(self, network: Network, base: str | None) -> Deliverer:
        http, timeout = self._client, self._timeout_s
        match network:
            case Network.X:
                return XDeliverer(
                    http,
                    timeout_s=timeout,
                    api_base_url=base or x.DEFAULT_API_BASE_URL,
                    media_guard=self._media_guard,
                )
            case Network.TELEGRAM:
                return TelegramDeliverer(
                    http, timeout_s=timeout, api_base_url=base or telegram.DEFAULT_API_BASE_URL
                )
            case Network.MASTODON:
                if not base:
                    raise PermanentDeliveryError(
                        "mastodon.instance_missing",
                        "The Mastodon account has no instance URL; set api_base_url on it.",
                    )
                return MastodonDeliverer(
                    http, instance_url=base, timeout_s=timeout, media_guard=self._media_guard
                )
            case Network.VK:
                return VkDeliverer(
                    http, timeout_s=timeout, api_base_url=base or vk.DEFAULT_API_BASE_URL
                )
            case Network.FACEBOOK:
                return FacebookDeliverer(
                    http, timeout_s=timeout, api_base_url=base or meta.DEFAULT_API_BASE_URL
                )
            case Network.INSTAGRAM:
                return InstagramDeliverer(
                    http, timeout_s=timeout, api_base_url=base or meta.DEFAULT_API_BASE_URL
                )
            case Network.YOUTUBE:
                return YouTubeDeliverer(
                    http, timeout_s=timeout, api_base_url=base or youtube.DEFAULT_API_BASE_URL
                )
            case Network.REDDIT:
                return RedditDeliverer(
                    http, timeout_s=timeout, api_base_url=base or reddit.DEFAULT_API_BASE_URL
                )
        raise PermanentDeliveryError(
            f"{network.value}.unsupported", f"Posting to {network.value} is not supported."
        )
