"""Test support: real broker and database on free ports, span capture, OTLP receiver, service processes."""

from smm_shared.testing.otlp import OtlpReceiver, ReceivedSpan
from smm_shared.testing.polling import eventually, wait_until

__all__ = ["OtlpReceiver", "ReceivedSpan", "eventually", "wait_until"]
