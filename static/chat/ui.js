// The conversation page: binds a ChatSession (session.js) to the DOM.
//
// Live answers are drawn as sanitised markdown from channel events (markdown.js, throttled by live_render.js);
// when a run ends, the server-rendered final message is fetched and swapped in with htmx, which changes only
// code highlighting, so a streamed answer and a reloaded page look the same. Elements the server rendered as
// final are never touched by channel events.

import { LiveRenderer } from 'chat/live_render';
import { ChatSession, RUN_ACTIVE, RUN_PENDING } from 'chat/session';

const config = JSON.parse(document.getElementById('chat-session-config').textContent);
const transcript = document.getElementById('transcript');
const composer = document.getElementById('composer');
const input = document.getElementById('composer-input');
const sendButton = document.getElementById('send-button');
const stopAllButton = document.getElementById('stop-all');
const composerError = document.getElementById('composer-error');
const connectionStatus = document.getElementById('connection-status');
const jumpButton = document.getElementById('jump-latest');
const announcer = document.getElementById('announcer');
const composerNote = document.getElementById('composer-note');
const DRAFT_KEY = `chat:draft:${config.conversation}`;

// How close to the bottom counts as "reading the latest" for auto-scroll.
const PINNED_SLACK_PX = 48;
// A Stop that got no answer may be pressed again after this long: disabled states never stick.
const STOP_RETRY_MS = 8000;
// The agent publishes ai-run-end a moment before it records the end: retry the final fragment briefly.
const FINAL_FETCH_ATTEMPTS = 12;
const FINAL_FETCH_BACKOFF_MS = 150;
const COPIED_LABEL_MS = 2000;
const UNUSABLE_STATES = new Set(['suspended', 'failed', 'closed', 'closing']);

const session = new ChatSession(config);
const renderer = new LiveRenderer(() => contentChanged());
let ready = false;
let sending = false;
let queued = false; // Enter pressed before the session could send: it goes out once it can
let everConnected = false;
let pinned = true;

// --- scrolling: follow the stream unless the reader scrolled up -------------------------------------------

function nearBottom() {
  return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight <= PINNED_SLACK_PX;
}

function scrollToLatest() {
  transcript.scrollTop = transcript.scrollHeight;
  pinned = true;
  jumpButton.hidden = true;
}

function contentChanged() {
  if (pinned) {
    scrollToLatest();
  } else {
    jumpButton.hidden = false;
  }
}

transcript.addEventListener('scroll', () => {
  pinned = nearBottom();
  if (pinned) jumpButton.hidden = true;
});
jumpButton.addEventListener('click', () => {
  scrollToLatest();
  input.focus();
});

// --- message elements ---------------------------------------------------------------------------------------

function messageElement(codecMessageId) {
  return codecMessageId ? document.getElementById(`message-${codecMessageId}`) : null;
}

function answerElement(run) {
  return (
    messageElement(run.answerCodecMessageId) ||
    (run.runId && transcript.querySelector(`.message.assistant[data-run-id="${CSS.escape(run.runId)}"]`)) ||
    transcript.querySelector(`.message.assistant[data-input-id="${CSS.escape(run.inputCodecMessageId)}"]`)
  );
}

// Server-rendered final messages belong to the server: channel events never change them.
function isFinal(element) {
  return element.dataset.live !== 'true' && element.dataset.status !== 'streaming';
}

function clockTime() {
  const now = new Date();
  const time = document.createElement('time');
  time.dateTime = now.toISOString();
  time.textContent = now.toTimeString().slice(0, 5);
  return time;
}

function buildMessage(role) {
  const article = document.createElement('article');
  article.className = `message ${role}`;
  article.dataset.live = 'true';
  const meta = document.createElement('header');
  meta.className = 'message-meta';
  const label = document.createElement('span');
  label.className = 'role';
  label.textContent = role === 'assistant' ? 'Agent' : 'You';
  const state = document.createElement('span');
  state.className = 'run-state';
  meta.append(label, clockTime(), state);
  if (role === 'assistant') meta.append(copyAnswerButton());
  const body = document.createElement('div');
  body.className = 'message-body prose';
  if (role === 'assistant') body.setAttribute('aria-live', 'polite');
  article.append(meta, body);
  return article;
}

