"""Stories made up together: freeform nights, and turning a bad dream into a small, silly one."""

from __future__ import annotations

import random
from typing import Final

from companion.storytelling.format import Ask, Say, Story

FREEFORM_SEED: Final = "freeform"

# Each beat has several ways to be told; one is picked at random, so no two nights are alike.
# Motifs come from the seed worlds: the Dreamlink door, dream pods, the city of Luma and its
# Dream Hub towers, story lanterns, the cloud maze, and worries that shrink when told.
_OPENINGS: Final = (
    "Once upon a bedtime, in the year twenty forty-five, the city of Luma was getting sleepy. "
    "One by one, the Dream Hub towers dimmed their soft blue lights.",
    "Far away, where the clouds are as soft as pillows, a little door of light opened in the "
    "middle of the night. It was a Dreamlink door, and it only opens for brave dreamers.",
    "In a quiet house at the edge of Luma, a dream pod hummed a gentle tune. But tonight, "
    "nobody wanted a dream from a machine. Tonight, the story would be made by hand.",
    "High above the rooftops, a story lantern floated by the window. It glowed warm and gold, "
    "as if it were waiting for someone to tell it a tale.",
)
_HERO_LINES: Final = (
    "Our hero was {hero:a}. {hero:the} had a kind heart and very curious eyes.",
    "This is the story of {hero:a}. Everyone who knew {hero:the} said: what a good friend.",
    "The dreamer tonight was {hero:a}, who was small and brave and just a little bit sleepy.",
)
_PLACE_LINES: Final = (
    "{hero:the} stepped through the door and found the way to the {place}. The air smelled of "
    "warm cocoa and fresh rain.",
    "Soon {hero:the} was floating, slow as a feather, all the way to the {place}. Everything there "
    "glowed softly, like a night light.",
    "A path of tiny stars led {hero:the} to the {place}. Each step went tap, tap, tap, and each "
    "star gave a little twinkle.",
)
_FIND_LINES: Final = (
    "And there, waiting in the {place}, was {found:a}. It was just the right size to hold.",
    "In the {place}, tucked under a leaf, {hero:the} found {found:a}. It hummed a tiny, happy hum.",
    "Something sparkled in the {place}. {hero:the} looked closer. It was {found:a}!",
)
_HELPER_LINES: Final = (
    "Then along came a friendly {helper}. The {helper} said, 'I know a song that helps "
    "everyone feel safe.' And it sang it, very softly.",
    "A gentle {helper} peeked out and smiled. 'Shall we look after it together?' asked the "
    "{helper}. And so they did.",
    "Just then, a sleepy {helper} yawned a great big yawn. 'I will walk with you,' said the "
    "{helper}, 'all the way home.'",
)
_WORRY_LINES: Final = (
    "For a moment, a little grey worry cloud drifted by. But {hero:the} told it a story, and the "
    "cloud got smaller and smaller, until it was only a puff, and then a giggle.",
    "On the way, the path went into a soft cloud maze. {hero:the} was not scared. The {helper} "
    "hummed, {hero:the} followed the humming, and the way home was easy to find.",
    "A shy shadow was hiding by the path. {hero:the} said hello. The shadow said hello back, "
    "in a tiny voice, and was not a shadow at all, just a friend who needed a hug.",
)
_ENDINGS: Final = (
    "And in the end, {ending}. {hero:the} held the {found} close, and the {helper} tucked them in. "
    "The stars dimmed, one by one. The {place} grew quiet and still. Breathe in slowly... "
    "and out. Goodnight, {listener}. Sweet dreams.",
    "So that is how the night ended: {ending}. The Dream Hub lights were low and soft. "
    "{hero:the} yawned, the {helper} yawned, and even the {found} seemed to yawn. "
    "Snuggle down now, {listener}. The story is safe, and so are you. Goodnight.",
    "And then, {ending}. The story lantern glowed one last time, then dimmed to a gentle "
    "gold. Everyone in Luma was resting now. Close your eyes, {listener}, and float off "
    "slowly, like a feather, into your own dreams. Goodnight.",
)


