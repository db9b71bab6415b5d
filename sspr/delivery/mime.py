"""The MIME message of an outgoing mail, built with the email package's compat32 classes.

EmailMessage parses every header through its registry and refolds it when flattened: about
a millisecond a message, for headers sspr writes itself. The compat32 classes build the same
message (RFC 2047 words, quoted-printable UTF-8 parts) at a fraction of that. Addresses that
are not ASCII need SMTPUTF8, which only EmailMessage carries: those few take that path.
"""

from __future__ import annotations

from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from sspr.domain.ports import OutgoingMail

_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP
_UTF8.body_encoding = QP


def build_message(sender: str, default_reply_to: str | None, message: OutgoingMail) -> Message:
    """The message: a text part, and an HTML alternative when given.

    ValueError for a header that holds a line break (an injection) or an unusable address.
    """
    reply_to = message.reply_to or default_reply_to
    headers = {"From": sender, "To": message.to, "Subject": message.subject}
    if reply_to:
        headers["Reply-To"] = reply_to
    if any("\r" in value or "\n" in value for value in headers.values()):
        raise ValueError("a header holds a line break")
    addresses = [
        parseaddr(headers[name])[1] for name in ("From", "To", "Reply-To") if name in headers
    ]
    if not all(addresses) or any("@" not in address for address in addresses):
        raise ValueError("an address is unusable")
    mail = _international(headers, message) if not all(a.isascii() for a in addresses) else None
    if mail is None:
        mail = _compat32(headers, message)
    mail["Date"] = formatdate(localtime=True)
    # The sender's domain, so the id is unique without revealing this host's name.
    mail["Message-ID"] = make_msgid(domain=addresses[0].rpartition("@")[2] or None)
    return mail


def _compat32(headers: dict[str, str], message: OutgoingMail) -> Message:
    text = _text_part(message.text, "plain")
    mail: Message = text
    if message.html is not None:
        mail = MIMEMultipart("alternative")
        mail.attach(text)
        mail.attach(_text_part(message.html, "html"))
    for name, value in headers.items():
        if name == "Subject":
            # A Header, not its text: the generator folds it knowing the header's name.
            mail[name] = value if value.isascii() else Header(value, _UTF8, header_name=name)
        else:
            mail[name] = formataddr(parseaddr(value), charset=_UTF8)
    return mail


def _text_part(text: str, subtype: str) -> MIMEText:
    return MIMEText(text, subtype, "us-ascii" if text.isascii() else _UTF8)  # type: ignore[arg-type]


def _international(headers: dict[str, str], message: OutgoingMail) -> EmailMessage:
    """An EmailMessage, which smtplib sends with SMTPUTF8."""
    mail = EmailMessage()
    for name, value in headers.items():
        mail[name] = value
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    return mail
