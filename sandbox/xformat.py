"""How X's web client writes numbers, times and labels; the sandbox's pages use these so that a page object
written for x.com reads the sandbox the same way."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup, escape

from libs.text.length import emoji_spans


def abbreviate(n: int) -> str:
    """X's short counts: 999, 1K, 1.2K, 12K, 123K, 1.2M. X truncates rather than rounds ("1,299" -> "1.2K")."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if n >= size:
            whole = n // size
            if whole >= 10:
                return f"{whole}{suffix}"
            tenth = (n * 10 // size) % 10
            return f"{whole}.{tenth}{suffix}" if tenth else f"{whole}{suffix}"
    return str(n)


def profile_count(n: int) -> str:
    """Follower counts on a profile: exact with commas below 10,000, abbreviated above ("12.3K" style)."""
    if n < 10_000:
        return f"{n:,}"
    for size, suffix in ((1_000_000, "M"), (1_000, "K")):
        if n >= size:
            value = n * 10 // size / 10
            return (f"{value:.1f}".rstrip("0").rstrip(".")) + suffix
    return str(n)


_NOUNS = {"reply": ("Reply", "Replies", "Reply"), "retweet": ("repost", "reposts", "Repost"),
          "like": ("Like", "Likes", "Like")}


def action_label(action: str, n: int) -> str:
    """aria-label of an action button: "12 Likes. Like", "1 Reply. Reply", "5 reposts. Repost"; with no count
    X labels the button with the action alone ("Like")."""
    singular, plural, verb = _NOUNS[action]
    if n == 0:
        return verb
    return f"{n} {singular if n == 1 else plural}. {verb}"


def views_label(n: int) -> str:
    return f"{n} {'View' if n == 1 else 'views'}. View post analytics"


def iso_time(ts: float) -> str:
    """time[datetime] as X writes it: UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def relative_time(ts: float, now: float) -> str:
    """The visible text of time: "12s", "5m", "3h", then "May 1" (and "May 1, 2023" in another year)."""
    age = max(0.0, now - ts)
    if age < 60:
        return f"{int(age)}s"
    if age < 3600:
        return f"{int(age // 60)}m"
    if age < 86400:
        return f"{int(age // 3600)}h"
    when, today = datetime.fromtimestamp(ts, UTC), datetime.fromtimestamp(now, UTC)
    label = f"{when.strftime('%b')} {when.day}"
    return label if when.year == today.year else f"{label}, {when.year}"


def focal_time(ts: float) -> str:
    """The time under a status page's focal post: "5:38 AM · Oct 4, 2026" (X writes the reader's local time; the
    sandbox's readers are in UTC)."""
    when = datetime.fromtimestamp(ts, UTC)
    return f"{when.hour % 12 or 12}:{when.minute:02d} {'AM' if when.hour < 12 else 'PM'} · {when.strftime('%b')} " \
           f"{when.day}, {when.year}"


def testid(name: str, variant: int) -> str:
    """data-testid in DOM variant ``variant``. Variant 2 renames ids the way an X redesign might ("tweet" ->
    "post", "Button" -> "Btn"), so that selector drift detection can be tested. sandbox/static/x.js applies the
    same rule to the elements it mounts."""
    if variant == 2:
        return name.replace("tweet", "post").replace("Tweet", "Post").replace("Button", "Btn")
    return name


# Where X's timelines cut a long post (X Premium's, up to 25,000 characters) and show "Show more".
SHOWN_CHARS = 280


def shown_text(text: str) -> tuple[str, bool]:
    """A post's text as a timeline shows it, and whether it was cut: a long post ends at a word before
    SHOWN_CHARS with "…" (its status page shows it whole)."""
    if len(text) <= SHOWN_CHARS:
        return text, False
    cut = text[:SHOWN_CHARS].rsplit(None, 1)[0].rstrip()
    return cut + "…", True


def post_html(text: str) -> Markup:
    """A post's text as x.com writes it into [data-testid=tweetText]: text with every emoji drawn as an image whose
    alt is the emoji (Twemoji's file, named by its code points without VS16), so a reader taking the element's text
    gets no emoji."""
    out, last = [], 0
    for start, end in emoji_spans(text):
        seq = text[start:end]
        name = "-".join(f"{ord(c):x}" for c in seq if c != "\ufe0f")
        out += [escape(text[last:start]), Markup('<img alt="{}" draggable="false" src="/emoji/v2/svg/{}.svg" '
                                                 'class="emoji">').format(seq, name)]
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)
