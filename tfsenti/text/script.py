"""Which script a corpus is written in, to choose defaults for data without a config of its own.

Korean (Hangul) text gets the character n-grams and multilingual weights that NSMC uses; anything else gets the
English defaults. The share counts letters only, so digits, punctuation and emoji do not dilute it.

Example:
    >>> text_language(["정말 재미있다", "지루하고 별로였다 ㅠㅠ"]), text_language(["What a film", "so dull"])
    ('ko', 'en')
"""

from __future__ import annotations

from collections.abc import Iterable

HANGUL_THRESHOLD = 0.3  # share of Hangul among letters from which a corpus is treated as Korean


def _is_hangul(char: str) -> bool:
    code = ord(char)
    return (0xAC00 <= code <= 0xD7A3      # syllables
            or 0x1100 <= code <= 0x11FF   # jamo
            or 0x3130 <= code <= 0x318F   # compatibility jamo (ㅋㅋ, ㅠㅠ)
            or 0xA960 <= code <= 0xA97F or 0xD7B0 <= code <= 0xD7FF)


def hangul_share(texts: Iterable[str]) -> float:
    """The share of Hangul characters among all letters of `texts` (0.0 when there are no letters).

    Example:
        >>> round(hangul_share(["재미 fun"]), 2)
        0.4
    """
    hangul = letters = 0
    for text in texts:
        for char in text:
            if char.isalpha():
                letters += 1
                hangul += _is_hangul(char)
    return hangul / letters if letters else 0.0


def text_language(texts: Iterable[str]) -> str:
    """`"ko"` when at least HANGUL_THRESHOLD of the letters are Hangul, else `"en"`.

    Example:
        >>> text_language(["좋아요 good"])
        'ko'
    """
    return "ko" if hangul_share(texts) >= HANGUL_THRESHOLD else "en"


def describe_script(texts: list[str]) -> str:
    """One phrase for logs: how many texts were looked at and their Hangul share.

    Example:
        >>> describe_script(["좋아요", "good"])
        '2 texts sampled, 43% of letters Hangul'
    """
    return f"{len(texts)} texts sampled, {hangul_share(texts):.0%} of letters Hangul"
