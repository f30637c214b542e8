"""Freeform nights: stories with a real plot shape that the child leads with their answers.

Each shape (a journey and back, something lost and found, a friend helped, a wish, a gentle
mystery, a day in the life of the child's own creature, a present, a night lighting lanterns)
has a beginning, a small problem, a turn, and a long, slow, sleepy ending. Shapes are data:
each beat is a question (several wordings) and the narration after its answer (several
tellings); beats in one act may come in any order. The story's id carries its shape's name
("freeform-wish-01234567"), so the journal knows which shapes were told lately.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from companion.storytelling.format import Ask, Say, Step, Story

FREEFORM_SEED: Final = "freeform"
FREEFORM_TITLE: Final = "Our Own Story"
SPACING: Final = 7
"""A shape is told at most once in any run of this many freeform stories."""


@dataclass(frozen=True, slots=True)
class Query:
    """One question of a shape: its slot, several wordings, gentle defaults, replies."""

    slot: str
    kind: str
    wordings: tuple[str, ...]
    defaults: tuple[str, ...]
    replies: tuple[str, ...] = ("",)
    """Said after the answer; "" leaves it to the storyteller's warm reply."""


@dataclass(frozen=True, slots=True)
class Beat:
    """A question (or none) and the narration after its answer, told one of several ways."""

    ask: Query | None
    recap: str
    tellings: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """A plot a child can lead: acts of beats, the last ones calm and sleepy, then an ending."""

    name: str
    acts: tuple[tuple[Beat, ...], ...]
    """In order; the beats inside one act may come in any order (none uses another's slot)."""
    calm_from: int
    """The first act of the calm part: the problem is solved before it."""
    endings: tuple[str, ...]


def _ask(query: Query, recap: str, *tellings: tuple[str, ...]) -> Beat:
    return Beat(query, recap, tellings)


def _tell(recap: str, *tellings: tuple[str, ...]) -> Beat:
    return Beat(None, recap, tellings)


INVITES: Final = (
    "Tonight, {listener}, you're the storyteller, and I'll help.",
    "And tonight, {listener}, you get to decide what happens. I'll help you along.",
    "You lead the way tonight, {listener}. I'll follow.",
)
HEROES: Final = ("a little fox", "a brave owl", "a girl called Pip")
_ANYONE: Final = "Who is our hero? It can be a child, an animal, or anyone at all."
# Every shape asks for its hero first and a place second, and its last question takes a free
# answer (up to a sentence): whole nights are rehearsed with answers spoken in that order.

# Told between a shape's own calm beats and its ending: the city settling down for the night.
SETTLING: Final = (
    (
        "All across Luma, the night grew deep and soft. The dream pods hummed their low, gentle "
        "hum, like a cat purring in its sleep. One by one, the windows went dark.",
        "The Dream Hub towers dimmed to the palest blue. The story lanterns bobbed slowly down "
        "the empty streets, glowing just enough to see by. Everything was quiet. Everything was "
        "still.",
        "Even the breeze was sleepy now. It drifted through the streets, slow and soft, "
        "whispering 'shh' to every window it passed.",
    ),
    (
        "Now the whole city of Luma was getting ready to sleep. The wind stopped playing in the "
        "trees. The clouds settled on the rooftops like big, soft pillows.",
        "Somewhere a dream pod sighed and warmed up for the night. Somewhere a story lantern gave "
        "one last little flicker. And the stars came out, slowly, one at a time, to keep watch.",
        "Up in the sky, the moon pulled a cloud around itself like a blanket. And down below, "
        "everybody in Luma was breathing slowly. In, and out. In, and out.",
    ),
    (
        "Outside, Luma was hushed. The streets were empty, the doors were shut, and the Dreamlink "
        "doors were resting too, closed up tight until tomorrow.",
        "High above, the Dream Hub towers glowed their softest, sleepiest glow. It's the glow "
        "that means: everybody's safe, everybody's home, and it's time to rest.",
        "Inside every house, the lights were low and the blankets were warm. Pillows were "
        "plumped. Eyes were heavy. And the night went on, slow and quiet, all the way to morning.",
    ),
)

JOURNEY: Final = Shape(
    "journey",
    (
        (
            _tell(
                "A Dreamlink door was glowing in the city of Luma.",
                (
                    "Once upon a bedtime, the city of Luma was getting sleepy. One by one, the "
                    "Dream Hub towers dimmed their lights to a soft, misty blue. And at the end "
                    "of a quiet street, a little door of light began to glow.",
                    "It was a Dreamlink door. Dreamlink doors only open at night, and only for "
                    "someone who's ready for an adventure.",
                ),
                (
                    "High above the rooftops of Luma, where the clouds are as soft as pillows, a "
                    "Dreamlink door appeared in the sky. It hummed a tiny tune, as if it were "
                    "calling someone.",
                    "Doors like that don't stay open for long. Somebody had better hurry!",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        _ANYONE,
                        "Someone's about to step through that door. Who is our hero?",
                        "Every journey needs a traveller. Who is our hero? Anyone you like.",
                    ),
                    HEROES,
                ),
                "Our traveller was {hero:a}.",
                (
                    "Our traveller tonight was {hero:a}. {hero:the} had a small bag, a big smile, "
                    "and very curious eyes.",
                ),
                (
                    "This is the story of {hero:a}, who'd always wondered what was on the other "
                    "side of a Dreamlink door. Tonight, {hero:the} was going to find out.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where does the door lead? Where is {hero:the} going tonight?",
                        "The door swung open. What place was waiting on the other side?",
                        "Where should {hero:the} travel to tonight?",
                    ),
                    ("moon", "forest", "cloud garden"),
                    ("", "The {place}! Off we go.", "Ooh, the {place}. Let's go and see."),
                ),
                "{hero:the} travelled through the Dreamlink door to the {place}.",
                (
                    "{hero:the} took a deep breath and stepped through. The door gave a soft, "
                    "shimmery sigh, and there it was: the {place}. The air smelled of warm toast "
                    "and fresh rain.",
                ),
                (
                    "It was a long way to the {place}. {hero:the} floated over the rooftops of "
                    "Luma, past the Dream Hub towers and over a river of stars, until at last the "
                    "{place} was right below.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "thing",
                    "object",
                    (
                        "Every traveller carries something special. What did {hero:the} bring "
                        "along?",
                        "What did {hero:the} pack in that little bag?",
                        "What's the one thing {hero:the} took on the journey?",
                    ),
                    ("torch", "warm scarf", "map"),
                ),
                "{hero:the} had brought {thing:a} along.",
                (
                    "In the bag was {thing:a}. It's always good to bring something from home, and "
                    "{hero:the} was glad of the {thing} already.",
                ),
                (
                    "{hero:the} had packed {thing:a}, just in case. You never know what you'll "
                    "need on a journey, and the {thing} felt good to hold.",
                ),
            ),
            _ask(
                Query(
                    "friend",
                    "free",
                    (
                        "Who does {hero:the} meet on the way?",
                        "Someone was waiting in the {place}. Who was it?",
                        "Who comes along to keep {hero:the} company?",
                    ),
                    ("a friendly owl", "a sleepy bear cub", "a kind old tortoise"),
                ),
                "In the {place}, {hero:the} met {friend:a}.",
                (
                    "Sitting on a rock in the {place} was {friend:a}. 'Hello,' said {hero:the}. "
                    "'Oh, hello,' said {friend:the}. 'I hoped someone nice would come.'",
                ),
                (
                    "Before long, {friend:a} came wandering along the path. 'Can I come too?' "
                    "asked {friend:the}. 'Of course you can,' said {hero:the}.",
                ),
            ),
        ),
        (
            _tell(
                "On the way home, a soft cloud maze hid the path.",
                (
                    "They explored all evening. But when it was time to go home, a cloud maze had "
                    "drifted across the path. It was soft and white and very, very puffy, and "
                    "every way through it looked exactly the same.",
                    "{hero:the} went left, then right, then left again. 'Hmm,' said {friend:the}. "
                    "'I think we've been here before.'",
                ),
                (
                    "They had a wonderful time. But when the stars came out, {hero:the} looked "
                    "round and couldn't see the Dreamlink door anywhere. A big cloud maze had "
                    "floated in, soft as cotton wool, and hidden the way home.",
                    "'Oh dear,' said {friend:the}. 'Which way now?'",
                ),
            ),
        ),
        (
            _tell(
                "The cloud maze drifted apart, and they found the door home.",
                (
                    "Then {hero:the} remembered the {thing}. {hero:the} held up the {thing}, and "
                    "somehow, just holding it made everything feel clearer. 'This way,' said "
                    "{hero:the}, and the clouds drifted aside like curtains.",
                    "There, glowing softly, was the Dreamlink door. {friend:the} gave a happy "
                    "little hop. They'd found the way home.",
                ),
                (
                    "{friend:the} had an idea. 'Clouds love a song,' said {friend:the}. So they "
                    "hummed together, softly, and the cloud maze began to drift apart, puff by "
                    "puff.",
                    "And there, right where it had always been, was the Dreamlink door. "
                    "{hero:the} held the {thing} close and stepped through, with {friend:the} "
                    "right behind.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "last",
                    "free",
                    (
                        "They're home at last. What happens at the very end of the journey?",
                        "Back in Luma, what's the last thing that happens tonight?",
                        "Now they're home safe. How does the journey end?",
                    ),
                    (
                        "everyone had a warm cup of cocoa",
                        "they watched the stars from the window",
                        "they said goodnight to the moon",
                    ),
                    ("Oh, that's a lovely way to end.", "Mm. That sounds just right."),
                ),
                "They came home, and {last}.",
                (
                    "And so, at the very end of the journey, {last}. The Dreamlink door gave one "
                    "last sleepy glow, and then it faded away, as quiet as a yawn.",
                    "{hero:the} put the {thing} back where it belonged. {friend:the} was already "
                    "nodding off in a big, soft chair.",
                ),
                (
                    "So that's how the journey ended: {last}. It had been a big adventure, and "
                    "big adventures make you sleepy.",
                    "{hero:the} gave a long, slow yawn. So did {friend:the}. The {thing} sat on "
                    "the windowsill, keeping watch.",
                ),
            ),
        ),
    ),
    6,
    (
        "Now it's your turn to rest, {listener}. Let your arms go heavy, and your legs go heavy. "
        "Breathe in slowly... and out. Every journey ends at home, and home is right here, cosy "
        "and warm. Goodnight, {listener}. See you in the morning.",
        "The door is closed, the travellers are home, and the stars are keeping watch over Luma. "
        "Breathe in... and breathe out, nice and slow. You don't have to go anywhere at all "
        "tonight. Goodnight, {listener}. Sleep tight.",
        "Far away, a Dreamlink door is waiting for the next adventure. But not tonight. Tonight "
        "is for resting. Let your breathing go slow and soft, {listener}, like a little boat "
        "rocking on a calm sea. Goodnight.",
    ),
)