function place(element, after = null) {
  document.getElementById('transcript-empty')?.remove();
  if (after) {
    after.after(element);
  } else {
    transcript.append(element);
  }
  contentChanged();
}

function showInput({ codecMessageId, text, own }) {
  if (messageElement(codecMessageId)) return;
  const element = buildMessage('user');
  element.id = `message-${codecMessageId}`;
  element.dataset.codecMessageId = codecMessageId;
  element.dataset.status = 'complete';
  element.dataset.source = text;
  element.querySelector('.role').textContent = own ? 'You' : 'User';
  renderer.renderNow(element.querySelector('.message-body'), text);
  place(element);
}

// An answer goes right after its question, after any earlier answers to the same question.
function anchorFor(inputCodecMessageId) {
  let anchor = messageElement(inputCodecMessageId);
  while (anchor?.nextElementSibling?.classList.contains('assistant')) anchor = anchor.nextElementSibling;
  return anchor;
}

function ensureAnswer(run) {
  let element = answerElement(run);
  if (element && isFinal(element)) return null;
  if (!element) {
    element = buildMessage('assistant');
    element.dataset.status = 'streaming';
    place(element, anchorFor(run.inputCodecMessageId));
  }
  element.dataset.live = 'true';
  element.classList.add('status-streaming');
  if (run.runId) element.dataset.runId = run.runId;
  if (run.inputCodecMessageId) element.dataset.inputId = run.inputCodecMessageId;
  if (run.answerCodecMessageId) {
    element.id = `message-${run.answerCodecMessageId}`;
    element.dataset.codecMessageId = run.answerCodecMessageId;
  }
  return element;
}

function setBadge(element, kind, text) {
  const state = element.querySelector('.run-state');
  state.replaceChildren();
  if (!kind) return;
  const badge = document.createElement('span');
  badge.className = `badge ${kind}`;
  badge.textContent = text;
  state.append(badge);
}

function stopButtonOf(element) {
  let button = element.querySelector('.stop-run');
  if (!button) {
    button = document.createElement('button');
    button.type = 'button';
    button.className = 'button subtle stop-run';
    button.textContent = 'Stop';
    button.setAttribute('aria-label', 'Stop this answer');
    button.addEventListener('click', () => stopOne(element));
    element.querySelector('.message-meta').append(button);
  }
  return button;
}

function drawOpen(element, run) {
  const waiting = run.status === RUN_PENDING || !run.text;
  setBadge(element, 'streaming', waiting ? 'waiting for the agent…' : 'streaming…');
  if (run.text) renderer.schedule(element.querySelector('.message-body'), run.text);
  stopButtonOf(element);
}

function drawEnded(element, run) {
  element.classList.remove('status-streaming');
  element.classList.add(`status-${run.status}`);
  element.dataset.status = run.status;
  element.querySelector('.stop-run')?.remove();
  // The last tokens are drawn at once, not on the next frame: the final swap compares against this.
  if (run.text) {
    renderer.renderNow(element.querySelector('.message-body'), run.text);
    element.dataset.source = run.text;
  }
  if (run.status === 'error') {
    setBadge(element, 'error', 'error');
    showRunError(element, run.error?.message ?? 'The agent failed.');
  } else if (run.status === 'cancelled') {
    setBadge(element, 'stopped', 'stopped');
  } else {
    setBadge(element, null, '');
  }
}

// --- runs ---------------------------------------------------------------------------------------------------

function showRun(run) {
  const element = ensureAnswer(run);
  if (!element) return;
  if (run.status === RUN_PENDING || run.status === RUN_ACTIVE) {
    drawOpen(element, run);
  } else {
    drawEnded(element, run);
    swapInFinal(element, run);
    if (run.status === 'complete') requestTitle();
  }
  contentChanged();
}

// The first completed answer names the conversation (chat/titles.py); htmx swaps in the title block, the
// sidebar entry and the document title. Asked once per page; the server answers 204 when there is nothing to do.
function requestTitle() {
  if (!config.needsTitle) return;
  config.needsTitle = false;
  window.htmx.ajax('POST', config.titleSuggestUrl, { target: '#title-block', swap: 'outerHTML' });
}

