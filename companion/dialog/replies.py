"""Short, kind spoken replies for each intent, and asking again instead of guessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from companion.dialog.intents import MIN_CONFIDENCE, command_phrases
from companion.messages import Grammar, Intent, Reply, Transcript
from companion.speech.grammar import words

REPLIES: Final = {
    "story.start": ("Let's find a story. Snuggle in, and get comfy.",),
    "story.named": ("Let's find a story. Snuggle in, and get comfy.",),
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
    "volume.up": ("Okay, a little louder.",),
    "volume.down": ("Okay, a little quieter.",),
    "yes": ("Okay!",),
    "no": ("That's okay.",),
}
RARE_REPLIES: Final = {
    "cant_sleep": (
        "That's okay. Sometimes sleep takes a little while.",
        "Let's listen to the gentle rain, and breathe slowly.",
    ),
    "grownup": ("If you need a grown-up, call out for them. You're safe, and I'm right here.",),
}
"""Replies said seldom: made when needed, not kept in the phrase cache (memory)."""
GROWNUP_TOLD: Final = "I'll let a grown-up know. You're safe, and I'm right here."
"""When the home integration hears about it (`Host.on_event`); else REPLIES["grownup"]."""
LOUDEST: Final = "That's as loud as I go at bedtime."
QUIETEST: Final = "That's as quiet as I go."
VOLUME_STEP: Final = 0.3
"""One "louder" or "quieter": 1.3 or 0.7 times the level before."""
VOLUME_FLOOR: Final = 0.25
"""The quietest level, as a share of the volume cap: "quieter" never makes it inaudible."""

# Short, kind answers to a child's question, by the word it is about (singular).
ANSWERS: Final = {
    "lighthouse": "A lighthouse is a tall tower by the sea, with a big bright light on top. "
    "It shines all night, so boats can find their way home.",
    "moon": "The moon is a big round ball of rock that goes around the Earth. "
    "It glows because the sun shines on it, like a night light in the sky.",
    "star": "Stars are giant balls of glowing light, very, very far away. "
    "That's why they look so tiny and twinkly.",
    "sun": "The sun is our very own star. It gives us light and keeps us warm, "
    "and at night it shines on the other side of the world.",
    "dream": "A dream is a story your mind tells you while you sleep, made of your very own ideas.",
    "nightmare": "A nightmare is a dream that feels scary. It can't hurt you, "
    "and it goes away when you wake up. You're safe.",
    "shadow": "A shadow is the shape you make when you block the light. "
    "It follows you everywhere, because you make it!",
    "owl": "An owl is a bird that is awake at night. It has big eyes for seeing in the dark, "
    "and it says hoo, hoo.",
    "lantern": "A lantern is a little light you can carry, so you can see your way in the dark.",
    "cloud": "Clouds are made of tiny drops of water, floating together in the sky "
    "like soft cotton wool.",
    "rainbow": "A rainbow happens when sunlight shines through raindrops. "
    "The light spreads out into lots of colours.",
    "rain": "Rain is water falling from the clouds, drop by drop. It helps the plants grow.",
    "thunder": "Thunder is the big rumbly sound a storm makes. It's loud, "
    "but it can't hurt you when you're safe inside.",
    "wind": "Wind is air moving about. You can't see it, but you can feel it and hear it whoosh.",
    "sea": "The sea is a huge amount of salty water, full of fish, whales and waves.",
    "ocean": "The ocean is a huge amount of salty water, full of fish, whales and waves.",
    "wave": "Waves are the sea moving up and down. The wind pushes the water "
    "into soft hills that roll onto the beach.",
    "dragon": "Dragons live in stories. In our stories they are gentle and kind, "
    "and some are even shy.",
    "unicorn": "A unicorn is a magical horse from stories, with one shiny horn on its head.",
    "maze": "A maze is a puzzle made of paths, with lots of twists and turns. "
    "You have to find the way through.",
    "cottage": "A cottage is a small, cosy house, often with a garden.",
    "firefly": "A firefly is a little bug whose tail glows in the dark, like a tiny flying lamp.",
    "bat": "A bat is a furry animal that flies at night. It finds its way by listening to echoes.",
    "echo": "An echo is your own voice bouncing back to you, like a ball bouncing off a wall.",
    "planet": "A planet is a huge round world that goes around a star. "
    "We live on a planet called Earth.",
    "earth": "The Earth is our home, a big round planet that spins slowly, "
    "so we have day and night.",
    "space": "Space is the big dark place far above the sky, where the stars and planets are.",
    "whale": "A whale is a very big animal that lives in the sea and breathes air, like us.",
    "dinosaur": "Dinosaurs were animals that lived a very, very long time ago. "
    "Some were as big as houses, and some as small as chickens.",
    "snow": "Snow is water that froze into tiny ice stars on its way down from the clouds.",
    "robot": "A robot is a machine that can do jobs by itself. Some robots are helpers.",
    "lullaby": "A lullaby is a soft, slow song to help someone fall asleep.",
    "pod": "A dream pod is a cosy little bed from our stories, "
    "where people can share their dreams.",
    "bubble": "A bubble is a little ball of air inside a very thin skin of water. "
    "It floats, and then it goes pop!",
    "dark": "When it's dark, our side of the world has turned away from the sun for a rest. "
    "The sun comes back in the morning.",
    "night": "Night is when our side of the world turns away from the sun, "
    "so everyone can rest. The sun comes back in the morning.",
    "sleep": "Sleep is how your body and your mind rest and grow, ready for a brand new day.",
}
_GENERAL: Final = frozenset({"dark", "night", "sleep", "sun"})
"""Words most questions mention in passing: the answer is about another word if there is one."""
NO_ANSWER_IN_STORY: Final = "Good question! Let's see what happens."
NO_ANSWER: Final = "That's a good question. Let's wonder about it together another day."
BACK_TO_STORY: Final = "Now, back to our story."


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def answer_question(text: str, in_story: bool = False) -> str:
    """A short kind answer for a question about a common bedtime word; else a kind "good
    question" (the child's words are never repeated)."""
    found = [_singular(w) for w in words(text) if _singular(w) in ANSWERS]
    specific = [w for w in found if w not in _GENERAL]
    if specific or found:
        return ANSWERS[(specific or found)[0]]
    return NO_ANSWER_IN_STORY if in_story else NO_ANSWER


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
        lines = list(dict.fromkeys(line for group in REPLIES.values() for line in group))
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
        lines = REPLIES.get(intent.name) or RARE_REPLIES.get(intent.name, ("Okay.",))
        if intent.name == "question":
            lines = (answer_question(transcript.text or intent.text),)
        steps = {"volume.up": VOLUME_STEP, "volume.down": -VOLUME_STEP}
        reply = Reply(
            tuple(self._fill(line) for line in lines),
            sounds=("rain",) if intent.name in ("sleep_sounds", "cant_sleep") else (),
            volume_step=steps.get(intent.name, 0.0),
        )
        if not reply.volume_step:
            self.last = reply
        return reply

    def silence(self) -> Reply | None:
        self.retries = 0
        return None