LOST: Final = Shape(
    "lost",
    (
        (
            _tell(
                "In Luma, something very special was about to go missing.",
                (
                    "In the city of Luma, where the Dream Hub towers glow all night long, "
                    "everybody has one thing they love more than anything. A blanket, maybe. Or a "
                    "toy. Or a shiny pebble from the beach.",
                    "This is a story about one of those things, and how it went missing, and how "
                    "it came back again.",
                ),
                (
                    "It was nearly bedtime in Luma. The story lanterns were bobbing along the "
                    "streets, and the dream pods were humming their sleepy hum. But in one little "
                    "house, somebody was looking everywhere for something.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        _ANYONE,
                        "Somebody's about to lose something. Who is our hero?",
                        "Let's start with the most important part. Who is our hero?",
                    ),
                    HEROES,
                ),
                "Our hero was {hero:a}.",
                (
                    "Our hero was {hero:a}. {hero:the} was kind, and funny, and usually very good "
                    "at keeping track of things. Usually.",
                ),
                (
                    "This is {hero:a}. If you'd met {hero:the}, you'd have liked them straight "
                    "away. Everybody did.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where does {hero:the} live? It can be anywhere at all.",
                        "What place does {hero:the} call home?",
                        "Where did {hero:the} spend the day, before anything went missing?",
                    ),
                    ("treehouse", "cloud garden", "lighthouse"),
                ),
                "{hero:the} lived near the {place}.",
                (
                    "{hero:the} lived near the {place}, in a cosy little home with a round blue "
                    "door. Every morning, {hero:the} went out to play, and every evening, "
                    "{hero:the} came back for supper.",
                ),
                (
                    "Home for {hero:the} was a snug little nook by the {place}. It had a soft "
                    "bed, a window full of stars, and a shelf for special things.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "thing",
                    "object",
                    (
                        "What's the special thing that goes missing?",
                        "What does {hero:the} love more than anything? It's about to go missing.",
                        "Uh-oh. Something's missing. What has {hero:the} lost?",
                    ),
                    ("teddy", "blanket", "music box"),
                    ("", "Oh no, not the {thing}!"),
                ),
                "{hero:the} couldn't find their {thing} anywhere.",
                (
                    "More than anything, {hero:the} loved their {thing}. But that evening, when "
                    "it was time for bed, the {thing} wasn't on the shelf. It wasn't on the "
                    "pillow. It wasn't anywhere at all.",
                ),
                (
                    "Every night, {hero:the} fell asleep holding their {thing}. But tonight, "
                    "there was an empty space where the {thing} should be. {hero:the} looked "
                    "under the bed. Nothing. {hero:the} looked behind the door. Nothing there "
                    "either.",
                ),
            ),
            _ask(
                Query(
                    "friend",
                    "free",
                    (
                        "Who helps {hero:the} look?",
                        "Nobody should have to search alone. Who comes to help?",
                        "Who's the best finder in the whole of Luma?",
                    ),
                    ("a clever mouse", "a friendly dog", "a kind old owl"),
                ),
                "{hero:the} had a good friend to help: {friend:a}.",
                (
                    "{hero:the} had a very good friend: {friend:a}, who lived just down the road "
                    "and was the best finder in the whole of Luma.",
                ),
                (
                    "That evening, {friend:a} had come round to visit. {friend:the} was patient "
                    "and kind and very good at noticing things.",
                ),
            ),
        ),
        (
            _tell(
                "{hero:the} and {friend:the} searched everywhere for the {thing}.",
                (
                    "So the two of them searched. {friend:the} looked in the cupboard. {hero:the} "
                    "looked in the bath. They looked all the way to the {place} and back again, "
                    "calling, 'Where are you?' But the {thing} didn't answer.",
                    "{hero:the} sat down on the step with a sigh. It's a funny feeling, when "
                    "something you love isn't where it should be.",
                ),
                (
                    "{hero:the} and {friend:the} searched high and low. They peeked into the "
                    "dream pod. They looked behind the story lantern. They even asked the moon, "
                    "but the moon only smiled.",
                    "'Let's stop and think,' said {friend:the}. 'Where did you have it last?'",
                ),
            ),
        ),
        (
            _tell(
                "{hero:the} thought back over the whole day.",
                (
                    "{hero:the} closed their eyes and thought back, very slowly, over the whole "
                    "day. Breakfast. Playing. A little nap in the afternoon sun...",
                    "'Oh!' said {hero:the}. 'I think I know where it is!'",
                ),
                (
                    "So {hero:the} thought, and thought, and thought some more. Where had the "
                    "{thing} been this morning? And at lunchtime? And after that?",
                    "Then, all at once, {hero:the} sat up straight. 'I remember!'",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hiding",
                    "free",
                    (
                        "Where was the {thing} hiding? Under something? Inside something?",
                        "So where had the {thing} been all along? Somewhere a bit surprising, "
                        "maybe.",
                        "Where did they find the {thing} in the end?",
                    ),
                    ("under the pillow", "inside the toy box", "in the garden under a leaf"),
                    ("Of course! Why didn't we look there?", "Aha! That's where it was."),
                ),
                "They found the {thing}, {hiding}.",
                (
                    "And there it was, {hiding}, safe and sound. The {thing} looked a little "
                    "sleepy, as if it had been having a nap of its own.",
                    "{hero:the} scooped it up and held it tight. {friend:the} did a little happy "
                    "dance. Found, at last!",
                ),
                (
                    "They tiptoed over and peeked. Yes! There was the {thing}, {hiding}, exactly "
                    "where it had been all along.",
                    "'Hello, you,' whispered {hero:the}, and gave the {thing} the biggest, "
                    "gentlest squeeze. {friend:the} smiled a very pleased smile.",
                ),
            ),
        ),
        (
            _tell(
                "The {thing} was home, and everyone got ready for bed.",
                (
                    "That night, the {thing} went right back where it belonged, snuggled up "
                    "close. {friend:the} said goodnight and went home under the stars.",
                    "The house grew quiet. {hero:the} took a long, slow breath, and let it out "
                    "again, and felt everything settle, just right.",
                    "A story lantern drifted past the window and glowed a little brighter for a "
                    "moment, as if to say: well done, you two. Then it drifted slowly on down the "
                    "street.",
                ),
                (
                    "Soon it was properly bedtime. {hero:the} tucked the {thing} in first, then "
                    "climbed in too. 'Thank you for finding it with me,' {hero:the} whispered, "
                    "and {friend:the} whispered back, 'That's what friends are for.'",
                    "Inside, it was warm and still. Nothing was missing any more.",
                    "{hero:the} curled up with the {thing}, closed their eyes, and smiled a "
                    "small, sleepy smile.",
                ),
            ),
        ),
    ),
    7,
    (
        "Is your own special thing close by, {listener}? Give it a little squeeze. Everything "
        "that matters is right here with you. Breathe in slowly... and out. Goodnight, "
        "{listener}. Keep it close.",
        "Lost things have a way of coming home, and so do sleepy storytellers. You're home, "
        "{listener}, warm and safe in your own bed. Let your eyes get heavy. Goodnight. Sweet "
        "dreams.",
        "The {thing} is tucked in. {hero:the} is fast asleep. And soon, {listener}, you will be "
        "too. Breathe in, and breathe out, slow as a cloud. Goodnight, and see you in the "
        "morning.",
    ),
)

