"""Short, kind spoken replies for each intent, and asking again instead of guessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from companion.dialog.intents import MIN_CONFIDENCE, command_phrases
from companion.messages import Grammar, Intent, Reply, Transcript

REPLIES: Final = {
    "story.start": ("Let's find a story. Snuggle in, and get comfy.",),
    "story.continue": ("Let's keep going. I wonder what happens next.",),
    "night.shared": ("A shared night it is! Everyone gets a turn tonight.",),
    "night.freeform": ("A freeform night! You lead, and we'll make up a story together.",),
    "stop": ("Okay. I'll stop.",),
    "goodnight": ("Goodnight, {name}. Sleep tight.",),
    "bad_dream": (
        "Oh, I'm sorry you had a bad dream. You're safe, and I'm right here.",
        "Let's take a slow, deep breath together.",
    ),
    "sleep_sounds": ("Here comes the gentle rain.",),
    "yes": ("Okay!",),
    "no": ("That's okay.",),
}
WAKE_REPLY: Final = "Yes, {name}?"
ASK_AGAIN: Final = "Sorry, I didn't catch that. Could you say it again?"
GIVE_UP: Final = "That's okay. Just say hey {wake} when you need me."
MAX_RETRIES: Final = 2


@dataclass
class SimpleBrain:
    """Answers each intent kindly; remembers the last reply for "say that again"."""

    name: str = "friend"
    wake_name: str = "Luma"
    last: Reply | None = None
    retries: int = 0
    command: Grammar = field(init=False)

    def __post_init__(self) -> None:
        self.command = Grammar("command", command_phrases(), open=True)

    def fixed_lines(self) -> list[str]:
        """Every line this brain can say, for the phrase cache."""
        lines = [line for group in REPLIES.values() for line in group]
        lines += [WAKE_REPLY, ASK_AGAIN, GIVE_UP]
        return [self._fill(line) for line in lines]

    def _fill(self, line: str) -> str:
        return line.format(name=self.name, wake=self.wake_name)

    def wake(self) -> Reply:
        self.retries = 0
        return Reply((self._fill(WAKE_REPLY),), expect=self.command)

    def respond(self, intent: Intent, transcript: Transcript) -> Reply:
        if intent.name == "repeat" and self.last is not None:
            return self.last
        if intent.name == "none" or intent.confidence < MIN_CONFIDENCE:
            self.retries += 1
            if self.retries > MAX_RETRIES:
                self.retries = 0
                return Reply((self._fill(GIVE_UP),))
            return Reply((ASK_AGAIN,), expect=self.command)
        self.retries = 0
        reply = Reply(
            tuple(self._fill(line) for line in REPLIES.get(intent.name, ("Okay.",))),
            sounds=("rain",) if intent.name == "sleep_sounds" else (),
        )
        self.last = reply
        return reply

    def silence(self) -> Reply | None:
        self.retries = 0
        return None
