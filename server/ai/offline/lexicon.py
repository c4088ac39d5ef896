"""Word knowledge for the offline engines: a real dictionary, word rarity and curated word lists.

* :func:`is_known` checks a word against pyspellchecker's English word list (about 160,000
  words), with British spellings accepted (``colour``, ``realised``, ``centre``).
* :func:`zipf` gives a word's frequency on the Zipf scale from ``wordfreq`` (7 for "the",
  about 3 for "lighthouse", 0 for words it has never seen); cached per word.
* The sets below are small, hand-made lists a teacher would recognise: function words,
  transitions by their job, vague ("bland") words, sensory and feeling words, text-speak.

Both dictionaries are loaded once, lazily, on first use (about 0.25 s together).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from spellchecker import SpellChecker
from wordfreq import get_frequency_dict


def word_list(text: str) -> list[str]:
    """The words of a whitespace-separated list (how the word lists below are written)."""
    return text.split()


@lru_cache(maxsize=1)
def _checker() -> SpellChecker:
    return SpellChecker(language="en", distance=1)


@lru_cache(maxsize=1)
def _dictionary() -> Mapping[str, int]:
    words: Mapping[str, int] = _checker().word_frequency.dictionary
    return words


_ALPHABET = "abcdefghijklmnopqrstuvwxyz'"


@lru_cache(maxsize=4096)
def correction(word: str) -> str | None:
    """The most frequent dictionary word one edit away (delete, swap, replace, insert), or None.

    The same idea as pyspellchecker's ``correction`` at distance 1, without its overhead."""
    if len(word) > 20:
        return None
    words = _dictionary()
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    candidates = {a + b[1:] for a, b in splits if b}
    candidates |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    candidates |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    candidates |= {a + c + b for a, b in splits for c in _ALPHABET}
    candidates.discard(word)
    found = [(words[c], c) for c in candidates if c in words]
    if not found:
        return None
    return max(found, key=lambda item: (item[0], [-ord(ch) for ch in item[1]]))[1]


_GB_RULES: tuple[tuple[str, str], ...] = (
    ("our", "or"),  # colour -> color
    ("ours", "ors"),
    ("oured", "ored"),
    ("ise", "ize"),  # realise -> realize
    ("ised", "ized"),
    ("ises", "izes"),
    ("ising", "izing"),
    ("isation", "ization"),
    ("yse", "yze"),
    ("ysed", "yzed"),
    ("tre", "ter"),  # centre -> center
    ("tres", "ters"),
    ("lled", "led"),  # travelled -> traveled
    ("lling", "ling"),
    ("ller", "ler"),
    ("ogue", "og"),
    ("ence", "ense"),  # defence -> defense
)


@lru_cache(maxsize=65536)
def is_known(word: str) -> bool:
    """True when ``word`` (lower case, straight apostrophes) is a correctly spelled English word."""
    words = _dictionary()
    if word in words:
        return True
    if word.endswith("'s") and word[:-2] in words:
        return True
    if word.endswith("s'") and word[:-1] in words:
        return True
    for gb, us in _GB_RULES:
        if word.endswith(gb) and len(word) > len(gb) + 2 and word[: -len(gb)] + us in words:
            return True
    return False


@lru_cache(maxsize=1)
def _frequencies() -> Mapping[str, float]:
    table: Mapping[str, float] = get_frequency_dict("en", wordlist="best")
    return table


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """Frequency of ``word`` on the Zipf scale (log10 per billion words); 0.0 when unseen.

    Read straight from wordfreq's frequency table: for single words of letters and
    apostrophes this equals ``wordfreq.zipf_frequency`` and is ten times faster."""
    frequency = _frequencies().get(word)
    return round(math.log10(frequency) + 9, 2) if frequency else 0.0


def warm_up() -> None:
    """Load both dictionaries now instead of on the first scored piece."""
    is_known("warm")
    zipf("warm")


# --- function words -----------------------------------------------------------------------

STOPWORDS: frozenset[str] = frozenset(
    word_list("""a about above after again against all almost also am an and any are aren't around as at
    back be because been before being below between both but by can can't cannot could couldn't
    did didn't do does doesn't doing don't down during each either even ever every few for from
    further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
    herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it it's
    its itself just let's me more most much must mustn't my myself neither no nor not now of off
    on once one only onto or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't since so some still such than that that's the their theirs
    them themselves then there there's these they they'd they'll they're they've this those
    though through thus till to too toward towards under until up upon us very was wasn't we
    we'd we'll we're we've were weren't what what's when when's where where's whether which
    while who who's whom whose why why's will with within without won't would wouldn't yet you
    you'd you'll you're you've your yours yourself yourselves
    im ive dont didnt cant wont isnt wasnt thats whats youre theyre""")
)