HELPING: Final = Shape(
    "helping",
    (
        (
            _tell(
                "Somebody in Luma had a little problem.",
                (
                    "In the middle of Luma there's a park where the story lanterns come to rest "
                    "at night. They float down, one by one, and hang in the trees like sleepy "
                    "fireflies.",
                    "It's usually the quietest place in the whole city. But tonight, somebody "
                    "there needed a hand.",
                ),
                (
                    "It was a soft, blue evening in Luma. The Dream Hub towers were glowing, the "
                    "dream pods were warming up, and almost everyone was getting ready for bed.",
                    "Almost everyone. Because somewhere nearby, somebody had a little problem.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        "Who is our hero? Someone kind would be good.",
                        _ANYONE,
                        "Every story needs a good helper. Who is our hero?",
                    ),
                    HEROES,
                ),
                "Our hero was {hero:a}.",
                (
                    "Our hero was {hero:a}. {hero:the} was always the first to notice when "
                    "somebody needed help.",
                ),
                (
                    "Walking home that evening was {hero:a}, humming a little tune and thinking "
                    "about supper.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where was {hero:the} that evening?",
                        "Where does our story happen tonight?",
                        "Which place was {hero:the} passing through?",
                    ),
                    ("park", "river", "garden"),
                ),
                "By the {place}, {hero:the} heard a sad little sigh.",
                (
                    "{hero:the} was passing by the {place}, when from somewhere close came a "
                    "small, sad sigh.",
                ),
                (
                    "It happened by the {place}. The evening was so quiet that {hero:the} could "
                    "hear every little sound. And one of those little sounds was somebody saying, "
                    "'Oh dear. Oh dear, oh dear.'",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "friend",
                    "free",
                    (
                        "Who was sighing?",
                        "Who needed help?",
                        "Who was it, sounding so sad?",
                    ),
                    ("a little duck", "a baby dragon", "a shy hedgehog"),
                ),
                "{hero:the} found {friend:a}, who needed help.",
                (
                    "It was {friend:a}, looking up into the branches of a tall tree with a very "
                    "long face.",
                ),
                (
                    "Sitting all alone under a tall tree was {friend:a}. 'Hello,' said {hero:the} "
                    "gently. 'What's the matter?'",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "thing",
                    "object",
                    (
                        "Something was stuck, high up in the tree. What was it?",
                        "What had got stuck, way up high?",
                        "{friend:the} pointed up. What was caught in the branches?",
                    ),
                    ("kite", "balloon", "hat"),
                    ("", "The {thing}? Oh no!"),
                ),
                "The {thing} was stuck at the top of a tall tree, and {friend:the} couldn't reach "
                "it.",
                (
                    "'It's my {thing},' said {friend:the}. 'The wind blew it all the way up "
                    "there, and I can't reach it.' Sure enough, the {thing} was caught on the "
                    "very highest branch, swaying gently.",
                ),
                (
                    "'Look, my {thing} is stuck,' said {friend:the}, pointing up and up and up. "
                    "There, on the very tip-top branch of the tallest tree, was the {thing}. It "
                    "was much too high to reach.",
                ),
            ),
        ),
        (
            _tell(
                "They tried and tried, but the {thing} was too high.",
                (
                    "{hero:the} stretched up on tiptoe. Not nearly high enough. {friend:the} "
                    "tried jumping. Boing, boing! Still not high enough. They even shook the "
                    "tree, very gently, but the {thing} just wobbled and stayed put.",
                ),
                (
                    "{hero:the} tried to climb, but the bark was smooth and slippery. "
                    "{friend:the} tried calling, 'Come down, please!' But the {thing} stayed "
                    "right where it was, swaying in the breeze.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "help",
                    "free",
                    (
                        "What could help them reach it? Think of something clever.",
                        "{hero:the} had an idea. What could they use to get the {thing} down?",
                        "Who or what could help them reach that high?",
                    ),
                    ("a long ladder", "a friendly giraffe", "a big bouncy cloud"),
                    ("", "That's clever!", "Ooh, good thinking."),
                ),
                "With {help:a}, they got the {thing} down.",
                (
                    "'I know!' said {hero:the}. 'We need {help:a}!' And off they went to find "
                    "{help:the}.",
                    "It took a little while, and a lot of giggling, but it worked. Up, up, up "
                    "went {hero:the}, and down came the {thing}, safe and sound.",
                ),
                (
                    "Then {hero:the} had a wonderful idea: {help:a}! It was just what they needed.",
                    "With a bit of wobbling and a bit of stretching, {hero:the} reached higher "
                    "and higher, until, at last, the {thing} came free and floated gently down. "
                    "{friend:the} caught it and laughed.",
                ),
            ),
        ),
        (
            _tell(
                "Everyone said thank you and went home to bed.",
                (
                    "'Thank you,' said {friend:the}, hugging the {thing}. 'You're a very good "
                    "friend.' {hero:the} felt warm all the way through, like a mug of cocoa on a "
                    "cold night.",
                    "By now the sky was dark and full of stars. It was time for everyone to go "
                    "home to bed.",
                    "{hero:the} climbed into bed, still smiling. Out in the park, the story "
                    "lanterns dimmed, one at a time, until only a soft glow was left.",
                ),
                (
                    "{friend:the} was so happy, and so was {hero:the}. Helping someone is one of "
                    "the nicest feelings there is.",
                    "They walked home together under the quiet stars, slowly, slowly, their "
                    "footsteps soft on the path.",
                    "At the door, they said goodnight. {hero:the} climbed into bed, pulled up the "
                    "blanket, and let out a long, happy sigh.",
                ),
            ),
        ),
    ),
    7,
    (
        "And you know what, {listener}? You helped tonight too, by telling this story. Now it's "
        "time to rest. Let your hands go soft, and your shoulders go soft, and breathe in... and "
        "out. Goodnight, {listener}. Sleep well.",
        "Somewhere in Luma, {friend:the} is fast asleep with the {thing} close by. Breathe "
        "slowly, in and out. The stars are out, the lanterns are low, and everyone is cosy. "
        "Goodnight, {listener}. You're a very good helper.",
        "The tree is still and the park is quiet. Every friend is home. Close your eyes now, "
        "{listener}, and let the quiet wrap around you like a blanket. Goodnight, and sweet "
        "dreams.",
    ),
)