// --- failed answers: the model's message and a Retry ----------------------------------------------------------

function showRunError(element, message) {
  element.querySelector('.run-error')?.remove();
  const box = document.createElement('div');
  box.className = 'run-error';
  box.setAttribute('role', 'alert');
  const text = document.createElement('p');
  text.textContent = message;
  const retry = document.createElement('button');
  retry.type = 'button';
  retry.className = 'button retry-run';
  retry.textContent = 'Retry';
  box.append(text, retry);
  element.append(box);
}

// The question an answer answered: by its input id, else the nearest user message above it.
function questionOf(answer) {
  const byId = messageElement(answer.dataset.inputId);
  if (byId) return byId;
  let previous = answer.previousElementSibling;
  while (previous && !previous.classList.contains('user')) previous = previous.previousElementSibling;
  return previous;
}

async function retry(answer) {
  const question = questionOf(answer);
  const text = question?.dataset.source;
  if (!text) return;
  for (const button of answer.querySelectorAll('.retry-run')) button.disabled = true;
  try {
    await session.send(text);
  } catch (error) {
    showError(`Not sent: ${error?.message ?? error}`);
    for (const button of answer.querySelectorAll('.retry-run')) button.disabled = false;
  }
}

// --- copying a whole answer (its markdown source) -------------------------------------------------------------

function copyAnswerButton() {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button subtle copy-answer';
  button.textContent = 'Copy';
  button.setAttribute('aria-label', 'Copy this answer');
  return button;
}

async function copyAnswer(button) {
  const message = button.closest('.message');
  const text = message.dataset.source ?? message.querySelector('.message-body').innerText;
  try {
    await copyText(text);
    button.textContent = 'Copied';
    announce('Answer copied');
  } catch {
    button.textContent = 'Copy failed';
  }
  setTimeout(() => (button.textContent = 'Copy'), COPIED_LABEL_MS);
}

// One listener for the controls of every message, live or swapped in by htmx.
transcript.addEventListener('click', (event) => {
  const retryButton = event.target.closest('.retry-run');
  if (retryButton) retry(retryButton.closest('.message'));
  const copyButton = event.target.closest('.copy-answer');
  if (copyButton) copyAnswer(copyButton);
});

function showOutput({ codecMessageId, runId, text, inputCodecMessageId }) {
  const run = session.runs().find((known) => known.runId === runId) ?? {
    runId,
    status: RUN_ACTIVE,
    inputCodecMessageId,
    answerCodecMessageId: codecMessageId,
    text,
  };
  const element = ensureAnswer({ ...run, answerCodecMessageId: codecMessageId });
  if (!element) return;
  renderer.schedule(element.querySelector('.message-body'), text);
  if (run.status === RUN_ACTIVE && text) setBadge(element, 'streaming', 'streaming…');
}

function fragmentUrl(run) {
  const [template, id] = run.answerCodecMessageId
    ? [config.messageUrl, run.answerCodecMessageId]
    : [config.runAnswerUrl, run.runId];
  return template.replace(config.idPlaceholder, encodeURIComponent(id));
}

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Swap the server's final rendering of an ended answer in place of the live one (htmx does the swap, so
// any hx- attributes in the fragment work). Without a stored answer (404) the live rendering stays.
async function swapInFinal(element, run) {
  if (element.dataset.finalising === 'true' || (!run.answerCodecMessageId && !run.runId)) return;
  element.dataset.finalising = 'true';
  for (let attempt = 1; attempt <= FINAL_FETCH_ATTEMPTS; attempt += 1) {
    let response;
    try {
      response = await fetch(fragmentUrl(run), { credentials: 'same-origin', headers: { 'HX-Request': 'true' } });
    } catch {
      response = null;
    }
    if (response?.status === 404) break;
    if (response?.ok && response.headers.get('X-Message-Status') !== 'streaming') {
      const html = await response.text();
      if (!element.isConnected) return;
      window.htmx.swap(element, html, { swapStyle: 'outerHTML' });
      contentChanged();
      return;
    }
    await pause(FINAL_FETCH_BACKOFF_MS * attempt);
  }
  delete element.dataset.finalising;
}

