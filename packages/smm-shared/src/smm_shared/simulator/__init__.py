"""The network simulator: a seeded scenario played as signed VK, Meta and Telegram webhooks and
as X posts on a local X API v2 filtered stream.

``scenario`` (pure) decides who writes what and when; ``payloads`` (pure) turns an event into
the HTTP call a network would make, or for X the post a stream line carries; ``x_rules``
(pure) is X's rule language; ``x_stream`` serves the X endpoints ingest's ``x_stream``
connector reads; ``client`` sets up connectors and plays; ``cli`` wires ``smm simulate``.
Ingest is a black box here: only its HTTP API is used.
"""
