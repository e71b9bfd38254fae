"""A real local SMTP server (aiosmtpd) for the tests that send email, and its fixtures.

def test_something(mail_settings, smtp):   # fixtures of tests/console/conftest.py
    inbox, _port = smtp
    ...
    assert "…" in body(inbox.to("agent@example.gouv.fr")[0])
"""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from email.message import Message

from aiosmtpd.controller import Controller

from tests.live import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")