WISH: Final = Shape(
    "wish",
    (
        (
            _tell(
                "The wishing star was coming to Luma.",
                (
                    "Once in a long while, on the quietest night of all, a wishing star drifts "
                    "low over the city of Luma. It passes so close to the rooftops that you could "
                    "almost touch it.",
                    "And whoever sees it first gets one wish. Just one.",
                ),
                (
                    "Everyone in Luma knows about the wishing star. It doesn't come often, and "
                    "when it does, it glows like a story lantern made of silver.",
                    "Tonight, it was on its way.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        "Someone's about to make a wish. Who is our hero?",
                        _ANYONE,
                        "Let's begin with the most important part. Who is our hero?",
                    ),
                    HEROES,
                ),
                "Our hero was {hero:a}.",
                (
                    "Our hero was {hero:a}, who had been waiting for the wishing star for ages "
                    "and ages.",
                ),
                (
                    "Wrapped up warm in a blanket sat {hero:a}. {hero:the} was watching the sky "
                    "very, very carefully.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where does {hero:the} go to watch for the star?",
                        "Where's the best place in Luma to see a wishing star?",
                        "Where did {hero:the} sit to watch the sky?",
                    ),
                    ("hilltop", "rooftop garden", "beach"),
                ),
                "At the {place}, {hero:the} saw the wishing star.",
                (
                    "So {hero:the} went up to the {place}, where the sky is wide and the night is "
                    "still, and waited. And waited.",
                    "And then, all at once, there it was! The wishing star came gliding over the "
                    "{place}, slow and bright, trailing sparkles like a sleepy comet.",
                ),
                (
                    "The {place} was the perfect spot. {hero:the} lay back and looked up. The sky "
                    "was deep and dark and full of tiny stars. Then one star, bigger than the "
                    "rest, came drifting down, closer and closer.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "wish",
                    "free",
                    (
                        "What does {hero:the} wish for? A thing, a treat, anything at all.",
                        "Quick, make a wish! What does {hero:the} wish for?",
                        "What's the one thing {hero:the} wishes for tonight?",
                    ),
                    ("a puppy", "a big chocolate cake", "a kite that flies all by itself"),
                    ("", "Ooh, good wish."),
                ),
                "{hero:the} wished for {wish:a}.",
                (
                    "{hero:the} shut their eyes tight and whispered the wish: {wish:a}. The star "
                    "twinkled, as if to say, 'Got it.'",
                ),
                (
                    "'I wish,' said {hero:the}, very softly, 'for {wish:a}.' The wishing star "
                    "gave a bright little blink. Wish heard!",
                ),
            ),
            _ask(
                Query(
                    "helper",
                    "free",
                    (
                        "Someone else was watching the star too. Who was it?",
                        "Who was sitting next to {hero:the}, watching the sky?",
                        "Who came to watch the star with {hero:the}?",
                    ),
                    ("a wise old owl", "a little grey rabbit", "a friendly star keeper"),
                ),
                "{helper:a} was watching the star too.",
                (
                    "Close by sat {helper:a}, who'd seen more wishing stars than anyone. "
                    "{helper:the} knew all sorts of things about wishes.",
                ),
                (
                    "{hero:the} wasn't alone. Right there too was {helper:a}, wrapped in a scarf, "
                    "with a flask of warm milk to share.",
                ),
            ),
        ),
        (
            _tell(
                "The wish came true, but {wish:the} turned out far too big.",
                (
                    "Then, with a soft whoosh, the wish came true. Down from the sky floated "
                    "{wish:the}. But oh! It was enormous. It was as big as a house. It was so big "
                    "it covered up the moon.",
                    "'Oh dear,' said {hero:the}. 'That's a bit too much wish.'",
                ),
                (
                    "The star flashed, and there was {wish:the}! Only, it had come out rather "
                    "large. Much larger than {hero:the} had meant. In fact, it was bigger than a "
                    "Dream Hub tower.",
                    "{helper:the} blinked. {hero:the} blinked. 'Well,' said {hero:the}, 'that "
                    "won't fit through the front door.'",
                ),
            ),
        ),
        (
            _tell(
                "{helper:the} knew a trick, and the wish shrank to just the right size.",
                (
                    "{helper:the} chuckled. 'Wishes grow as big as the voice that makes them,' "
                    "said {helper:the}. 'Try whispering it again. Very, very softly.'",
                    "So {hero:the} leaned close and whispered, as quietly as a mouse. And "
                    "{wish:the} began to shrink, smaller and smaller, until it was exactly the "
                    "right size.",
                ),
                (
                    "'I know a trick,' said {helper:the}. 'Say thank you to the star. Wishes "
                    "always settle down when you thank them.'",
                    "'Thank you, star,' said {hero:the}. And with a gentle sparkle, {wish:the} "
                    "shrank, and shrank, until it was just right. Not too big. Not too small. "
                    "Just right.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "last",
                    "free",
                    (
                        "The star's floating away now. What happens last of all?",
                        "What do {hero:the} and {helper:the} do before they go to sleep?",
                        "How does this starry night end?",
                    ),
                    (
                        "they waved goodbye to the star",
                        "they shared the warm milk and yawned",
                        "everyone went home to bed",
                    ),
                    ("Lovely.", "Oh, that's just right.", "What a cosy ending."),
                ),
                "And at the end, {last}.",
                (
                    "And last of all, {last}. The wishing star drifted up and away, getting "
                    "smaller and smaller, until it was only a twinkle among all the other "
                    "twinkles.",
                    "{hero:the} kept {wish:the} close and yawned a long, slow yawn. Some nights, "
                    "one wish is plenty.",
                ),
                (
                    "So, to finish off the night, {last}. Up above, the wishing star floated away "
                    "to visit some other sleepy town, far, far away.",
                    "The {place} was very quiet now. {helper:the} was nodding. {hero:the} was "
                    "nodding. And {wish:the} was tucked in close, just the right size.",
                ),
            ),
        ),
    ),
    6,
    (
        "If you saw a wishing star tonight, {listener}, what would you wish for? Keep it in your "
        "head, nice and quiet, and take it with you into your dreams. Breathe in... and out. "
        "Goodnight, {listener}. Dream something lovely.",
        "The sky over Luma is calm and dark and full of little stars. Maybe one of them is "
        "listening. Close your eyes, {listener}, and let your breathing go slow. Goodnight. The "
        "stars say goodnight too.",
        "Wishes are funny things. The best ones are often small, and warm, and right beside you. "
        "Like your cosy bed, {listener}, and your soft pillow. Snuggle in. Goodnight, and sweet "
        "dreams.",
    ),
)