PRONOUN_OPENERS: frozenset[str] = frozenset(
    word_list("he she it they this that these those his her their its him them")
)
"""Words that point back to something already said; odd as the very first word of a piece."""

# --- transitions, by their job --------------------------------------------------------------

OPENING_PHRASES: tuple[str, ...] = (
    "once upon a time",
    "one day",
    "one night",
    "one morning",
    "one evening",
    "one afternoon",
    "long ago",
    "a long time ago",
    "at first",
    "first",
    "in the beginning",
    "it all started",
    "it all began",
    "it started",
)
SEQUENCE_PHRASES: tuple[str, ...] = (
    "then",
    "next",
    "after that",
    "afterwards",
    "later",
    "soon",
    "suddenly",
    "meanwhile",
    "a moment later",
    "moments later",
    "a minute later",
    "an hour later",
    "the next day",
    "the next morning",
    "that night",
    "that evening",
    "by then",
    "by midnight",
    "by morning",
    "before long",
    "at that moment",
    "just then",
    "all of a sudden",
    "second",
    "third",
    "after",
    "before",
    "when",
    "while",
    "as soon as",
    "halfway",
    "eventually",
)
CLOSING_PHRASES: tuple[str, ...] = (
    "finally",
    "at last",
    "in the end",
    "in conclusion",
    "to sum up",
    "from then on",
    "ever since",
    "to this day",
    "the end",
    "now",
    "later",
    "that is why",
    "that's why",
    "and so",
    "after all",
    "at the end",
    "when the storm finally",
    "for the first time",
)
CONTRAST_CAUSE_PHRASES: tuple[str, ...] = (
    "but",
    "however",
    "instead",
    "still",
    "yet",
    "although",
    "though",
    "even though",
    "on the other hand",
    "because",
    "so",
    "since",
    "as a result",
    "therefore",
    "that was when",
    "that is when",
    "which meant",
    "except",
    "otherwise",
    "unless",
    "besides",
    "also",
    "anyway",
    "for example",
    "for a moment",
    "for a long",
    "in fact",
    "of course",
    "at least",
    "even so",
)
ALL_TRANSITIONS: tuple[str, ...] = tuple(
    sorted(
        set(OPENING_PHRASES + SEQUENCE_PHRASES + CLOSING_PHRASES + CONTRAST_CAUSE_PHRASES),
        key=lambda p: (-len(p.split()), p),
    )
)


# --- word choice ----------------------------------------------------------------------------

BLAND_WORDS: frozenset[str] = frozenset(
    word_list("""thing things stuff nice good bad very really alot lot lots got get gets getting went go
    goes big little cool awesome great ok okay fine pretty kind sort amazing fun funny weird
    happy sad scary stuff whatever basically totally super""")
)
"""Vague, all-purpose words; a few are normal, a page of them says little."""

BLAND_REPLACEMENTS: tuple[str, ...] = (
    "thing",
    "stuff",
    "nice",
    "good",
    "big",
    "went",
    "got",
    "really",
    "things",
    "cool",
)
"""The words the evaluation swaps in when it makes a piece blander."""

SENSORY_WORDS: frozenset[str] = frozenset(
    word_list("""glow glowed glowing glows gleam gleamed glitter glittered glittering shimmer shimmered
    shimmering sparkle sparkled flicker flickered flickering flash flashed blaze blazed bright
    dim dark shadow shadows shadowy golden gold silver crimson scarlet amber violet purple
    orange pink blue green grey gray black white red yellow pale glossy shining shiny dusty
    misty foggy hazy murky sound sounds noise noises hiss hissed hissing hum hummed humming
    buzz buzzed buzzing roar roared roaring rumble rumbled rumbling crash crashed crashing
    creak creaked creaking crackle crackled crackling clang clanged clatter clattered whisper
    whispered whispering scream screamed screaming shriek shrieked howl howled moan moaned
    sigh sighed thump thumped thud tick ticked ticking drip dripped dripping splash splashed
    sizzle sizzled sizzling squeak squeaked squeaking rattle rattled silence silent quiet
    loud echo echoed smell smelled smelt smells scent stink stench fragrant sweet sour bitter
    salty spicy smoky smoke burnt taste tasted tasting flavor flavour rough smooth soft hard
    sharp jagged prickly sticky slippery slimy damp wet soggy dry cold icy freezing frozen
    chilly cool warm hot burning heat steam steaming steamy velvet silky fuzzy furry greasy
    crisp crunchy brittle heavy thick thin feathery sandy muddy moss mossy rust rusty rusted
    sting stung tingle tingled ache ached throb throbbed shiver shivered trembling trembled
    sweat sweating breath breathed breathing""")
)

