"""Page objects: X's web client as the gateway's operations see it. All DOM knowledge comes from the selector
pack; a required element that does not appear is ``dom_changed`` unless X redirected (session, lock) or said
why in a toast."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote, urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, Response, Route
from playwright.async_api import TimeoutError as PlaywrightTimeout

from libs.contracts.gateway import (
    DeleteResult, DeleteTweetRequest, LoginCheckResult, OwnTimelineRequest, PostResult, PostThreadRequest,
    PostTweetRequest, ProfileSnapshot, QuotedPost,
    GatewayError, ProfileSnapshotRequest, ReplyRequest, SearchRequest, TweetCard, TweetList, TweetMetrics,
    TweetMetricsRequest, TweetMetricsResult, TweetRepliesRequest,
)
from services.browser_gateway import metrics
from services.browser_gateway.budget import current_usage
from services.browser_gateway.errors import DomChanged, op_error, x_said
from services.browser_gateway.pacer import Pacer
from services.browser_gateway.parse import (
    dig, handle_in, last_handle, parse_count, read_count, replies_below, same_text, status_ref, views_read,
)
from services.browser_gateway.selectors import SelectorPack

log = logging.getLogger(__name__)


async def _leave_unasked(route: Route) -> None:
    """A script's request left unasked (``profile_snapshot``): the browser never sends it. A page itself goes on
    (an account whose handle reads like the request's name is still a profile)."""
    if route.request.resource_type in ("xhr", "fetch"):
        await route.abort()
    else:
        await route.continue_()


# The text of a post (or a bio) as written: x.com draws each emoji as an image whose alt is the emoji, which
# innerText leaves out ("🤡" read as nothing, "🧵" lost from a thread's opening); its line breaks are characters.
_TEXT_OF = """
(n) => {
  if (!n) return null;
  let s = '';
  const walk = (m) => { for (const c of m.childNodes) {
    if (c.nodeType === Node.TEXT_NODE) s += c.nodeValue;
    else if (c.nodeName === 'IMG') s += c.getAttribute('alt') || '';
    else if (c.nodeName === 'BR') s += '\\n';
    else walk(c);
  } };
  walk(n);
  return s;
}
"""
# Reads every article in one round trip: a page object per field would cost one Playwright call each.
_READ_ARTICLES = """
(a) => {
  const textOf = """ + _TEXT_OF + """;
 // X's "Discover more" heading under a conversation's last reply: what follows is from across X, not the timeline.
 const ends = Array.from(document.querySelectorAll(a.heading)).filter((h) =>
   a.endings.some((e) => (h.textContent || '').trim().toLowerCase().startsWith(e.toLowerCase())));
 // Where the reader is: how much of the page is below the viewport (px), the page's height (it changes when a
 // batch comes in), the spinner, a toast.
 const doc = document.scrollingElement;
 const where = {left: Math.floor(doc.scrollHeight - doc.clientHeight - doc.scrollTop), screen: window.innerHeight,
   height: doc.scrollHeight, spinning: !!document.querySelector(a.loading), toast: !!document.querySelector(a.toast)};
 return {where, cells: Array.from(document.querySelectorAll(a.tweet)).map((el) => {
  // A quote post's card of the quoted post holds a name, a time and a text of its own: the post's own fields are
  // the first ones outside it.
  const note = el.querySelector(a.note);
  const quoted = Array.from(el.querySelectorAll(a.quoted)).find((c) => !(note && note.contains(c))
    && !c.contains(el.querySelector(a.user)) && (c.querySelector(a.user) || c.querySelector(a.text)
      || a.notices.some((n) => (c.innerText || '').toLowerCase().includes(n.toLowerCase()))));
  const q = (s) => Array.from(el.querySelectorAll(s)).find((n) => !(quoted && quoted.contains(n))) || null;
  const inQuote = (s, read) => { const n = quoted && quoted.querySelector(s); return n ? read(n) : null; };
  const attr = (s, name) => { const n = q(s); return n ? n.getAttribute(name) : null; };
  const time = q(a.time);
  const timeLink = time ? time.closest('a') : null;
  // A status page's focal post has no views link: X writes its views in the row under it ("5:38 AM · Oct 4, 2026
  // · 61.7M Views"), the number the word before the label.
  const viewsWord = () => {
    const label = Array.from(el.querySelectorAll('span')).find((s) => !(quoted && quoted.contains(s))
      && !s.closest(a.text) && a.viewWords.includes((s.textContent || '').trim()));
    if (!label) return null;
    const before = document.createRange();
    before.setStart(el, 0);
    before.setEndBefore(label);
    return before.toString().split(/[\\s\\u00b7]+/).filter(Boolean).pop() || null;
  };
  return {
    href: timeLink ? timeLink.getAttribute('href') : attr(a.status, 'href'),
    user: q(a.user) ? q(a.user).innerText : null,
    text: textOf(q(a.text)),
    time: time ? time.getAttribute('datetime') : null,
    reply: attr(a.reply, 'aria-label'), like: attr(a.like, 'aria-label'),
    retweet: attr(a.retweet, 'aria-label'), views: attr(a.views, 'aria-label'),
    views_shown: q(a.views) ? null : viewsWord(),
    has_actions: !!(q(a.reply) && q(a.like) && q(a.retweet)),
    // X's ad: no time, and the label "Ad" where the time would be (or the ad wrapper around the article).
    promoted: !time && (!!el.closest(a.promoted) || Array.from(el.querySelectorAll('span')).some((s) =>
      !s.closest(a.user) && !s.closest(a.text) && a.labels.includes((s.textContent || '').trim()))),
    // X greys the reply button out when the author limits who can reply and the account is not among them.
    reply_disabled: q(a.reply) ? (q(a.reply).hasAttribute('disabled')
      || q(a.reply).getAttribute('aria-disabled') === 'true') : null,
    beyond: ends.some((h) => !!(h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)),
    noted: !!note,
    quoted: quoted ? {user: inQuote(a.user, (n) => n.innerText), text: inQuote(a.text, textOf)} : null,
    truncated: !!q(a.more),
    // X's notice in place of a post that is gone ("This post was deleted by the post author."): no author, no time.
    gone: !time && !q(a.user) && !q(a.status) && a.notices.some((n) =>
      (el.innerText || '').toLowerCase().includes(n.toLowerCase())),
  };
 })};
}
"""
# One step down the timeline, then a moment for X to render what came into view (on the scroll event, before
# the next frame; the timer in case no frame comes).
_SCROLL = """
async (by) => {
  window.scrollBy(0, by * window.innerHeight);
  await new Promise((done) => { requestAnimationFrame(() => setTimeout(done)); setTimeout(done, 100); });
}
"""
# Whether the timeline moved on from its ``height``: a batch came in (or the timeline ended: its spinner cell went),
# a toast (X refused the batch, e.g. past the reading limit), or its spinner shown when ``spinner`` (a load has
# started) or gone when not.
_TIMELINE_MOVED = """
(a) => document.scrollingElement.scrollHeight !== a.height || !!document.querySelector(a.toast)
  || !!document.querySelector(a.loading) === a.spinner
"""
# How long a sheet gets to close after Escape or a click.
SHEET_CLOSE_MS = 2_000
# X loads a timeline 20 posts a batch.
X_BATCH = 20
# How far the reader scrolls a step, in screens: X keeps only the cells within a screen or two of the viewport in
# the DOM, so a step of less than a screen passes none unseen (a jump to the end read 6 posts of 60).
STEP = 0.8
# X starts loading the next batch as the end of what it loaded comes near the viewport: a step that ends within
# this many screens of it may load one (paced, and within the op's allowance, as a page is).
NEAR_END = 2.0
# A bound on one read's steps (some 1,000 posts, more than any op asks for).
MAX_STEPS = 200
# How long a timeline that shows no spinner gets to start loading once scrolled to its end before it is taken as
# ended: an x.com may show its spinner only while it loads, which it starts as the reader nears the end.
END_GRACE_MS = 2_000
# How long a page that failed mid-op is given to arrive at X's lock or login page (check_sent_away).
SENT_AWAY_GRACE_MS = 1_000


class XSite:
    def __init__(self, *, pack: SelectorPack, base_url: str, handle: str, pacer: Pacer,
                 call_timeout_ms: float) -> None:
        self.pack = pack
        self.base_url = base_url.rstrip("/")
        self.handle = handle
        self.pacer = pacer
        self.call_timeout_ms = call_timeout_ms
        # Posts are composed in the side navigation's dialog until that fails once (open_composer).
        self.compose_in_dialog = True
        # The pages whose late sheets are closed as they come up (watch_sheets).
        self._watched: weakref.WeakSet[Page] = weakref.WeakSet()

    # ------------------------------------------------------------ navigation and required elements

    async def open(self, page: Page, path: str, *, heed_notices: bool = True) -> None:
        """Navigate; X's redirects (login, lock) and the notices it shows on arrival become typed errors. Past
        the reading limit X keeps the page's frame but shows no posts and toasts "you are rate limited": without
        this check a read would come back empty, and a write would take that toast for the answer to its post."""
        await current_usage().before_page()  # the budget's pace: a read waits for its page's slot
        await page.goto(self.base_url + path, wait_until="domcontentloaded")
        self.check_redirect(page)
        await self.check_language(page)
        # The activity budget counts what X served: this page, and the posts it rendered with it (read_articles
        # counts those its first batch brought after it, and the batches it scrolls to; past the reading limit a
        # page renders none).
        current_usage().page(await page.locator(self.pack.css("tweet")).count())
        await self.watch_sheets(page)
        await self.close_sheet(page)
        if heed_notices:
            await self.raise_if_x_said(page)

    async def count_rendered(self, page: Page) -> None:
        """Count what the page shows now, beyond what was counted with it (``Usage.rendered``)."""
        current_usage().rendered(await page.locator(self.pack.css("tweet")).count())

    async def watch_sheets(self, page: Page) -> None:
        """Close X's sheets that come up after the page (once per page). X's client renders them once its app is
        up, after ``open`` has looked: one then took the op's next click, and a post timed out clicking, every
        retry. Playwright runs the handler before each action (a click, a fill) while a sheet shows, and the
        action goes on once it is gone; one for the owner stays, its action times out, and the driver's
        ``close_sheet`` after the failure makes it ``locked``."""
        if page in self._watched:
            return
        self._watched.add(page)

        async def dismiss(_: Locator) -> None:
            # Playwright keeps an error raised here as its connection's, and every later call of every page fails
            # with it: the page closed mid-dismissal (its op failed meanwhile) is nothing to report.
            with contextlib.suppress(PlaywrightError):
                await self._dismiss_sheet(page)

        await page.add_locator_handler(page.locator(self.pack.css("interstitial")), dismiss)

    async def close_sheet(self, page: Page) -> None:
        """X's interstitial sheets over a page ("Turn on notifications", a Premium offer, updated terms) take every
        click until closed: Escape, else the sheet's own way out (never its offer). One that will not close asks
        the owner to act on x.com ("Verify your email"): the op fails as ``locked`` with X's words, as X's own
        challenge page does (writes wait, the hourly login check sees when the owner has answered it)."""
        said = await self._dismiss_sheet(page)
        if said is not None:
            metrics.sheets.labels("owner").inc()
            raise op_error("locked", f"X asks the owner to act on x.com before anything else: {said[:200]}")

    async def _dismiss_sheet(self, page: Page) -> str | None:
        """Close X's sheet over the page, if one shows; the words of one that will not close."""
        sheet = page.locator(self.pack.css("interstitial"))
        if not await sheet.count():
            return None
        said = " ".join((await sheet.first.inner_text()).split())
        await page.keyboard.press("Escape")
        for label in [None, *self.pack.texts.get("interstitial_dismiss", [])]:
            if label is not None:
                button = sheet.first.get_by_role("button", name=label, exact=True)
                if not await button.count():
                    continue
                await button.first.click()
            try:
                await sheet.first.wait_for(state="detached", timeout=SHEET_CLOSE_MS)
            except PlaywrightTimeout:
                continue
            log.info("closed X's sheet over %s: %s", page.url, said[:120])
            metrics.sheets.labels("closed").inc()
            return None
        return said

    async def check_language(self, page: Page) -> None:
        """X shows a signed-in account in its display language (``<html lang>``). The pack reads X's English words
        (refusals, the analytics labels, counts in labels): in another language a refusal would read as silence
        and a duplicate as a post to look for. Nothing is read or written until the owner switches it back."""
        lang = str(await page.evaluate("document.documentElement.lang") or "")
        if lang and not lang.lower().startswith("en"):
            raise op_error("session_expired", f"X shows the account in {lang!r}: xbot reads X's English words; set "
                                              "the account's display language to English (X: Settings, "
                                              "Accessibility, display and languages, Languages), then `xbot resume`")

    def check_redirect(self, page: Page) -> None:
        code = self.pack.blocked_path(urlparse(page.url).path)
        if code == "locked":
            raise op_error("locked", "X redirected to /account/access: Your account has been locked.")
        if code == "session_expired":
            raise op_error("session_expired", "X redirected to the login page")

    async def check_sent_away(self, page: Page) -> None:
        """After Playwright failed mid-op: raise the typed error if X sent the page to its lock or login page,
        now or within a moment. X's web client goes there when a request of the page is refused for it (a post, a
        timeline's batch), and the navigation destroys whatever was being read ("Execution context was
        destroyed"): that is the lock, not a broken browser."""
        try:
            await self._sent_away(page, SENT_AWAY_GRACE_MS)
        except PlaywrightError:
            return  # not sent away (or the page is gone with the browser): the error stands
        self.check_redirect(page)

    async def need(self, page: Page, name: str, *, within: Locator | None = None, **fmt: object) -> Locator:
        selector = self.pack.css(name, **fmt)
        loc = (within or page).locator(selector).first
        try:
            await loc.wait_for(state="attached", timeout=self.call_timeout_ms)
        except PlaywrightTimeout:
            self.check_redirect(page)
            await self.raise_if_x_said(page)
            raise DomChanged(name, selector) from None
        return loc

    async def first_of(self, page: Page, names: list[str]) -> str:
        """Wait until one of several elements appears (e.g. results or the empty state); its name."""
        selectors = {n: self.pack.css(n) for n in names}
        try:
            arrived = await self._unless_sent_away(page, page.locator(", ".join(selectors.values())).first.wait_for(
                state="attached", timeout=self.call_timeout_ms))
        except PlaywrightTimeout:
            arrived = False
        # X's lock page shows its words where a missing post's would be: the page's address says which it is.
        self.check_redirect(page)
        if not arrived:
            await self.raise_if_x_said(page)
            raise DomChanged(" or ".join(names), " | ".join(selectors.values()))
        for name, sel in selectors.items():
            if await page.locator(sel).count():
                return name
        raise DomChanged(" or ".join(names), " | ".join(selectors.values()))

    async def raise_if_x_said(self, page: Page, *, besides: tuple[str, ...] = ()) -> None:
        """X explains most refusals in a toast or alert; turn its words into the typed error (but the codes
        ``besides``)."""
        toasts = page.locator(f'{self.pack.css("toast")}, [role="alert"]')
        for text in await toasts.all_inner_texts():
            code = self.pack.failure_in(text)
            if code and code not in besides:
                raise x_said(code, text.strip())

    # ------------------------------------------------------------ reading tweets

    async def read_articles(self, page: Page, limit: int, *, scroll: bool = True) -> list[TweetCard]:
        """Up to ``limit`` posts of the page's timeline, in its order. X renders a timeline's first batch with the
        page or just after it (counted here, as it is read) and keeps only the cells near the viewport in the DOM:
        the read scrolls down a step (STEP) at a time and collects the cards by id, counting each cell the first
        time it is seen. X loads the next batch as the reader nears the end (_next_batch when it is reached); each
        load waits for its turn in the budget's pace, as a page does, and the read stops before one would take the
        op past what the budget admitted it for. ``scroll`` False: the page as it loaded."""
        cards: dict[str, TweetCard] = {}
        others: set[tuple[str | None, int]] = set()
        height = since_load = 0  # the page's height, and the cells seen since it changed (the last batch came in)
        paced = False  # whether the batch the read is nearing has had its turn in the pace
        short = False  # the read stopped before the end of the batch it was in (its limit, its room, no scroll)
        for step in range(MAX_STEPS):
            cells, ended, where = await self._cards_in_dom(page)
            if where["height"] != height:
                height, since_load, paced = where["height"], 0, False
            new = self._collect(cells, cards, others, first=not step)
            since_load += new
            if not step:  # X's web client loads a page's first batch after the page: counted here, not on arrival
                current_usage().rendered(len(cells))
            else:
                current_usage().scrolled(new)
            if step and where["toast"]:  # X refused a batch (the page's own notices are open's)
                await self.raise_if_x_said(page)
            if ended:
                break
            if len(cards) >= limit or not scroll:
                short = True
                break
            # A spinner, or a full batch since the last (an X that shows its spinner only while it loads): more
            # may come, and the next step may start loading it.
            more = where["spinning"] or since_load >= X_BATCH
            if more and not paced and where["left"] < (STEP + NEAR_END) * where["screen"]:
                if not current_usage().may_view(X_BATCH):
                    short = True
                    break
                await current_usage().before_page()
                paced = True
            if where["left"] > 0:
                await page.evaluate(_SCROLL, STEP)
            elif not more or not await self._next_batch(page, where):
                break
        if short and scroll and where["spinning"]:
            # X served the whole batch the read stopped in (a spinner under it: more come, so it was a full one)
            # and counts it whole against the reading limit: its cells below where the read stopped (kept out of
            # the DOM, or not reached) count as viewed too. Without a spinner the batch may be the last and short,
            # and the page's own length (a status page's footer) says nothing of it; a read that does not scroll (a
            # metric read of a status page) counts the page as it loaded, whose spinner may be its first batch's.
            current_usage().scrolled(max(0, X_BATCH - since_load))
        return list(cards.values())[:limit]

    @staticmethod
    def _collect(cells: list[TweetCard | str], cards: dict[str, TweetCard], others: set[tuple[str | None, int]],
                 *, first: bool) -> int:
        """Add the cells not seen before: posts to ``cards`` by id, X's ads and recommendations (which count as
        viewed) to ``others`` by the post above them and their place under it; how many were new. The cells at
        the top of the DOM were there a step before: one with no post above it was seen then, unless this is the
        first look."""
        new, above, under = 0, None, 0
        for cell in cells:
            if isinstance(cell, TweetCard):
                above, under = cell.tweet_id, 0
                new += cell.tweet_id not in cards
                cards.setdefault(cell.tweet_id, cell)
                continue
            under += 1
            if (above is not None or first) and (above, under) not in others:
                others.add((above, under))
                metrics.not_posts.labels(cell).inc()
                new += 1
        return new

    async def _next_batch(self, page: Page, where: dict[str, Any]) -> bool:
        """At the end of what the timeline has loaded, where more may come: wait for its next batch; False when
        none came.

        While there are more, the sandbox (and an X that renders it so) keeps a spinner at the timeline's end, and
        the batch is loading once it is in view; an X may instead show it only while the batch loads: without a
        spinner, the timeline is given END_GRACE_MS to start loading before it is taken as ended."""
        s = self.pack.css
        arg = {"loading": s("timeline_loading"), "toast": s("toast"), "height": where["height"]}
        try:  # a batch that never comes: the read ends here
            if not where["spinning"]:
                try:
                    await page.wait_for_function(_TIMELINE_MOVED, arg={**arg, "spinner": True},
                                                 timeout=END_GRACE_MS)
                except PlaywrightTimeout:
                    return False  # nothing started loading: the end
            await page.wait_for_function(_TIMELINE_MOVED, arg={**arg, "spinner": False},
                                         timeout=self.call_timeout_ms)
        except PlaywrightTimeout:
            log.warning("%s: the timeline's next batch did not come within %.0f ms; reading what it showed",
                        page.url, self.call_timeout_ms)
            return False
        await self.raise_if_x_said(page)
        return True

    async def _cards_in_dom(self, page: Page) -> tuple[list[TweetCard | str], bool, dict[str, Any]]:
        """The page's posts in its order, whether its timeline has ended, and where the reader is on it (the
        timeline left below the viewport, the page's height, its spinner, a toast: _READ_ARTICLES). In the posts'
        place, their kind ("ad", "gone", "discover"): X's ads, nobody's post to read, answer or count (some have
        no status link at all, which read as a post's would be a changed DOM); X's notice where a post is gone
        (above a reply whose parent was deleted); and the posts under X's "Discover more" heading, which ends a
        conversation's replies (what follows is from across X: read as replies, strangers' posts were answered as
        if they had written to us)."""
        s = self.pack.css
        read = await page.evaluate(_READ_ARTICLES, {
            "tweet": s("tweet"), "time": s("tweet_time"),
            "status": s("tweet_status_link"), "user": s("tweet_user_name"), "text": s("tweet_text"),
            "reply": s("tweet_reply_button"), "like": s("tweet_like_button"),
            "retweet": s("tweet_retweet_button"), "views": s("tweet_views_link"),
            "promoted": s("tweet_promoted"), "labels": self.pack.texts.get("promoted_label", []),
            "heading": s("timeline_heading"), "endings": self.pack.texts.get("timeline_ended", []),
            "notices": self.pack.texts.get("post_gone", []), "note": s("tweet_community_note"),
            "quoted": s("tweet_quoted"), "more": s("tweet_show_more"),
            "viewWords": self.pack.texts.get("views_label", []),
            "loading": s("timeline_loading"), "toast": s("toast"),
        })
        raw = read["cells"]
        if all(item["promoted"] for item in raw) and await page.locator(s("timeline_cell")).count():
            raise DomChanged("tweet", s("tweet"))
        cards: list[TweetCard | str] = []
        for item in raw:
            kind = "ad" if item["promoted"] else "discover" if item["beyond"] else "gone" if item["gone"] else None
            if kind is not None:
                cards.append(kind)
                continue
            ref = status_ref(item["href"])
            if ref is None or item["user"] is None or not item["has_actions"]:
                raise DomChanged("tweet parts", f"{s('tweet_status_link')} / {s('tweet_user_name')} / actions")
            # A views link without a number is X's zero; a card that shows no views at all (a post older than
            # X's view counts) leaves them unset, which tweet_metrics tells from a zero (``views_read``).
            views = parse_count(item["views"]) if item["views"] is not None else read_count(item["views_shown"])
            cards.append(TweetCard(
                # The status link names the author; the User-Name block starts with a display name, which
                # anyone can set to "@someone" (handle_in would read that one).
                tweet_id=ref[1], author=ref[0], url=item["href"], text=item["text"] or "",
                created_at=item["time"], likes=parse_count(item["like"]), retweets=parse_count(item["retweet"]),
                replies=parse_count(item["reply"]), **({} if views is None else {"views": views}),
                can_reply=None if item["reply_disabled"] is None else not item["reply_disabled"],
                noted=item["noted"], truncated=item["truncated"],
                quoted=None if item["quoted"] is None else QuotedPost(
                    author=last_handle(item["quoted"]["user"]), text=item["quoted"]["text"] or ""),
            ))
        return cards, any(item["beyond"] for item in raw), read["where"]

    # ------------------------------------------------------------ read ops

    async def login_check(self, page: Page) -> LoginCheckResult:
        try:
            await self.open(page, self.pack.url("session_check"), heed_notices=False)  # rate limited: still logged in
        except GatewayError as err:
            if err.code == "session_expired":
                return LoginCheckResult(logged_in=False, reason=err.message)
            raise
        switcher = await self.need(page, "account_switcher")
        return LoginCheckResult(logged_in=True, handle=handle_in(await switcher.inner_text()) or self.handle)

    async def tweet_metrics(self, page: Page, req: TweetMetricsRequest) -> TweetMetricsResult:
        items = []
        visits_readable = req.with_profile_visits
        for tweet_id in req.ids:
            await self.open(page, self.pack.url("status", handle=req.author, tweet_id=tweet_id))
            if not await self.conversation(page):
                continue  # deleted: left out of the result, which is how callers learn of it
            # The post stands above its replies, so the first batch holds it: scrolling on would read the
            # conversation at the budget's cost.
            cards = await self.read_articles(page, 50, scroll=False)
            focal = next((c for c in cards if c.tweet_id == tweet_id), None)
            if focal is None:
                raise DomChanged(f"tweet {tweet_id} on its status page", self.pack.css("tweet"))
            # Views are the learner's exposure: an unread count is a changed page, never a post nobody saw. They
            # are X's number under the post, abbreviated above 10,000 ("61.7M": up to 0.1 % low, as X truncates);
            # the analytics page's "Impressions" would give the exact count, one page more per post.
            if not views_read(focal):
                raise DomChanged(f"views of tweet {tweet_id} on its status page",
                                 f"{self.pack.css('tweet_views_link')} | {self.pack.texts.get('views_label')}")
            visits = follows = None
            if visits_readable:
                visits, follows = await self.analytics(page, req.author, tweet_id)
                visits_readable = visits is not None
            items.append(TweetMetrics(tweet_id=tweet_id, likes=focal.likes, retweets=focal.retweets,
                                      replies=focal.replies, views=focal.views, profile_clicks=visits,
                                      follows=follows, noted=focal.noted, read_at=self.pacer.clock.now()))
        return TweetMetricsResult(items=items)

    async def analytics(self, page: Page, author: str, tweet_id: str) -> tuple[int | None, int | None]:
        """The post's "Profile visits" and "New followers" from its analytics page; None for a count the page
        does not show.

        A missing count does not fail the read as ``dom_changed`` would: the public counts are what the learner
        cannot do without, and a dom breaker would stop every read for figures X shows only on a secondary page.
        Missing visits are counted (xbot_gateway_analytics_unread_total) and logged, and the op reads no more
        analytics pages. Missing new followers on a page that shows the visits are only counted
        (xbot_gateway_analytics_follows_unread_total): the learner then credits the post with its share of the
        follower count's changes, as with the X API. A rate limit or a lock on the way is still the op's typed
        error (``open``)."""
        await self.open(page, self.pack.url("analytics", handle=author, tweet_id=tweet_id))
        try:
            # The counts come after the page, as X's web client asks for them: waited for, unless X refuses them
            # (its toast: raised) or sends the page to its lock or login page (first_of: raised at once, where a
            # wait for the counts alone took the call's whole timeout to find it).
            if await self.first_of(page, ["analytics_profile_visits", "toast"]) == "toast":
                await self.raise_if_x_said(page)
            label = await self.need(page, "analytics_profile_visits")
            visits = await self.need(page, "analytics_count", within=label)
        except DomChanged as missing:
            metrics.analytics_unread.inc()
            log.warning("post %s: its analytics page shows no readable profile visits (%s); the metrics go out "
                        "without them", tweet_id, missing.message)
            return None, None
        seen = parse_count(await visits.inner_text())
        # The page has rendered its counts (the visits are there): no wait for the other one.
        follows = page.locator(self.pack.css("analytics_new_followers")).first.locator(
            self.pack.css("analytics_count")).first
        if not await follows.count():
            metrics.analytics_follows_unread.inc()
            return seen, None
        return seen, parse_count(await follows.inner_text())

    async def profile_snapshot(self, page: Page, req: ProfileSnapshotRequest) -> ProfileSnapshot:
        """The profile header's counts. The posts X loads after the header (its UserTweets request) are left
        unasked: X's reading limit counts every post it serves, and a follower count needs none (it took 15–20
        posts of the day's budget each, which left the own follower count read twice a day). X then says
        "Something went wrong" where the posts would be: that notice, and only that one, is not heeded here."""
        blocked = self.pack.url("profile_posts")

        def posts_request(url: str) -> bool:
            return blocked in url

        await page.route(posts_request, _leave_unasked)
        try:
            await self.open(page, self.pack.url("profile", handle=req.handle), heed_notices=False)
            if await self.first_of(page, ["profile_user_name", "profile_gone", "page_missing"]) \
                    != "profile_user_name":
                said = await page.locator(f'{self.pack.css("profile_gone")}, {self.pack.css("page_missing")}') \
                    .first.inner_text()
                raise x_said("account_gone",
                             f"profile_snapshot: @{req.handle} is not on X ({' '.join(said.split())})")
            name = await self.need(page, "profile_user_name")
            following = await self.need(page, "profile_following_link")
            followers = await self.need(page, "profile_followers_link")
            bio_loc = page.locator(self.pack.css("profile_description")).first
            bio = (await bio_loc.evaluate(_TEXT_OF)).strip() if await bio_loc.count() else ""  # X omits an empty bio
            name_lines = [ln.strip() for ln in (await name.inner_text()).splitlines() if ln.strip()]
            snapshot = ProfileSnapshot(
                handle=req.handle, display_name=name_lines[0] if name_lines else req.handle, bio=bio,
                followers=parse_count(await followers.inner_text()),
                following=parse_count(await following.inner_text()),
            )
            # An X whose posts come by another request (the pack's name for it outdated) served them: counted.
            await self.count_rendered(page)
            await self.raise_if_x_said(page, besides=("timeout",))
            return snapshot
        finally:
            await page.unroute(posts_request, _leave_unasked)

    async def search(self, page: Page, req: SearchRequest) -> TweetList:
        key = "search_latest" if req.tab == "latest" else "search_top"
        await self.open(page, self.pack.url(key, query=quote(req.query, safe="")))
        if await self.first_batch(page, "search_empty") == "search_empty":
            return TweetList(tweets=[])
        return TweetList(tweets=await self.read_articles(page, req.limit))

    async def own_timeline(self, page: Page, req: OwnTimelineRequest) -> TweetList:
        return TweetList(tweets=await self._profile_tweets(page, self.handle, req.limit))

    async def tweet_replies(self, page: Page, req: TweetRepliesRequest) -> TweetList:
        """The replies under one of our tweets, from its status page (a deleted tweet has none, and is ``gone``)."""
        await self.open(page, self.pack.url("status", handle=self.handle, tweet_id=req.tweet_id))
        if not await self.conversation(page):
            return TweetList(tweets=[], gone=True)
        # X shows a reply's ancestors above it (the tweet a reply of ours answered): up to ten, then the replies.
        cards = await self.read_articles(page, req.limit + 11)
        replies = replies_below(cards, req.tweet_id)
        if replies is None:
            raise DomChanged(f"tweet {req.tweet_id} on its status page", self.pack.css("tweet"))
        return TweetList(tweets=replies[:req.limit], gone=False)

    async def _profile_tweets(self, page: Page, handle: str, limit: int, *, scroll: bool = True
                              ) -> list[TweetCard]:
        await self.open(page, self.pack.url("profile", handle=handle))
        # The profile header proves the page is X's. Its posts come after it: read before they are there, a
        # timeline would come back empty, and a read-back would take a post that went out for one that did not.
        # So the first batch is waited for: a post, the empty state of an account that has none, or X's notice.
        await self.need(page, "profile_user_name")
        await self.first_batch(page, "timeline_empty")
        return await self.read_articles(page, limit, scroll=scroll)

    async def conversation(self, page: Page) -> bool:
        """Wait for a status page's conversation, which X's web client asks for after the page (its TweetDetail
        request), and count the posts it shows (an op that writes or deletes there reads no timeline, and its
        page would cost none); False when the post is gone (X's missing-post page)."""
        if await self.first_batch(page, "page_missing") == "page_missing":
            return False
        await self.count_rendered(page)
        return True

    async def first_batch(self, page: Page, empty: str) -> str:
        """Wait for a timeline's first batch, which X's web client asks for after the page: "tweet", or the
        timeline's ``empty`` state; X's notice on asking for it is raised (a toast about something else is not
        the batch: it is waited for still)."""
        found = await self.first_of(page, ["tweet", empty, "toast"])
        await self.raise_if_x_said(page)
        return await self.first_of(page, ["tweet", empty]) if found == "toast" else found

    # ------------------------------------------------------------ write ops

    async def post_tweet(self, page: Page, req: PostTweetRequest) -> PostResult:
        return await self._post_new(page, [req.text])

    async def post_thread(self, page: Page, req: PostThreadRequest) -> PostResult:
        return await self._post_new(page, list(req.parts))

    async def _post_new(self, page: Page, parts: list[str]) -> PostResult:
        dialog = await self.open_composer(page)
        return await self._compose_and_send(page, parts, "post_button_modal" if dialog else "post_button_inline",
                                            within=dialog)

    async def open_composer(self, page: Page) -> Locator | None:
        """The composer of a new post: the side navigation's dialog over a page that renders no posts
        (``compose_from``), else the home timeline's inline composer (None).

        The home timeline renders a page of posts, which X's reading limit counts: composing every post there took
        three quarters of a day's reading budget and left the reply targets' searches none. An X whose
        ``compose_from`` page or side navigation does not open the dialog (a changed DOM, a stand-in without that
        page) falls back to the home timeline, for this op and, counted and logged once, for the gateway's life."""
        if self.compose_in_dialog:
            await self.open(page, self.pack.url("compose_from"))
            try:
                await (await self.need(page, "compose_open")).click()
                dialog = await self.need(page, "compose_dialog")
                await self.need(page, "composer_textarea", within=dialog, index=0)
                await self.count_rendered(page)  # an X that loads a timeline behind its dialog after all
                return dialog
            except DomChanged as missing:
                self.compose_in_dialog = False
                metrics.compose_fallbacks.inc()
                log.warning("no composer dialog over %s (%s): composing from the home timeline from now on",
                            self.pack.url("compose_from"), missing.message)
        await self.open(page, self.pack.url("home"))
        return None

    async def reply(self, page: Page, req: ReplyRequest) -> PostResult:
        """Reply from the tweet's status page. A tweet that is gone, or whose author limits who can reply (X greys
        its reply button out and shows no reply box), is refused as ``reply_not_allowed`` before anything is
        typed: a missing reply box there is the tweet's doing, not a changed DOM."""
        await self.open(page, self.pack.url("status", handle=req.author, tweet_id=req.tweet_id))
        if not await self.conversation(page):
            raise x_said("reply_not_allowed", f"reply: {req.tweet_id} is gone (X shows its missing-post page)")
        s = self.pack.css
        focal = page.locator(f'{s("tweet")}:has(a[href$="/status/{req.tweet_id}"])').first
        button = focal.locator(s("tweet_reply_button")).first
        if await focal.count() and await button.count() and (
                await button.get_attribute("disabled") is not None
                or await button.get_attribute("aria-disabled") == "true"):
            raise x_said("reply_not_allowed", f"reply: @{req.author} limits who can reply to {req.tweet_id} "
                                              "(X greys its reply button out)")
        return await self._compose_and_send(page, [req.text], "post_button_inline", reply_to=req)

    async def delete_tweet(self, page: Page, req: DeleteTweetRequest) -> DeleteResult:
        """X's own way: the post's status page, its "More" caret, "Delete", and the confirmation sheet's Delete.
        A post already gone is a success (a retry after a lost answer); X's DeleteTweet answer says whether it
        worked, the toast confirms it."""
        await self.open(page, self.pack.url("status", handle=self.handle, tweet_id=req.tweet_id))
        if not await self.conversation(page):
            return DeleteResult(tweet_id=req.tweet_id, already_gone=True)
        article = page.locator(f'{self.pack.css("tweet")}:has(a[href$="/status/{req.tweet_id}"])').first
        if not await article.count():
            raise DomChanged(f"tweet {req.tweet_id} on its status page", self.pack.css("tweet"))
        await (await self.need(page, "tweet_caret", within=article)).click()
        await self.need(page, "menu")
        item = page.locator(self.pack.css("menu_delete")).first
        if not await item.count():
            # X offers "Delete" on the account's own posts only.
            raise op_error("invalid_content", f"delete_tweet: {req.tweet_id} is not a post of @{self.handle} "
                                              "(its menu has no Delete)")
        await asyncio.sleep(self.pacer.think_pause_s())
        await item.click()
        confirm = await self.need(page, "delete_confirm")
        marker = self.pack.url("delete_tweet")
        async with page.expect_response(lambda r: marker in r.url and r.request.method == "POST",
                                        timeout=self.call_timeout_ms) as answer:
            await confirm.click()
        resp = await answer.value
        self.check_redirect(page)
        body = await resp.text()
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        errors = (data or {}).get("errors") if isinstance(data, dict) else None
        if errors:
            number = errors[0].get("code") if isinstance(errors[0], dict) else None
            if number == 144:  # "No status found with that ID": deleted meanwhile
                return DeleteResult(tweet_id=req.tweet_id, already_gone=True)
            code = self.pack.api_failure(data) or self.pack.failure_in(body) or "dom_changed"
            raise x_said(code, f"delete_tweet: X answered {self._x_message(body)}")
        if resp.status >= 400 or dig(data, ["data", "delete_tweet"]) is None:
            raise x_said("timeout" if resp.status >= 500 else "dom_changed",
                         f"delete_tweet: DeleteTweet answered {resp.status}: {body[:200]}")
        return DeleteResult(tweet_id=req.tweet_id)

    async def type_like_a_person(self, box: Locator, text: str) -> None:
        words = text.split(" ")
        for i, word in enumerate(words):
            chunk = word if i == len(words) - 1 else word + " "
            if chunk:
                await box.press_sequentially(chunk, delay=self.pacer.keystroke_delay_ms())
            await asyncio.sleep(self.pacer.think_pause_s())

    async def _compose_and_send(self, page: Page, parts: list[str], button: str, *,
                                reply_to: ReplyRequest | None = None, within: Locator | None = None) -> PostResult:
        """Type ``parts`` into the composer (the one in ``within`` when given, else the page's first) and send."""
        created: list[Response] = []
        marker = self.pack.url("create_tweet")

        def on_response(resp: Response) -> None:
            if marker in resp.url and resp.request.method == "POST":
                created.append(resp)

        page.on("response", on_response)
        try:
            for i, part in enumerate(parts):
                if i > 0:
                    await (await self.need(page, "composer_add", within=within)).click()
                box = await self.need(page, "composer_textarea", within=within, index=i)
                await box.click()
                await self.type_like_a_person(box, part)
            await (await self.need(page, button, within=within)).click()
            toast = await self._wait_toast(page)
        finally:
            page.remove_listener("response", on_response)
        self.check_redirect(page)
        ids: list[str] = []
        for resp in created:
            body = await resp.text()
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            code = self.pack.api_failure(data) or self.pack.failure_in(body)
            if code:
                raise x_said(code, toast.strip() if toast else self._x_message(body))
            rest_id = dig(data, self.pack.urls["create_tweet_id_path"])
            if rest_id:
                ids.append(str(rest_id))
        if toast is not None:
            code = self.pack.failure_in(toast)
            if code:
                raise x_said(code, toast.strip())
        if len(ids) == len(parts):
            return PostResult(tweet_ids=ids, id_source="create_tweet_response")
        if len(parts) == 1 and toast is not None:
            link = page.locator(self.pack.css("toast_view_link")).first
            ref = status_ref(await link.get_attribute("href")) if await link.count() else None
            if ref:
                return PostResult(tweet_ids=[ref[1]], id_source="toast_link")
        if toast is None and not created:
            # Nothing observable happened: the post may or may not exist; the poster reconciles by read-back.
            raise op_error("timeout", "no CreateTweet response and no toast after clicking post")
        found = await self._read_back(page, parts, reply_to)
        if found:
            return PostResult(tweet_ids=found, id_source="profile_readback")
        raise op_error("dom_changed", "post sent but its id is nowhere: CreateTweet, toast and read-back failed")

    async def _wait_toast(self, page: Page) -> str | None:
        """The toast's text once it shows, or None if X navigated away instead (login, lock) or said nothing."""
        toast = page.locator(self.pack.css("toast")).first
        try:
            shown = await self._unless_sent_away(page, toast.wait_for(state="visible", timeout=self.call_timeout_ms))
        except PlaywrightTimeout:
            return None
        return await toast.inner_text() if shown else None

    async def _sent_away(self, page: Page, timeout_ms: float) -> None:
        """Until the page is at X's lock or login page (as soon as the address commits); Playwright's timeout
        otherwise."""
        await page.wait_for_url(lambda url: self.pack.blocked_path(urlparse(url).path) is not None,
                                timeout=timeout_ms, wait_until="commit")

    async def _unless_sent_away(self, page: Page, waiting: Awaitable[None]) -> bool:
        """Await ``waiting`` (a Playwright wait, whose timeout is raised) unless X sends the page to its login or
        lock page first (False): X's web client goes there when a request of the page is refused for it (a post,
        a timeline's batch), and what was waited for will never come."""
        arrived = asyncio.ensure_future(waiting)
        sent_away = asyncio.ensure_future(self._sent_away(page, self.call_timeout_ms))
        done, pending = await asyncio.wait({arrived, sent_away}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if sent_away in done and (failure := sent_away.exception()) is not None \
                and not isinstance(failure, PlaywrightTimeout):
            raise failure
        if arrived in done:
            arrived.result()
            return True
        return False

    @staticmethod
    def _x_message(body: str) -> str:
        try:
            errors = json.loads(body).get("errors") or []
            return "; ".join(str(e.get("message", e)) for e in errors) or body[:200]
        except (ValueError, AttributeError):
            return body[:200]

    async def _read_back(self, page: Page, parts: list[str], reply_to: ReplyRequest | None) -> list[str]:
        """Ids of the just-sent parts, found by their text: the own profile (newest first), or the thread
        replied to for a reply."""
        if reply_to is not None:
            await self.open(page, self.pack.url("status", handle=reply_to.author, tweet_id=reply_to.tweet_id))
            if not await self.conversation(page):
                return []  # the post replied to is gone: no conversation to find the reply in
            cards = await self.read_articles(page, 100)
        else:
            # The parts just sent are the newest posts: the timeline's first batch holds them, no need to scroll.
            cards = await self._profile_tweets(page, self.handle, 100, scroll=False)
        mine = [c for c in cards if c.author.lower() == self.handle.lower()]
        ids = []
        for part in parts:
            match = next((c for c in mine if same_text(c.text, part) and c.tweet_id not in ids), None)
            if match is None:
                return []
            ids.append(match.tweet_id)
        return ids