MYSTERY: Final = Shape(
    "mystery",
    (
        (
            _tell(
                "A gentle mystery had come to Luma.",
                (
                    "Something funny had been happening in Luma. Every night, just after bedtime, "
                    "something puzzling happened, and nobody knew who was doing it.",
                    "It wasn't scary. It was a puzzle. And puzzles need solving.",
                ),
                (
                    "The people of Luma love a good puzzle. And this week, they had a very good "
                    "one. Little things kept happening at night, and nobody could work out why.",
                    "Who could it be? Nobody knew. Not yet.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        "Every mystery needs a detective. Who is our hero?",
                        _ANYONE,
                        "Who is our hero? Someone with sharp eyes would be good.",
                    ),
                    HEROES,
                ),
                "{hero:a} set out to solve the mystery.",
                (
                    "Luckily, Luma had a detective: {hero:a}, with a magnifying glass, a "
                    "notebook, and a very good nose for puzzles.",
                ),
                (
                    "The one to solve it was {hero:a}. {hero:the} loved puzzles even more than "
                    "pudding, and that's saying something.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where does the mystery happen?",
                        "Where in Luma should the detective look first?",
                        "Where did the puzzling things keep happening?",
                    ),
                    ("library", "old clock tower", "park"),
                ),
                "The trail led to the {place}.",
                (
                    "Everything seemed to happen near the {place}. So that's where {hero:the} "
                    "went, quietly, on tiptoe, just as the sun went down.",
                ),
                (
                    "{hero:the} followed the trail all the way to the {place}. It was very quiet "
                    "there, and very still.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "sound",
                    "sound",
                    (
                        "What sound did {hero:the} hear there?",
                        "Listen! A little noise came from somewhere close. What did it sound like?",
                        "There was a funny little sound. What was it?",
                    ),
                    ("tinkle", "whistle", "squeak"),
                    ("", "{sound}! How curious."),
                ),
                "{hero:the} heard a little sound: {sound}.",
                (
                    "Then {hero:the} heard it. {sound}... {sound}... It was coming from somewhere "
                    "very close.",
                ),
                (
                    "From somewhere nearby came a funny little sound: {sound}. {hero:the} stood "
                    "very still and listened. There it was again. {sound}.",
                ),
            ),
            _ask(
                Query(
                    "clue",
                    "object",
                    (
                        "{hero:the} found a clue on the ground. What was it?",
                        "Every mystery has a clue. What did {hero:the} find?",
                        "Look, a clue! What is it?",
                    ),
                    ("feather", "tiny mitten", "button"),
                ),
                "{hero:the} found a clue: {clue:a}.",
                (
                    "On the ground was a clue: {clue:a}, a little bit sparkly, as if it had been "
                    "dusted with stars. {hero:the} wrote it down in the notebook.",
                ),
                (
                    "{hero:the} bent down. There, in the grass, was {clue:a}. 'Interesting,' said "
                    "{hero:the}, and picked up the {clue} very carefully.",
                ),
            ),
        ),
        (
            _tell(
                "{hero:the} puzzled over the clue and the sound.",
                (
                    "{hero:the} thought and thought. Who would leave {clue:a} lying about? And "
                    "who would go {sound} in the middle of the night? It didn't make any sense at "
                    "all.",
                    "This was a tricky one.",
                ),
                (
                    "A clue, a sound, and a puzzle. {hero:the} walked up and down, thinking hard. "
                    "The {clue}, the {sound} sound... What could it all mean?",
                ),
            ),
        ),
        (
            _tell(
                "{hero:the} followed the sound round a corner.",
                (
                    "Then {hero:the} had an idea. 'Follow the sound,' said {hero:the}. So, very "
                    "quietly, {hero:the} followed the {sound}, round a corner, past a story "
                    "lantern, and behind a big soft bush...",
                ),
                (
                    "{hero:the} sat down to think, and right then, the sound came again, very "
                    "close. {hero:the} peeped round the corner, ever so slowly...",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "who",
                    "free",
                    (
                        "Who was it? Who'd been making that sound all along?",
                        "And who did {hero:the} find there?",
                        "So who was behind the mystery?",
                    ),
                    (
                        "a baby owl who was learning to sing",
                        "a little robot who couldn't sleep",
                        "a shy mouse",
                    ),
                    ("", "Of course!", "Well, well, well!"),
                ),
                "The one behind the mystery was {who:a}, and it wasn't scary at all.",
                (
                    "And there was {who:a}! {who:the} jumped a little, and then looked rather shy.",
                    "'I'm sorry,' said {who:the}. 'I didn't mean to make a mystery. I was "
                    "practising, so I could give everyone a surprise.' {hero:the} smiled. Mystery "
                    "solved!",
                ),
                (
                    "It was {who:a}, sitting all alone and looking very surprised. 'Oh!' said "
                    "{who:the}. 'You found me.'",
                    "It turned out {who:the} had only wanted a bit of company. All those clues "
                    "were just a way of saying, 'Is anyone out there?' 'I am,' said {hero:the}. "
                    "And the mystery was solved.",
                ),
            ),
        ),
        (
            _tell(
                "Everyone went home, and Luma was peaceful again.",
                (
                    "So {hero:the} and {who:the} walked home together, very slowly, under the "
                    "quiet stars. The {clue} went into the detective's notebook, pressed flat, to "
                    "remember the night by.",
                    "No more mystery. Just a new friend, and a long, slow walk, and a very sleepy "
                    "detective.",
                    "Back at home, {hero:the} curled up under a warm blanket. The notebook was "
                    "closed, the magnifying glass was put away, and the only thing left to find "
                    "was a good, long sleep.",
                ),
                (
                    "That night, the only sound in Luma was a very soft {sound}, far away, like a "
                    "lullaby. {who:the} was saying goodnight.",
                    "{hero:the} closed the notebook and put it on the shelf. 'Case closed,' "
                    "whispered {hero:the}, with a great big yawn. Even detectives need their "
                    "sleep.",
                    "The stars twinkled. The lanterns glowed. And all of Luma drifted quietly off "
                    "to sleep, with no more puzzles left to solve.",
                ),
            ),
        ),
    ),
    7,
    (
        "Every mystery ends with an answer, {listener}, and this one ended with a friend. Now "
        "there's just one thing left to find: sleep. Breathe in slowly... and out. It's not far "
        "away. Goodnight, {listener}.",
        "The detective is asleep. The notebook is closed. The streets of Luma are soft and quiet. "
        "Let your eyes close too, {listener}, and listen to the quiet. Goodnight. Case closed.",
        "There are no more puzzles tonight, {listener}. Only a warm bed, a soft pillow, and a "
        "long, slow breath in... and out. Goodnight, my clever detective. Sleep well.",
    ),
)

