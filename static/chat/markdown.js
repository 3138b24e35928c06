// Markdown to safe HTML in the browser, for text that is still streaming (and the user's own message).
//
// It mirrors chat/markdown.py so the final server rendering changes nothing visible but code highlighting:
// the same parser family (markdown-it, CommonMark preset plus tables and strikethrough, raw HTML off), then
// DOMPurify with the server's nh3 allow-list (tags, per-tag attributes, URL schemes, only `text-align` in
// `style`, and the same `rel` on links). Text from a model is untrusted, so nothing skips the sanitiser.

import markdownit from 'vendor/markdown-it';
import DOMPurify from 'vendor/dompurify';

// Identical to ALLOWED_TAGS / ALLOWED_ATTRIBUTES in chat/markdown.py.
const ALLOWED_TAGS = [
  'a', 'blockquote', 'br', 'code', 'del', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'li', 'ol', 'p',
  'pre', 'span', 'strong', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul',
];
const ALLOWED_ATTRIBUTES = {
  a: new Set(['href', 'title']),
  code: new Set(['class']),
  span: new Set(['class']),
  td: new Set(['style']),
  th: new Set(['style']),
};
const LINK_REL = 'noopener noreferrer nofollow';
// http, https, mailto, or a relative URL (no scheme at all), as nh3 is configured on the server.
const ALLOWED_URI = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;
const TEXT_ALIGN = /^\s*text-align\s*:\s*(left|right|center)\s*;?\s*$/i;

const parser = markdownit('commonmark', { html: false, linkify: false, typographer: false }).enable([
  'table',
  'strikethrough',
]);

const purifier = DOMPurify(window);
purifier.addHook('uponSanitizeAttribute', (node, data) => {
  const allowed = ALLOWED_ATTRIBUTES[node.nodeName.toLowerCase()];
  if (!allowed?.has(data.attrName)) {
    data.keepAttr = false;
  } else if (data.attrName === 'style') {
    const match = TEXT_ALIGN.exec(data.attrValue);
    if (match) data.attrValue = `text-align:${match[1].toLowerCase()}`;
    else data.keepAttr = false;
  }
});
purifier.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName === 'A') node.setAttribute('rel', LINK_REL);
});
const PURIFY_OPTIONS = {
  ALLOWED_TAGS,
  ALLOWED_ATTR: ['href', 'title', 'class', 'style'],
  ALLOWED_URI_REGEXP: ALLOWED_URI,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/** Sanitised DOM for `text` rendered as markdown. */
export function renderMarkdown(text) {
  return purifier.sanitize(parser.render(text || ''), PURIFY_OPTIONS);
}

/**
 * Render `text` into `element`, replacing only the top-level blocks that changed: while an answer streams,
 * the blocks above the one being written keep their nodes (and any selection the reader made in them).
 */
export function renderInto(element, text) {
  const fresh = [...renderMarkdown(text).childNodes];
  const current = [...element.childNodes];
  let same = 0;
  while (same < fresh.length && same < current.length && current[same].isEqualNode(fresh[same])) same += 1;
  for (const stale of current.slice(same)) stale.remove();
  element.append(...fresh.slice(same));
}
