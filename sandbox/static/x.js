// The little JavaScript of the sandbox's X look-alike: composers, threads, the reply modal and the toast.
// Posting goes through the same GraphQL mutation X's web client uses (CreateTweet), one call per thread part.
(() => {
  const body = document.body;
  const variant = Number(body.dataset.domVariant || 1);
  const handle = body.dataset.handle;
  const queryId = body.dataset.queryId;
  const refusals = JSON.parse(body.dataset.refusals || "{}");
  // Same renaming rule as sandbox/xformat.py testid().
  const tid = (name) => variant === 2
    ? name.replace(/tweet/g, "post").replace(/Tweet/g, "Post").replace(/Button/g, "Btn") : name;
  const byTid = (root, name) => root.querySelector(`[data-testid="${tid(name)}"]`);
  const cookie = (name) => (document.cookie.split("; ").find((c) => c.startsWith(name + "=")) || "").slice(name.length + 1);

  function toast(text, viewHref) {
    document.querySelectorAll("[role=alert]").forEach((e) => e.remove());
    const el = document.createElement("div");
    el.setAttribute("role", "alert");
    el.dataset.testid = tid("toast");
    const span = document.createElement("span");
    span.textContent = text;
    el.appendChild(span);
    if (viewHref) {
      const a = document.createElement("a");
      a.href = viewHref;
      a.textContent = "View";
      el.appendChild(a);
    }
    document.getElementById("layers").appendChild(el);
  }

  function textboxes(composer) {
    return [...composer.querySelectorAll("[role=textbox]")];
  }

  // The text as X's composer holds it: one line per block, joined by "\n". Chromium's contenteditable puts each
  // line typed after an Enter in a <div> (an empty line is a <div><br></div>), and innerText adds a newline
  // around every block: "a\n\nb" typed was sent as "a\n\n\nb", one character more per paragraph break, and a
  // 279-character post with two breaks was refused as too long ("Something went wrong").
  function boxText(box) {
    const lines = [""];
    for (const node of box.childNodes) {
      if (node.nodeName === "BR") lines.push("");
      else if (node.nodeName === "DIV" || node.nodeName === "P") lines.push(node.innerText.replace(/\n$/, ""));
      else lines[lines.length - 1] += node.textContent;
    }
    return lines.join("\n").trim();
  }

  function refresh(composer) {
    const boxes = textboxes(composer);
    const button = composer.querySelector(".post-button");
    const ready = boxes.every((b) => b.innerText.trim().length > 0);
    button.disabled = !ready;
    button.setAttribute("aria-disabled", String(!ready));
    button.querySelector("span").textContent = boxes.length > 1 ? "Post all" : composer.dataset.buttonLabel;
  }

  function addPart(composer) {
    const parts = composer.querySelector(".composer-parts");
    const n = textboxes(composer).length;
    const part = document.createElement("div");
    part.className = "composer-part";
    const box = document.createElement("div");
    Object.assign(box, { className: "textarea", contentEditable: "true" });
    box.setAttribute("role", "textbox");
    box.setAttribute("aria-multiline", "true");
    box.setAttribute("aria-label", "Post text");
    box.setAttribute("placeholder", "Add another post");
    box.dataset.testid = tid(`tweetTextarea_${n}`);
    part.appendChild(box);
    parts.appendChild(part);
    refresh(composer);
    box.focus();
  }

  async function createTweet(text, replyTo) {
    const variables = {
      tweet_text: text, dark_request: false, semantic_annotation_ids: [],
      media: { media_entities: [], possibly_sensitive: false },
    };
    if (replyTo) variables.reply = { in_reply_to_tweet_id: replyTo, exclude_reply_user_ids: [] };
    const response = await fetch(`/i/api/graphql/${queryId}/CreateTweet`, {
      method: "POST", credentials: "include",
      headers: { "content-type": "application/json", "x-csrf-token": cookie("ct0"), "x-twitter-auth-type": "OAuth2Session" },
      body: JSON.stringify({ variables, features: {}, queryId }),
    });
    let json = {};
    try { json = await response.json(); } catch (e) { /* an HTML error page */ }
    return { status: response.status, json };
  }

  async function submit(composer) {
    const button = composer.querySelector(".post-button");
    if (button.disabled) return;
    button.disabled = true;
    const texts = textboxes(composer).map(boxText);
    let replyTo = composer.dataset.replyTo || null;
    let first = null;
    for (const text of texts) {
      const { status, json } = await createTweet(text, replyTo);
      if (status === 401) { window.location.assign("/i/flow/login"); return; }
      const error = (json.errors || [])[0];
      if (error && error.code === 326) { window.location.assign("/account/access"); return; }
      const id = json.data && json.data.create_tweet && json.data.create_tweet.tweet_results.result.rest_id;
      if (!id) {
        toast(refusals[String(error ? error.code : 0)] || refusals.default);
        refresh(composer);
        return;
      }
      first = first || id;
      replyTo = id;
    }
    const modal = composer.closest("[role=dialog]");
    if (modal) modal.remove();
    else {
      textboxes(composer).slice(1).forEach((b) => b.closest(".composer-part").remove());
      textboxes(composer)[0].textContent = "";
      refresh(composer);
    }
    if (modal) closedModal(modal);
    toast(texts.length > 1 ? "Your posts were sent." : "Your post was sent.", `/${handle}/status/${first}`);
  }

  // The "More" menu of a post: X offers Delete on our own posts only. Delete asks for confirmation in a sheet,
  // then sends X's DeleteTweet mutation.
  function openMenu(article, caret) {
    document.querySelectorAll("[role=menu]").forEach((m) => m.remove());
    const menu = document.createElement("div");
    menu.setAttribute("role", "menu");
    menu.className = "menu";
    const own = article.dataset.handle.toLowerCase() === (handle || "").toLowerCase();
    const items = own ? ["Delete", "Pin to your profile", "Change who can reply"]
      : [`Follow @${article.dataset.handle}`, "Not interested in this post", "Mute", "Report post"];
    for (const label of items) {
      const item = document.createElement("div");
      item.setAttribute("role", "menuitem");
      item.tabIndex = 0;
      item.textContent = label;
      if (label === "Delete") item.addEventListener("click", () => { menu.remove(); confirmDelete(article); });
      else item.addEventListener("click", () => menu.remove());
      menu.appendChild(item);
    }
    document.getElementById("layers").appendChild(menu);
  }

  function confirmDelete(article) {
    const sheet = document.createElement("div");
    sheet.className = "modal";
    sheet.setAttribute("role", "alertdialog");
    sheet.dataset.testid = tid("confirmationSheetDialog");
    sheet.innerHTML = `<h1>Delete post?</h1><p>This can’t be undone and it will be removed from your profile, the
      timeline of any accounts that follow you, and from search results.</p>
      <button type="button" class="danger"><span>Delete</span></button> <button type="button"><span>Cancel</span></button>`;
    const [yes, no] = sheet.querySelectorAll("button");
    yes.dataset.testid = tid("confirmationSheetConfirm");
    no.dataset.testid = tid("confirmationSheetCancel");
    no.addEventListener("click", () => sheet.remove());
    yes.addEventListener("click", async () => {
      sheet.remove();
      const response = await fetch(`/i/api/graphql/${queryId}/DeleteTweet`, {
        method: "POST", credentials: "include",
        headers: { "content-type": "application/json", "x-csrf-token": cookie("ct0"), "x-twitter-auth-type": "OAuth2Session" },
        body: JSON.stringify({ variables: { tweet_id: article.dataset.tweetId, dark_request: false }, queryId }),
      });
      if (response.status === 401) { window.location.assign("/i/flow/login"); return; }
      let json = {};
      try { json = await response.json(); } catch (e) { /* an HTML error page */ }
      if (json.data && json.data.delete_tweet) {
        article.remove();
        toast("Your post was deleted");
      } else toast(refusals.default);
    });
    document.getElementById("layers").appendChild(sheet);
  }

  // X's side navigation "Post": the composer opens over the page at hand (its URL /compose/post meanwhile), which
  // stays as it is: a settings page behind it renders no posts, the home timeline a page of them.
  function openPostModal() {
    document.querySelectorAll("[role=dialog]").forEach((d) => d.remove());
    const dialog = document.getElementById("post-modal").content.firstElementChild.cloneNode(true);
    dialog.dataset.background = window.location.pathname + window.location.search;
    document.getElementById("layers").appendChild(dialog);
    history.pushState(null, "", "/compose/post");
    dialog.querySelector("[role=textbox]").focus();
  }

  // Back to the page the composer opened over (the home timeline for a /compose/post loaded as such).
  function closedModal(dialog) {
    if (window.location.pathname === "/compose/post") history.replaceState(null, "", dialog.dataset.background || "/home");
  }

  function openReplyModal(article) {
    document.querySelectorAll("[role=dialog]").forEach((d) => d.remove());
    const dialog = document.createElement("div");
    dialog.className = "modal";
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", "Reply");
    const quoted = byTid(article, "tweetText");
    dialog.innerHTML = `
      <button type="button" class="modal-close" aria-label="Close">×</button>
      <div class="quoted"></div>
      <div class="replying">Replying to <a></a></div>
      <div class="composer" data-composer="reply-modal" data-button-label="Reply">
        <div class="composer-parts"><div class="composer-part">
          <div class="textarea" contenteditable="true" role="textbox" aria-multiline="true" aria-label="Post text"
               placeholder="Post your reply"></div></div></div>
        <div class="composer-toolbar"><button type="button" class="post-button" disabled aria-disabled="true"><span>Reply</span></button></div>
      </div>`;
    dialog.querySelector(".modal-close").dataset.testid = tid("app-bar-close");
    dialog.querySelector(".quoted").textContent = quoted ? quoted.innerText : "";
    const who = dialog.querySelector(".replying a");
    who.href = `/${article.dataset.handle}`;
    who.textContent = `@${article.dataset.handle}`;
    const composer = dialog.querySelector(".composer");
    composer.dataset.replyTo = article.dataset.tweetId;
    dialog.querySelector("[role=textbox]").dataset.testid = tid("tweetTextarea_0");
    dialog.querySelector(".post-button").dataset.testid = tid("tweetButton");
    document.getElementById("layers").appendChild(dialog);
    dialog.querySelector("[role=textbox]").focus();
  }

  // Timelines load as X's do: the next batch when the reader scrolls near the end (the section's data-more names
  // it; the spinner cell stands at the end while there is more). With the lazy loader (/admin/dom_variant) the end
  // cell is a spinner only while a batch loads, as an x.com may show it.
  const timeline = document.querySelector("section[data-more]");
  const lazyLoader = body.dataset.lazyLoader === "1";
  let loadingMore = false;
  function loaderSpins(on) {
    const end = timeline.querySelector(".loading-more");
    if (end && lazyLoader) on ? end.setAttribute("role", "progressbar") : end.removeAttribute("role");
  }
  if (timeline) loaderSpins(false);
  // X's list is virtualised: only the cells within KEEP_VIEWPORTS screens of the visible area, above and below, are
  // in the DOM; any other is a spacer of its height (so the scrollbar stays right) until scrolled to again. A
  // reader collects the posts a screen or so at a time: one that jumps to the end never sees those it passed.
  const KEEP_VIEWPORTS = 2;
  function virtualise() {
    const margin = KEEP_VIEWPORTS * window.innerHeight;
    const items = [...timeline.querySelectorAll(`:scope > [data-testid="${tid("cellInnerDiv")}"], :scope > .cell-spacer`)];
    const boxes = items.map((el) => el.getBoundingClientRect());  // every read before any write: one layout
    items.forEach((el, i) => {
      const near = boxes[i].bottom > -margin && boxes[i].top < window.innerHeight + margin;
      if (el.cell && near) el.replaceWith(el.cell);
      else if (!el.cell && !near) {
        const spacer = document.createElement("div");
        spacer.className = "cell-spacer";
        spacer.style.height = `${boxes[i].height}px`;
        spacer.cell = el;
        el.replaceWith(spacer);
      }
    });
  }
  async function loadMore(first = false) {
    const next = timeline.dataset.more;
    const end = timeline.querySelector(".loading-more");
    if (loadingMore || !next || !end || (!first && end.getBoundingClientRect().top > window.innerHeight)) return;
    loadingMore = true;
    loaderSpins(true);
    try {
      let resp;
      try {
        resp = await fetch(next, { credentials: "same-origin" });
      } catch {
        // The request failed or was blocked: X says so where the posts would be.
        end.insertAdjacentHTML("beforebegin", '<div class="timeline-error"><span>Something went wrong. Try reloading.</span></div>');
        endOfTimeline();
        return;
      }
      if (resp.status === 401) { window.location.assign("/i/flow/login"); return; }
      if (resp.status === 403) {
        let json = {};
        try { json = await resp.json(); } catch (e) { /* not X's answer */ }
        if ((json.errors || []).some((e) => e.code === 326)) { window.location.assign("/account/access"); return; }
      }
      if (resp.status === 429) toast(await resp.text());
      if (!resp.ok || resp.redirected) { endOfTimeline(); return; }
      timeline.dataset.more = resp.headers.get("x-next") || "";
      end.insertAdjacentHTML("beforebegin", await resp.text());
      if (!timeline.dataset.more) endOfTimeline();
      virtualise();
    } finally {
      loadingMore = false;
      if (timeline.dataset.more) loaderSpins(false);
    }
  }
  function endOfTimeline() {
    timeline.dataset.more = "";
    const end = timeline.querySelector(".loading-more");
    if (end) end.remove();
  }
  if (timeline) {
    window.addEventListener("scroll", () => { virtualise(); loadMore(); }, { passive: true });
    window.addEventListener("resize", virtualise);
  }
  // A profile's posts and a search's results come after the page, as X's web client asks for them (its UserTweets
  // and SearchTimeline requests).
  if (timeline && timeline.dataset.first) loadMore(true);

  // X's interstitial sheet (sandbox/sheets.py): mounted a moment after the page, as X's client renders it once its
  // app is up (a reader that closed sheets as the page arrived found none, and the sheet then took its next click);
  // closed by its buttons, and by Escape when it allows.
  const SHEET_AFTER_MS = 1000;
  const sheetLater = document.getElementById("sheet");
  if (sheetLater) {
    setTimeout(() => document.getElementById("layers").appendChild(sheetLater.content.cloneNode(true)), SHEET_AFTER_MS);
  }
  function closeSheet() {
    document.querySelectorAll(".sheet, .mask").forEach((el) => el.remove());
  }
  document.addEventListener("keydown", (e) => {
    const sheet = document.querySelector(".sheet");
    if (e.key === "Escape" && sheet && sheet.dataset.escape === "1") closeSheet();
  });
  document.addEventListener("input", (e) => {
    const composer = e.target.closest && e.target.closest(".composer");
    if (composer) refresh(composer);
  });
  document.addEventListener("click", (e) => {
    const target = e.target.closest("button, a");
    if (!target) return;
    const composer = target.closest(".composer");
    const testid = target.dataset.testid;
    if (testid === tid("SideNav_NewTweet_Button")) { e.preventDefault(); openPostModal(); }
    else if (composer && testid === tid("addButton")) addPart(composer);
    else if (composer && target.classList.contains("post-button")) submit(composer);
    else if (target.classList.contains("modal-close")) {
      const dialog = target.closest("[role=dialog]");
      dialog.remove();
      closedModal(dialog);
    } else if (testid === tid("reply") && target.closest("article")) openReplyModal(target.closest("article"));
    else if (testid === tid("caret") && target.closest("article")) openMenu(target.closest("article"), target);
    else if (target.hasAttribute("data-retry")) window.location.reload();
    else if (target.closest("[data-sheet-button]") && target.closest(".sheet").dataset.closable === "1") closeSheet();
    // X's Next sends the username: the server answers with the password step or a check of who is signing in.
    else if (target.closest("#login-next")) document.getElementById("login-form").submit();
  });
})();
