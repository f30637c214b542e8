"""After a bad dream: listen, say back what the child said, make it safe, and hand over to sleep.

The child's own words are heard and said back ("a zombie under your bed... that does sound
scary"); the fear is never swapped or made up. What comes next fits the kind of fear: a
creature gets small and silly, the dark gets a night light, a fall gets a soft landing, being
alone gets someone beside you; a dream about a loss or about someone being hurt is not played
with, and is gently handed to a grown-up. Silence gets comfort. Every path asks how the child
feels now, offers a grown-up, a teddy or a night light, and ends in sleep sounds.
"""

from __future__ import annotations

import random
import re
from typing import Final

from companion.storytelling.format import Ask, Choose, Option, Say, Story, Variant
from companion.storytelling.lexicon import lexicon

BAD_DREAM_ID: Final = "bad-dream"
FEAR: Final = "fear"
"""The answer kind of "what happened in the dream": the child's words, with a family."""
FAMILIES: Final = ("harm", "loss", "falling", "alone", "dark", "creature", "other", "quiet")
"""Kinds of fear, the first that fits winning: a dream of someone hurt outranks its monster."""
CALL_GROWNUP: Final = "call a grown-up"
"""The comfort option after which the home integration is told a grown-up is wanted."""

_WORDS: Final = {
    "harm": "hurt hurting hurts hit hitting kill killed killing kills gun guns shoot shot knife "
    "knives stab stabbed blood bleeding attack attacked kidnap kidnapped punch punched kick "
    "kicked burglar burglars robber robbers fight fighting bomb war poison poisoned",
    "loss": "died dead death die dies dying funeral passed gone forever miss missing heaven",
    "falling": "fall falling fell falls drop dropped dropping cliff tumble tumbling",
    "alone": "alone lonely lost nobody everyone left myself forgot forgotten abandoned",
    "dark": "dark darkness blackness night lights",
    "creature": "monster monsters zombie zombies ghost ghosts witch witches vampire vampires troll "
    "trolls goblin goblins alien aliens clown clowns beast beasts creature creatures giant "
    "giants skeleton skeletons shadow shadows mummy-monster ogre ogres werewolf werewolves "
    "gruffalo bogeyman boogeyman thing things bug bugs rat rats demon demons devil",
}
_FAMILY_WORDS: Final = {family: frozenset(words.split()) for family, words in _WORDS.items()}
_PHRASES: Final = {
    "loss": ("passed away", "went away forever", "never came back"),
    "alone": ("on my own", "by myself", "no one", "left me", "couldn't find", "can't find"),
    "falling": ("falling down", "fell down", "fell off"),
    "dark": ("lights went out", "light went out", "no light"),
}
_LEADS: Final = re.compile(
    r"^(?:(?:um+|uh+|er+m?|well|so|and|oh)[,.]?\s+)*"
    r"(?:i (?:had a (?:bad |scary )?dream|dreamed|dreamt)(?: that| about| of)?\s+"
    r"|(?:it was|there was|there were|there's|it's)\s+|(?:about|of)\s+)?",
    re.IGNORECASE,
)
_YOURS: Final = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "i'm": "you're",
    "i was": "you were",
    "am": "are",
}
_DESCRIBING: Final = frozenset(
    "a an the my some big giant huge scary horrible nasty little dark black hairy creepy mean "
    "angry spooky grumpy smelly slimy".split()
)
MAX_FEAR_WORDS: Final = 12


def fear_words(text: str) -> str:
    """What the child said the dream was, as it can be said back: "I dreamed there was a zombie
    under my bed" → "a zombie under your bed". Empty: nothing to say back."""
    said = " ".join(re.sub(r"[^\w'’ -]", " ", text).replace("’", "'").split())
    while (shorter := _LEADS.sub("", said, count=1)) != said:
        said = shorter
    words = said.split()
    if not words or len(words) > MAX_FEAR_WORDS:
        return ""
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = " ".join(words[i : i + 2]).lower()
        if pair in _YOURS:
            out.append(_YOURS[pair])
            i += 2
            continue
        low = words[i].lower()
        out.append(_YOURS.get(low, words[i] if low != words[i] and i else low))
        i += 1
    return " ".join(out)


