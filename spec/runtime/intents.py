"""Intents: the only way one app talks to another, routed by the runtime.

An app sends ``(sender, target, action, data)``. The runtime, not the app, knows who sends: the
``sender`` an app writes must be its own DID. Checks, in order (after the ``intent.send``
permission, and before the capability ``intent:<action>`` / ``send``, see
:func:`spec.runtime.hostcalls.decide`):

======  ==============================================================================================
rule    an intent is refused when
======  ==============================================================================================
RT-060  its action is not a dotted lower-case name of at most 64 characters
RT-061  its sender is not the app that sends it
RT-062  the sender's manifest does not list the action in ``intents``
RT-063  no installed app other than the sender lists the action in ``intent_filters``, or a target
        is named that does not
RT-064  no target is named and more than one app could receive it
======  ==============================================================================================

The receiver is the target when one is named (``target`` not empty), otherwise the one app that
declares the action. An app never receives its own intent, so an intent cannot call back into the
app that sent it. Delivery is a queue the receiver reads with ``intent_receive``: the runtime never
calls into an app while that app is inside a host call.
"""

from __future__ import annotations

from collections.abc import Sequence

from spec.errors import Reason, Reject, rule
from spec.runtime.manifest import Manifest, check_action

__all__ = ["route_intent"]

R_ACTION = rule(
    "RT-060", Reason.INTENT_MALFORMED,
    "An intent action is a dotted lower-case name of at most 64 characters.",
    suite="runtime",
)
R_SENDER = rule(
    "RT-061", Reason.INTENT_SPOOFED_SENDER,
    "An intent's sender is the app that sends it.",
    suite="runtime", upstream="Trinity IntentManager: the sender's app id comes from the runtime",
)
R_DECLARED = rule(
    "RT-062", Reason.INTENT_NOT_DECLARED,
    "An app sends only intents whose action its manifest lists in intents.",
    suite="runtime", upstream="Trinity IntentManager.getIntentSenderPermission",
)
R_RECEIVER = rule(
    "RT-063", Reason.INTENT_NO_RECEIVER,
    "Some installed app other than the sender (the target, when one is named) lists the action in its "
    "intent_filters.",
    suite="runtime", upstream="Trinity IntentManager: no app can handle the intent",
)
R_AMBIGUOUS = rule(
    "RT-064", Reason.INTENT_AMBIGUOUS,
    "An intent without a target has exactly one receiver.",
    suite="runtime",
    note="Deviation: Trinity shows the user a chooser; the runtime has no UI and asks the app to name the target.",
)


def route_intent(sender: Manifest, claimed_sender: str, target: str, action: str,
                 installed: Sequence[Manifest]) -> str:
    """The app DID an intent is delivered to, or the first broken rule."""
    # [RT-060] a well-formed action
    if not check_action(action):
        raise Reject(Reason.INTENT_MALFORMED, "RT-060", f"action {action[:70]!r}")
    # [RT-061] no spoofed sender
    if claimed_sender != sender.app:
        raise Reject(Reason.INTENT_SPOOFED_SENDER, "RT-061", f"{claimed_sender[:70]!r} is not {sender.app}")
    # [RT-062] the sender declares the action
    if action not in sender.intents:
        raise Reject(Reason.INTENT_NOT_DECLARED, "RT-062", f"{action} not in the sender's intents")
    receivers = sorted({m.app for m in installed if action in m.intent_filters and m.app != sender.app})
    # [RT-063] a receiver exists (the named target among them)
    if not receivers or (target != "" and target not in receivers):
        raise Reject(Reason.INTENT_NO_RECEIVER, "RT-063", f"no receiver for {action} (target {target[:70]!r})")
    if target != "":
        return target
    # [RT-064] without a target, exactly one receiver
    if len(receivers) != 1:
        raise Reject(Reason.INTENT_AMBIGUOUS, "RT-064", f"{len(receivers)} receivers for {action}")
    return receivers[0]
