"""The network simulator: a seeded scenario played as signed VK, Meta and Telegram webhooks.

``scenario`` (pure) decides who writes what and when; ``payloads`` (pure) turns an event into
the HTTP call a network would make; ``client`` sets up connectors and sends over HTTP;
``cli`` wires ``smm simulate``. Ingest is a black box here: only its HTTP API is used.
"""