// Anything the server rendered as streaming whose run the channel no longer shows active: ask the server.
function settleStaleStreaming() {
  const known = new Map(session.runs().map((run) => [run.runId, run]));
  for (const element of transcript.querySelectorAll('.message.assistant[data-status="streaming"]')) {
    const run = known.get(element.dataset.runId);
    if (run && (run.status === RUN_ACTIVE || run.status === RUN_PENDING)) continue;
    swapInFinal(element, {
      runId: element.dataset.runId ?? '',
      answerCodecMessageId: element.dataset.codecMessageId ?? '',
    });
  }
}

// --- stopping -----------------------------------------------------------------------------------------------

function markStopping(element) {
  const button = element.querySelector('.stop-run');
  if (!button) return;
  button.disabled = true;
  button.textContent = 'Stopping…';
  setTimeout(() => {
    if (!button.isConnected) return;
    button.disabled = false;
    button.textContent = 'Stop';
  }, STOP_RETRY_MS);
}

function stopOne(element) {
  const run = session
    .activeRuns()
    .find(
      (known) =>
        (known.runId && known.runId === element.dataset.runId) ||
        known.inputCodecMessageId === element.dataset.inputId,
    );
  if (!run) return;
  markStopping(element);
  const cancelled =
    run.status === RUN_PENDING
      ? session.cancelInput(run.inputCodecMessageId, run.runId)
      : session.cancel(run.runId);
  cancelled.catch((error) => showError(`Stop failed: ${error?.message ?? error}`));
}

function stopAll() {
  const active = session.activeRuns();
  if (active.length === 0) return;
  for (const run of active) {
    const element = answerElement(run);
    if (element) markStopping(element);
  }
  session.cancelAll();
  announce(`Stopping ${active.length} answer${active.length === 1 ? '' : 's'}`);
}

function refreshStopAll() {
  stopAllButton.hidden = session.activeRuns().length === 0;
}

stopAllButton.addEventListener('click', stopAll);
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !event.defaultPrevented && session.activeRuns().length > 0) {
    event.preventDefault();
    stopAll();
  }
});

// --- composer -----------------------------------------------------------------------------------------------

function hasText() {
  return input.value.trim() !== '';
}

function canSendNow() {
  return ready && !sending && !UNUSABLE_STATES.has(session.connectionState);
}

// Send stays usable with text even while connecting: pressing it then queues the message (never ignored).
function refreshSendButton() {
  sendButton.disabled = !hasText() || sending;
  if (queued && canSendNow()) {
    queued = false;
    showNote('');
    submit();
  }
}

function showNote(message) {
  composerNote.textContent = message;
  composerNote.hidden = !message;
}

function saveDraft() {
  try {
    if (input.value) sessionStorage.setItem(DRAFT_KEY, input.value);
    else sessionStorage.removeItem(DRAFT_KEY);
  } catch {
    // Storage may be unavailable (private mode, quota): the draft then lives only in the page.
  }
}

function restoreDraft() {
  try {
    const draft = sessionStorage.getItem(DRAFT_KEY);
    if (draft && !input.value) input.value = draft;
  } catch {
    // As above.
  }
}

// A 401/403 from the agent means the login is gone: say so, keep the text, and offer to log in again.
function showSignedOut(text) {
  if (text && !input.value) input.value = text;
  saveDraft();
  composerError.replaceChildren(
    'You were signed out, so this message was not answered. Your text is kept: ',
    Object.assign(document.createElement('a'), { href: config.loginUrl, textContent: 'log in again' }),
    ' and send it once more.',
  );
  composerError.hidden = false;
  refreshSendButton();
}

function showError(message) {
  composerError.textContent = message;
  composerError.hidden = !message;
}

function announce(message) {
  announcer.textContent = message;
}

