// Throttled live rendering of streaming markdown: at most one render per element per animation frame, and
// never more than a set share of the main thread.
//
// Tokens arrive far more often than a screen can show them, and each render re-parses the whole answer, so
// rendering on every token would cost O(n²) over an answer. Instead the latest text per element is kept and
// drawn on the next frame; if a render took T ms, the next one waits at least T / BUDGET ms, which bounds
// the time spent rendering to about BUDGET of the main thread however long the answer grows.

import { renderInto } from 'chat/markdown';

const BUDGET = 0.25;

export class LiveRenderer {
  #pending = new Map(); // element -> latest text not drawn yet
  #frame = 0;
  #timer = 0;
  #notBefore = 0;
  #onRendered;

  // onRendered(elements) runs after each batch, e.g. to keep the transcript scrolled to the bottom.
  constructor(onRendered = () => {}) {
    this.#onRendered = onRendered;
  }

  /** Draw `text` into `element` soon (the latest text wins). */
  schedule(element, text) {
    this.#pending.set(element, text);
    if (this.#frame || this.#timer) return;
    const wait = this.#notBefore - performance.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = 0;
        this.#frame = requestAnimationFrame(() => this.#flush());
      }, wait);
    } else {
      this.#frame = requestAnimationFrame(() => this.#flush());
    }
  }

  /** Draw `text` into `element` now, dropping anything pending for it (an answer that just ended). */
  renderNow(element, text) {
    this.#pending.delete(element);
    renderInto(element, text);
  }

  #flush() {
    this.#frame = 0;
    const started = performance.now();
    const batch = [...this.#pending];
    this.#pending.clear();
    for (const [element, text] of batch) {
      if (element.isConnected) renderInto(element, text);
    }
    const cost = performance.now() - started;
    this.#notBefore = started + cost / BUDGET;
    this.#onRendered(batch.map(([element]) => element));
  }
}