CREATURE: Final = Shape(
    "creature",
    (
        (
            _tell(
                "We were making up a creature of our very own.",
                (
                    "Tonight's story is about a creature nobody has ever seen before. Not in "
                    "books, not at the zoo, not anywhere. Because this creature is yours, and "
                    "you're going to make it up.",
                ),
                (
                    "All sorts of creatures live in the city of Luma. There are lantern moths and "
                    "cloud sheep and little pod mice that nap in the dream pods. But tonight's "
                    "creature is one you'll invent all by yourself.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        "Who is our hero? Make up any creature you like.",
                        "What's your creature like? Who is our hero?",
                        "Who is our hero? It can be any creature at all, even one nobody's heard "
                        "of.",
                    ),
                    ("a fluffy cloud dragon", "a tiny moon mouse", "a stripy sky whale"),
                ),
                "Our creature was {hero:a}.",
                (
                    "So here is our creature: {hero:a}. There's only one in the whole world, and "
                    "that makes {hero:the} very special indeed.",
                    "This is the story of one whole day with {hero:the}, from waking up in the "
                    "morning to falling asleep at night.",
                ),
                (
                    "Meet {hero:a}! If you ever saw {hero:the}, you'd know straight away, because "
                    "there's nobody else quite like them.",
                    "Let's spend a whole day with {hero:the}, from morning till night.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where does {hero:the} live?",
                        "Every creature needs a home. Where does {hero:the} live?",
                        "Where's the cosiest place for {hero:the} to live?",
                    ),
                    ("treehouse", "cloud nest", "moon"),
                ),
                "{hero:the} lived near the {place}.",
                (
                    "{hero:the} lived in a snug little nest near the {place}, made of moss and "
                    "moonlight. Every morning, the sun peeped in and said, 'Wake up, sleepyhead!'",
                ),
                (
                    "Home was a cosy little den by the {place}. In the morning, {hero:the} "
                    "stretched, and yawned, and wriggled, and hopped out of bed, ready for the "
                    "day.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "sound",
                    "sound",
                    (
                        "When {hero:the} is happy, what sound comes out?",
                        "What noise does {hero:the} make when they're happy?",
                        "Every creature has a happy sound. What does {hero:the} sound like?",
                    ),
                    ("purr", "hum", "tinkle"),
                ),
                "When {hero:the} was happy, out came a sound: {sound}.",
                (
                    "Whenever {hero:the} was happy, out came a sound: {sound}! And {hero:the} was "
                    "happy a lot. {sound} at breakfast. {sound} in the bath. {sound}, {sound}, "
                    "all day long.",
                ),
                (
                    "{hero:the} had a special happy sound. It went {sound}. {hero:the} made it "
                    "when the sun came out, and when breakfast was yummy, and when a friend came "
                    "to play.",
                ),
            ),
            _ask(
                Query(
                    "friend",
                    "free",
                    (
                        "Who does {hero:the} play with every day?",
                        "Every creature needs a best friend. Who is it?",
                        "Who is {hero:the} best friends with?",
                    ),
                    ("a giggly frog", "a snail called Speedy", "a little star"),
                ),
                "{hero:the} played all morning with {friend:a}.",
                (
                    "After breakfast, {hero:the} went to play with {friend:a}. They played hide "
                    "and seek, and chase, and a made-up game with lots of rules and lots of "
                    "giggles.",
                ),
                (
                    "Every day, {friend:a} came round to play. They splashed in puddles and "
                    "rolled down hills and made up songs about clouds.",
                ),
            ),
        ),
        (
            _tell(
                "{hero:the} got the hiccups and couldn't make the happy sound.",
                (
                    "But in the afternoon, something odd happened. {hero:the} went to make the "
                    "happy sound, and out came... a hiccup! Hic! {hero:the} tried again. Hic! No "
                    "{sound} at all. Just hiccups.",
                    "'Oh no,' said {friend:the}. 'You've got the hiccups.'",
                ),
                (
                    "Then, right in the middle of a game, {hero:the} gave a great big hiccup. "
                    "Hic! And another one. Hic! {hero:the} tried to go {sound}, and instead... "
                    "hic!",
                    "It wasn't sad, exactly. But it was very bouncy, and a little bit annoying.",
                ),
            ),
        ),
        (
            _tell(
                "{friend:the} cured the hiccups, and the happy sound came back.",
                (
                    "{friend:the} knew exactly what to do. 'Hold your breath,' said {friend:the}, "
                    "'and count the clouds. One, two, three...' {hero:the} held their breath and "
                    "counted. Four, five, six...",
                    "And the hiccups were gone! {hero:the} took a big breath, and out came the "
                    "happy sound: {sound}! {friend:the} cheered.",
                ),
                (
                    "'I know a cure,' said {friend:the}. 'You have to laugh.' So {friend:the} "
                    "pulled the silliest face in all of Luma, and {hero:the} laughed so much that "
                    "the hiccups got lost.",
                    "Then, very softly, came the happy sound again: {sound}. Everything was back "
                    "to normal.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "dream",
                    "free",
                    (
                        "Now it's evening. What does {hero:the} dream about tonight?",
                        "The day is nearly over. What will {hero:the} dream about?",
                        "What's the very best dream {hero:the} could have tonight?",
                    ),
                    ("flying over the rooftops", "playing in the snow", "splashing in puddles"),
                    ("What a lovely dream.", "Ooh, I'd like that dream too."),
                ),
                "At the end of the day, {hero:the} dreamed about {dream}.",
                (
                    "As the sun went down, {hero:the} said goodbye to {friend:the} and went home "
                    "to the {place}. It had been a big day. A happy day. A hiccupy day.",
                    "{hero:the} curled up in bed and made one last, soft {sound}. And that night, "
                    "{hero:the} dreamed about {dream}.",
                ),
                (
                    "In the evening, the sky turned pink, then purple, then deep dark blue. "
                    "{hero:the} waved goodnight to {friend:the} and climbed into bed.",
                    "Eyes closing. Breathing slow. One tiny, sleepy {sound}... and then "
                    "{hero:the} was dreaming about {dream}.",
                ),
            ),
        ),
    ),
    6,
    (
        "And that was one whole day with {hero:the}, {listener}. Tomorrow there'll be another "
        "one. But for now, it's time for your day to end too. Breathe in... and out. Goodnight, "
        "{listener}. Sleep like a creature in a cosy nest.",
        "Somewhere near the {place}, a creature you made up is fast asleep. Breathe softly, "
        "{listener}, so you don't wake them. In... and out. Goodnight. Sleep as snug as "
        "{hero:the}.",
        "Your creature is dreaming now, and soon you'll be dreaming too. Maybe you'll meet "
        "{hero:the} there. Let your eyes close, nice and slow. Goodnight, {listener}.",
    ),
)