EMOTION_WORDS: frozenset[str] = frozenset(
    word_list("""afraid scared terrified frightened fear feared nervous anxious worried worry panic
    panicked dread calm relieved relief happy glad joy joyful delighted thrilled excited
    excitement proud pride brave courage hope hoped hopeful hopeless lonely alone sad sadness
    grief miss missed angry furious mad annoyed frustrated jealous embarrassed ashamed guilty
    shy curious wonder wondered amazed astonished surprised shocked confused puzzled
    determined desperate grateful gratitude love loved loving hate hated heart chest tears
    cried cry crying laughed laugh laughing smiled smile smiling grinned grin sobbed gasped
    sighed loyal safe unsafe homesick nostalgic peaceful content restless bored""")
)

FIGURATIVE_PATTERNS: tuple[str, ...] = (
    r"\blike an? \w+",
    r"\bas if\b",
    r"\bas though\b",
    r"\bas \w+ as\b",
    r"\bthe way (?:a|an|you|people|someone)\b",
    r"\bthe colou?r of\b",
)
"""Similes and comparisons: 'like a dog', 'as if', 'as cold as', 'the colour of honey'."""

TXT_SPEAK: frozenset[str] = frozenset(
    word_list("""u ur r lol lmao rofl omg idk tbh btw gonna wanna gotta kinda sorta cuz bc pls plz thx
    ty ya yea yeah nah ok k b4 gr8 l8r bff imo smh ikr wtf jk""")
)

MISSING_APOSTROPHE: frozenset[str] = frozenset(
    word_list("""dont didnt doesnt cant couldnt shouldnt wouldnt wont isnt wasnt arent werent hasnt
    havent hadnt im ive youre theyre thats whats heres theres hes shes itll youll theyll
    weve wasnt""")
)
"""Contractions typed without their apostrophe ("dont", "im"): a mechanics slip."""

META_WORDS: frozenset[str] = frozenset(
    word_list("""story piece writing write wrote written part parts line lines sentence sentences
    paragraph paragraphs ending end beginning begin start middle word words reader readers
    add adding make makes made feel feels felt like liked love loved good great nice cool
    really more maybe try use used show shows tell tells told character characters idea ideas
    flow voice detail details describe description descriptions think thought better best
    change changes keep job work well bit lot lots way also could would should might give
    much many some time first last next""")
)
"""Words any review uses; they say nothing about which piece is being reviewed."""


PROMPT_INSTRUCTION_WORDS: frozenset[str] = frozenset(
    word_list("""write writing written story stories describe description tell imagine imagined
    picture image photo photograph look happens happen happened next piece paragraph poem essay
    explain think someone something somebody anything title inspired use using choose prompt
    task""")
)
"""Words of a prompt's instructions ("Write a story about…", "Look at the picture"): they
say how to write, not what about, so they are not topic words."""


class WordInfo(NamedTuple):
    """Everything the scorer asks about one (lower-case) word, computed once per word."""

    stem: str
    stop: bool
    content: bool  # not a function word, two letters or more
    known: bool
    zipf: float
    sensory: bool
    emotion: bool
    bland: bool
    rare: bool  # correctly spelled, uncommon (Zipf < 3.8), longer than three letters
    rich: bool  # correctly spelled, Zipf < 4.0, longer than three letters
    txt: bool
    missing_apostrophe: bool


@lru_cache(maxsize=65536)
def info(word: str) -> WordInfo:
    """The :class:`WordInfo` of ``word`` (cached)."""
    from server.ai.offline.text import stem

    known = is_known(word)
    frequency = zipf(word)
    return WordInfo(
        stem=stem(word),
        stop=word in STOPWORDS,
        content=word not in STOPWORDS and len(word) > 1,
        known=known,
        zipf=frequency,
        sensory=word in SENSORY_WORDS,
        emotion=word in EMOTION_WORDS,
        bland=word in BLAND_WORDS,
        rare=known and frequency < 3.8 and len(word) > 3,
        rich=known and frequency < 4.0 and len(word) > 3,
        txt=word in TXT_SPEAK,
        missing_apostrophe=word in MISSING_APOSTROPHE,
    )
