"""Network clients that publish posts and replies (see ``smm_publisher.domain.delivery``)."""