GIFT: Final = Shape(
    "gift",
    (
        (
            _tell(
                "Someone in Luma was making a special present.",
                (
                    "In Luma, when someone has a birthday, the Dream Hub towers glow pink all "
                    "night long. And tomorrow, the towers were going to glow pink for someone "
                    "very special.",
                ),
                (
                    "There's an old saying in Luma: the best presents are the ones you make "
                    "yourself. They might be a little wonky, and a little bit sticky, but they're "
                    "full of love.",
                    "This is a story about one of those presents.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        "Who is our hero? Someone who's good at making things, maybe.",
                        _ANYONE,
                        "Someone's busy making a present. Who is our hero?",
                    ),
                    HEROES,
                ),
                "Our hero was {hero:a}.",
                (
                    "Our hero was {hero:a}, who had a box full of string and paper and glue, and "
                    "a head full of ideas.",
                ),
                (
                    "This is {hero:a}. {hero:the} had been planning something secret for days and "
                    "days.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where did {hero:the} go to gather things for the present?",
                        "Where can you find the best bits for making something special?",
                        "Where did {hero:the} go looking for pretty things?",
                    ),
                    ("beach", "forest", "garden"),
                ),
                "{hero:the} gathered treasures at the {place}.",
                (
                    "First, {hero:the} went to the {place} to gather bits and pieces: a shiny "
                    "pebble, a curly leaf, a little bit of ribbon someone had dropped.",
                ),
                (
                    "So off {hero:the} went to the {place}, with a basket for treasures. There "
                    "were treasures everywhere, if you looked carefully.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "gift",
                    "object",
                    (
                        "What did {hero:the} decide to make?",
                        "What kind of present was it going to be?",
                        "What's {hero:the} making?",
                    ),
                    ("card", "necklace", "paper boat"),
                ),
                "{hero:the} was making {gift:a}.",
                (
                    "{hero:the} had decided to make {gift:a}. Not just any {gift}, either. The "
                    "best {gift} in the whole of Luma.",
                ),
                (
                    "The plan was {gift:a}. {hero:the} could already picture it: bright and bold "
                    "and perfect in every way.",
                ),
            ),
            _ask(
                Query(
                    "friend",
                    "free",
                    (
                        "Who's the present for?",
                        "Who was going to get this present?",
                        "Who's the special someone having a birthday?",
                    ),
                    ("a sleepy old tortoise", "a best friend called Bo", "a little robin"),
                ),
                "The present was for {friend:a}.",
                (
                    "Tomorrow was a big day for {friend:a}: a birthday! {hero:the} wanted to make "
                    "the perfect present, and keep it a big surprise.",
                ),
                (
                    "The present was for {friend:a}. {friend:the} had been kind to {hero:the} all "
                    "year long, and this was a way to say thank you.",
                ),
            ),
        ),
        (
            _tell(
                "The {gift} came out wonky, and {hero:the} felt a bit sad.",
                (
                    "So {hero:the} got to work. Snip, snip went the scissors. Dab, dab went the "
                    "glue. But the {gift} came out all wonky. One side was bigger than the other. "
                    "A bit had fallen off. And there was glue on the ceiling, somehow.",
                    "{hero:the} looked at it and frowned. 'It's not perfect,' {hero:the} said "
                    "quietly.",
                ),
                (
                    "{hero:the} worked all afternoon. But the glue was too gluey, and the string "
                    "was too stringy, and the {gift} ended up looking rather squashed.",
                    "'Oh no,' sighed {hero:the}. 'It was supposed to be beautiful.'",
                ),
            ),
        ),
        (
            _tell(
                "{friend:the} loved the present, wonky bits and all.",
                (
                    "A story lantern bobbed past the window and glowed a little brighter, as if "
                    "it wanted to say something. And {hero:the} suddenly understood. Every wonky "
                    "bit had been made with love. That's what made it special.",
                    "So {hero:the} wrapped it up with a bow and took it round. And when "
                    "{friend:the} opened it, there was a gasp, and then the biggest smile. 'You "
                    "made this? For me? It's the best {gift} I've ever had.'",
                ),
                (
                    "Then {hero:the} looked again, a bit longer this time. The wonky side looked "
                    "like it was waving. The squashed bit looked like it was smiling. Maybe it "
                    "wasn't perfect. Maybe it was better than perfect.",
                    "The next morning, {friend:the} unwrapped it very slowly. 'Oh,' said "
                    "{friend:the}, and held it close. 'I love it. I love every wonky bit.'",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "spot",
                    "free",
                    (
                        "Where did {friend:the} keep the {gift}, to see it every day? On a shelf? "
                        "By the bed?",
                        "Where did {friend:the} put the present to keep it safe?",
                        "Where's the special place for the {gift} to live now?",
                    ),
                    ("on the shelf by the window", "next to the bed", "under the pillow"),
                    ("What a perfect spot.", "Oh, that's just the right place.", "Lovely."),
                ),
                "The present lived {spot}, and everyone was happy and tired.",
                (
                    "{friend:the} put the {gift} {spot}, where it could be seen first thing every "
                    "morning and last thing every night.",
                    "That evening, the Dream Hub towers glowed pink, just as they always do on "
                    "birthdays. {hero:the} watched them from the window, tired and happy, with a "
                    "little bit of glue still stuck on one ear.",
                ),
                (
                    "And so the {gift} went {spot}, and there it stayed, a little bit wonky and "
                    "very much loved.",
                    "By bedtime, everyone was worn out from all the birthday fun. {friend:the} "
                    "yawned. {hero:the} yawned. The pink glow of the towers grew soft and dim.",
                ),
            ),
        ),
    ),
    6,
    (
        "The best presents don't have to be perfect, {listener}. They just have to come from the "
        "heart. And you gave a present tonight too: this story. Now breathe in slowly... and out. "
        "Goodnight, {listener}, and thank you.",
        "Somewhere in Luma, a wonky little {gift} is sitting {spot}, glowing in the moonlight. "
        "Everyone's asleep, and it's your turn now. Close your eyes, {listener}. Goodnight. Sleep "
        "soft and sound.",
        "It was a lovely day, and now it's a quiet night. Let your body feel warm and heavy, like "
        "a present wrapped up snug in paper. Goodnight, {listener}, and happy dreams.",
    ),
)

