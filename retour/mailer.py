"""Outgoing email through the SMTP server named in the settings."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from retour.settings import Settings


class MailNotConfigured(Exception):
    """RETOUR_SMTP_HOST is not set, so no email can be sent."""


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text email; raises on failure so callers can record it."""
    if not settings.smtp_host:
        raise MailNotConfigured("RETOUR_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
