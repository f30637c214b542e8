"""Keeping the child's words safe: rude and too-scary words, and answers that fit the question."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

# Rude words, in plain spelling; variants (leetspeak, stretched letters, spaces) are folded first.
RUDE: Final = frozenset(
    """
    arse arsehole ass asses asshole bastard bitch bitches bloody bollocks boob boobs bugger
    bullshit butthole cock cocks crap cunt damn damned dick dickhead dildo douche fag faggot
    fart farts frick fuck fucked fucker fucking fucks goddamn hell horny jackass jerk nigga
    nigger nipple penis piss pissed poo poop porn prick pussy retard sex sexy shit shits
    shitty slut stupid suck sucks tit tits twat vagina wank wanker whore idiot dumb moron
    """.split()
)
# Roots that are rude wherever they appear inside a word ("fuckface", "shithead").
RUDE_ROOTS: Final = ("fuck", "shit", "cunt", "bitch", "whore", "nigg", "fagg", "wank")
# Words too frightening for a bedtime story, whoever says them.
SCARY: Final = frozenset(
    """
    blood bloody bleed bleeding kill killed killer killing kills dead death die died dies dying
    murder murdered gun guns shoot shot knife knives stab stabbed zombie zombies demon demons
    devil corpse skull skeleton gore scream screaming torture poison poisoned war bomb
    """.split()
)
_LEET: Final = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "!": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "|": "i",
    }
)
_SQUEEZE: Final = re.compile(r"(.)\1+")


def _terms(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


COLOURS: Final = _terms(
    "red, orange, yellow, green, blue, purple, pink, white, black, brown, grey, gray, silver, "
    "gold, golden, rainbow, violet, indigo, turquoise, teal, lilac, lavender, peach, cream, "
    "crimson, scarlet, navy, sky blue, light blue, dark blue, light green, dark green, mint, "
    "rose, ruby, emerald, amber, bronze, copper, magenta, cherry, lemon, sparkly, glittery, "
    "beige"
)
ANIMALS: Final = _terms(
    "cat, kitten, dog, puppy, rabbit, bunny, owl, fox, bear, teddy bear, mouse, horse, pony, "
    "unicorn, dragon, lion, tiger, elephant, giraffe, monkey, penguin, dolphin, whale, fish, "
    "turtle, tortoise, frog, duck, bird, robin, parrot, eagle, swan, hedgehog, squirrel, deer, "
    "wolf, panda, koala, kangaroo, zebra, cow, pig, sheep, lamb, goat, chicken, hen, butterfly, "
    "bee, ladybug, ladybird, snail, octopus, seal, otter, badger, hamster, guinea pig, "
    "dinosaur, crocodile, hippo, sloth, bat, firefly, moth, starfish, crab, jellyfish, peacock, "
    "flamingo, llama, camel, raccoon, beaver, mole, ant, caterpillar, dragonfly, seahorse"
)
FEELINGS: Final = _terms(
    "happy, sad, calm, cosy, cozy, sleepy, tired, brave, excited, scared, worried, nervous, "
    "proud, safe, warm, peaceful, silly, cheerful, glad, lonely, grumpy, shy, curious, hopeful, "
    "loved, kind, snuggly, relaxed, giggly, gentle, surprised, joyful, quiet, cross, angry, "
    "better, wobbly, fizzy, floaty, dreamy, tingly, bouncy, wiggly, jumpy, fluttery, cuddly, "
    "comfy, glowy, strong"
)
SOUNDS: Final = _terms(
    "hum, humming, buzz, whoosh, swish, tinkle, jingle, ding, ring, pop, boing, splash, drip, "
    "pitter patter, whistle, purr, meow, woof, hoot, tweet, chirp, moo, quack, roar, squeak, "
    "giggle, laugh, song, singing, bells, drum, rain, wind, waves, crackle, whisper, snore, "
    "click, beep"
)
PLACES: Final = _terms(
    "forest, woods, beach, sea, ocean, island, moon, stars, space, castle, garden, park, "
    "mountain, river, lake, meadow, cave, jungle, desert, city, village, farm, school, library, "
    "clouds, sky, rainbow, treehouse, boat, train, home, bedroom, kitchen, playground, zoo, "
    "north pole, dreamland"
)
OBJECTS: Final = _terms(
    "teddy, blanket, pillow, lantern, lamp, book, ball, key, star, shell, stone, feather, "
    "crayon, pencil, hat, scarf, boots, umbrella, kite, box, map, cup, spoon, torch, "
    "flashlight, bell, flower, leaf, jar, music box, crown, wand, balloon, sock, slipper, toy, "
    "robot, car"
)
NAMES: Final = _terms(
    "mila, lila, ava, leo, mara, daniel, oliver, nora, sam, ben, emma, olivia, noah, liam, mia, "
    "luna, max, lily, charlie, ruby, finn, zoe, sophie, jack, grace, theo, isla, oscar, ella, "
    "harry, amelia, rosie, sparkle, twinkle, pip, bubbles, star, moonbeam, whiskers, fluffy, "
    "sunny"
)
VOCABULARY: Final = {
    "colour": COLOURS,
    "animal": ANIMALS,
    "feeling": FEELINGS,
    "sound": SOUNDS,
    "place": PLACES,
    "object": OBJECTS,
    "name": NAMES,
    "free": (),
}
STRICT_KINDS: Final = frozenset({"colour", "animal", "feeling"})
_FILLERS: Final = (
    "i think it was",
    "i think it's",
    "i think",
    "it was",
    "it's",
    "it is",
    "maybe",
    "um",
    "uh",
    "erm",
    "hmm",
    "well",
    "a",
    "an",
    "the",
    "my",
    "some",
    "called",
    "named",
    "his name is",
    "her name is",
    "its name is",
    "it's called",
    "i want",
    "i'd like",
    "let's say",
    "how about",
)
_ADJECTIVES: Final = frozenset(
    "little big tiny small giant sleepy fluffy soft baby happy friendly light dark bright "
    "sparkly shiny golden silver magic magical old young kind gentle fuzzy furry spotty".split()
)
MAX_ANSWER_WORDS: Final = 6


def fold(word: str) -> str:
    """A word as a filter sees it: lower case, leetspeak undone, letters only."""
    return re.sub(r"[^a-z]", "", word.lower().translate(_LEET))


@dataclass(frozen=True, slots=True)
class WordSafety:
    """Decides whether words may be spoken or stored."""

    extra: frozenset[str] = frozenset()

    @classmethod
    def with_words(cls, words: Iterable[str]) -> WordSafety:
        return cls(frozenset(fold(w) for w in words if fold(w)))

    def _bad(self, word: str) -> bool:
        if not word:
            return False
        squeezed = _SQUEEZE.sub(r"\1", word)
        for form in {word, squeezed}:
            if form in RUDE or form in SCARY or form in self.extra:
                return True
            if form.endswith("s") and (form[:-1] in RUDE or form[:-1] in self.extra):
                return True
        return any(root in word or root in squeezed for root in RUDE_ROOTS)

    def is_safe(self, text: str) -> bool:
        """No rude or too-scary word, however it is spelled or spaced out."""
        tokens = [fold(t) for t in re.split(r"[\s,.;:?\-_/]+", text) if t]
        if any(self._bad(t) for t in tokens):
            return False
        # letters spelled out or split: "f u c k", "sh it"
        for size in (2, 3, 4):
            for i in range(len(tokens) - size + 1):
                joined = "".join(tokens[i : i + size])
                short = all(len(t) <= 2 for t in tokens[i : i + size])
                if len(joined) >= 3 and short and self._bad(joined):
                    return False
        return True


def _strip_fillers(text: str) -> str:
    words = re.sub(r"[^a-z' ]", " ", text.lower()).split()
    changed = True
    while changed and words:
        changed = False
        for filler in _FILLERS:
            parts = filler.split()
            if words[: len(parts)] == parts and len(words) > len(parts):
                words = words[len(parts) :]
                changed = True
                break
    return " ".join(words)


def find_term(text: str, vocabulary: Iterable[str]) -> str | None:
    """The longest vocabulary term in the text, with one describing word before it if any."""
    words = re.sub(r"[^a-z' ]", " ", text.lower()).split()
    best: tuple[int, int, int] | None = None
    for term in vocabulary:
        parts = term.split()
        for i in range(len(words) - len(parts) + 1):
            if words[i : i + len(parts)] == parts and (best is None or len(parts) > best[2]):
                best = (i, i + len(parts), len(parts))
    if best is None:
        plural = [w[:-1] for w in words if w.endswith("s")]
        return find_term(" ".join(plural), vocabulary) if plural and plural != words else None
    start, end, _ = best
    if start > 0 and words[start - 1] in _ADJECTIVES:
        start -= 1
    return " ".join(words[start:end])


def answer_for(kind: str, text: str, safety: WordSafety) -> str | None:
    """The part of what the child said that answers a question of this kind, or None.

    None means: not safe, not of the right kind, or nothing usable — ask again or use a default.
    """
    if not text.strip() or not safety.is_safe(text):
        return None
    if kind in STRICT_KINDS:
        return find_term(text, VOCABULARY[kind])
    cleaned = _strip_fillers(text)
    if not cleaned or len(cleaned.split()) > MAX_ANSWER_WORDS:
        return None
    if kind == "name":
        known = find_term(cleaned, NAMES)
        if known:
            return known.title()
        words = cleaned.split()
        return " ".join(w.capitalize() for w in words) if len(words) <= 3 else None
    return cleaned


def grammar_phrases(
    kind: str, defaults: Iterable[str] = (), names: Iterable[str] = ()
) -> tuple[str, ...]:
    """What the recognizer should expect for an answer of this kind."""
    phrases = list(VOCABULARY.get(kind, ())) + [d.lower() for d in defaults]
    if kind == "name":
        phrases += [n.lower() for n in names]
    if kind == "colour":
        phrases += [f"it was {p}" for p in COLOURS[:20]]
    if kind in ("animal", "place", "object", "sound"):
        # answers come with an article: "a tiger", "the moon", "an owl"
        phrases += [f"{article} {p}" for p in VOCABULARY[kind] for article in ("a", "the")]
    return tuple(dict.fromkeys(p for p in phrases if p))