def fear_family(words: str) -> str:
    """Which kind of fear the dream was (one of `FAMILIES`)."""
    low = words.lower()
    if not low.strip():
        return "quiet"
    found = re.findall(r"[a-z']+", low)
    said = set(found) | {w[:-1] for w in found if w.endswith("s") and len(w) > 3}
    animals = set(lexicon().understood["animal"])
    for family in FAMILIES[:-2]:
        if said & _FAMILY_WORDS.get(family, frozenset()):
            return family
        if any(phrase in low for phrase in _PHRASES.get(family, ())):
            return family
        if family == "creature" and said & animals:
            return family
    return "other"


def creature(words: str) -> str:
    """The creature in a creature dream ("a big hairy spider on the wall" → "spider")."""
    said = re.findall(r"[a-z'-]+", words.lower())
    known = _FAMILY_WORDS["creature"] | set(lexicon().understood["animal"])
    for word in said:
        if word in known:
            return word
        if word.endswith("s") and word[:-1] in known:
            return word[:-1]
    rest = [w for w in said if w not in _DESCRIBING]
    return rest[0] if rest else "dream"


def _family(family: str) -> tuple[tuple[str, str], ...]:
    return (("family", family),)


def _when(family: str, text: str) -> Variant:
    return Variant(FEAR, _family(family), (text,))


def _only(family: str) -> Variant:
    return Variant(FEAR, _family(family), ())


_OPENING: Final = (
    "Oh, I'm sorry you had a bad dream. Bad dreams can feel very big. But you're safe, "
    "{listener}. You're in your own bed, and I'm right here.",
    "Let's take a slow breath together. Breathe in... two, three, four. And out... two, "
    "three, four. One more time. In... and out.",
)
_SAID_BACK: Final = (
    _when("creature", "{fear}... that does sound scary. Thank you for telling me."),
    _when("dark", "The dark can feel really big in a dream. Thank you for telling me."),
    _when(
        "falling",
        "Falling in a dream feels so real, doesn't it? Your tummy goes whoosh. Thank you for "
        "telling me.",
    ),
    _when(
        "alone",
        "Being all on your own in a dream is a horrible feeling. Thank you for telling me.",
    ),
    _when(
        "loss",
        "Oh, sweetheart. That sounds like a very sad dream. Sad dreams like that bring really "
        "big feelings.",
    ),
    _when(
        "harm",
        "That sounds really frightening. I'm so glad you told me. You're safe now, in your own "
        "bed.",
    ),
    _when("other", "{fear}... that sounds like a horrible dream. Thank you for telling me."),
    _when(
        "quiet", "That's okay. You don't have to tell me anything. We can just be calm together."
    ),
)
_FEELING_NOW: Final = (
    Variant(
        "now",
        (("family", "scared"),),
        ("It's okay to still feel a bit scared. Big feelings take a little while to settle.",),
    ),
    Variant("now", (("family", "sad"),), ("It's okay to feel sad. I'm right here with you.",)),
    Variant(
        "now",
        (("family", "cross"),),
        ("It's okay to feel cross. Let's let that feeling float away, slowly.",),
    ),
)
_CREATURE_SHRINK: Final = (
    "So, in our new version of the dream, the {fear.creature} came back. But this time, "
    "something funny happened. It started to shrink. Smaller... and smaller... until it was as "
    "small as a teacup.",
    "And guess what? The tiny {fear.creature} was wearing {silly:a}! It looked down at itself "
    "and giggled a tiny giggle. It wasn't scary at all. It was just a little bit silly.",
    "The tiny {fear.creature} waved a tiny hand, said a tiny 'sorry for the fuss', and tiptoed "
    "away to its own tiny bed. It pulled up a tiny blanket, and fell fast asleep.",
)
_NIGHT_LIGHT: Final = (
    "Imagine it now: a little night light, glowing a soft {light} by your bed. The dark is "
    "just your room with its eyes closed. Everything in it is the same as in the daytime: your "
    "toys, your books, your cosy blanket.",
    "And your {light} light keeps watch, all night long, so you don't have to.",
)
_SOFT_LANDING: Final = (
    "So in the new version, you're falling slowly now, like a feather... and you land, flump, "
    "on {landing:a}. It's soft and warm and a little bit bouncy.",
    "You bounce once, twice, and then you lie there, giggling, looking up at the stars.",
)
_BESIDE_YOU: Final = (
    "In the new version of the dream, you're not on your own at all. {buddy:the} is right "
    "there beside you, holding your hand, all the way home.",
)
_LOSS: Final = (
    "When a dream is about someone we love, the sad feeling can stay for a while. That's a "
    "feeling worth sharing with a grown-up who loves you. In the morning, you could tell them "
    "about it, and they can give you a big cuddle.",
)
_HARM: Final = (
    "Dreams about someone getting hurt are frightening, and they're a good thing to tell a "
    "grown-up about. And if anything ever makes you feel unsafe when you're awake, tell a "
    "grown-up you trust. That's always the right thing to do.",
)
_NEW_ENDING: Final = (
    "So in the new version, {new_ending}. And the dream turns soft and friendly, and floats "
    "away like a bubble.",
)
_QUIET: Final = (
    "We don't need to talk about the dream at all. It's gone now, and dreams don't follow "
    "you out of sleep.",
)
_ENDING: Final = (
    "Let's breathe slowly together, one more time. In... and out. You're safe, {listener}, "
    "and I'm right here.",
    "I'll play some gentle sleep sounds now, to keep you company while you drift off. Goodnight.",
)