async function submit() {
  if (!hasText()) return;
  if (!canSendNow()) {
    queued = true;
    showNote('Sending as soon as the conversation is connected…');
    return;
  }
  const text = input.value;
  sending = true;
  input.value = '';
  saveDraft();
  showError('');
  refreshSendButton();
  scrollToLatest();
  try {
    await session.send(text);
  } catch (error) {
    input.value = text;
    saveDraft();
    showError(`Not sent: ${error?.message ?? error}`);
  } finally {
    sending = false;
    refreshSendButton();
    input.focus();
  }
}

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  submit();
});
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
input.addEventListener('input', () => {
  saveDraft();
  refreshSendButton();
});

// --- connection indicator -----------------------------------------------------------------------------------

function showConnection(state) {
  if (state === 'connected') everConnected = true;
  let [shown, label] = ['connecting', 'Connecting…'];
  if (state === 'connected') {
    [shown, label] = ['connected', 'Connected'];
  } else if (UNUSABLE_STATES.has(state)) {
    [shown, label] = ['offline', 'Offline'];
  } else if (everConnected) {
    [shown, label] = ['reconnecting', 'Reconnecting…'];
  }
  connectionStatus.dataset.state = shown;
  connectionStatus.querySelector('.connection-label').textContent = label;
  refreshSendButton();
}

// --- code blocks --------------------------------------------------------------------------------------------

async function copyText(text) {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const scratch = document.createElement('textarea');
  scratch.value = text;
  document.body.append(scratch);
  scratch.select();
  document.execCommand('copy');
  scratch.remove();
}

function addCopyButtons(root) {
  for (const pre of root.querySelectorAll('.prose pre')) {
    if (pre.parentElement.classList.contains('code-block')) continue;
    const wrapper = document.createElement('div');
    wrapper.className = 'code-block';
    pre.before(wrapper);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button subtle copy-code';
    button.textContent = 'Copy';
    button.setAttribute('aria-label', 'Copy code');
    button.addEventListener('click', async () => {
      try {
        await copyText(pre.textContent);
        button.textContent = 'Copied';
        announce('Code copied');
      } catch {
        button.textContent = 'Copy failed';
      }
      setTimeout(() => (button.textContent = 'Copy'), COPIED_LABEL_MS);
    });
    wrapper.append(button, pre);
  }
}

// --- wiring -------------------------------------------------------------------------------------------------

session.addEventListener('connection', (event) => showConnection(event.detail.state));
session.addEventListener('input', (event) => showInput(event.detail));
session.addEventListener('run', (event) => {
  if (!session.hydrating) showRun(event.detail);
  refreshStopAll();
});
session.addEventListener('output', (event) => {
  if (!session.hydrating) showOutput(event.detail);
});
session.addEventListener('send-failed', (event) => {
  const { inputCodecMessageId, stage, message, httpStatus } = event.detail;
  const answer = transcript.querySelector(`.message.assistant[data-input-id="${CSS.escape(inputCodecMessageId)}"]`);
  const signedOut = httpStatus === 401 || httpStatus === 403;
  if (stage === 'publish') {
    messageElement(inputCodecMessageId)?.remove();
    answer?.remove();
  } else if (answer) {
    drawEnded(answer, { status: 'error', error: { message: signedOut ? 'Not answered: you were signed out.' : message } });
  }
  if (signedOut) {
    showSignedOut(messageElement(inputCodecMessageId)?.dataset.source ?? '');
  } else {
    showError(message);
  }
  refreshStopAll();
});
session.addEventListener('hydrated', (event) => {
  for (const run of event.detail.runs) showRun(run);
  settleStaleStreaming();
  // An answer that completed while no page was open still names its conversation.
  if (transcript.querySelector('.message.assistant[data-status="complete"]')) requestTitle();
  refreshStopAll();
});
session.addEventListener('channel-error', (event) => {
  showError(`The conversation's channel failed: ${event.detail.reason?.message ?? 'unknown error'}`);
});

window.htmx.onLoad((element) => addCopyButtons(element));
window.chatSession = session; // for the browser console and the browser tests
restoreDraft();
if (config.firstMessage && !input.value) {
  // Typed on the home page: it goes out as soon as the session can send it.
  input.value = config.firstMessage;
  submit();
}
scrollToLatest();
showConnection('connecting');
input.focus();
try {
  await session.connect();
  ready = true;
} catch (error) {
  showError(`Could not connect: ${error?.message ?? error}`);
}
refreshSendButton();
