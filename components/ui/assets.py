"""The page's own CSS and script: layout fixes Gradio has no option for, the keyboard, screen readers."""

CSS = """
#offline-notice { border: 1px solid var(--color-accent); border-radius: var(--radius-lg); padding: 0.5rem 1rem; }
.reply-info { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
/* The chat first: left of its settings on a wide screen, above them on a phone. */
#chat-column { order: -1; }
/* Messages start below the chat's clear and copy icons, not under them. */
#chatbot .bubble-wrap { padding-top: var(--size-8); }
#chatbot .top-panel { background: var(--block-background-fill); border-radius: var(--radius-sm); }
/* A reply reads as one block: its text, then its run card as one quiet line that expands. */
#chatbot .message-row:has(.thought-group) .message { border: none; background: none; box-shadow: none; padding: 0; }
#chatbot .thought-group { border: none; background: none; padding: 0 var(--size-2); font-size: var(--text-sm); }
#chatbot .thought-group .title .md { white-space: nowrap; }
/* Contrast: the card's one-line summary and the selected tab's name are read, not decoration. */
#chatbot .thought-group .duration { color: var(--body-text-color); opacity: 0.85; }
button[role="tab"].selected { color: var(--body-text-color); }
#chatbot .message-buttons { margin-top: 0; margin-bottom: 0; }
#chatbot .message-wrap > .message-row { margin-top: var(--size-2); margin-bottom: 0; }
#chatbot .message-wrap > .message-row:has(.thought-group) { margin-top: 0; }
/* A card's own copy button would copy the card: only the last one keeps a row (retry and undo). */
#chatbot .message-row:has(.thought-group) + .message-buttons button[aria-label="Copy message"] { display: none; }
#chatbot .message-row:has(.thought-group) + .message-buttons:not(:has(button[aria-label="Retry"])) { display: none; }
/* The token view: the reply's own line breaks, room for the shading, and its tooltip's cursor. */
.token-view .tokens { white-space: pre-wrap; line-height: 1.9; }
.token-view .token { border-radius: 3px; cursor: help; }
.token-view .reply-info, .token-view caption { color: var(--body-text-color); opacity: 0.8; }
@media (max-width: 640px) {
  /* A phone: the chat's input on the first screen; saved chats below the chat. */
  h1 { font-size: var(--text-xl); margin: 0; }
  #chatbot { height: min(520px, 52vh) !important; }
  #chat-column .row > .column:has(#new-chat) { order: 2; }
}
"""
# Keyboard and screen readers. Ctrl/Cmd+Enter sends from the Single-turn and Compare prompts (Enter there starts a new
# line: they hold several), and Esc presses whichever Stop button is live. The chat's Enter is Gradio's.
KEYBOARD = """
<script>
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const live = [...document.querySelectorAll(
      '#stop, #chat-input .stop-button, #cmp-stop-button'
    )].find((button) => button.offsetParent !== null && !button.disabled);
    if (live) { event.preventDefault(); live.click(); }
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    const send = { "prompt": "#submit", "cmp-prompt": "#cmp-submit" }[event.target.closest("[id]")?.id];
    const button = send && document.querySelector(send);
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  }
});
// Screen readers: each reply area is a polite live region, marked busy while its reply streams, so that
// it is read once, complete, rather than token by token. Busy while its tab's input is disabled.
const LIVE_REGIONS = [["#response", "#submit"], ["#chatbot [role=log]", "#chat-input textarea"]];
// Controls Gradio draws without a name (the chat's message box, its label hidden).
const UNNAMED = [["#chat-input textarea", "Message"]];
new MutationObserver(() => {
  for (const [selector, name] of UNNAMED) {
    const control = document.querySelector(selector);
    if (control && !control.getAttribute("aria-label")) control.setAttribute("aria-label", name);
  }
  for (const [region, input] of LIVE_REGIONS) {
    const area = document.querySelector(region);
    const control = document.querySelector(input);
    if (!area || !control) continue;
    if (area.getAttribute("aria-live") !== "polite") area.setAttribute("aria-live", "polite");
    const busy = String(control.disabled);
    if (area.getAttribute("aria-busy") !== busy) area.setAttribute("aria-busy", busy);
  }
}).observe(document.documentElement, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["disabled"],
});
</script>
"""