def bad_dream_story(rng: random.Random, listener: str) -> Story:
    """The steps after a bad dream; what is told depends on what the child says (or not)."""
    del rng, listener  # one calm, predictable shape: that is the point here
    steps = (
        Say(_OPENING, recap="We took slow breaths together after a bad dream."),
        Ask(
            "If you'd like to, you can tell me about it. What happened in the dream?",
            FEAR,
            FEAR,
            (),
            variants=_SAID_BACK,
        ),
        Ask(
            "How are you feeling now, {listener}?",
            "now",
            "feeling",
            ("better",),
            "I'm so glad. Let's keep that cosy feeling.",
            _FEELING_NOW,
        ),
        Ask(
            "Let's make the {fear.creature} small and silly. What could it be wearing, to look "
            "really silly?",
            "silly",
            "object",
            ("a tutu", "a big floppy hat", "rainbow socks"),
            only=_only("creature"),
        ),
        Say(_CREATURE_SHRINK, recap="The dream got small and silly.", only=_only("creature")),
        Ask(
            "Let's think of a night light. What colour would your night light glow?",
            "light",
            "colour",
            ("gold", "soft pink", "sky blue"),
            only=_only("dark"),
        ),
        Say(_NIGHT_LIGHT, recap="We imagined a night light.", only=_only("dark")),
        Ask(
            "This time, let's give the dream a soft landing. What would you like to land on?",
            "landing",
            "object",
            ("a big fluffy cloud", "a pile of pillows", "a giant marshmallow"),
            only=_only("falling"),
        ),
        Say(_SOFT_LANDING, recap="The fall got a soft landing.", only=_only("falling")),
        Ask(
            "Who would you like right beside you, in the new version of the dream?",
            "buddy",
            "free",
            ("your teddy", "Mum"),
            only=_only("alone"),
        ),
        Say(_BESIDE_YOU, recap="Someone stayed right beside you.", only=_only("alone")),
        Say(_LOSS, recap="We talked about a sad dream.", only=_only("loss")),
        Say(_HARM, recap="We talked about a frightening dream.", only=_only("harm")),
        Ask(
            "Let's give that dream a new, kind ending. In the new version, what happens instead?",
            "new_ending",
            "free",
            ("everyone has a picnic", "it turns into a party"),
            only=_only("other"),
        ),
        Say(_NEW_ENDING, recap="The dream got a new, kind ending.", only=_only("other")),
        Say(_QUIET, only=_only("quiet")),
        Choose(
            "What would help most right now? I can call a grown-up, you can hug your teddy, or we "
            "can imagine a night light.",
            (
                Option(
                    CALL_GROWNUP,
                    ("grown-up", "grownup", "mum", "mummy", "dad", "daddy", "call"),
                    (),  # the companion says it has told a grown-up
                ),
                Option(
                    "hug your teddy",
                    ("teddy", "hug", "cuddle", "squeeze"),
                    (
                        "Give your teddy a big, warm squeeze. Teddies are very good at keeping "
                        "bad dreams away.",
                    ),
                ),
                Option(
                    "imagine a night light",
                    ("light", "night light", "glow"),
                    (
                        "Imagine a little night light, glowing warm and gold. It'll stay on all "
                        "night long.",
                    ),
                ),
            ),
            "comfort",
            fallback=1,  # nobody chose: a teddy, never a grown-up called unasked
        ),
    )
    return Story(
        BAD_DREAM_ID,
        "The Dream That Got Small",
        "004_6a67f55e39758d1e.txt",
        (3, 10),
        3,
        (),
        steps,
        _ENDING,
        BAD_DREAM_ID,
    )
