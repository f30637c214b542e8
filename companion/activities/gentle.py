"""The gentler requests: sleep sounds, a calming offer, a grown-up, a step louder or quieter."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from companion.dialog.replies import (
    GROWNUP_TOLD,
    LOUDEST,
    QUIETEST,
    RARE_REPLIES,
    REPLIES,
    VOLUME_FLOOR,
    VOLUME_STEP,
)
from companion.messages import Grammar, Intent, Line, Reply
from companion.routine.night import BREATHING
from companion.speech.grammar import words

logger = logging.getLogger(__name__)

ASKED_FOR_GROWNUP: Final = "asked_for_grownup"
"""The event `Host.on_event` gets when a child asks for a parent (never their words)."""
CALMING_OFFER: Final = (
    "That's okay. Sometimes sleep takes a little while.",
    "Shall we do a slow breathing moment, or would you like some sleep sounds?",
)
CALMING_PHRASES: Final = (
    "a breathing moment",
    "breathing",
    "sleep sounds",
    "the rain",
    "both",
    "yes",
    "yes please",
    "no",
    "no thank you",
)
CALMING: Final = Grammar("calming", CALMING_PHRASES, open=True)
SETTLE: Final = Line("Now let your body feel heavy and warm. I'm right here.", 0.8, 0.8, 1.0)
NO_CALMING: Final = "That's okay. Snuggle down and close your eyes. I'm right here."
JUST_LISTEN: Final = "Let's just listen for a while."
SOUND_WORDS: Final = {"rain": "gentle rain", "ocean": "sleepy ocean", "brown_noise": "soft hush"}
_WANTS_SOUNDS: Final = frozenset("sound sounds rain ocean sea waves noise second last".split())
_WANTS_BREATHING: Final = frozenset("breathing breathe breath breaths first".split())


def sleep_sounds(sound: str, head: tuple[str | Line, ...] = ()) -> Reply:
    """`sound` (a name in SOUND_WORDS) begun, said after `head`."""
    return Reply((*head, f"Here comes the {SOUND_WORDS[sound]}."), sounds=(sound,))


def calming_offer() -> Reply:
    """For "I can't sleep": a breathing moment, or sleep sounds?"""
    return Reply(CALMING_OFFER, expect=CALMING)


def calming(intent: Intent, text: str, sound: str) -> Reply | None:
    """The answer to "a breathing moment, or sleep sounds?"; None: something else was asked."""
    said = set(words(text))
    sounds = intent.name == "sleep_sounds" or bool(said & _WANTS_SOUNDS)
    breathing = bool(said & _WANTS_BREATHING)
    both = "both" in said or intent.name == "yes" or (sounds and breathing)
    if intent.name == "no":
        return Reply((NO_CALMING,))
    if both:
        return sleep_sounds(sound, (*BREATHING, SETTLE))
    if sounds:
        return sleep_sounds(sound)
    if breathing or intent.name == "none":
        return Reply((*BREATHING, SETTLE))
    return None


def no_answer_to_calming(sound: str) -> Reply:
    """No answer to the calming offer: something gentle anyway, without more talk."""
    return Reply((JUST_LISTEN,), sounds=(sound,))


def call_grownup(on_event: Callable[[str], None] | None) -> str:
    """Tell the home integration (if there is one) that a grown-up is wanted; what to say."""
    logger.info("a grown-up was asked for")
    if on_event is None:
        return RARE_REPLIES["grownup"][0]
    try:
        on_event(ASKED_FOR_GROWNUP)
    except Exception:  # the integration's fault must not end the conversation
        logger.exception("on_event(%r) failed", ASKED_FOR_GROWNUP)
        return RARE_REPLIES["grownup"][0]
    return GROWNUP_TOLD


def volume_step(level: float, name: str) -> tuple[float, Reply]:
    """A step louder or quieter from `level` (a share of the cap), never past the cap (the
    output stage limits it too): the new level, and the reply that says and makes it."""
    step = VOLUME_STEP if name == "volume.up" else -VOLUME_STEP
    new = min(1.0, max(VOLUME_FLOOR, level * (1 + step)))
    at_the_end = LOUDEST if step > 0 else QUIETEST
    line = at_the_end if new == level else REPLIES[name][0]
    return new, Reply((line,), volume_step=step)