def freeform_story(rng: random.Random, listener: str) -> Story:
    """A story shaped by the child's answers, told with a fresh mix of lines each night."""
    pick = rng.choice
    steps = (
        Say(
            (pick(_OPENINGS), f"Tonight, {listener}, you are the storyteller, and I will help."),
            recap="We were making up our own story.",
        ),
        Ask(
            "Who is our hero? It can be a child, an animal, or anyone at all.",
            "hero",
            "free",
            ("a little fox", "a brave owl", "a girl called Pip"),
            "",
        ),
        Say((pick(_HERO_LINES),), recap="Our hero was {hero:a}."),
        Ask(
            "Where does {hero:the} go tonight?",
            "place",
            "place",
            ("moon", "forest", "cloud garden"),
            "The {place}. Off we go!",
        ),
        Say((pick(_PLACE_LINES),), recap="{hero:the} went to the {place}."),
        Ask(
            "What does {hero:the} find there?",
            "found",
            "object",
            ("a glowing shell", "a tiny key", "a warm blanket"),
            "",
        ),
        Say((pick(_FIND_LINES),), recap="{hero:the} found {found:a} in the {place}."),
        Ask(
            "Who comes along to help?",
            "helper",
            "animal",
            ("owl", "sleepy fox", "gentle bear"),
            "A {helper}! Every hero needs a friend.",
        ),
        Say(
            (pick(_HELPER_LINES), pick(_WORRY_LINES)),
            recap="A friendly {helper} came to help {hero:the}.",
        ),
        Ask(
            "How does the night end, nice and gently?",
            "ending",
            "free",
            ("everyone fell asleep under the stars", "they all went home for a cuddle"),
            "",
        ),
    )
    rng_id = f"freeform-{rng.randrange(10**8):08d}"
    return Story(
        rng_id, "Our Own Story", FREEFORM_SEED, (3, 10), 4, (), steps, (pick(_ENDINGS),), "freeform"
    )


_BREATHING: Final = (
    "Oh, I'm sorry. Bad dreams can feel very big. But you are safe, {listener}. You are in "
    "your own bed, and I am right here.",
    "Let's take a slow breath together. Breathe in... two, three, four. And out... two, "
    "three, four. One more time. In... and out.",
    "That's it. Nice and slow. Dreams are only stories our sleepy minds tell, and we can "
    "tell them differently.",
)
_SHRINK: Final = (
    "So, in our new version, the {scary} came back. But this time, something funny happened. "
    "The {scary} started to shrink. Smaller... and smaller... until it was as small as a teacup.",
    "And guess what? The tiny {scary} was wearing {silly:a}! It looked down at itself and "
    "giggled a tiny giggle. It was not scary at all. It was just a little bit silly.",
    "The tiny {scary} waved a tiny hand, said a tiny 'sorry for the fuss', and tiptoed away to "
    "its own tiny bed. It pulled up a tiny blanket, and fell fast asleep.",
)
_CALM: Final = (
    "Now the dream is a funny little story, and funny little stories can't scare anyone. "
    "Your room is cosy. Your pillow is soft. Let's breathe in slowly... and out. "
    "You are safe, {listener}. Goodnight, and sweet, gentle dreams.",
)


def bad_dream_story(rng: random.Random, listener: str) -> Story:
    """A breathing moment, then the scary thing retold until it is small, friendly and silly."""
    del rng  # one gentle shape: calm and predictable is the point here
    steps = (
        Say(_BREATHING, recap="We took slow breaths together after a bad dream."),
        Ask(
            "If you like, you can tell me what was scary. What was in the dream?",
            "scary",
            "free",
            ("shadow",),
            "Thank you for telling me. That sounds scary. Let's make it small.",
        ),
        Ask(
            "What could the {scary} be wearing, to look really silly?",
            "silly",
            "object",
            ("a tutu", "a big floppy hat", "rainbow socks"),
            "",
        ),
        Say(_SHRINK, recap="The scary {scary} turned small and silly."),
    )
    return Story(
        "bad-dream",
        "The Dream That Got Small",
        "004_6a67f55e39758d1e.txt",
        (3, 10),
        2,
        (),
        steps,
        _CALM,
        "bad-dream",
    )
