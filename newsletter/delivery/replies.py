"""What an SMTP reply means for one recipient: one table, read top to bottom.

A reply is classified by its RFC 3463 enhanced status code when it carries
one whose class agrees with the reply code (``550 5.1.1 ...``), else by the
RFC 5321 reply code alone; the stage (MAIL, RCPT, DATA, the end of the
message) matters for the reply codes whose meaning depends on it.

The outcomes (:class:`Kind`):

``accepted``   2xx: the server took it.
``temporary``  try this recipient again later (deferred with a back-off).
``bounce``     the mailbox does not exist: this recipient failed *and* the
               subscriber becomes ``bounced`` (no more editions).  Only the
               "no such mailbox" kinds: 550, 551, 553 and the 5.1.x address
               codes about the destination.
``refused``    this message will not be delivered to this recipient (policy,
               content, size); the subscriber stays subscribed.
``stop``       the relay refuses *us* (sender refused at MAIL, authentication
               required): every recipient would fail alike, so the run stops
               and says why; the unsent rows stay for the next run.

Two rules people get wrong, kept here on purpose: 552 at RCPT is temporary
(RFC 5321 §4.5.3.1.10: "too many recipients" / over quota — clients SHOULD
treat it as temporary), and a 5.2.2 "mailbox full" is temporary wherever it
comes (RFC 3463: "useful for both permanent and persistent transient
errors"); neither bounces a subscriber.  A reply whose enhanced code and
reply code disagree on the class (``450 5.1.1``, ``550 4.2.0``) is temporary:
nobody is bounced on a contradiction.  Authentication replies (530, 535)
stop the run whatever their enhanced code says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """Where in the SMTP transaction the reply came."""

    MAIL = "mail"
    RCPT = "rcpt"
    DATA = "data"
    """The reply to the DATA command itself (354 expected)."""
    END = "end"
    """The reply to the end of the message (the final dot)."""


class Kind(StrEnum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"
    BOUNCE = "bounce"
    REFUSED = "refused"
    STOP = "stop"


@dataclass(frozen=True)
class Rule:
    """One row of :data:`RULES`: where it applies, what it matches, what it means.

    ``code`` is a reply-code prefix (``"552"``; ``"5"`` for any 5xx) or, with
    ``enhanced``, an enhanced status code (``"5.2.2"``) or its prefix (``"5.1."``).
    """

    stages: frozenset[Stage]
    code: str
    kind: Kind
    why: str
    enhanced: bool = False

    def matches(self, stage: Stage, code: int, enhanced: str | None) -> bool:
        if stage not in self.stages:
            return False
        if not self.enhanced:
            return str(code).startswith(self.code)
        if enhanced is None:
            return False
        return enhanced.startswith(self.code) if self.code.endswith(".") else enhanced == self.code


ANY = frozenset(Stage)
_MAIL = frozenset({Stage.MAIL})
_RCPT = frozenset({Stage.RCPT})
_AFTER_MAIL = frozenset({Stage.RCPT, Stage.DATA, Stage.END})

RULES: tuple[Rule, ...] = (
    # -- whatever else the reply says
    Rule(ANY, "530", Kind.STOP, "authentication required"),
    Rule(ANY, "535", Kind.STOP, "authentication failed"),
    # -- by enhanced status code (RFC 3463), when its class agrees with the reply code
    Rule(ANY, "4.", Kind.TEMPORARY, "persistent transient failure", enhanced=True),
    Rule(ANY, "5.2.2", Kind.TEMPORARY, "mailbox full: may clear (RFC 3463)", enhanced=True),
    Rule(_MAIL, "5.", Kind.STOP, "the sender or the session is refused", enhanced=True),
    Rule(_AFTER_MAIL, "5.1.7", Kind.STOP, "our sender address is malformed", enhanced=True),
    Rule(_AFTER_MAIL, "5.1.8", Kind.STOP, "our sender's domain is refused", enhanced=True),
    Rule(_AFTER_MAIL, "5.1.", Kind.BOUNCE, "bad destination mailbox or system", enhanced=True),
    Rule(_AFTER_MAIL, "5.", Kind.REFUSED, "permanent, but not about the mailbox", enhanced=True),
    # -- by reply code (RFC 5321), when there is no enhanced code
    Rule(ANY, "2", Kind.ACCEPTED, "success"),
    Rule(ANY, "3", Kind.ACCEPTED, "intermediate (354 to DATA)"),
    Rule(ANY, "4", Kind.TEMPORARY, "transient failure (421 also closes the connection)"),
    Rule(_MAIL, "5", Kind.STOP, "the sender is refused"),
    Rule(_RCPT, "550", Kind.BOUNCE, "mailbox unavailable"),
    Rule(_RCPT, "551", Kind.BOUNCE, "user not local"),
    Rule(_RCPT, "552", Kind.TEMPORARY, "RFC 5321 4.5.3.1.10: 552 at RCPT is temporary"),
    Rule(_RCPT, "553", Kind.BOUNCE, "mailbox name not allowed"),
    Rule(ANY, "5", Kind.REFUSED, "permanent failure of this message"),
)

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


@dataclass(frozen=True)
class Classified:
    """A reply with its meaning: ``kind``, and the rule's ``why`` for the log."""

    code: int
    enhanced: str | None
    text: str
    stage: Stage
    kind: Kind
    why: str
    rule: Rule | None = None

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


def enhanced_code(text: str) -> str | None:
    """The RFC 3463 code at the start of a reply's text (``"5.1.1"``), if any."""
    found = _ENHANCED.match(text)
    return ".".join(found.groups()) if found else None


def classify(stage: Stage, code: int, text: str = "") -> Classified:
    """The meaning of one reply: the first rule of :data:`RULES` that matches it."""
    enhanced = enhanced_code(text)
    if enhanced is not None and code >= 400 and enhanced[0] != str(code)[0]:
        # "550 4.2.0" or "450 5.1.1": contradictory; never bounce anyone on it.
        return Classified(
            code, enhanced, text, stage, Kind.TEMPORARY, "reply and enhanced code disagree"
        )
    if code < 400:
        enhanced = None  # a 2xx/3xx is what it says, whatever follows it
    for rule in RULES:
        if rule.matches(stage, code, enhanced):
            return Classified(code, enhanced, text, stage, rule.kind, rule.why, rule)
    return Classified(code, enhanced, text, stage, Kind.TEMPORARY, "not an SMTP reply code")