LANTERNS: Final = Shape(
    "lanterns",
    (
        (
            _tell(
                "It was time to light the story lanterns of Luma.",
                (
                    "Every evening in Luma, someone has to light the story lanterns. You don't "
                    "light them with matches. You light them by telling each one a tiny story, "
                    "and then they glow all night long.",
                    "Tonight, a brand new lantern lighter was starting the job.",
                ),
                (
                    "When the sun goes down in Luma, the story lanterns wake up. There are "
                    "hundreds of them, bobbing along the streets. But they can't glow on their "
                    "own. Somebody has to go round and light them, one by one, with a tiny story "
                    "each.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "hero",
                    "free",
                    (
                        "Who is our hero? Who's lighting the lanterns tonight?",
                        _ANYONE,
                        "Someone's got a very important job tonight. Who is our hero?",
                    ),
                    HEROES,
                ),
                "{hero:a} was lighting the lanterns tonight.",
                (
                    "The lantern lighter tonight was {hero:a}. {hero:the} had a long pole, a warm "
                    "coat, and pockets full of tiny stories.",
                ),
                (
                    "This was the very first night for {hero:a} as a lantern lighter. {hero:the} "
                    "felt excited, and proud, and just a tiny bit wobbly.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "place",
                    "place",
                    (
                        "Where did {hero:the} start the lantern round?",
                        "Which part of Luma needed its lanterns lit first?",
                        "Where were the first lanterns waiting?",
                    ),
                    ("market square", "harbour", "park"),
                ),
                "{hero:the} lit the lanterns at the {place}.",
                (
                    "The round started at the {place}. {hero:the} reached up to the first lantern "
                    "and whispered, 'Once upon a time, there was a little light.' And, just like "
                    "that, the lantern began to glow.",
                ),
                (
                    "First stop was the {place}. One lantern, one tiny story. Another lantern, "
                    "another tiny story. Soon the lanterns all around the {place} were twinkling.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "pal",
                    "free",
                    (
                        "Who goes along to keep {hero:the} company?",
                        "Nobody should light lanterns alone. Who came too?",
                        "Who helps {hero:the} carry the long pole?",
                    ),
                    ("a little moth", "a sleepy cat", "a friendly robot"),
                ),
                "{pal:a} came along to help.",
                (
                    "Right alongside came {pal:a}, who carried the spare stories in a little bag "
                    "and hummed to keep them warm.",
                ),
                (
                    "{pal:a} came too. {pal:the} held the map and pointed out every lantern, even "
                    "the tiny ones hiding in the trees.",
                ),
            ),
            _ask(
                Query(
                    "sound",
                    "sound",
                    (
                        "When a lantern lights up, it makes a tiny sound. What sound is it?",
                        "What sound does a story lantern make when it starts to glow?",
                        "Listen! The lanterns make a sound as they light. What is it?",
                    ),
                    ("ting", "whoosh", "hum"),
                ),
                "Each lantern went {sound} as it lit.",
                (
                    "Every lantern made the same tiny sound as it lit: {sound}. {sound} went one. "
                    "{sound} went the next. All along the street, {sound}, {sound}, {sound}.",
                ),
                (
                    "As each lantern lit, it gave a little {sound}, like a happy sigh. It was the "
                    "nicest sound in the world.",
                ),
            ),
        ),
        (
            _tell(
                "The very last lantern wouldn't light.",
                (
                    "At last, there was only one lantern left. It was the oldest lantern in Luma, "
                    "up at the top of the tallest Dream Hub tower. {hero:the} told it a story. "
                    "Nothing. {hero:the} told it another. Still nothing. No glow, no {sound}, "
                    "nothing at all.",
                    "'Oh dear,' said {pal:the}. 'I think it's heard all our stories before.'",
                ),
                (
                    "Then they came to the last lantern of all. {hero:the} whispered a tiny "
                    "story, just like before. But the lantern stayed dark. Not a flicker. Not a "
                    "{sound}.",
                    "{pal:the} looked in the bag. 'Uh-oh,' said {pal:the}. 'We've used up all the "
                    "stories.'",
                ),
            ),
        ),
        (
            _tell(
                "They told the last lantern a brand new story, and it glowed.",
                (
                    "{hero:the} thought for a moment. Then {hero:the} smiled. 'I know a story "
                    "it's never heard,' said {hero:the}. 'Tonight's story. The one about us.'",
                    "So {hero:the} told the lantern all about the night so far: the {place}, and "
                    "{pal:the}, and every little {sound}. And slowly, softly, the old lantern "
                    "began to glow, brighter and brighter, until it shone over the whole of Luma.",
                ),
                (
                    "Then {pal:the} had an idea. 'Let's make one up,' said {pal:the}. 'A brand "
                    "new one, right now.' So they did, taking turns, one sentence each. It was a "
                    "silly story, and a sleepy one, and the lantern loved it.",
                    "{sound}! The last lantern lit up, warm and gold, and the whole city glowed.",
                ),
            ),
        ),
        (
            _ask(
                Query(
                    "last",
                    "free",
                    (
                        "Every lantern is lit. What happens last of all, before bed?",
                        "The job's done! What do {hero:the} and {pal:the} do now?",
                        "How does this glowing night end?",
                    ),
                    (
                        "they sat on a rooftop and watched the lanterns glow",
                        "they had a mug of warm milk",
                        "everyone went home to bed",
                    ),
                    ("Lovely.", "What a cosy ending.", "Oh, that sounds just right."),
                ),
                "Every lantern was lit, and {last}.",
                (
                    "And last of all, {last}. Below them, every lantern in Luma was glowing "
                    "softly, like a sky full of sleepy stars turned upside down.",
                    "{hero:the} hung the long pole on its hook. {pal:the} curled up in a warm, "
                    "quiet corner. The job was done.",
                ),
                (
                    "So that's how it ended: {last}. The lanterns glowed all around, steady and "
                    "warm, keeping watch over every bed in the city.",
                    "{hero:the} gave a big, slow yawn. Lantern lighting is happy work, and sleepy "
                    "work too.",
                ),
            ),
        ),
    ),
    6,
    (
        "Can you see a little light in your room, {listener}? Maybe it's a story lantern, glowing "
        "just for you. Let it keep watch while you rest. Breathe in... and out. Goodnight, "
        "{listener}. Sweet, glowing dreams.",
        "All over Luma, the lanterns are glowing, and all the stories are told. All except your "
        "dreams, {listener}, which are just about to start. Goodnight. See you in the morning.",
        "The lanterns will glow until morning. You don't have to do a thing. Just close your "
        "eyes, {listener}, and let your breathing go slow and soft. Goodnight, little lantern "
        "lighter.",
    ),
)

SHAPES: Final = (JOURNEY, LOST, HELPING, WISH, MYSTERY, CREATURE, GIFT, LANTERNS)
_BY_NAME: Final = {shape.name: shape for shape in SHAPES}
SETTLED: Final = "Luma settled down for the night."


def shape_of(story_id: str) -> str | None:
    """The shape a freeform story's id names ("freeform-wish-01234567": "wish"), if any."""
    parts = story_id.split("-")
    if len(parts) == 3 and parts[0] == FREEFORM_SEED and parts[1] in _BY_NAME:
        return parts[1]
    return None


def pick_shape(rng: random.Random, recent: Sequence[str] = ()) -> Shape:
    """A shape not among the last `SPACING - 1` told (`recent`: shape names, newest first);
    should every shape be, one of those told longest ago."""
    ago: dict[str, int] = {}
    for age, name in enumerate(recent):
        ago.setdefault(name, age)
    fresh = [s for s in SHAPES if ago.get(s.name, SPACING) >= SPACING - 1]
    if not fresh:
        oldest = max(ago[s.name] for s in SHAPES)
        fresh = [s for s in SHAPES if ago[s.name] == oldest]
    return rng.choice(fresh)


def compose(shape: Shape, rng: random.Random) -> tuple[tuple[Step, ...], int]:
    """One telling of a shape: its steps, with wordings, tellings and order picked by `rng`,
    and the index of the first step of its calm part."""
    steps: list[Step] = []
    calm = -1
    for number, act in enumerate(shape.acts):
        if number == shape.calm_from:
            calm = len(steps)
        for beat in rng.sample(act, len(act)):
            if beat.ask is not None:
                query = beat.ask
                question = rng.choice(query.wordings)
                reply = rng.choice(query.replies)
                steps.append(Ask(question, query.slot, query.kind, query.defaults, reply))
            told = rng.choice(beat.tellings)
            if not steps:
                told = (*told, rng.choice(INVITES))
            steps.append(Say(told, beat.recap))
    if calm < 0:
        calm = len(steps)
    steps.append(Say(rng.choice(SETTLING), SETTLED))
    return tuple(steps), calm


def shape_story(shape: Shape, rng: random.Random) -> Story:
    """One telling of `shape` as a story; its id names the shape."""
    steps, _ = compose(shape, rng)
    ending = (rng.choice(shape.endings),)
    story_id = f"{FREEFORM_SEED}-{shape.name}-{rng.randrange(10**8):08d}"
    return Story(story_id, FREEFORM_TITLE, FREEFORM_SEED, (4, 9), 6, (), steps, ending, "freeform")


def freeform_story(rng: random.Random, listener: str, recent_shapes: Sequence[str] = ()) -> Story:
    """A story of a shape not told lately (`recent_shapes`: newest first), asked, worded and
    ordered afresh, for the child to lead with their answers."""
    del listener  # the text names whoever is listening as {listener}
    return shape_story(pick_shape(rng, recent_shapes), rng)
